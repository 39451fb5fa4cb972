"""Ambient state: what a run reads and changes that is neither an argument nor a name.

A *provider* snapshots one piece of process state: the global random streams of ``random``,
numpy and torch, library settings such as pandas options or matplotlib's rcParams,
``os.environ``, warnings filters, ``sys.path``. The engine snapshots every provider around a
miss. Each provider whose state changed yields an *effect*, the state after the run, which a
hit applies again, so the session ends up as an uncached run would have left it. A provider
that is an input (``reads``: the random streams, whose state decides what the run draws)
also yields a *read*, the digest of its state before the run; a hit is allowed only while
the state still has that digest.

Providers only cost time for libraries already imported: a snapshot never imports one.
Users add their own with :func:`register_state`.
"""

from __future__ import annotations

import array
import copy
import importlib
import importlib.abc
import io
import os
import pickle
import random
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import xxhash

from hitnb.core import list_changes, warning_filters
from hitnb.hashing.values import hash_value


@dataclass(frozen=True)
class StateProvider:
    """One piece of process state: how to take it, put it back, and whether it is an input."""

    name: str
    """Shown in explanations: "numpy's global random state"."""
    module: str
    """The module whose state this is; the provider is skipped while it is not imported."""
    get: Callable[[], Any]
    """The state now: plain data that pickles (a tuple, a dict, an array)."""
    set: Callable[[Any], None]
    """Put a state back. When ``get`` returns a dict, ``set`` receives only the keys a run
    changed, with :data:`REMOVED` as the value of keys it removed."""
    reads: bool = False
    """Whether the state is an input of the run (random streams) or only an effect."""
    cells_only: bool = False
    """Snapshot only around notebook cells (the modules a cell imported, which a later cell
    may use by attribute); a function's result does not depend on it."""
    seeder: str = ""
    """For a random stream, the module function that seeds it (``"numpy.random.seed"``).
    The stream is a read only once it was seeded in this process (or set from a stored
    run): a stream seeded by the operating system's entropy gives an uncached run a
    different sample every time, so a stored sample is as good as any."""
    fingerprint: Callable[[Any], bytes] | None = None
    """Bytes that differ whenever two states differ, faster than pickling the state; None
    pickles it."""
    only_checks: bool = False
    """``set`` changes nothing: it checks that the state is as the run left it, and raises
    :class:`CannotMake` when it is not (members a call added to a library's class)."""
    setting: bool = False
    """A library setting that what a cell computes or shows may depend on (pandas options,
    scikit-learn's configuration, rcParams): read by every cell run while its module is
    imported, so a cell stored under other settings runs again rather than replaying
    a result or output those settings no longer give. Cells only: a function's hit is
    kept to microseconds, and its settings are best passed as arguments."""
    read_by: tuple[str, ...] = ()
    """For a setting only some cells depend on: the top-level modules a cell must touch (a
    value, function or class of theirs among what it reads or binds, or a global of a
    function it reads) for the setting to be one of its reads; empty: every cell. The
    ``decimal`` context is one: numpy imports ``decimal``, and with every cell reading it,
    ``getcontext().prec = 50`` late in a notebook ran every cell above it again when the
    notebook was run again."""
    changes: bool = False
    """For a list state: what a run did to it is kept as a
    :class:`~hitnb.core.list_changes.ListChange` (entries put first or last, or taken out),
    which ``set`` receives and does again on the list a hit finds, rather than the whole
    list, which would drop what the session added since (a filter added above a stored
    cell). A change that says more is kept as the whole list."""
    know: Callable[[Iterable[str]], None] | None = None
    """For a mapping state whose keys are found as runs go (see
    :mod:`~hitnb.core.library_classes`): told the keys a stored run names before its reads
    are checked or its effects applied, so that the state includes them."""

    def digest(self, state: Any) -> str:
        """The digest of one of this provider's states."""
        if self.fingerprint is None:
            return digest(state)
        return xxhash.xxh3_128_hexdigest(self.fingerprint(state))


@dataclass(frozen=True)
class AmbientRead:
    """The state a run started from, for the providers it consumed."""

    provider: str
    digest: str
    keys: tuple[str, ...] = ()
    """For a mapping state that is an input, the keys the run changed, which the read
    covers (other keys may rightly differ elsewhere); empty: the whole state."""


