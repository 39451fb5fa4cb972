"""The one run engine: every ``@memo`` call and every ``%%memo`` cell goes through :func:`run`.

A host describes the run it wants as a :class:`Call`: the key parts, the store, the mode and
a :class:`Work` that knows how to run it, restore it and say what it is. The engine owns the
protocol, so the decorator and the magic get the same behaviour by construction::

    key -> lookup -> restore                                   a hit
                  -> run again, check its digest               a hit on a Rerun
        -> per-key lock -> lookup again -> run -> store        a miss
           -> events ("stored") -> eviction under max_size

A run whose outputs cost more to store and load than to compute is stored as a
:class:`~hitnb.core.costs.Rerun`, and its hits run it again (:mod:`hitnb.core.costs`).

A hit announces ``"hit"``; a stored run announces ``"stored"`` (the experiment table and the
result badges listen). A read-only mode runs and stores nothing; a recompute skips the
lookup. A failed experiment is kept as a failed run. What cannot be stored is still returned,
and the work is told why (a warning for functions, a note for cells).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import time
import traceback
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hitnb.config import Mode, Settings
from hitnb.core import ambient, costs, environment, events, files, library_classes, warning_filters
from hitnb.core.metrics import metrics_of, recording
from hitnb.core.recipe import Recipe
from hitnb.core.record import CellStart, RunRecord
from hitnb.core.run_files import RunFiles
from hitnb.core.runs import Lazy
from hitnb.core.unstorable import Unstorable
from hitnb.errors import (
    CodecError,
    CorruptEntryError,
    CorruptEntryWarning,
    HitnbWarning,
    StaleReferenceError,
    StoreWriteWarning,
)
from hitnb.hashing.code import library_attribute
from hitnb.hashing.keys import KeyParts
from hitnb.notes import speaking
from hitnb.store import codecs
from hitnb.store.index import Stored
from hitnb.store.local import Entry, LocalStore
from hitnb.store.maintenance import keep_under_limit

codecs.pickle_by_name(library_attribute)
"""A library's module-level objects are hashed by their name; stored by it too, they come
back as the library's own object, so a restored value is the same key again."""


class Unrestorable(Exception):
    """Raised by :meth:`Work.restore` when a stored run cannot be brought back here (a class
    that no longer loads, a record of another kind): the engine runs it instead."""


@dataclass
class Computed:
    """What running a call produced."""

    result: Any
    """What the caller gets: the return value, or a cell's last expression."""
    stored: Any
    """What the store keeps: the return value, or a cell's record."""
    duration: float
    parts: KeyParts | None = None
    """Key parts learned while running (a function's written state), else the call's."""
    unstorable: str | None = None
    """Why ``stored`` cannot be kept, found while preparing it; None when it can."""
    states: dict[str, Any] = field(default_factory=dict)
    """Random generators the run advanced, as it left them, by where the host finds them."""
    ran: float = 0.0
    """Seconds the run took in all, the host's measuring of what it changed included: what
    running it again on a hit costs (see :mod:`~hitnb.core.costs`). Set by the engine."""


