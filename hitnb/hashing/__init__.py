"""Keys: hashing values and code into fingerprints. Knows nothing of storage or IPython."""
