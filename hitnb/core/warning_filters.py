"""The warnings filters as an input of a run, for the warnings it raised.

A stored cell replays what it showed, warnings too. With ``warnings.filterwarnings("ignore")``
added above it (the first thing many notebooks do about noisy libraries), the plain cell shows
no warning, and a hit showed the old ones again; under ``"error"`` the plain cell raises, and
a hit returned the stored result. The filters as a whole are no input: libraries add their own
as they are first used (plotly, as it makes its first figure), and every cell stored before
that point would run again when a notebook is run twice in one kernel. What a run depends on
is what the filters did with the warnings it raised. While a run executes, a filter of
hitnb's own, which never matches, is first in ``warnings.filters``: Python asks it about each
warning it does not remember showing before (the message, the module, the class), shown or
ignored. Each is kept with the action the filters *as the run started* take for it; a hit
needs the filters of now to take the same (:func:`unmet`).

The filter is put in and taken out without telling Python the filters changed, which would
make it forget which warnings it has shown (a library's warning shown once plainly would be
shown again after every cell). Not seen: warnings Python had shown before from the same line
(its registry: a hit then replays what the run showed, nothing), warnings a filter the run
put first decides before hitnb's (they depend on the run's code, not on the filters it started
with), and warnings of other threads.
"""

from __future__ import annotations

import functools
import sys
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import FrameType
from typing import Any, NamedTuple, cast


class Raised(NamedTuple):
    """A warning a run raised, and what the filters as it started did with it."""

    category: tuple[str, ...]
    """Qualified names of the warning's class and its bases (a filter's category matches
    one of them), so a hit needs no import to check it."""
    text: str
    module: str
    """The module the filters match: the ``__name__`` of the code that warned."""
    lineno: int
    action: str
    """``"ignore"``, ``"error"``, ``"default"``, ``"always"``, ``"module"`` or ``"once"``."""

    def described(self) -> str:
        name = self.category[0].rsplit(".", 1)[-1]
        text = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"{name}: {text}"


Filters = tuple[tuple[Any, ...], str]
"""``warnings.filters`` and ``warnings.defaultaction`` at one moment."""

MANY = 200
"""Distinct warnings a run keeps one by one. A run raising more (a message naming each row
of a loop) keeps the filters it started with instead, as one :data:`ALL_FILTERS` entry: a
hit then needs them all the same."""
ALL_FILTERS = ("*",)
"""The category of the entry that stands for all the filters; its text describes them."""


def described(filters: Filters) -> str:
    """The filters as text, the same in every session for the same filters."""
    entries, default = filters
    parts = [
        f"{action}|{getattr(message, 'pattern', message)}|{_name(cls)}|"
        f"{getattr(mod, 'pattern', mod)}|{line}"
        for action, message, cls, mod, line in entries
    ]
    return "\n".join([*parts, default])


class _Raising:
    """The warnings one run raised so far, and the filters as it started."""

    def __init__(self, filters: Filters | None) -> None:
        self.filters = filters or now()
        self.raised: dict[tuple[tuple[str, ...], str, str], Raised] = {}
        self.all_filters: Raised | None = None
        """Past :data:`MANY` warnings: the entry standing for all the filters."""
        self.text: str | None = None
        self.category: tuple[str, ...] | None = None
        self.module: str | None = None

    def add(self, category: tuple[str, ...], text: str, module: str, lineno: int) -> None:
        place = (category, text, module)
        if place in self.raised or self.all_filters is not None:
            return
        if len(self.raised) < MANY and category != ALL_FILTERS:
            action = action_for(self.filters, category, text, module, lineno)
            self.raised[place] = Raised(category, text, module, lineno, action)
        else:
            self.all_filters = Raised(ALL_FILTERS, described(self.filters), "", 0, "")
            self.raised.clear()

    def kept(self) -> list[Raised]:
        """What the run keeps: each warning, or the entry standing for all the filters."""
        return [self.all_filters] if self.all_filters else list(self.raised.values())

    def asked(self) -> None:
        """Python asked the filter about one warning's message, module and class: keep it
        (a warning raised again, as in a loop, costs three calls and a look-up)."""
        if self.text is None or self.category is None or self.module is None:
            return
        text, category, module = self.text, self.category, self.module
        self.text = self.category = self.module = None
        if (category, text, module) not in self.raised and self.all_filters is None:
            self.add(category, text, module, _line_in(module))


_raising: ContextVar[_Raising | None] = ContextVar("hitnb_warnings", default=None)


def _filters() -> list[Any]:
    """``warnings.filters``, the list Python reads for each warning."""
    return cast(list[Any], warnings.filters)


def _default_action() -> str:
    return str(getattr(warnings, "defaultaction", "default"))


def now() -> Filters:
    """The filters as they are now (hitnb's own left out): taken as a cell starts, before
    its stored record is loaded, since loading imports modules and a module may add filters
    as it is imported (statsmodels makes its warnings "always" shown)."""
    return tuple(e for e in _filters() if e is not _SPY_FILTER), _default_action()


def _name(cls: Any) -> str:
    return f"{getattr(cls, '__module__', '')}.{getattr(cls, '__qualname__', '')}"