class Work(ABC):
    """What a host knows about its run: how to run it, bring it back and describe it."""

    @abstractmethod
    def run(self) -> Computed:
        """Run the code (a miss). Exceptions propagate to the caller."""

    def restore(self, stored: Any) -> Any:
        """Turn a stored value into the caller's result; raise :class:`Unrestorable` to run
        the call instead. Functions return the value as loaded."""
        return stored

    def loading(self) -> AbstractContextManager[None]:
        """The block in which a stored run is loaded, its effects made again (the modules
        it imported) and its outputs restored. A host that replays what the run showed drops
        what happens in it (see :func:`~hitnb.ipython.capture.showing_nothing`); a
        function's host has nothing to drop."""
        return contextlib.nullcontext()

    def restore_states(self, states: dict[str, Any]) -> None:  # noqa: B027 (cells have none)
        """Leave the random generators the stored run drew from as it left them
        (:attr:`Computed.states`)."""

    @abstractmethod
    def announce_miss(self, store: LocalStore, parts: KeyParts) -> None:
        """Say why the call runs again, when that is news (before running it)."""

    def named_files(self) -> list[str]:
        """Paths the host knows the run may read that run-time observation cannot see (a
        reader in C): a cell's string literals, a function's path arguments, declared files."""
        return []

    def unmet(self, stored: Any) -> str | None:
        """Why the stored run (a cell's record, not yet restored) does not hold here although
        its key matched and what it read is as it was; None when it holds. Asked before any
        of its effects are made again."""
        return None

    def stale(self, reason: str) -> None:  # noqa: B027 (most hosts need not say more)
        """The stored run is not valid here (``reason``: what it read is not so now); the
        engine runs the call again."""

    @abstractmethod
    def params(self, parts: KeyParts) -> dict[str, Any]:
        """The arguments or inputs as tables show them (small summaries)."""

    @abstractmethod
    def recipe(self, store: LocalStore) -> Recipe:
        """How to make the run again in a notebook of its own (for export); never raises."""

    @abstractmethod
    def note(self, message: str, category: type[Warning]) -> None:
        """Tell the user something went wrong with caching (the result is unaffected)."""

    def unstorable(self, stored: Any, error: Exception) -> Unstorable:
        """Why ``stored`` could not be kept, in the user's words, with the modules of the
        objects no codec took when the host can name them (a change of their libraries'
        versions has a remembered refusal tried again)."""
        return Unstorable(f"the result was returned but not stored: {error}")

    def output_bytes(self, computed: Computed) -> int:
        """Bytes the run's outputs take in memory (0: unknown or small, so they are stored)."""
        return 0

    def produced(self, computed: Computed) -> Iterable[Any]:
        """The values the run produced, whose classes' counters are watched from then on
        (see :mod:`~hitnb.core.library_classes`): a function's result."""
        return (computed.result,)

    def settings_unread(self) -> frozenset[str]:
        """Settings the last run did not read, though every cell reads settings (see
        :attr:`~hitnb.core.ambient.StateProvider.setting`): left out of its reads, so a
        change of them later in the notebook does not run it again."""
        return frozenset()

    def produced_digest(self, computed: Computed) -> str | None:
        """A digest of everything the run produced (outputs, result, what it showed), so a
        re-execution can be checked against it; None when there is none, and the run is
        stored rather than re-executed."""
        return None


@dataclass(slots=True)
class Call:
    """One run to make or to replay, as a host describes it (made on every call, so plain
    slots: a frozen dataclass costs a microsecond more on the hit path)."""

    parts: KeyParts
    key: str
    """``parts.key``, computed once by the host."""
    work: Work
    store: LocalStore
    mode: Mode
    settings: Settings
    wait: bool = True
    """Wait for another process computing the same key (only in mode "on")."""
    experiment: bool = False
    codec: str | None = None
    lazy: bool = False
    mmap: bool = False
    cell: bool = False
    """A notebook cell: its run's imports are effects too."""
    namespace: dict[str, Any] | None = None
    """The globals the call's code runs in (the notebook's for a cell, the function's own for
    ``@memo``): its stored value is unpickled as that code would unpickle it (see
    :func:`~hitnb.store.codecs.loads_in`)."""

    @property
    def identity(self) -> str:
        return self.parts.identity


@dataclass(slots=True)
class Outcome:
    """What the engine did with a call."""

    value: Any
    hit: bool
    key: str
    found: Stored | Entry | None = None
    """The record a hit was read from (hosts keep it for repeat hits)."""
    entry: Entry | None = None
    """The entry a miss stored, None when nothing was stored."""
    note: str = ""
    """Why a computed result was not stored, when it was not."""
    rerun: str = ""
    """For a stored run served by running it again: what it said (see :mod:`~hitnb.core.costs`)."""


def run(call: Call) -> Outcome:
    """Serve ``call`` from the store, or run it and store what it produced."""
    __tracebackhide__ = True
    key = call.key
    unusable: Stored | Entry | None = None
    start = CellStart.now() if call.cell else None  # before anything is loaded
    if call.mode != "recompute":
        found, unusable = _look_up(call, key, start=start)
        if found is not None:
            return found
    if not (call.mode == "on" and call.wait):
        return _compute(call, key, start=start)
    timeout = call.settings.lock_timeout
    with call.store.locks.hold(key, timeout) as acquired:
        if not acquired:
            call.work.note(
                f"{call.identity}: waited {timeout:.0f} s for another process computing the "
                "same call; computing it here as well",
                HitnbWarning,
            )
        if call.store.has_manifest(key):  # computed by whoever held the lock before us?
            found, _ = _look_up(call, key, unusable, start)  # (a row may be queued)
            if found is not None:
                return found
        return _compute(call, key, start=start)


