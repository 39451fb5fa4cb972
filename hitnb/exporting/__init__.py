"""Export: stored runs as notebooks (nbformat) that re-execute to the same result."""