@functools.lru_cache(maxsize=256)
def _names_of(category: type) -> tuple[str, ...]:
    """The qualified names of a warning class and its bases."""
    return tuple(_name(cls) for cls in getattr(category, "__mro__", (category,)))


def _matches(pattern: Any, text: str) -> bool:
    """As Python's filters match a message or module: None matches all, a plain string
    (its own default filters) only itself, anything else is a regular expression."""
    if pattern is None:
        return True
    if isinstance(pattern, str):
        return pattern == text
    return bool(pattern.match(text))


def action_for(
    filters: Filters, category: tuple[str, ...], text: str, module: str, lineno: int
) -> str:
    """What ``filters`` do with a warning, as Python decides it: the first that matches."""
    entries, default = filters
    for action, message, cls, mod, line in entries:
        if (
            _name(cls) in category
            and _matches(message, text)
            and _matches(mod, module)
            and (line == 0 or line == lineno)
        ):
            return str(action)
    return default


def _line_in(module: str) -> int:
    """The line the warning is attributed to: where the innermost frame of ``module`` on
    this stack is (Python passes the filters no line; only a filter naming one needs it)."""
    frame: FrameType | None = sys._getframe(3)  # _line_in <- asked <- the spy <- (C) <- ...
    for _ in range(100):
        if frame is None:
            break
        if frame.f_globals.get("__name__") == module:
            return frame.f_lineno or 0
        frame = frame.f_back
    return 0


class _Spy:
    """Each part of hitnb's filter: Python asks it, for each warning, whether it matches the
    message (``match(text)``), the module (``match(module)``) and the class
    (``__subclasscheck__``). It answers so that the filter never matches: yes to the first
    two it is asked, no to the last (Python's C code asks all three, in the order message,
    module, class; its pure Python fallback stops at the first no)."""

    def __init__(self, part: str) -> None:
        self.part = part

    def match(self, text: str) -> bool:
        raising = _raising.get()
        if raising is not None:
            setattr(raising, self.part, text)
            raising.asked()
        return self.part != "module"

    def __subclasscheck__(self, category: type) -> bool:
        raising = _raising.get()
        if raising is not None:
            raising.category = _names_of(category)
            raising.asked()
        return True

    def __repr__(self) -> str:
        return f"<hitnb: the {self.part} of each warning a memoized run raises>"


_SPY_FILTER: tuple[Any, ...] = ("default", _Spy("text"), _Spy("category"), _Spy("module"), 0)
"""Never matches: Python asks it about each warning it has not shown before."""
_lock = threading.Lock()
_observing = 0
"""Runs being observed, in all threads: the filter is first while there are any."""


def _put_first() -> None:
    global _observing
    with _lock:
        _observing += 1
        if _observing == 1 and _SPY_FILTER not in _filters():
            _filters().insert(0, _SPY_FILTER)  # no _filters_mutated(): see above


def _take_out() -> None:
    global _observing
    with _lock:
        _observing -= 1
        if _observing == 0:
            while _SPY_FILTER in _filters():  # the run may have copied it
                _filters().remove(_SPY_FILTER)


def put_back(entries: list[Any]) -> None:
    """Make ``entries`` the filters (a hit making again what its run did to them), with
    hitnb's own still first while a run is observed (a memoized call's hit in a cell)."""
    own = [_SPY_FILTER] if _SPY_FILTER in _filters() else []
    _filters()[:] = own + list(entries)
    warnings._filters_mutated()  # type: ignore[attr-defined]  # as warnings.filterwarnings


@contextmanager
def observing(filters: Filters | None = None) -> Iterator[list[Raised]]:
    """Record the warnings the block raises (in this thread and context), with what
    ``filters`` (default: the filters now) do with each; the list is filled as the block
    ends. A run inside another passes them up to it."""
    raising = _Raising(filters)
    token = _raising.set(raising)
    _put_first()
    found: list[Raised] = []
    try:
        yield found
    finally:
        _take_out()
        _raising.reset(token)
        found.extend(raising.kept())
        pass_up(found)


def pass_up(raised: Iterable[Raised]) -> None:
    """A run inside another, computed or served from the store: the warnings it raised
    are the other run's too, with what the other run's filters do with them."""
    outer = _raising.get()
    if outer is not None:
        for warning in raised:
            outer.add(warning.category, warning.text, warning.module, warning.lineno)


def unmet(raised: Iterable[Raised], filters: Filters | None = None) -> str | None:
    """Why ``filters`` (default: the filters now) treat a warning the run raised otherwise
    than the filters it started with, or None."""
    for warning in raised:
        filters = filters or now()
        if warning.category == ALL_FILTERS:
            if described(filters) != warning.text:
                return (
                    f"the warnings filters changed since it was stored (it raised more than "
                    f"{MANY} different warnings, and needs all the filters the same)"
                )
            continue
        action = action_for(filters, warning.category, warning.text, warning.module, warning.lineno)
        if action != warning.action:
            return (
                f"the warnings filters changed since it was stored: {warning.described()} "
                f"is now {_verb(action)}; it was {_verb(warning.action)}"
            )
    return None


def _verb(action: str) -> str:
    return {"ignore": "ignored", "error": "raised as an error"}.get(action, f'shown ("{action}")')