def lookup(call: Call, key: str) -> Outcome | None:
    """The hit for ``key``, restored; None when there is none (a broken one is dropped)."""
    return _look_up(call, key)[0]


def _look_up(
    call: Call,
    key: str,
    unusable: Stored | Entry | None = None,
    start: CellStart | None = None,
) -> tuple[Outcome | None, Stored | Entry | None]:
    """:func:`lookup`, and the entry found when it could not be served (stale, or not
    loadable or restorable here). Passed back as ``unusable``, that same entry is not tried
    again: looking again under the lock is for a result someone else stored meanwhile, and
    loading the same record a second time would cost as much and fail as the first did.
    A cell's settings and warnings filters are checked as ``start`` has them."""
    store = call.store
    try:
        found = store.lookup(key)
        if found is None or found.status != "ok":
            return None, None
        if found == unusable:
            return None, found
        if call.lazy:
            value: Any = Lazy(key, store, mmap=call.mmap)
        else:
            with call.work.loading():
                value = store.load(found, mmap=call.mmap, namespace=call.namespace)
    except CorruptEntryError as exc:
        call.work.note(
            f"{call.identity}: stored result {key} is corrupt ({exc}); it was dropped and is "
            "being recomputed",
            CorruptEntryWarning,
        )
        store.drop_corrupt(key)
        return None, None
    except StaleReferenceError as exc:  # (a CodecError)
        call.work.stale(str(exc))
        return None, found
    except CodecError as exc:
        call.work.note(
            f"{call.identity}: stored result {key} cannot be loaded in this process ({exc}); "
            "recomputing",
            CorruptEntryWarning,
        )
        if call.cell and not call.experiment:  # stored again, and checked that it loads
            return _compute(call, key, unloadable=str(exc), start=start), None
        return None, found
    if isinstance(value, RunRecord):
        unmet = value.unmet(start) or call.work.unmet(value.result)
    else:
        unmet = call.work.unmet(value)
    if unmet is not None:
        call.work.stale(unmet)
        return None, found
    if isinstance(value, RunRecord):
        value.pass_up()
        if not isinstance(value.result, costs.Rerun | Unstorable):  # running it again makes
            try:  # its effects (imports: see Work.loading)
                with call.work.loading():
                    value.apply()
            except ambient.CannotMake as exc:
                call.work.stale(str(exc))
                return None, found
            if value.states:
                call.work.restore_states(value.states)
        value = value.result
    if isinstance(value, costs.Rerun):
        return _compute(call, key, rerun=value, start=start), None
    if isinstance(value, Unstorable):
        if not value.holds():  # a library changed: its objects may be stored now
            return None, found
        return _run_unstored(call, key, value), None
    try:
        with call.work.loading():
            result = call.work.restore(value)
    except Unrestorable as exc:
        call.work.note(f"{call.identity}: {exc}; running it again", CorruptEntryWarning)
        return None, found
    store.note_hit(key)
    if events.has_listeners("hit"):
        events.announce("hit", value, key, store)
    return Outcome(result, hit=True, key=key, found=found), None


def _run_unstored(call: Call, key: str, unstorable: Unstorable) -> Outcome:
    """A hit on a run whose outputs could not be stored: run it again, store nothing, and
    say what its first run said (see :mod:`hitnb.core.unstorable`)."""
    __tracebackhide__ = True
    computed = call.work.run()
    call.work.note(unstorable.note, StoreWriteWarning)
    return Outcome(computed.result, hit=False, key=key, note=unstorable.note)


