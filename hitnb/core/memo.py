"""``@memo`` and ``@experiment``: persistent memoization keyed on code and arguments.

The decorator is the function host's adapter to the run engine (:mod:`hitnb.core.engine`):
it binds a call's arguments, builds its key parts (:mod:`hitnb.hashing.keys`) and hands
the engine a :class:`_FunctionWork`. A hit returns the stored result; a miss runs the
function, stores the result and returns it. Exceptions from the function propagate and
store nothing but a failed experiment run. A result that cannot be stored is still
returned, with a :class:`StoreWriteWarning`. Repeat hits in one process take a shorter
path (``_hot_hit``) that checks the settings and the fingerprint, not the store.
"""

from __future__ import annotations

import collections
import functools
import inspect
import itertools
import os
import sys
import threading
import time
import types
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext, suppress
from pathlib import Path
from typing import Any, Generic, ParamSpec, TypeVar, overload

from hitnb import config
from hitnb.config import Mode, check_mode
from hitnb.core import ambient, engine, events, modes
from hitnb.core.arguments import Binder, summarize
from hitnb.core.cells import may_change
from hitnb.core.explain import Explanation, announce_miss, explain_call, in_kernel
from hitnb.core.files import named_paths
from hitnb.core.generators import is_generator, set_state, state_of
from hitnb.core.metrics import experiments_frame
from hitnb.core.recipe import Recipe, function_recipe, keeper
from hitnb.core.record import RunRecord
from hitnb.core.returned import Returned
from hitnb.core.runs import Lazy, Run
from hitnb.core.seeding import seeded
from hitnb.core.stores import current_store, folder_of, store_for
from hitnb.errors import (
    ConfigError,
    StoreWriteWarning,
    UnhashableArgumentError,
    UnknownKeyError,
)
from hitnb.hashing.analysis import analyze
from hitnb.hashing.dependencies import (
    Fingerprint,
    Plan,
    fingerprint,
    instance_code,
    plan_for,
    written_during,
)
from hitnb.hashing.keys import PYTHON, Dependency, KeyParts, compose_key
from hitnb.hashing.values import UnhashableValue, hash_value, qualified_name
from hitnb.names import display_name, names_function
from hitnb.notes import say
from hitnb.store.index import Stored
from hitnb.store.local import Entry, LocalStore

P = ParamSpec("P")
R = TypeVar("R")

_MISS: Any = object()
HOT_ENTRIES = 1024
"""Repeat hits remembered per function (argument values to the stored record)."""
_Hot = tuple[config.Resolved, bytes, "LocalStore", "Stored | Entry", Callable[[], Any] | None]
_Prepared = tuple["engine.Call", config.Resolved, bytes]
"""A call ready for the engine, with what a hit needs to be remembered."""
_EXACT_TYPES = frozenset({int, str, bytes, bool, type(None)})


MAX_NAME = 500


