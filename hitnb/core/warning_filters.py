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
shown again after every cell). It is put first again as each run starts (a memoized call in
a cell that put its own filter first), and it is well formed: code that copies the filters
(scikit-learn's ``Parallel``, in each task) gets a filter that matches nothing, as it does.

Not seen: warnings Python had shown before from the same line (its registry: it asks no
filter about them), and warnings of other threads. The line a filter may name is taken as the
innermost line of the warning's module on the stack.
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

from hitnb.core.list_changes import ListChange, applied


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
        f"{action}|{getattr(message, 'pattern', message)}|{'/'.join(map(_name, _classes(cls)))}|"
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
        self.module: str | None = None

    def add(
        self,
        category: tuple[str, ...],
        text: str,
        module: str,
        lineno: int,
        cls: type | None = None,
    ) -> None:
        """Keep a warning with what the filters as the run started do with it (``cls``:
        its class, when known, matched as Python matches it rather than by name: a cell
        run again defines its warning class again)."""
        place = (category, text, module)
        if not self.is_new(place):
            return
        if len(self.raised) < MANY and category != ALL_FILTERS:
            action = action_for(self.filters, category, text, module, lineno, cls)
            self.raised[place] = Raised(category, text, module, lineno, action)
        else:
            self.all_filters = Raised(ALL_FILTERS, described(self.filters), "", 0, "")
            self.raised.clear()

    def is_new(self, place: tuple[tuple[str, ...], str, str]) -> bool:
        """Whether a warning (its class's names, text and module) is not kept yet."""
        return place not in self.raised and self.all_filters is None

    def kept(self) -> list[Raised]:
        """What the run keeps: each warning, or the entry standing for all the filters."""
        return [self.all_filters] if self.all_filters else list(self.raised.values())

    def asked_text(self, text: str) -> None:
        """Python began asking the filter about a warning: its message comes first."""
        self.text, self.module = text, None

    def asked_module(self, module: str) -> None:
        self.module = module

    def asked_category(self, cls: type) -> None:
        """The last question about one warning (Python's C code asks all three, in the
        order message, module, class): keep it. A warning raised again, as in a loop,
        costs three calls and a look-up."""
        text, module = self.text, self.module
        self.text = self.module = None
        if text is None or module is None:  # asked by a copy of the filter alone
            return
        category = _names_of(cls)
        if self.is_new((category, text, module)):  # before the line is looked for
            self.add(category, text, module, _line_in(module), cls)


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
    return tuple(e for e in _filters() if not _own(e)), _default_action()


def _name(cls: Any) -> str:
    return f"{getattr(cls, '__module__', '')}.{getattr(cls, '__qualname__', '')}"


@functools.lru_cache(maxsize=256)
def _names_of(category: type) -> tuple[str, ...]:
    """The qualified names of a warning class and its bases."""
    return tuple(_name(cls) for cls in getattr(category, "__mro__", (category,)))


def _is_of(warning_class: type | None, category: tuple[str, ...], cls: Any) -> bool:
    """Whether a warning of ``warning_class`` (named ``category``) is of a filter's class."""
    if warning_class is not None:
        try:
            return issubclass(warning_class, cls)
        except TypeError:
            return False
    return any(_name(c) in category for c in _classes(cls))


def _classes(cls: Any) -> tuple[Any, ...]:
    """A filter's category as a tuple of classes (``simplefilter`` takes a tuple)."""
    return cls if isinstance(cls, tuple) else (cls,)


def _matches(pattern: Any, text: str) -> bool:
    """As Python's filters match a message or module: None matches all, a plain string
    (its own default filters) only itself, anything else is a regular expression."""
    if pattern is None:
        return True
    if isinstance(pattern, str):
        return pattern == text
    return bool(pattern.match(text))


def action_for(
    filters: Filters,
    category: tuple[str, ...],
    text: str,
    module: str,
    lineno: int,
    warning_class: type | None = None,
) -> str:
    """What ``filters`` do with a warning, as Python decides it: the first that matches.
    Its class is matched by ``issubclass`` when ``warning_class`` is given, else by the
    qualified names in ``category``."""
    entries, default = filters
    for action, message, cls, mod, line in entries:
        if (
            _is_of(warning_class, category, cls)
            and _matches(message, text)
            and _matches(mod, module)
            and (line == 0 or line == lineno)
        ):
            return str(action)
    return default


def _line_in(module: str) -> int:
    """The line the warning is attributed to: where the innermost frame of ``module`` on
    this stack is (Python passes the filters no line; only a filter naming one needs it)."""
    try:
        frame: FrameType | None = sys._getframe(3)  # _line_in <- asked <- the spy <- (C) <- ...
    except ValueError:  # no such frame
        return 0
    for _ in range(100):
        if frame is None:
            break
        if frame.f_globals.get("__name__") == module:
            return frame.f_lineno or 0
        frame = frame.f_back
    return 0


class _AskedAboutText:
    """The message and module parts of hitnb's filter. Well formed for code that copies
    the filters (scikit-learn's ``Parallel`` builds each again from its ``pattern``): the
    copy matches nothing, like the original, which answers no to every question."""

    pattern = "(?!)"
    flags = 0

    def __init__(self, part: str) -> None:
        self.part = part

    def match(self, text: str) -> None:
        raising = _raising.get()
        if raising is not None and isinstance(text, str):
            if self.part == "text":
                raising.asked_text(text)
            else:
                raising.asked_module(text)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_AskedAboutText, (self.part,))

    def __repr__(self) -> str:
        return f"<hitnb: asks the {self.part} of each warning a memoized run raises>"