def _compute(
    call: Call,
    key: str,
    rerun: costs.Rerun | None = None,
    unloadable: str | None = None,
    start: CellStart | None = None,
) -> Outcome:
    """A miss: run, store (unless read-only), announce, keep the store under its limit.

    With ``rerun``, a hit on a run that costs less to compute than to restore: run it,
    and when it produced the same as the stored run, store nothing (else store it in full).
    With ``unloadable``, why the stored run could not be loaded: the new run is stored, and
    when it does not load back either (an object whose class cannot rebuild it from its
    pickle), an :class:`~hitnb.core.unstorable.Unstorable` takes its place, so later
    sessions run the cell without storing and loading it again. A cell's ``start`` holds
    the settings and warnings filters it read (a stored record loaded since may have
    imported a library that changed them)."""
    __tracebackhide__ = True
    work, store = call.work, call.store
    if rerun is None and call.mode != "recompute" and not call.settings.quiet:
        work.announce_miss(store, call.parts)
    began = time.perf_counter()
    before = ambient.Snapshot.take(cell=call.cell, settings=start.settings if start else None)
    try:
        with (
            files.observing() as observed,
            environment.observing() as variables,
            warning_filters.observing(start.filters if start else None) as raised,
            recording() as recorder,
        ):
            computed = work.run()
        computed.ran = max(computed.duration, time.perf_counter() - began)
    except Exception as exc:
        if call.experiment and call.mode != "read-only":
            trace = "".join(traceback.format_exception(exc))
            failed = Computed(None, None, time.perf_counter() - began)
            _store(call, key, call.parts, failed, {}, status="failed", error=trace)
        raise
    said = ""
    if rerun is not None:
        if work.produced_digest(computed) == rerun.digest:
            store.note_hit(key)
            return Outcome(computed.result, hit=False, key=key, rerun=rerun.why())
        said = (
            f"{rerun.why()}; it gave another result than the stored run (it is not "
            "deterministic from what hitnb sees it read), so it is stored in full now"
        )
    if call.mode == "read-only":
        return Outcome(computed.result, hit=False, key=key, rerun=said)
    library_classes.watch_classes_of(work.produced(computed))
    after = ambient.Snapshot.take(cell=call.cell)
    reads, effects = after.changes_since(before, work.settings_unread())
    excluded = (*call.settings.exclude_files, str(store.root))
    try:
        read, written = files.reads_and_writes(
            observed, work.named_files(), excluded, os.getcwd(), call.settings.stat_only_above
        )
    except (OSError, ValueError) as exc:
        read, written = [], []
        computed.unstorable = f"this run is not cached: {exc}"
    files.pass_up(read)  # inside a cell: what the host named, the cell read too
    instead = None
    if rerun is None and not written:
        computed.stored = _cheaper_to_rerun(call, computed)
        instead = _rerun_when_encoded(call, computed)
    if reads or effects or read or written or computed.states or variables or raised:
        computed.stored = RunRecord(
            computed.stored, reads, effects, read, written, computed.states, variables, raised
        )
    parts = computed.parts or call.parts
    key = key if computed.parts is None else parts.key
    entry, note = _store(
        call, key, parts, computed, recorder.series, instead=instead, unloadable=unloadable
    )
    if entry is not None and call.settings.max_size is not None:
        keep_under_limit(store, call.settings.max_size)
    return Outcome(computed.result, hit=False, key=key, entry=entry, note=note, rerun=said)


def _cheaper_to_rerun(call: Call, computed: Computed) -> Any:
    """What to store for a run: a :class:`~hitnb.core.costs.Rerun` when running it again
    clearly costs less than storing and loading its outputs, else what it produced."""
    if call.experiment or call.lazy or call.mmap or computed.unstorable is not None:
        return computed.stored
    nbytes = call.work.output_bytes(computed)
    if not costs.worth_rerunning(computed.ran, nbytes):
        return computed.stored
    return _rerun_of(call, computed, nbytes, costs.restore_seconds(nbytes)) or computed.stored


def _rerun_of(call: Call, computed: Computed, nbytes: int, restore: float) -> costs.Rerun | None:
    """The run as a :class:`~hitnb.core.costs.Rerun`; None when what it produced has no
    digest to check a re-execution against, or when taking that digest, which a hit does
    too, makes running again cost more than restoring (thousands of notebook objects made
    in milliseconds take a tenth of a second to hash, and far less to load)."""
    started = time.perf_counter()
    digest = call.work.produced_digest(computed)
    checked = computed.ran + time.perf_counter() - started
    if digest is None or not costs.worth_rerunning(checked, nbytes, restore):
        return None
    return costs.Rerun(checked, restore, nbytes, digest)


def _rerun_when_encoded(call: Call, computed: Computed) -> Callable[[int, float], Any] | None:
    """For the store, once the outputs are encoded: a :class:`~hitnb.core.costs.Rerun` in
    their place when their encoded size, or the time encoding them took, shows that
    restoring them costs more than running again. This catches what the sizes measured in
    memory count as small: objects holding big arrays (a fitted model and its results)."""
    if call.experiment or call.lazy or call.mmap or computed.unstorable is not None:
        return None
    if _is_rerun(computed.stored):
        return None

    def instead(size: int, encoding: float) -> Any:
        restore = costs.restore_seconds(size, encoding)
        if not costs.worth_rerunning(computed.ran, size, restore):
            return None
        rerun = _rerun_of(call, computed, size, restore)
        stored = computed.stored
        if rerun is None or not isinstance(stored, RunRecord):
            return rerun
        return replace(stored, result=rerun)

    return instead


