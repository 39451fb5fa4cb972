"""How IPython shows each type: the printers a cell registered, checked on a hit, and the
display settings every cell's output depends on.

``sympy.init_printing()`` registers printers with IPython's display formatters (a PNG of
each expression, LaTeX for lists and numbers). A hit of the cell that called it registered
nothing, so every later cell showed its expressions without the PNG the uncached run had
shown. The types each formatter has a printer for (registered by type or by name, which
IPython moves from one to the other as it meets the type) are an ambient state of cells
(see :mod:`hitnb.core.ambient`). A printer is a function of the library's: a hit cannot
register it, so it checks that the printers the run left are there, once the run's imports
and settings are made again, and runs the cell again when one is not
(:class:`~hitnb.core.ambient.CannotMake`).

What a cell shows also depends on how the shell shows it: which printer each type has
(``sympy.init_printing()``, ``%config InlineBackend.figure_format = "svg"``, a user's
``for_type``) and the plain-text formatter's options (``%precision 3``). Added above cells
already stored, they changed nothing: each stored cell replayed what the old settings
showed. They are a setting (:attr:`~hitnb.core.ambient.StateProvider.setting`): read by
every cell, so a cell stored under other display settings runs again. A hit sets the
options back; printers it can only check, as above.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import Any, NamedTuple

from hitnb.core.ambient import (
    REMOVED,
    CannotMake,
    StateProvider,
    first_names,
    register_state,
)

NAME = "IPython display printers"


def _formatters() -> dict[str, Any]:
    from IPython import get_ipython

    shell = get_ipython()
    formatter = getattr(shell, "display_formatter", None)
    return dict(getattr(formatter, "formatters", None) or {})


def _printed_types() -> dict[str, frozenset[str]]:
    return {
        mime: table.types
        for mime, formatter in _formatters().items()
        if (table := _table(mime, formatter)) is not None
    }


_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_OWN = "IPython."
"""IPython's own printers are left out: the same in every session of one IPython, but
made when first looked at (the plain-text formatter adds one for ``numpy.float64`` when
numpy is imported by then), so a session that imported numpy sooner differed."""


def _printer_name(printer: Any) -> str:
    """A printer as the same text in every session: its function's qualified name, with a
    partial's arguments (``print_figure(fmt='png', ...)``: a figure format)."""
    if isinstance(printer, functools.partial):
        arguments = [repr(a) for a in printer.args]
        arguments += [f"{k}={v!r}" for k, v in sorted(printer.keywords.items())]
        text = _ADDRESS.sub("0x", ", ".join(arguments))  # an object's repr: not its address
        return f"{_printer_name(printer.func)}({text})"
    function = getattr(printer, "__func__", printer)
    module = getattr(function, "__module__", None) or type(function).__module__
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}.{name}"


class _Table(NamedTuple):
    """One formatter's printers, named."""

    ids: tuple[int, ...]
    """The ids of its two tables' keys and printers when they were named."""
    types: frozenset[str]
    """The types it has a printer for."""
    printers: tuple[str, ...]
    """``type=printer`` for each, IPython's own printers aside (see :data:`_OWN`)."""


_tables: dict[str, _Table] = {}


def _table(mime: str, formatter: Any) -> _Table | None:
    """The printers of ``formatter``, named again only when one of them or their types
    changed. A type is named as IPython keys it by name, so that a printer registered by
    name and moved to the type once IPython meets one (a hit shows stored output, and
    does not move it) is the same state."""
    by_type = getattr(formatter, "type_printers", None)
    by_name = getattr(formatter, "deferred_printers", None)
    if not isinstance(by_type, dict) or not isinstance(by_name, dict):
        return None
    ids = (
        *map(id, list(by_type)), *map(id, list(by_type.values())), -1,
        *map(id, list(by_name)), *map(id, list(by_name.values())),
    )  # fmt: skip
    table = _tables.get(mime)
    if table is None or table.ids != ids:
        named = {f"{t.__module__}.{t.__name__}": p for t, p in list(by_type.items())}
        named.update({f"{module}.{name}": p for (module, name), p in list(by_name.items())})
        printers = ((t, _printer_name(p)) for t, p in named.items())
        kept = tuple(sorted(f"{t}={p}" for t, p in printers if not p.startswith(_OWN)))
        table = _tables[mime] = _Table(ids, frozenset(named), kept)
    return table


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


SETTINGS = "IPython display settings"
_PLAIN_OPTIONS = ("float_precision", "pprint", "verbose", "max_width", "max_seq_length")


def _printers(mime: str, formatter: Any) -> tuple[str, ...]:
    table = _table(mime, formatter)
    return () if table is None else table.printers


def _inline_figures() -> tuple[Any, ...]:
    """The inline backend's figure formats and their arguments (``%config
    InlineBackend.figure_format = "retina"``), once it is set up. Its printer is no place
    to look: matplotlib registers it when the first figure is made, which a hit does not."""
    backend = getattr(sys.modules.get("matplotlib_inline.config"), "InlineBackend", None)
    if backend is None or not backend.initialized():
        return ()
    config = backend.instance()
    return tuple(sorted(config.figure_formats)), tuple(sorted(config.print_figure_kwargs.items()))


def _display_settings() -> tuple[Any, ...]:
    from IPython import get_ipython

    display = getattr(get_ipython(), "display_formatter", None)
    formatters = dict(getattr(display, "formatters", None) or {})
    plain = formatters.get("text/plain")
    options = tuple(getattr(plain, name, None) for name in _PLAIN_OPTIONS)
    active = tuple(getattr(display, "active_types", None) or ())
    shown = tuple(
        (mime, bool(getattr(f, "enabled", True)), _printers(mime, f))
        for mime, f in sorted(formatters.items())
    )
    return options, active, shown, _inline_figures()


def _text(state: tuple[Any, ...]) -> bytes:
    """The state's digest input: its text, which depends on its values only (a pickle
    depends on which equal strings are one object, which can differ from one session to
    the next: see ``_unshared`` in :mod:`hitnb.core.ambient`)."""
    return repr(state).encode()


def _set_display_settings(state: tuple[Any, ...]) -> None:
    """Set the plain-text options and active types back; printers only checked (see the
    module)."""
    from IPython import get_ipython

    options, active, shown, *rest = state  # stored before the figure formats: no rest
    figures = rest[0] if rest else ()
    display = getattr(get_ipython(), "display_formatter", None)
    if display is None:
        return
    if figures and figures != _inline_figures():
        config = sys.modules["matplotlib_inline.config"].InlineBackend.instance()
        config.print_figure_kwargs = dict(figures[1])
        config.figure_formats = set(figures[0])  # registers the figure printers again
    plain = display.formatters.get("text/plain")
    for name, value in zip(_PLAIN_OPTIONS, options, strict=True):
        if plain is not None and value is not None and getattr(plain, name, None) != value:
            setattr(plain, name, value)
    if list(active) != list(display.active_types):
        display.active_types = list(active)
    now = {mime: printers for mime, _, printers in _display_settings()[2]}
    for mime, _, printers in shown:
        missing = sorted(set(printers) - set(now.get(mime, ())))
        if missing:
            raise CannotMake(
                f"the stored run left IPython showing {first_names(missing, 1)} as {mime}, "
                "which a hit cannot do"
            )


register_state(
    StateProvider(
        SETTINGS, "IPython", _display_settings, _set_display_settings, cells_only=True,
        setting=True, fingerprint=_text,
    )
)  # fmt: skip
