"""``python -m hitnb``: the same as the ``hitnb`` command."""

from hitnb.cli import main

main()