def _store(
    call: Call,
    key: str,
    parts: KeyParts,
    computed: Computed,
    series: dict[str, Any],
    *,
    status: str = "ok",
    error: str | None = None,
    instead: Callable[[int, float], Any] | None = None,
    unloadable: str | None = None,
) -> tuple[Entry | None, str]:
    """Keep a run; return its entry, or None and the note saying why it was not kept
    (``unloadable``: see :func:`_compute`).

    An experiment keeps the series logged with ``hitnb.log`` while it ran, and metrics from
    those and from its result (a function's return value, a cell's last expression)."""
    work = call.work
    if computed.unstorable is not None:
        note = computed.unstorable
        work.note(note, StoreWriteWarning)
        return None, note
    about: dict[str, Any] = {  # what the entry says of the run, whatever is stored for it
        "recipe": work.recipe(call.store).to_json(),
        "function": call.identity,
        "code": parts.code,
        "args": parts.args_fingerprint,
        "duration": computed.duration,
        "parts": _parts_json(parts, computed.stored),
        "origin": origin(),
    }
    try:
        entry = call.store.put(
            key,
            computed.stored,
            codec=None if _is_rerun(computed.stored) else call.codec,
            experiment=call.experiment,
            params=work.params(parts),
            metrics=metrics_of(computed.result, series) if call.experiment else {},
            series=series if call.experiment else {},
            status=status,
            error=error,
            instead=instead,
            **about,
        )
    except (CodecError, OSError, sqlite3.Error) as exc:
        refusal = work.unstorable(computed.stored, exc)
        work.note(refusal.note, StoreWriteWarning)
        if isinstance(exc, CodecError) and call.cell and not call.experiment:
            _remember_unstorable(call, key, computed.stored, refusal, about)
        return None, refusal.note
    if unloadable is not None and not _loads_back(call, entry):
        note = f"this cell ran but was not cached: its outputs do not load back ({unloadable})"
        work.note(note, StoreWriteWarning)
        _remember_unstorable(call, key, computed.stored, Unstorable(note), about)
        return None, note
    events.announce("stored", entry)
    return entry, ""


def _loads_back(call: Call, entry: Entry) -> bool:
    """Whether a run just stored loads in this process, where its objects were made."""
    try:
        call.store.load(entry, namespace=call.namespace)
    except CodecError:
        return False
    return True


def _remember_unstorable(
    call: Call, key: str, stored: Any, refusal: Unstorable, about: dict[str, Any]
) -> None:
    """Store ``refusal`` for a cell run whose outputs no codec could store, or that do not
    load back (``about``: the entry's description of the run, as :func:`_store` made it),
    in a record with the run's reads when it has them (a hit checks them first, as for any
    run). A store that cannot take it either is left as it is: the next run then only pays
    the same attempt again."""
    marker = replace(stored, result=refusal) if isinstance(stored, RunRecord) else refusal
    try:
        call.store.put(key, marker, **about)
    except (CodecError, OSError, sqlite3.Error):
        return


def _is_rerun(stored: Any) -> bool:
    return isinstance(stored, costs.Rerun) or (
        isinstance(stored, RunRecord) and isinstance(stored.result, costs.Rerun)
    )


def _parts_json(parts: KeyParts, stored: Any) -> dict[str, Any]:
    """The key parts as stored with the entry, and the files the run read and wrote (shown
    by ``hitnb show`` and ``why``, the table and exports; the hit checks them from the stored
    record)."""
    data = parts.to_json()
    if isinstance(stored, RunRecord) and (stored.files or stored.written):
        data["files"] = RunFiles.of(stored.files, stored.written).to_parts()
    return data


def origin() -> str:
    """Where runs come from: the notebook's path when Jupyter tells us, else the script."""
    session = os.environ.get("JPY_SESSION_NAME")
    if session:
        return session
    main = sys.modules.get("__main__")
    return str(getattr(main, "__file__", "") or "")


_PACKAGE = str(Path(__file__).resolve().parent.parent) + os.sep


def warn(message: str, category: type[Warning]) -> None:
    """A warning attributed to the user's line that made the call: the first frame outside
    hitnb, however many of hitnb's own frames lie between."""
    frame = sys._getframe(1)
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    with speaking():
        warnings.warn(message, category, stacklevel=level)