def _checked_identity(name: str) -> str:
    """A ``name=`` given by the user: stored as data only, but it must be storable text."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"name= must be a non-empty string, got {name!r}")
    if len(name) > MAX_NAME:
        raise ConfigError(f"name= is {len(name)} characters long; keep it under {MAX_NAME}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(
            f"name= {name!r} is not valid text (lone surrogates); rename it"
        ) from None
    return name


def _identity(fn: Callable[..., Any]) -> str:
    """``module.qualname``; a ``functools.partial`` by the function it wraps (its own repr
    holds a memory address, which would change the identity in every process). The
    partial's arguments are part of the key's code fingerprint."""
    if isinstance(fn, functools.partial):
        return f"functools.partial({_identity(fn.func)})"
    return qualified_name(fn)


def _hot_key(args: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """A dict key for arguments that equals another exactly when their hitnb keys would:
    scalars tagged with their type, floats by their bits (``0.0`` is not ``-0.0``);
    anything else has no such key and takes the ordinary path."""
    out = []
    for arg in args:
        kind = type(arg)
        if kind in _EXACT_TYPES:
            out.append((kind, arg))
        elif kind is float:
            out.append((kind, arg.hex()))
        else:
            return None
    return tuple(out)


def _draws(value: Any) -> bool:
    """Whether ``value``, a global a call changed, is or holds a stream drawing from which
    is the change (an iterator, a deque, a random generator inside an object or a dict:
    ``sim.rng``, a ``KFold`` built with a ``RandomState``), not state the function keeps
    (a cache, a counter). A generator that is the global itself is not: a hit puts its
    state back (:meth:`_FunctionWork._generators_advanced`)."""
    if is_generator(value):
        return False
    if isinstance(value, Iterator | collections.deque):
        return True
    if isinstance(value, dict):
        held: Iterable[Any] = value.values()
    elif isinstance(value, type | types.ModuleType | types.FunctionType):
        return False
    else:
        held = getattr(value, "__dict__", {}).values()
    return any(is_generator(v) or isinstance(v, Iterator) for v in itertools.islice(held, 1000))


def _is_data(value: Any) -> bool:
    """A numpy array or a pandas frame or series: changed in place by a call (a column
    added to a global frame), the change is what later code reads, not state the function
    keeps for itself."""
    module = type(value).__module__.partition(".")[0]
    return (module == "numpy" and type(value).__name__ == "ndarray") or (
        module == "pandas" and type(value).__name__ in ("DataFrame", "Series")
    )


def _memoized_at(module: str, name: str) -> Any:
    """The memoized function ``module.name`` (how :meth:`MemoizedFunction.__reduce__` loads)."""
    import importlib

    return getattr(importlib.import_module(module), name)


class MemoizedFunction(Generic[P, R]):
    """A function whose results persist in the store; made by :func:`memo`."""

    _hitnb_wraps_code = True
    """Hashed as the code it wraps, not as its state (:mod:`hitnb.hashing.values`)."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        ignore: Iterable[str] = (),
        version: str | int | None = None,
        mode: str | None = None,
        seed: bool | str = False,
        lazy: bool = False,
        mmap: bool = False,
        codec: str | None = None,
        experiment: bool = False,
        store: str | os.PathLike[str] | None = None,
        name: str | None = None,
        wait: bool | None = None,
        files: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@memo decorates functions, got {type(fn).__qualname__}: {fn!r}")
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            raise TypeError(
                f"@memo cannot cache generator function {qualified_name(fn)}(): a generator "
                "yields its values once, to one consumer, so there is no result to store. "
                "Memoize a function that returns a list instead (return list(...) or "
                "[... for ...]), and iterate over its result"
            )
        functools.update_wrapper(self, fn)
        self.__wrapped__ = fn
        self.function = fn
        self._globals: dict[str, Any] | None = getattr(fn, "__globals__", None)
        """Where the function's code looks names up: its results are unpickled there too."""
        self.identity = _checked_identity(name) if name is not None else _identity(fn)
        self.binder = Binder(fn)
        self.ignore = frozenset((ignore,) if isinstance(ignore, str) else ignore)
        self._ignored_globals = self.ignore - set(self.binder.names)
        if self._ignored_globals:
            self._check_ignored_globals(fn)
        self.version = None if version is None else str(version)
        self._extras = (
            {"python": PYTHON} if version is None else {"python": PYTHON, "version": str(version)}
        )
        self.mode: Mode | None = None if mode is None else check_mode(mode)
        self.seed_name = "seed" if seed is True else (seed or None)
        self._seed_is_parameter = self.seed_name in self.binder.names
        self.lazy = lazy
        self.mmap = mmap
        self.codec = codec
        self.experiment = experiment
        self.wait = wait
        self.store_folder = folder_of(store)
        self.files = [os.fspath(f) for f in ((files,) if isinstance(files, str) else files)]
        self._written_by_code: dict[tuple[Path, str], frozenset[str]] = {}
        """Per store and code version: values the function was seen to change."""
        simple = self.binder.simple and not (lazy or mmap or self.seed_name)
        self._hot: OrderedDict[tuple[Any, ...], _Hot] | None = OrderedDict() if simple else None
        """Repeat hits, oldest first: an OrderedDict, since dropping a plain dict's first
        entry again and again makes it scan the holes left in front: 1.3 us a call once
        :data:`HOT_ENTRIES` calls are remembered, against 0.5 us."""

    def __repr__(self) -> str:
        kind = "experiment" if self.experiment else "memo"
        return f"<hitnb {kind} {self.identity}>"

    def __reduce__(self) -> Any:
        """Pickled by reference (module and name) when it can be, so a process pool or a
        cluster worker gets the same memoized function, settings included."""
        module = sys.modules.get(self.function.__module__)
        if getattr(module, self.function.__qualname__, None) is self:
            return (_memoized_at, (self.function.__module__, self.function.__qualname__))
        return object.__reduce__(self)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        """Decorating a method works: the instance is the first argument (and is hashed)."""
        return self if instance is None else types.MethodType(self, instance)

    # -- keys ------------------------------------------------------------------------------
    def _store(self) -> LocalStore:
        return store_for(config.resolved(), self.store_folder)

    def _check_ignored_globals(self, fn: Callable[..., Any]) -> None:
        code = getattr(fn, "__code__", None)
        known = set(analyze(fn).reads) | set(code.co_freevars) if code is not None else set()
        unknown = self._ignored_globals - known
        if unknown:  # members of classes it uses, globals its helpers read
            plan = plan_for(fn, config.settings().version_sensitivity, self._ignored_globals)
            unknown -= plan.names
        if unknown:
            raise ConfigError(
                f"ignore= names {sorted(unknown)} that {self.identity}() neither takes nor "
                f"reads; its parameters are {list(self.binder.names)}"
            )

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """Bound arguments, and the seed to use (None without ``seed=``)."""
        seed = None
        if self.seed_name is not None and not self._seed_is_parameter:
            seed = kwargs.pop(self.seed_name, 0)
        fn = self.function
        if (
            getattr(fn, "__defaults__", None) is not self.binder.defaults_were
            or getattr(fn, "__kwdefaults__", None) is not self.binder.kwdefaults_were
        ):  # patched in place: bind with the new ones
            self.binder = Binder(fn)
        bound = self.binder.bind(args, kwargs)
        if self._seed_is_parameter:
            seed = bound[self.seed_name]  # type: ignore[index]
        return bound, seed

    def _written(self, store: LocalStore, code: str) -> frozenset[str]:
        """Values this code version of the function was seen to change (state, not inputs),
        as the store recorded them. Keyed by the code, not the name: another function of the
        same name (another notebook's ``prepare``) or an edited body learns its own."""
        slot = (store.root, code)
        written = self._written_by_code.get(slot)
        if written is None:
            latest = store.entries(self.identity, code=code, limit=1)
            written = frozenset(KeyParts.from_json(latest[0].parts).written if latest else ())
            self._written_by_code[slot] = written
        return written

    def _exempt(self, plan: Plan, store: LocalStore) -> frozenset[str]:
        """The written values this call's key leaves out: those the function was seen to
        change, except any the caller changed (see :data:`_KNOWN`). Such a value is an input
        of this call, since the result may depend on it; the run then stores under the key
        without it again."""
        written = self._written(store, plan.code_digest)
        if not written:
            return written
        changed = set()
        for label, read in plan.values:
            if label not in written:
                continue
            try:
                digest = hash_value(read())
            except UnhashableValue:  # cannot be an input either: it stays state
                continue
            known = _KNOWN.setdefault(label, (digest, digest))
            if digest not in known:
                changed.add(label)
        return written - changed if changed else written

    def _plan(self, settings: config.Settings) -> Plan:
        return plan_for(self.function, settings.version_sensitivity, self._ignored_globals)

    def _state(
        self, settings: config.Settings, store: LocalStore
    ) -> tuple[Fingerprint, frozenset[str]]:
        """The fingerprint a call has now, and the written values it leaves out."""
        plan = self._plan(settings)
        exempt = self._exempt(plan, store)
        return self._fingerprint(settings, exempt, plan), exempt

    def _fingerprint(
        self, settings: config.Settings, written: frozenset[str], plan: Plan | None = None
    ) -> Fingerprint:
        try:
            return fingerprint(
                self.function,
                settings.version_sensitivity,
                self._ignored_globals,
                written,
                plan,
            )
        except UnhashableValue as exc:
            kind, where = Dependency.from_label(exc.dependency)
            name = where.rpartition(".")[2]  # "mod.THRESHOLD" -> "THRESHOLD"
            noun = {"closure": "closure variable"}.get(kind, kind)
            if exc.type_name == "names":
                noun = "reader"
            raise UnhashableArgumentError(
                name, exc.type_name, exc.reason, self.identity, exc.path, kind=noun
            ) from None

    def _argument_digests(
        self,
        bound: dict[str, Any],
        written: frozenset[str] = frozenset(),
        values: dict[str, str] | None = None,
    ) -> dict[str, str]:
        """The digest of each argument in the key. That of an instance of a class the user
        wrote covers what its methods read (``tok.tokenize`` reading ``STOPWORDS``), which
        its value does not say, but the state this function is known to write (``written``:
        a memoized method's own counter); its value's own digest goes to ``values``."""
        digests = {}
        for name, value in bound.items():
            if name in self.ignore:
                continue
            try:
                digests[name] = hash_value(value)
                code = instance_code(value, self._ignored_globals, written)
                if code is not None:
                    if values is not None:
                        values[name] = digests[name]
                    digests[name] = hash_value((digests[name], code))
            except UnhashableValue as exc:
                raise UnhashableArgumentError(
                    name, exc.type_name, exc.reason, self.identity, exc.path
                ) from None
        return digests

    def _extras_with(self, seed: Any) -> dict[str, str]:
        if seed is not None and not self._seed_is_parameter:
            return {**self._extras, "seed": repr(seed)}
        return self._extras

    def _parts(
        self,
        state: Fingerprint,
        digests: dict[str, str],
        extras: dict[str, str],
        written: frozenset[str],
    ) -> KeyParts:
        return KeyParts(
            self.identity,
            state.code,
            state.digest.hex(),
            digests,
            extras,
            state.deps,
            state.shown,
            sorted(written),
        )

    def _key_parts(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[KeyParts, Any]:
        bound, seed = self._bind(args, kwargs)
        state, written = self._state(config.settings(), self._store())
        parts = self._parts(
            state, self._argument_digests(bound, written), self._extras_with(seed), written
        )
        return parts, bound

    def key(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """The key a call with these arguments has; computes nothing."""
        return self._key_parts(args, dict(kwargs))[0].key

    def explain(self, *args: P.args, **kwargs: P.kwargs) -> Explanation:
        """Why a call with these arguments would miss: what differs from the nearest stored
        call of this function ("helper `clean` changed", "argument `lr` changed 0.1 -> 0.2"),
        or that it is stored but a file its run read changed; and the files that stored call
        read and wrote. Computes nothing."""
        parts, bound = self._key_parts(args, dict(kwargs))
        return explain_call(self._store(), parts, self._params(bound, parts))

    # -- calls -----------------------------------------------------------------------------
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        # Recursion goes through here once per level, so the engine is called from this
        # frame (no helper frame in between): see _FunctionWork.run.
        hot_key = None
        if self._hot is not None and not kwargs:
            hot_key = _hot_key(args)
            if hot_key is not None:
                cached = self._hot.get(hot_key)
                if cached is not None:
                    value = self._hot_hit(hot_key, cached)
                    if value is not _MISS:
                        return value  # type: ignore[no-any-return]
        prepared = self._prepare(None, args, kwargs)  # kwargs is a fresh dict already
        if isinstance(prepared, _FunctionWork):  # mode "off"
            result: R = prepared.run().result
            return result
        return self._finish(engine.run(prepared[0]), prepared, hot_key)  # type: ignore[no-any-return]

    def _hot_hit(self, hot_key: tuple[Any, ...], cached: _Hot) -> Any:
        """A repeat hit in this process: the key is known, if nothing it depends on changed.

        The settings (store, mode) must be the very ones resolved then, no mode may be set
        by a ``with`` block, and the function's fingerprint (code and the values it reads)
        must be the same; so must the files and ambient state its run read (a
        :class:`RunRecord`: ``stat`` of each file), and what its run wrote is put back. The
        value is decoded again, so callers never share an object.
        """
        resolved, digest, store, found, decode = cached
        if config.resolved() is not resolved or modes.context_mode() is not None:
            return _MISS
        if self._state(resolved.settings, store)[0].digest != digest:
            return _MISS
        key = found.key
        try:
            if decode is None:  # made on the second hit, so a single hit costs nothing extra
                decode = store.decoder(found)
                if self._hot is not None:
                    self._hot[hot_key] = (resolved, digest, store, found, decode)
            value = decode()
        except Exception:  # the entry went away or broke: the ordinary path will say so
            if self._hot is not None:
                self._hot.pop(hot_key, None)
            return _MISS
        if isinstance(value, RunRecord):  # a run that read files or ambient state
            if value.unmet() is not None or value.states:
                return _MISS  # the engine's path says what changed (or moves generators)
            value.pass_up()
            try:
                value.apply()
            except ambient.CannotMake:  # the engine's path runs it again, saying why
                return _MISS
            value = value.result
        if isinstance(value, Returned):  # an input itself: the engine's path finds it
            if self._hot is not None:
                self._hot.pop(hot_key, None)
            return _MISS
        store.note_hit(key)
        if events.has_listeners("hit"):
            events.announce("hit", value, key, store)
        return value

    def recompute(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the function again and store the result over the old one."""
        if self._hot is not None:
            self._hot.clear()
        result: R = self._call("recompute", args, dict(kwargs))
        return result

    def with_mode(self, mode: str) -> Callable[P, R]:
        """This function with cache mode ``mode`` for the calls made through the result.

        ``clean.with_mode("read-only")(df)`` reads a stored result but never writes one.
        """
        checked = check_mode(mode)

        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            result: R = self._call(checked, args, dict(kwargs))
            return result

        return call

    def is_cached(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Whether a call with these arguments would be a hit; computes nothing."""
        return self._store().contains(self.key(*args, **kwargs))

    def _call(self, call_mode: Mode | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        __tracebackhide__ = True
        prepared = self._prepare(call_mode, args, kwargs)
        if isinstance(prepared, _FunctionWork):  # mode "off"
            return prepared.run().result
        return self._finish(engine.run(prepared[0]), prepared, None)

    def _prepare(
        self, call_mode: Mode | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> _FunctionWork | _Prepared:
        """The engine's call for these arguments, or in mode "off" the work to run as is."""
        resolved = config.resolved()
        settings = resolved.settings
        mode = modes.resolve(call_mode, self.mode, settings.mode)
        bound, seed = self._bind(args, kwargs)
        if mode == "off":
            return _FunctionWork(self, None, bound, seed, frozenset())
        store = store_for(resolved, self.store_folder)
        state, written = self._state(settings, store)
        values: dict[str, str] = {}
        digests = self._argument_digests(bound, written, values)
        parts = self._parts(state, digests, self._extras_with(seed), written)
        call = engine.Call(
            parts,
            compose_key(parts.identity, parts.fingerprint, parts.args, parts.extras),
            _FunctionWork(self, store, bound, seed, written, state, {**parts.args, **values}),
            store,
            mode,
            settings,
            wait=settings.wait if self.wait is None else self.wait,
            experiment=self.experiment,
            codec=self.codec,
            lazy=self.lazy,
            mmap=self.mmap,
            namespace=self._globals,
        )
        return call, resolved, state.digest

    def _finish(
        self, outcome: engine.Outcome, prepared: _Prepared, hot_key: tuple[Any, ...] | None
    ) -> Any:
        """The caller's value; a hit is remembered for repeat hits in this process."""
        call, resolved, digest = prepared
        if outcome.hit:
            found = outcome.found
            if hot_key is not None and found is not None and call.mode in ("on", "read-only"):
                self._remember(hot_key, (resolved, digest, call.store, found, None))
            return outcome.value
        return Lazy(outcome.key, call.store, value=outcome.value) if self.lazy else outcome.value

    def _remember(self, hot_key: tuple[Any, ...], cached: _Hot) -> None:
        assert self._hot is not None
        if len(self._hot) >= HOT_ENTRIES:
            self._hot.popitem(last=False)  # the oldest
        self._hot[hot_key] = cached

    def _params(self, bound: dict[str, Any], parts: KeyParts) -> dict[str, Any]:
        """The arguments as shown in tables and explanations (small summaries)."""
        params = {n: summarize(v) for n, v in bound.items() if n not in self.ignore}
        if parts.extras.get("seed") is not None:
            params[self.seed_name or "seed"] = summarize(parts.extras["seed"])
        return params

    # -- the function's entries -----------------------------------------------------------
    def runs(self) -> list[Run]:
        """Past stored calls of this function, newest first; values load on demand."""
        store = self._store()
        return [Run.from_entry(e, store) for e in store.entries(self.identity)]

    def clear(self) -> int:
        """Remove every stored result of this function (all code versions); return how many."""
        if self._hot is not None:
            self._hot.clear()
        store = self._store()
        return len(store.delete(e.key for e in store.entries(self.identity)))


class AsyncMemoizedFunction(MemoizedFunction[P, R]):
    """An ``async def`` function whose awaited results persist; made by :func:`memo`.

    Calling it returns a coroutine. A hit is served without running the function; on a
    miss the function is awaited and the engine stores its result. Concurrent awaits of
    one key in this process compute it once: the others wait for the first and then read
    the stored result (or share its value when it could not be stored).
    """

    def __init__(self, fn: Callable[P, R], **options: Any) -> None:
        super().__init__(fn, **options)
        if self.seed_name is not None:
            raise ConfigError(
                f"seed= cannot seed {self.identity}(): an async function shares the random "
                "generators with every task that runs while it awaits. Seed a generator of "
                "its own from an argument instead (random.Random(seed), "
                "numpy.random.default_rng(seed))"
            )
        self._pending: dict[str, Any] = {}
        """Keys being computed in this process, each with the future its waiters await."""
        self._hot = None  # each await takes the engine's path

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any:  # type: ignore[override]
        return await self._acall(None, args, dict(kwargs))

    async def recompute(self, *args: P.args, **kwargs: P.kwargs) -> Any:  # type: ignore[override]
        """Await the function again and store the result over the old one."""
        return await self._acall("recompute", args, dict(kwargs))

    def with_mode(self, mode: str) -> Callable[P, Any]:
        """This function with cache mode ``mode`` for the awaits made through the result."""
        checked = check_mode(mode)

        async def call(*args: P.args, **kwargs: P.kwargs) -> Any:
            return await self._acall(checked, args, dict(kwargs))

        return call

    async def _acall(
        self, call_mode: Mode | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        import asyncio

        prepared = self._prepare(call_mode, args, kwargs)
        if isinstance(prepared, _FunctionWork):  # mode "off"
            return await self.binder.call(self.function, prepared.bound)
        call = prepared[0]
        if call.mode != "recompute":
            found = engine.lookup(call, call.key)
            if found is not None:
                return self._finish(found, prepared, None)
        pending = self._pending.get(call.key)
        if pending is not None:  # another task is computing this key: wait for it
            value = await asyncio.shield(pending)
            found = engine.lookup(call, call.key)
            return value if found is None else self._finish(found, prepared, None)
        future = asyncio.get_running_loop().create_future()
        self._pending[call.key] = future
        try:
            work = call.work
            assert isinstance(work, _FunctionWork)
            start = time.perf_counter()
            try:
                value = await self.binder.call(self.function, work.bound)
            except Exception as exc:
                work.awaited = (exc, time.perf_counter() - start)
                engine.run(call)  # the engine keeps a failed experiment run, and raises exc
                raise
            work.awaited = (value, time.perf_counter() - start)
            outcome = engine.run(call)
            future.set_result(outcome.value)
            return self._finish(outcome, prepared, None)
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved: waiters re-raise it, no "never retrieved" log
            raise
        finally:
            del self._pending[call.key]


class _FunctionWork(engine.Work):
    """One call of a memoized function, as the engine runs it."""

    def __init__(
        self,
        fn: MemoizedFunction[Any, Any],
        store: LocalStore | None,
        bound: dict[str, Any],
        seed: Any,
        written: frozenset[str],
        state: Fingerprint | None = None,
        digests: dict[str, str] | None = None,
    ) -> None:
        self.fn = fn
        self.store = store
        self.bound = bound
        self.seed = seed
        self.written = written
        self.state = state
        self.digests = digests or {}
        self.drew_from: str | None = None
        """The label of a global holding a random stream the call drew from (see
        :func:`_draws`), found after the run."""
        self.awaited: tuple[Any, float] | None = None
        """An ``async def`` function's awaited value (or exception) and how long it took:
        the engine's run hands it over instead of calling the function."""

    def run(self) -> engine.Computed:
        """Call the function (seeded when asked); learn the state it wrote."""
        if self.awaited is not None:
            value, duration = self.awaited
            if isinstance(value, BaseException):
                raise value
            return self._computed(value, duration)
        fn = self.fn
        context = seeded(self.seed) if self.seed is not None else nullcontext()
        lent = _lend_frames()
        try:
            with context:
                start = time.perf_counter()
                if fn.binder.simple:  # called from here: one frame fewer per recursion level
                    if fn.binder.by_position:  # (as Binder.call does)
                        value = fn.function(*self.bound.values())
                    else:
                        value = fn.function(**self.bound)
                else:
                    value = fn.binder.call(fn.function, self.bound)
            duration = time.perf_counter() - start
        finally:
            if lent:
                _return_frames(lent)
        return self._computed(value, duration)

    def _computed(self, value: Any, duration: float) -> engine.Computed:
        plan = self.fn._plan(config.settings()) if self.store is not None else None
        computed = engine.Computed(value, value, duration, self._parts_after_run(plan))
        computed.states = self._generators_advanced(plan)
        changed = self._arguments_changed()
        if changed:
            computed.unstorable = (
                f"it changed its argument `{changed}` in place, which a hit could not do "
                "again, so this call is not cached (return the changed value instead)"
            )
        elif self.drew_from is not None:
            _, name = Dependency.from_label(self.drew_from)
            value = dict(plan.values)[self.drew_from]() if plan is not None else None
            computed.unstorable = (
                f"it changed `{name}` in place, data a hit could not change again, so this "
                "call is not cached (return the changed value instead)"
                if _is_data(value)
                else f"it drew from `{name}`, a random generator, iterator or queue inside a "
                "global value, which a hit could not advance again, so this call is not cached "
                "(pass the generator itself, or seed=)"
            )
        else:
            keyed = computed.parts.deps if computed.parts is not None else None
            computed.stored = self._returned_input(value, plan, keyed) or value
        return computed

    def _returned_input(
        self, value: Any, plan: Plan | None, keyed: dict[str, str] | None
    ) -> Returned | None:
        """Where the call found the value it returned, when that was an argument or a
        global in its key (see :mod:`hitnb.core.returned`); None for any other result, and
        for functions whose results are loaded apart from the call (lazy, memory-mapped,
        experiments' tables). ``keyed``: the globals in the stored key, when the run
        learned that it changes some (state, left out of it)."""
        fn = self.fn
        if plan is None or self.state is None or not may_change(value):
            return None
        if fn.lazy or fn.mmap or fn.experiment:
            return None
        for name, argument in self.bound.items():
            if argument is value and name in self.digests:
                return Returned("argument", name, name, value)
        deps = self.state.deps if keyed is None else keyed
        for label, read in plan.values:
            if label in deps and label not in self.written and read() is value:
                return Returned("global", label, Dependency.from_label(label)[1], value)
        return None

    def restore(self, stored: Any) -> Any:
        """The value as loaded; an input the run returned, the input itself."""
        if not isinstance(stored, Returned):
            return stored
        if stored.kind == "argument" and stored.name in self.bound:
            return self.bound[stored.name]
        readers = dict(self.fn._plan(config.settings()).values)
        if stored.kind == "global" and stored.name in readers:
            return readers[stored.name]()
        raise engine.Unrestorable(f"the run returned {stored.describe()}, not found now")

    def _arguments_changed(self) -> str | None:
        """The first argument the call changed in place (its digest moved), if any."""
        if self.store is None:  # mode "off": nothing is stored, nothing to check
            return None
        fn = self.fn
        for name, value in self.bound.items():
            if name in fn.ignore or not may_change(value) or is_generator(value):
                continue
            before = self.digests.get(name)
            try:
                if before is not None and hash_value(value) != before:
                    return name
            except UnhashableValue:
                return name
        return None

    def _parts_after_run(self, plan: Plan | None) -> KeyParts | None:
        """Values the call changed are state, not inputs: the stored key leaves them out
        (with every other value as it was before the call). ``plan``: the function's, now."""
        state, store = self.state, self.store
        if state is None or store is None or plan is None:
            return None
        fn = self.fn
        settings = config.settings()
        readers = dict(plan.values)
        newly: frozenset[str] = frozenset()
        if state.values:
            newly = frozenset(
                label
                for label in written_during(state, fn._fingerprint(settings, self.written, plan))
                if not is_generator(readers[label]())  # an input, and an effect: never state
            )
        learned = fn._written(store, state.code) | newly
        self.drew_from = next(
            (
                label
                for label in sorted(learned)
                if label in readers and (_draws(value := readers[label]()) or _is_data(value))
            ),
            None,
        )
        if learned:
            fn._written_by_code[(store.root, state.code)] = learned
            for label, digest in _digests(readers, learned).items():
                first = _KNOWN.get(label, (state.deps.get(label, digest),))[0]
                _KNOWN[label] = (first, digest)
        if not newly:
            return None
        after = state.without(self.written | newly)
        digests = fn._argument_digests(self.bound, learned)
        return fn._parts(after, digests, fn._extras_with(self.seed), learned)

    def _generators_advanced(self, plan: Plan | None) -> dict[str, Any]:
        """The state of each random generator the call drew from (an argument, or a global
        it reads), as the call left it: a hit puts them there again."""
        if self.store is None or self.state is None or plan is None:
            return {}
        states: dict[str, Any] = {}
        for name, value in self.bound.items():
            if is_generator(value) and hash_value(value) != self.digests.get(name):
                states[f"argument:{name}"] = state_of(value)
        deps = self.state.deps
        for label, read in plan.values:
            value = read()
            if label in deps and is_generator(value) and hash_value(value) != deps[label]:
                states[f"global:{label}"] = state_of(value)
        return states

    def restore_states(self, states: dict[str, Any]) -> None:
        readers = dict(self.fn._plan(config.settings()).values)
        for where, state in states.items():
            kind, _, name = where.partition(":")
            if kind == "argument":
                target = self.bound.get(name)
            else:
                target = readers[name]() if name in readers else None
            if is_generator(target):
                set_state(target, state)

    def announce_miss(self, store: LocalStore, parts: KeyParts) -> None:
        announce_miss(store, parts, lambda: self.params(parts))

    def named_files(self) -> list[str]:
        """The paths among the arguments and the declared files, and the files the strings
        of its code name in quotes (a query: see
        :meth:`~hitnb.hashing.dependencies.Plan.quoted_strings`)."""
        strings = self.fn._plan(config.settings()).quoted_strings()
        named = named_paths([*self.bound.values(), *self.fn.files])
        return [*named, *named_paths(strings, quoted=True)]

    def stale(self, reason: str) -> None:
        if in_kernel() and not config.settings().quiet:
            say(f"hitnb: recomputing {display_name(self.fn.identity)}: {reason}")

    def params(self, parts: KeyParts) -> dict[str, Any]:
        return self.fn._params(self.bound, parts)

    def recipe(self, store: LocalStore) -> Recipe:
        fn, settings = self.fn, config.settings()
        try:
            plan = plan_for(fn.function, settings.version_sensitivity, fn._ignored_globals)
            hashed = {id(self.bound[n]): (self.bound[n], d) for n, d in self.digests.items()}

            def known(value: Any) -> str | None:  # an argument changed in place is not stored
                found = hashed.get(id(value))
                return found[1] if found is not None and found[0] is value else None

            keep = keeper(store, settings.keep_inputs, settings.keep_inputs_max, known)
            return function_recipe(
                fn.function,
                plan,
                self.bound,
                keep,
                ignore=fn._ignored_globals,
                signature=fn.binder.signature,
            )
        except Exception as exc:  # a recipe is a convenience: the result is stored regardless
            return Recipe.failed(exc)

    def note(self, message: str, category: type[Warning]) -> None:
        if category is StoreWriteWarning:
            message = f"{self.fn.identity}: {message}"
        engine.warn(message, category)


_KNOWN: dict[str, tuple[str, str]] = {}
"""For each written value (by label), the digests it may have while the key leaves it out:
as this process first saw it, and as the last memoized run that wrote it left it. Any other
digest means the caller changed it (``CONFIG["scale"] = 10``); re-running the cell that made
it (``LOG = []``) brings back the first."""


def _digests(readers: dict[str, Callable[[], Any]], labels: Iterable[str]) -> dict[str, str]:
    """Digests of the values under ``labels`` now (those that hash)."""
    digests = {}
    for label in labels:
        if label in readers:
            with suppress(UnhashableValue):
                digests[label] = hash_value(readers[label]())
    return digests


_ENTRIES = frozenset({MemoizedFunction.__call__.__code__, MemoizedFunction._call.__code__})
MAX_LENT_FRAMES = 6000
"""Frames lent to memoized recursion at most, all threads together (each memoized level
also takes C stack, which is finite: past this, recursion ends in RecursionError)."""
OWN_FRAMES = 50
"""Frames hitnb needs at most below the deepest memoized level (reading the function's
source once, writing the store), lent once for a whole recursion."""
_lent_lock = threading.Lock()
_lent_total = 0


def _lend_frames() -> int:
    """Raise the recursion limit by the levels hitnb's machinery takes between the call of
    a memoized function and the function itself, so memoized recursion goes as deep as
    plain recursion through a callable object does (two levels each); return how many."""
    global _lent_total
    frame = sys._getframe(1)  # _FunctionWork.run
    frames = 1
    while frame.f_code not in _ENTRIES:
        frame = frame.f_back  # type: ignore[assignment]
        frames += 1
        if frame is None or frames > 32:  # not called through a memoized function's call
            return 0
    # The interpreter counts one more level for calling the MemoizedFunction object (a C
    # call into __call__), so the machinery costs `frames` and the function itself one.
    lent = frames
    with _lent_lock:
        if _lent_total + lent > MAX_LENT_FRAMES:
            return 0
        if _lent_total == 0:  # the outermost call: room for hitnb's own deepest calls too
            lent += OWN_FRAMES
        sys.setrecursionlimit(sys.getrecursionlimit() + lent)
        _lent_total += lent
    return lent


def _return_frames(lent: int) -> None:
    global _lent_total
    with _lent_lock:
        _lent_total -= lent
        with suppress(RecursionError, ValueError):  # the user set a lower limit meanwhile
            sys.setrecursionlimit(sys.getrecursionlimit() - lent)


@overload
def memo(fn: Callable[P, R], /) -> MemoizedFunction[P, R]: ...


@overload
def memo(
    *,
    ignore: Iterable[str] = (),
    version: str | int | None = None,
    mode: str | None = None,
    seed: bool | str = False,
    lazy: bool = False,
    mmap: bool = False,
    codec: str | None = None,
    store: str | os.PathLike[str] | None = None,
    name: str | None = None,
    wait: bool | None = None,
    files: Iterable[str | os.PathLike[str]] = (),
) -> Callable[[Callable[P, R]], MemoizedFunction[P, R]]: ...


def memo(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Memoize a function persistently, keyed on its code and its arguments' values.

    Options:
      ignore: parameter names left out of the key (``verbose``, ``device``, ``n_jobs``).
      version: a manual version bumped on top of code hashing (e.g. when data on disk changed).
      mode: this function's default cache mode: ``on``, ``off``, ``recompute``, ``read-only``.
      seed: seed ``random``/numpy/torch before each call from the ``seed`` keyword (or the
        keyword named here), default 0; the seed is part of the key.
      lazy: return a :class:`~hitnb.Lazy` handle that loads the result on first use.
      mmap: load numpy results as read-only memory maps.
      codec: the name of the codec to try first for results.
      store: a store folder for this function only.
      name: the identity under which results are stored (default ``module.qualname``).
      wait: wait for a call another process or thread is computing (default: the ``wait``
        setting, on); ``False`` computes it again here.
      files: files the function reads that hitnb cannot see it open (a reader written in
        C); files opened through Python, and path arguments, count without being named.

    >>> @memo
    ... def square(x):
    ...     return x * x
    """
    if fn is not None:
        return _memoized(fn, options)
    return lambda f: _memoized(f, options)


def _memoized(fn: Any, options: dict[str, Any]) -> Any:
    """``MemoizedFunction(fn)`` (``AsyncMemoizedFunction`` for ``async def``); a static or
    class method stays one, around the memoized function, so ``@memo`` may go above or
    below ``@staticmethod`` and ``@classmethod``."""
    if isinstance(fn, staticmethod | classmethod):
        return type(fn)(_memoized(fn.__func__, options))
    if isinstance(fn, property | functools.cached_property):
        kind = type(fn).__name__
        raise TypeError(
            f"@memo cannot wrap a {kind}: put @memo below @{kind} "
            f"(@{kind} on the line above @memo), so the {kind} calls the memoized function"
        )
    if inspect.iscoroutinefunction(fn):
        return AsyncMemoizedFunction(fn, **options)
    return MemoizedFunction(fn, **options)


def experiment(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """``@memo`` whose results are experiments: recorded as runs and never evicted.

    Takes the same options as :func:`memo`.
    """
    options["experiment"] = True
    return memo(fn, **options) if fn is not None else memo(**options)


def load(key: str, *, store: str | os.PathLike[str] | None = None, mmap: bool = False) -> Any:
    """Any stored result by its key, the id that tables and ``runs()`` show."""
    st = current_store(store)
    if st.get(key) is None:
        raise UnknownKeyError(key, str(st.root))
    return Lazy(key, st, mmap=mmap).value


def runs(
    function: str | MemoizedFunction[Any, Any] | None = None,
    *,
    experiments_only: bool = False,
    store: str | os.PathLike[str] | None = None,
) -> list[Run]:
    """Stored calls in the store, newest first: of one function (name or object) or all."""
    st = current_store(store)
    only = True if experiments_only else None
    if isinstance(function, MemoizedFunction):
        entries = st.entries(function.identity, experiment=only)
    else:
        entries = st.entries(function, experiment=only)
        if function is not None and not entries:  # "train" for __main__.train or pkg.train
            entries = [
                e for e in st.entries(experiment=only) if names_function(function, e.function)
            ]
    return [Run.from_entry(e, st) for e in entries]


def experiments(
    function: str | MemoizedFunction[Any, Any] | None = None,
    *,
    store: str | os.PathLike[str] | None = None,
) -> Any:
    """The runs of an experiment (or of all experiments) as a pandas DataFrame: one row per
    run, indexed by key, with parameters and scalar metrics as columns."""
    return experiments_frame(runs(function, experiments_only=True, store=store))
