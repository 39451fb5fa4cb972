"""The IPython extension: ``%load_ext hitnb`` registers the magics and the badge on cached
results; ``%unload_ext hitnb`` removes every one of those hooks.

Only this package imports IPython; ``import hitnb`` does not.
"""

from __future__ import annotations

import functools
from typing import Any

_loaded: dict[int, Any] = {}


def load_ipython_extension(shell: Any) -> None:
    """Register ``%%memo``, ``%hitnb``, ``%experiments``, the result badge, auto mode's
    input transformer and tracebacks that start at a memoized cell's code in ``shell``."""
    from hitnb.ipython import formatters  # noqa: F401 (registers its ambient state)
    from hitnb.ipython.auto import auto_session
    from hitnb.ipython.badges import ResultBadges
    from hitnb.ipython.known_digests import forget_unless_memo
    from hitnb.ipython.magics import HitnbMagics
    from hitnb.ipython.reloading import follow_autoreload
    from hitnb.ipython.tracebacks import start_at_user_code

    if id(shell) in _loaded:
        return
    magics = HitnbMagics(shell)
    shell.register_magics(magics)
    badges = ResultBadges(shell)
    badges.start()
    forget = functools.partial(forget_unless_memo, shell)
    shell.events.register("pre_run_cell", forget)
    auto_session(shell).start()
    start_at_user_code(shell)
    follow_autoreload()
    _loaded[id(shell)] = (magics, badges, forget)


def unload_ipython_extension(shell: Any) -> None:
    """Remove everything :func:`load_ipython_extension` added."""
    from hitnb.ipython import auto, known_digests, tracebacks

    loaded = _loaded.pop(id(shell), None)
    if loaded is None:
        return
    magics, badges, forget = loaded
    badges.stop()
    shell.events.unregister("pre_run_cell", forget)
    known_digests.forget_session(shell)
    auto.forget_session(shell)
    tracebacks.restore(shell)
    manager = shell.magics_manager
    for kind, names in magics.magics.items():
        for name in names:
            manager.magics[kind].pop(name, None)
    manager.registry.pop(type(magics).__name__, None)