@dataclass(frozen=True)
class AmbientEffect:
    """The state a run left, to apply again on a hit. For state that is a mapping (options,
    the environment) only what the run changed: other keys may rightly differ elsewhere."""

    provider: str
    state: Any
    removed: tuple[str, ...] = ()


class CannotMake(Exception):
    """Raised by a provider's ``set`` when the state a run left cannot be made by setting it
    (a method a call added to a library's class): the engine runs the call again."""


def first_names(names: list[str], shown: int = 3) -> str:
    """``names`` for a :class:`CannotMake` message: the first few, then ``...``."""
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")


_providers: dict[str, StateProvider] = {}
REMOVED = "<hitnb: removed>"
"""In a mapping given to a provider's ``set``: the run removed this key."""
_ABSENT = object()


def _equal(before: Any, after: Any) -> bool:
    """Whether two values are equal as Python compares them, of one type; False when the
    answer is not a plain ``True`` (an array's elementwise answer, an error)."""
    try:
        return type(before) is type(after) and (before == after) is True
    except Exception:  # the truth value of an array, say
        return False


def _same_value(before: Any, after: Any) -> bool:
    """One value of a mapping state: equal, or pickled the same."""
    if _equal(before, after):
        return True
    try:
        return digest(before) == digest(after)
    except Exception:  # cannot be pickled: count it as changed
        return False


def register_state(provider: StateProvider) -> None:
    """Have every run snapshot ``provider`` (replacing one of the same name)."""
    _providers[provider.name] = provider


def unregister_state(name: str) -> None:
    _providers.pop(name, None)


def providers() -> list[StateProvider]:
    return list(_providers.values())


def digest(state: Any) -> str:
    """A digest of a snapshot: states are plain data (tuples, dicts, arrays, lists)."""
    return xxhash.xxh3_128_hexdigest(pickle.dumps(state, protocol=5))


