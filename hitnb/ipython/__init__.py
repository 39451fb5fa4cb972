"""The IPython extension: ``%load_ext hitnb`` registers the magics, ``%unload_ext`` removes them.

Only this package imports IPython; ``import hitnb`` does not.
"""

from __future__ import annotations

from typing import Any

_loaded: dict[int, Any] = {}


def load_ipython_extension(shell: Any) -> None:
    """Register ``%%memo`` and ``%hitnb`` in ``shell``."""
    from hitnb.ipython.magics import HitnbMagics

    if id(shell) in _loaded:
        return
    magics = HitnbMagics(shell)
    shell.register_magics(magics)
    _loaded[id(shell)] = magics


def unload_ipython_extension(shell: Any) -> None:
    """Remove everything :func:`load_ipython_extension` added."""
    magics = _loaded.pop(id(shell), None)
    if magics is None:
        return
    manager = shell.magics_manager
    for kind, names in magics.magics.items():
        for name in names:
            manager.magics[kind].pop(name, None)
    manager.registry.pop(type(magics).__name__, None)
