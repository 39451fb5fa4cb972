"""How IPython shows each type: the printers a cell registered, checked on a hit.

``sympy.init_printing()`` registers printers with IPython's display formatters (a PNG of
each expression, LaTeX for lists and numbers). A hit of the cell that called it registered
nothing, so every later cell showed its expressions without the PNG the uncached run had
shown. The types each formatter has a printer for (registered by type or by name, which
IPython moves from one to the other as it meets the type) are an ambient state of cells
(see :mod:`hitnb.core.ambient`). A printer is a function of the library's: a hit cannot
register it, so it checks that the printers the run left are there, once the run's imports
and settings are made again, and runs the cell again when one is not
(:class:`~hitnb.core.ambient.CannotMake`).
"""

from __future__ import annotations

from typing import Any

from hitnb.core.ambient import (
    REMOVED,
    CannotMake,
    StateProvider,
    first_names,
    register_state,
)

NAME = "IPython display printers"
_seen: dict[str, tuple[tuple[int, int], frozenset[str]]] = {}
"""Per formatter: the sizes of its two printer tables when last looked at, and the type
names (named again only when a size moved)."""


def _formatters() -> dict[str, Any]:
    from IPython import get_ipython

    shell = get_ipython()
    formatter = getattr(shell, "display_formatter", None)
    return dict(getattr(formatter, "formatters", None) or {})


def _printed_types() -> dict[str, frozenset[str]]:
    state = {}
    for mime, formatter in _formatters().items():
        by_type = getattr(formatter, "type_printers", None)
        by_name = getattr(formatter, "deferred_printers", None)
        if not isinstance(by_type, dict) or not isinstance(by_name, dict):
            continue
        sizes = (len(by_type), len(by_name))
        seen = _seen.get(mime)
        if seen is None or seen[0] != sizes:
            names = {f"{t.__module__}.{t.__qualname__}" for t in list(by_type)}
            names.update(f"{module}.{name}" for module, name in list(by_name))
            seen = (sizes, frozenset(names))
            _seen[mime] = seen
        state[mime] = seen[1]
    return state


def _check(state: dict[str, Any]) -> None:
    now = _printed_types()
    for mime, names in state.items():
        if names == REMOVED:
            continue
        missing = sorted(names - now.get(mime, frozenset()))
        if missing:
            raise CannotMake(
                f"the stored run registered how IPython shows {first_names(missing)} as {mime} "
                "(sympy's init_printing() does), which a hit cannot do"
            )


register_state(
    StateProvider(NAME, "IPython", _printed_types, _check, cells_only=True, only_checks=True)
)