def _unshared(state: Any) -> bytes:
    """A setting's state pickled without pickle's memo, so the bytes depend on the values
    only, not on which of them are one object: rcParams set again by a hit share fewer
    lists than the session that stored it, and pickled 17 bytes longer. A state pickle
    refuses (``pd.set_option("display.float_format", lambda v: ...)``) is hashed as hitnb
    hashes values, functions by their code: before, such a setting was left out of the
    reads, and a cell stored under another formatter showed its old numbers."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=5)
    pickler.fast = True  # no memo (settings hold no cycles)
    try:
        pickler.dump(state)
    except Exception:  # a formatter given as a lambda: hashed by its code
        return b"hitnb value " + hash_value(state).encode()
    return out.getvalue()


@dataclass
class Snapshot:
    """The state of every imported provider at one moment, by name."""

    states: dict[str, Any]
    cell: bool = False
    """Taken around a notebook cell (settings are reads of cells only)."""

    @classmethod
    def take(cls, *, cell: bool = False, settings: Settings | None = None) -> Snapshot:
        """The state now. Away from the main thread (a Dask worker's task, a thread pool)
        random streams are left out: other threads draw from the same global streams at any
        moment, so what changed there says nothing about the run. So is a stream not seeded
        (yet): its state came from the operating system's entropy, so a run that seeds it
        does not depend on it (before, that state became a read no new process could meet,
        and the cell ran again after every restart). With ``settings`` (see
        :func:`settings_now`), the settings are those, taken as the cell started."""
        watch_seeders()
        streams = threading.current_thread() is threading.main_thread()
        states: dict[str, Any] = {}
        modules = sys.modules
        for provider in _providers.values():
            if provider.module not in modules:
                continue
            if provider.seeder and not (streams and provider.name in _seeded):
                continue  # drawn from entropy so far: neither a read nor an effect
            if provider.cells_only and not cell:
                continue
            if settings is not None and provider.setting:
                if provider.name in settings:
                    states[provider.name] = settings[provider.name]
                continue
            try:
                states[provider.name] = provider.get()
            except Exception:  # a provider that cannot say is left out, never breaks a run
                continue
        return cls(states, cell)

    def changes_since(
        self, before: Snapshot, unread: frozenset[str] = frozenset()
    ) -> tuple[list[AmbientRead], list[AmbientEffect]]:
        """What a run read and changed between ``before`` and this snapshot; settings named
        in ``unread`` (see :func:`settings_not_read`) are not among a cell's reads.

        States are compared as Python compares them first (rcParams: 5 us, against 60 us
        to pickle and hash both); only an answer other than a plain ``True`` between states
        of one type (a change, an array's elementwise answer) is settled by their digests.
        A state that changed is an effect. A seeded random stream that changed was consumed,
        so its earlier state is a read; an unseeded one is in neither snapshot (:meth:`take`:
        an uncached run would draw other numbers every time, so the stored ones are as good
        as any). A library imported during the run counts from its default state, which a
        later run would find just the same.
        """
        reads: list[AmbientRead] = []
        effects: list[AmbientEffect] = []
        for name, state in self.states.items():
            provider = _providers.get(name)
            if provider is None:  # unregistered since
                continue
            old = before.states.get(name, _ABSENT)
            if old is not _ABSENT and _equal(old, state):
                continue  # most runs change nothing: no state pickled and hashed twice
            try:
                was = None if old is _ABSENT else provider.digest(old)
                if was == provider.digest(state):  # equal, though Python could not say so
                    continue
            except Exception:  # a provider that cannot say is left out, never breaks a run
                continue
            if isinstance(state, dict) and isinstance(old, dict):
                changed = {
                    k: v for k, v in state.items() if k not in old or not _same_value(old[k], v)
                }
                removed = tuple(k for k in old if k not in state)
                effects.append(AmbientEffect(name, changed, removed))
                if provider.reads:
                    keys = tuple(k for k in (*changed, *removed) if k in old)
                    if keys:
                        reads.append(AmbientRead(name, provider.digest(_part(old, keys)), keys))
                continue
            if provider.changes and isinstance(old, list) and isinstance(state, list):
                done = list_changes.change(old, state)
                if done is not None:
                    effects.append(AmbientEffect(name, done))
                    continue
            effects.append(AmbientEffect(name, state))
            if provider.reads and was is not None:
                reads.append(AmbientRead(name, was))
        if before.cell:
            reads += _settings_read(before, {read.provider for read in reads} | unread)
        return reads, effects


Settings = dict[str, Any]
"""The states of the settings imported at one moment, by provider name."""


def settings_now() -> Settings:
    """The settings (:attr:`StateProvider.setting`) as they are now: taken as a cell starts,
    before anything is loaded for it. Loading a stored record imports the libraries its
    values need, and an import can change settings (a module that sets a pandas option as
    it is imported): checked after the load, a cell whose stored value needed that module
    found "pandas options changed" in every session after the first."""
    states: Settings = {}
    modules = sys.modules
    for provider in _providers.values():
        if provider.setting and provider.module in modules:
            try:
                states[provider.name] = provider.get()
            except Exception:  # a provider that cannot say is left out, never breaks a run
                continue
    return states


def settings_not_read(touched: Callable[[tuple[str, ...]], bool]) -> frozenset[str]:
    """The settings a cell did not read: those read only by cells that touch one of their
    modules (:attr:`StateProvider.read_by`), where ``touched(modules)`` says it did not."""
    return frozenset(p.name for p in _providers.values() if p.read_by and not touched(p.read_by))


def _settings_read(before: Snapshot, known: set[str]) -> list[AmbientRead]:
    """The settings a cell started from (see :attr:`StateProvider.setting`)."""
    reads = []
    for name, state in before.states.items():
        provider = _providers.get(name)
        if provider is None or not provider.setting or name in known:
            continue
        try:
            reads.append(AmbientRead(name, provider.digest(state)))
        except Exception:  # a provider that cannot say is left out, never breaks a run
            continue
    return reads


def _part(state: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: state[k] for k in keys if k in state}


def unmet(reads: list[AmbientRead], settings: Settings | None = None) -> str | None:
    """Why the process state differs from what a run read, or None when it is the same;
    a setting is compared as ``settings`` has it (:func:`settings_now`), when it has it."""
    for read in reads:
        provider = _providers.get(read.provider)
        if provider is None or provider.module not in sys.modules:
            return f"{read.provider} is not available here"
        what = f"{read.provider} ({', '.join(read.keys)})" if read.keys else read.provider
        try:
            if read.keys and provider.know is not None:
                provider.know(read.keys)
            if settings is not None and provider.setting and read.provider in settings:
                state = settings[read.provider]
            else:
                state = provider.get()
            if read.keys:
                state = _part(state, read.keys)
                if len(state) < len(read.keys):
                    return f"{what} is not available here"
            now = provider.digest(state)
        except Exception as exc:
            return f"{what} cannot be read ({exc})"
        if now != read.digest:
            if provider.setting and not read.keys:
                return f"{what} changed since the cell was stored"
            return f"{what} is not where the stored run started from"
    return None


def apply(effects: list[AmbientEffect]) -> None:
    """Leave the process state as the run that is replayed left it.

    The modules the run imported come first, then the checks of what cannot be set
    (:attr:`StateProvider.only_checks`), then the rest. When some of it cannot be made (a
    check fails, or a ``set`` raises: a folder deleted since, a plotly template not
    registered here), what was set is put back as it was and :class:`CannotMake` is raised:
    the engine then runs the call on the state a plain run would have met."""
    rank = {name: i for i, name in enumerate(_providers)}

    def order(effect: AmbientEffect) -> tuple[int, int]:
        provider = _providers.get(effect.provider)
        first = effect.provider == IMPORTS
        return (0 if first else 1 if provider is not None and provider.only_checks else 2,
                rank.get(effect.provider, 0))  # fmt: skip

    done: list[tuple[StateProvider, AmbientEffect, Any]] = []
    for effect in sorted(effects, key=order):
        provider = _providers.get(effect.provider)
        if provider is None:
            continue
        if provider.module not in sys.modules:  # the run imported it: so does its replay
            try:
                importlib.import_module(provider.module)
            except Exception:
                continue
        try:
            state = copy.deepcopy(effect.state)
            if provider.know is not None and isinstance(state, dict):
                provider.know(state)
            undo = _ABSENT if provider.only_checks or provider.name == IMPORTS else provider.get()
            if effect.removed and isinstance(state, dict):
                state.update(dict.fromkeys(effect.removed, REMOVED))
            provider.set(state)
        except Exception as exc:
            _put_back(done)
            if isinstance(exc, CannotMake):
                raise
            said = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else repr(exc)
            raise CannotMake(f"{provider.name} cannot be made as the run left it ({said})") from exc
        if provider.seeder:
            _seeded.add(provider.name)  # a stored run's state: as deterministic as its seed
        done.append((provider, effect, undo))


def _put_back(done: list[tuple[StateProvider, AmbientEffect, Any]]) -> None:
    """Set back, last first, the states :func:`apply` set before it failed (as well as it
    can: a provider that cannot take its old state back is left as it is)."""
    for provider, effect, before in reversed(done):
        if before is _ABSENT:
            continue
        state = before
        if isinstance(before, dict) and isinstance(effect.state, dict):
            keys = (*effect.state, *effect.removed)
            state = {k: before.get(k, REMOVED) for k in keys}
        try:
            provider.set(state)
        except Exception:
            continue


_seeded: set[str] = set()
"""Random streams seeded in this process (their draws are deterministic from then on)."""
_watched: set[str] = set()


def watch_seeders(*, fresh: frozenset[str] = frozenset()) -> None:
    """Wrap each imported stream's seeding function once, to know when it was seeded.

    A module imported while hitnb watches (``fresh``: its stream was seeded from the
    operating system's entropy a moment ago) starts unseeded. A module that was imported
    before hitnb could watch it may have been seeded already, so its stream counts as seeded:
    the safe side, where a changed stream runs a cell again rather than replaying it."""
    for provider in _providers.values():
        if not provider.seeder or provider.seeder in _watched:
            continue
        module_name, _, function = provider.seeder.rpartition(".")
        module = sys.modules.get(module_name)
        original = getattr(module, function, None) if module is not None else None
        if original is None:
            continue
        _watched.add(provider.seeder)
        if module_name not in fresh:
            _seeded.add(provider.name)

        def seed(*args: Any, __seed: Any = original, __name: str = provider.name, **kw: Any) -> Any:
            given = args[0] if args else next(iter(kw.values()), None)
            if given is None:  # seed() from the operating system's entropy
                _seeded.discard(__name)
            else:
                _seeded.add(__name)
            return __seed(*args, **kw)

        seed.__wrapped__ = original  # type: ignore[attr-defined]
        seed.__doc__ = original.__doc__
        setattr(module, function, seed)


class _SeederImports(importlib.abc.MetaPathFinder):
    """Watches a random stream's module the moment it is imported, before anyone seeds it."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in _SEEDER_MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _WatchingLoader(spec.loader)
                return spec
        return None


class _WatchingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.loader.exec_module(module)
        watch_seeders(fresh=frozenset({module.__name__}))


# -- the built-in providers ------------------------------------------------------------------
def _numpy() -> Any:
    return sys.modules["numpy"]


def _torch() -> Any:
    return sys.modules["torch"]


def _set_environ(state: dict[str, str]) -> None:
    for name, value in state.items():
        if value == REMOVED:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _set_sys_path(state: list[str] | list_changes.ListChange) -> None:
    sys.path[:] = list_changes.applied(sys.path, state)


def _pandas_options() -> dict[str, Any]:
    """Every registered option's value, read from pandas' own nested dicts (``get_option``
    for each of them took 80 us a snapshot; these lookups take 3)."""
    return {key: section[leaf] for key, section, leaf in _pandas_option_places()}


_option_places: tuple[tuple[Any, ...], list[tuple[str, dict[str, Any], str]]] = ((), [])


def _pandas_option_places() -> list[tuple[str, dict[str, Any], str]]:
    """(option, the dict holding its value, its key there), found again when options are
    registered or deprecated."""
    global _option_places
    options = sys.modules["pandas"]._config.config
    registered, deprecated, root = (
        options._registered_options, options._deprecated_options, options._global_config,
    )  # fmt: skip
    stamp = (id(root), len(registered), len(deprecated))
    if _option_places[0] != stamp:
        places = []
        for key in sorted(k for k in registered if k not in deprecated):
            *path, leaf = key.split(".")
            section = root
            for part in path:
                section = section[part]
            places.append((key, section, leaf))
        _option_places = (stamp, places)
    return _option_places[1]


def _set_pandas_options(state: dict[str, Any]) -> None:
    pandas = sys.modules["pandas"]
    for key, value in state.items():
        if value != REMOVED and pandas.get_option(key) != value:
            pandas.set_option(key, value)


_SKLEARN_HTML = "sklearn.utils._repr_html.estimator"
_SKLEARN_COUNTERS = ("_CONTAINER_ID_COUNTER", "_ESTIMATOR_ID_COUNTER")


def _sklearn_html_ids() -> tuple[int, ...]:
    """How many HTML diagrams of estimators scikit-learn has numbered (the ids their
    checkboxes toggle by). A hit that left them where they were made the next diagram reuse
    an id a replayed one shows: its toggles worked the first diagram's."""
    module = sys.modules[_SKLEARN_HTML]
    counts = tuple(getattr(module, name).count for name in _SKLEARN_COUNTERS)
    if not all(isinstance(count, int) for count in counts):
        raise TypeError("scikit-learn's HTML ids are not counted as this version of hitnb knows")
    return counts


def _set_sklearn_html_ids(state: tuple[int, ...]) -> None:
    module = sys.modules[_SKLEARN_HTML]
    for name, count in zip(_SKLEARN_COUNTERS, state, strict=True):
        counter = getattr(module, name)
        counter.count = max(counter.count, count)  # never back: ids shown since stay unique


def _rc_params() -> dict[str, Any]:
    return dict(dict.items(sys.modules["matplotlib"].rcParams))  # raw: no per-key checks


def _set_rc_params(state: dict[str, Any]) -> None:
    """Set the values a snapshot read raw, raw: they were valid when read, and deprecated
    keys (in every snapshot) warn when set through ``rcParams[...]``. Silencing them with
    ``warnings.catch_warnings`` made Python forget which warnings the notebook had shown."""
    params = sys.modules["matplotlib"].rcParams
    changes = {k: v for k, v in state.items() if v != REMOVED and dict.get(params, k) != v}
    dict.update(params, changes)


def _set_sklearn_config(state: dict[str, Any]) -> None:
    """``sklearn.set_config`` of the keys a run changed (``transform_output="pandas"``
    makes transformers return DataFrames; ``display="text"`` changes how estimators show)."""
    sys.modules["sklearn"].set_config(**{k: v for k, v in state.items() if v != REMOVED})


def _bokeh_output() -> tuple[bool, str]:
    """Whether bokeh shows in the notebook (``output_notebook()``): else ``show(p)`` writes
    an HTML file and shows nothing."""
    state = sys.modules["bokeh.io.state"].curstate()
    return bool(state.notebook), str(state.notebook_type)


def _set_bokeh_output(value: tuple[bool, str]) -> None:
    state = sys.modules["bokeh.io.state"].curstate()
    notebook, kind = value
    if notebook:
        state.output_notebook(kind)
    else:
        state.reset()


def _decimal_context() -> tuple[Any, ...]:
    """The settings of ``decimal``'s context in this thread: ``getcontext().prec = 50``
    changes every quotient a later cell computes (its flags, which each operation sets,
    are left out)."""
    context = sys.modules["decimal"].getcontext()
    traps = tuple(sorted(signal.__name__ for signal, on in context.traps.items() if on))
    return (context.prec, context.rounding, context.Emin, context.Emax, context.capitals,
            context.clamp, traps)  # fmt: skip


def _set_decimal_context(state: tuple[Any, ...]) -> None:
    context = sys.modules["decimal"].getcontext()
    prec, rounding, emin, emax, capitals, clamp, traps = state
    context.prec, context.rounding, context.Emin, context.Emax = prec, rounding, emin, emax
    context.capitals, context.clamp = capitals, clamp
    for signal in context.traps:
        context.traps[signal] = signal.__name__ in traps


def _mpmath_precision() -> tuple[int, bool, bool]:
    """mpmath's global precision and printing (``mp.dps = 40``: every later ``mpmath.sqrt``
    gives 40 digits)."""
    mp = sys.modules["mpmath"].mp
    return int(mp.prec), bool(mp.pretty), bool(mp.trap_complex)


def _set_mpmath_precision(state: tuple[int, bool, bool]) -> None:
    mp = sys.modules["mpmath"].mp
    mp.prec, mp.pretty, mp.trap_complex = state


def _sympy_printing() -> dict[str, Any]:
    """sympy's global printing settings (``init_printing(use_unicode=False)`` sets them;
    the printers it registers with IPython are the same functions either way)."""
    return dict(sys.modules["sympy.printing.printer"].Printer._global_settings)


def _set_sympy_printing(state: dict[str, Any]) -> None:
    settings = sys.modules["sympy.printing.printer"].Printer._global_settings
    settings.clear()
    settings.update(state)


_environ_seen: tuple[dict[Any, Any], dict[str, str]] = ({}, {})


def _environ() -> dict[str, str]:
    """``os.environ`` as text, decoded again only when its raw data changed (decoding every
    variable took 14 us a snapshot; comparing the raw dicts takes 1)."""
    global _environ_seen
    data = getattr(os.environ, "_data", None)
    if not isinstance(data, dict):
        return dict(os.environ)
    raw, decoded = _environ_seen
    if data != raw:
        raw, decoded = dict(data), dict(os.environ)
        _environ_seen = (raw, decoded)
    return dict(decoded)


def _random_fingerprint(state: Any) -> bytes:
    """``random.getstate()``: its 625 words packed, not pickled one by one."""
    version, words, gauss = state
    return array.array("Q", words).tobytes() + repr((version, gauss)).encode()


def _numpy_random_fingerprint(state: Any) -> bytes:
    """``numpy.random.get_state()`` of MT19937: the key array's bytes and the rest's repr;
    another bit generator's state (a dict) is pickled."""
    if not (isinstance(state, tuple) and state and state[0] == "MT19937"):
        return pickle.dumps(state, protocol=5)
    name, key, *rest = state
    return bytes(key) + repr((name, *rest)).encode()


def _set_working_folder(state: str) -> None:
    if os.getcwd() != state:
        os.chdir(state)


_LOGGER_DEFAULTS = (0, False, True)
"""A new logger's level, ``disabled`` and ``propagate``."""


def _logger_settings() -> dict[str, tuple[int, bool, bool]]:
    """The level, ``disabled`` and ``propagate`` of each logger set otherwise than a new
    one, by name (the root's and ``logging.disable``'s level always):
    ``getLogger("cmdstanpy").setLevel(WARNING)`` silences a library for the cells after
    it. Loggers a run's imports make, as new, are no change to make again."""
    logging = sys.modules["logging"]
    root = logging.root
    state = {
        name: settings
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
        and (settings := (logger.level, logger.disabled, logger.propagate)) != _LOGGER_DEFAULTS
    }
    state["root"] = (root.level, root.disabled, root.propagate)
    state["logging.disable"] = (root.manager.disable, False, True)
    return state


def _set_logger_settings(state: dict[str, Any]) -> None:
    logging = sys.modules["logging"]
    for name, settings in state.items():
        level, disabled, propagate = _LOGGER_DEFAULTS if settings == REMOVED else settings
        if name == "logging.disable":
            logging.disable(level)
            continue
        logger = logging.root if name == "root" else logging.getLogger(name)
        if logger.level != level:
            logger.setLevel(level)
        logger.disabled, logger.propagate = disabled, propagate


_PLOTLY_DEFAULTS = ("templates", "renderers")
"""The ``plotly.io`` objects whose ``default`` is a setting: each in its own module."""


def _plotly_defaults() -> dict[str, Any]:
    """``plotly.io``'s default template and renderer (``pio.templates.default =
    "plotly_white"`` styles every later figure), each once plotly has loaded it. Reading
    ``pio.renderers`` would load plotly's renderers, and with them nbformat and jsonschema
    (1.2 s), which a cell importing ``plotly.express`` does not (an import cell took 1.4 s
    against 0.15 s plainly, in every session); a default not loaded yet was never set."""
    modules = sys.modules
    state = {}
    for name in _PLOTLY_DEFAULTS:
        module = modules.get(f"plotly.io._{name}")
        if module is not None:
            state[name] = getattr(module, name).default
    return state


def _set_plotly_defaults(state: dict[str, Any]) -> None:
    pio = sys.modules["plotly.io"]
    for name, value in state.items():
        if value != REMOVED:
            getattr(pio, name).default = value


def _warnings_to_logging() -> bool:
    """Whether warnings go to the logging package (``logging.captureWarnings(True)``)."""
    return sys.modules["logging"]._warnings_showwarning is not None


def _root_handlers() -> tuple[tuple[Any, ...], ...]:
    """The root logger's handlers, each as ``("stream", "stderr" or "stdout", level, format,
    date format, style)`` for a stream handler of the process's standard streams (what
    ``logging.basicConfig(level=INFO)`` adds), else ``("other", its class)``: with no such
    handler, a library's log lines after a hit were not shown, as they were after the run."""
    logging = sys.modules["logging"]
    described: list[tuple[Any, ...]] = []
    for handler in logging.root.handlers:
        stream = getattr(handler, "stream", None)
        where = {id(sys.stderr): "stderr", id(sys.stdout): "stdout"}.get(id(stream))
        formatter = handler.formatter
        if type(handler) is not logging.StreamHandler or where is None:
            described.append(("other", type(handler).__qualname__))
            continue
        style = type(getattr(formatter, "_style", None)).__name__
        described.append(
            ("stream", where, handler.level, getattr(formatter, "_fmt", None),
             getattr(formatter, "datefmt", None), style)
        )  # fmt: skip
    return tuple(described)


_STYLES = {"PercentStyle": "%", "StrFormatStyle": "{", "StringTemplateStyle": "$"}


def _set_root_handlers(state: tuple[tuple[Any, ...], ...]) -> None:
    """Give the root logger the handlers a run left it, made again; one of another kind
    than a stream handler of the standard streams cannot be made (:class:`CannotMake`)."""
    if _root_handlers() == tuple(state):
        return
    if any(kind != "stream" for kind, *_ in state):
        raise CannotMake("the stored run added a logging handler a hit cannot make again")
    logging = sys.modules["logging"]
    for handler in list(logging.root.handlers):
        logging.root.removeHandler(handler)
    for _, where, level, fmt, datefmt, style in state:
        handler = logging.StreamHandler(getattr(sys, where))
        handler.setLevel(level)
        if fmt is not None:
            handler.setFormatter(logging.Formatter(fmt, datefmt, _STYLES.get(style, "%")))
        logging.root.addHandler(handler)


IMPORTS = "imported modules"


def _imported() -> dict[str, bool]:
    return dict.fromkeys(sys.modules, True)


def _import(state: dict[str, Any]) -> None:
    """Import the modules a run imported (a later cell may use ``mpl.pyplot`` because an
    earlier one imported it as a side effect)."""
    for name, present in state.items():
        if present is True and name not in sys.modules and not name.startswith("_"):
            try:
                importlib.import_module(name)
            except Exception:  # a module that only loads in its parent's import, a test stub
                continue


for _provider in (
    StateProvider(IMPORTS, "sys", _imported, _import, cells_only=True,
                  fingerprint=lambda state: "\n".join(state).encode()),
    StateProvider(
        "Python's global random state",
        "random",
        random.getstate,
        random.setstate,
        reads=True,
        seeder="random.seed",
        fingerprint=_random_fingerprint,
    ),
    StateProvider(
        "numpy's global random state",
        "numpy",
        lambda: _numpy().random.get_state(),
        lambda state: _numpy().random.set_state(state),
        reads=True,
        seeder="numpy.random.seed",
        fingerprint=_numpy_random_fingerprint,
    ),
    StateProvider(
        "torch's global random state",
        "torch",
        lambda: _torch().random.get_rng_state().numpy().tobytes(),
        lambda state: _torch().random.set_rng_state(
            _torch().frombuffer(bytearray(state), dtype=_torch().uint8)
        ),
        reads=True,
        seeder="torch.manual_seed",
    ),
    StateProvider("numpy print options", "numpy", lambda: _numpy().get_printoptions(),
                  lambda state: _numpy().set_printoptions(**state), setting=True,
                  fingerprint=_unshared),
    StateProvider("numpy floating-point error handling", "numpy", lambda: _numpy().geterr(),
                  lambda state: _numpy().seterr(**state), setting=True, fingerprint=_unshared),
    StateProvider("pandas options", "pandas", _pandas_options, _set_pandas_options,
                  setting=True, fingerprint=_unshared),
    StateProvider("plotly defaults", "plotly.io", _plotly_defaults, _set_plotly_defaults,
                  setting=True, fingerprint=_unshared),
    StateProvider("bokeh's output", "bokeh.io.state", _bokeh_output, _set_bokeh_output),
    StateProvider("scikit-learn's configuration", "sklearn",
                  lambda: dict(sys.modules["sklearn"].get_config()), _set_sklearn_config,
                  setting=True, fingerprint=_unshared),
    StateProvider("scikit-learn's HTML diagram ids", _SKLEARN_HTML, _sklearn_html_ids,
                  _set_sklearn_html_ids, cells_only=True),
    StateProvider("matplotlib rcParams", "matplotlib", _rc_params, _set_rc_params,
                  setting=True, fingerprint=_unshared),
    StateProvider("decimal's context", "decimal", _decimal_context, _set_decimal_context,
                  setting=True, read_by=("decimal", "_decimal")),
    StateProvider("mpmath's precision", "mpmath", _mpmath_precision, _set_mpmath_precision,
                  setting=True, read_by=("mpmath",)),
    StateProvider("sympy's printing settings", "sympy.printing.printer", _sympy_printing,
                  _set_sympy_printing, setting=True, read_by=("sympy",)),
    StateProvider("os.environ", "os", _environ, _set_environ),
    StateProvider("warnings filters", "warnings", lambda: list(warning_filters.now()[0]),
                  warning_filters.put_back, changes=True),
    StateProvider("sys.path", "sys", lambda: list(sys.path), _set_sys_path, changes=True),
    StateProvider("the working folder", "os", os.getcwd, _set_working_folder, reads=True),
    StateProvider("the recursion limit", "sys", sys.getrecursionlimit, sys.setrecursionlimit),
    StateProvider("logger levels", "logging", _logger_settings, _set_logger_settings),
    StateProvider("warnings sent to logging", "logging", _warnings_to_logging,
                  lambda state: sys.modules["logging"].captureWarnings(state)),
    StateProvider("logging handlers", "logging", _root_handlers, _set_root_handlers),
):  # fmt: skip
    register_state(_provider)
_SEEDER_MODULES = frozenset(p.seeder.rpartition(".")[0] for p in _providers.values() if p.seeder)
sys.meta_path.insert(0, _SeederImports())
watch_seeders(fresh=frozenset({"random"}))  # imported by hitnb itself, before any user code