class _AskedAboutClass(type):
    def __subclasscheck__(cls, category: type) -> bool:
        raising = _raising.get()
        if raising is not None:
            try:
                raising.asked_category(category)
            except Exception:  # hitnb's bookkeeping never breaks the code that warned
                raising.text = raising.module = None
        return False


class HitnbWatching(Warning, metaclass=_AskedAboutClass):
    """The category of hitnb's filter: no warning is of it, and Python asks it about each
    one while a memoized run executes."""


_SPY_FILTER: tuple[Any, ...] = (
    "default",
    _AskedAboutText("text"),
    HitnbWatching,
    _AskedAboutText("module"),
    0,
)
"""Never matches: Python asks it about each warning it has not shown before."""


def _own(entry: Any) -> bool:
    """Whether a filter is hitnb's, or a copy of it (a list of the filters a run stored,
    set again; scikit-learn's copy in its workers)."""
    return isinstance(entry, tuple) and len(entry) == 5 and entry[2] is HitnbWatching


_lock = threading.Lock()
_observing = 0
"""Runs being observed, in all threads: the filter is first while there are any."""


def _put_first() -> None:
    """Make hitnb's filter the first, as each run starts (a memoized call inside a cell
    whose own filter went first must be asked about too)."""
    global _observing
    with _lock:
        _observing += 1
        filters = _filters()
        if not filters or filters[0] is not _SPY_FILTER:
            filters[:] = [_SPY_FILTER, *(e for e in filters if not _own(e))]
            # no _filters_mutated(): see above


def _take_out() -> None:
    global _observing
    with _lock:
        _observing -= 1
        if _observing == 0 and any(_own(e) for e in _filters()):
            _filters()[:] = [e for e in _filters() if not _own(e)]


def put_back(state: list[Any] | ListChange) -> None:
    """Make the filters as a run left them (a hit): what it did to them done again on the
    filters now (or, a change that says more, its whole list), with hitnb's own filter
    still first while a run is observed (a memoized call's hit in a cell)."""
    found = [e for e in _filters() if not _own(e)]
    entries = applied(found, state)
    own = [_SPY_FILTER] if _observing else []
    _filters()[:] = own + [e for e in entries if not _own(e)]
    warnings._filters_mutated()  # type: ignore[attr-defined]  # as warnings.filterwarnings


@contextmanager
def observing(filters: Filters | None = None) -> Iterator[list[Raised]]:
    """Record the warnings the block raises (in this thread and context), with what
    ``filters`` (default: the filters now) do with each; the list is filled as the block
    ends. A run inside another passes them up to it."""
    raising = _Raising(filters)
    found: list[Raised] = []
    token = _raising.set(raising)
    put = False
    try:
        _put_first()
        put = True
        yield found
    finally:
        if put:
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
