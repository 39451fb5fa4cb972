"""Running a ``%%memo`` cell: the cell host's adapter to the run engine.

The magic analyses the cell, hashes its inputs into key parts and hands the engine a
:class:`_CellWork` (:mod:`hitnb.core.engine` owns lookup, locks, storing, events and
eviction). A miss runs the cell as IPython would (same namespace; the last expression's
value is what the magic returns, so IPython shows it as the cell's result; exceptions
propagate and nothing is stored). A hit restores the output names, shows again what the
cell showed, in order, adds a small badge, and returns the same last value.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import functools
import inspect
import re
import sys
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from hitnb import config
from hitnb.core import ambient, costs, engine, files, modes
from hitnb.core.arguments import summarize
from hitnb.core.cells import (
    ITEMS_FOLLOWED,
    MUTABLE_CONTAINERS,
    Callee,
    CellAnalysis,
    CellRecord,
    Pickled,
    PickledTogether,
    analyze_cell,
    attribute_digests,
    class_data_digest,
    defaults_digest,
    drawn_only,
    elements_pure,
    environment_read,
    figure_among,
    frames_viewed_apart,
    function_data_digests,
    function_defaults,
    function_holds,
    hold_at,
    is_code_value,
    is_notebook_class,
    is_notebook_code,
    is_session_name,
    may_change,
    notebook_classes,
    notebook_functions,
    own_attributes,
    pack_outputs,
    pack_result,
    parts_of_inputs,
    parts_of_shared,
    pure_methods_hold,
    reach_marks,
    shared_apart,
    shared_as_data,
    sharing_names,
    unpack_outputs,
    unpack_result,
)
from hitnb.core.clocks import Readings, is_clock, may_read_a_clock, read_clocks, readings_in
from hitnb.core.explain import Explanation, explain_call
from hitnb.core.patches import (
    Held,
    Patch,
    Snapshot,
    caches_filled,
    keeps_own_caches,
    patch_of,
    snapshot_of,
)
from hitnb.core.reaching import follows_into, objects_reached
from hitnb.core.recipe import NotKept, Recipe, cell_recipe, keeper
from hitnb.core.record import RunRecord
from hitnb.core.stores import current_store
from hitnb.core.unstorable import Unstorable
from hitnb.hashing.analysis import analyze, text_digest
from hitnb.hashing.apart import Marks
from hitnb.hashing.code import (
    is_user_code,
    library_versions,
    module_fingerprint,
    module_values_known,
    user_module_files,
)
from hitnb.hashing.dependencies import (
    Fingerprint,
    Plan,
    fingerprint,
    instance_code,
    plan_for,
    user_accessors,
    written_during,
)
from hitnb.hashing.keys import CODE, PYTHON, Dependency, KeyParts
from hitnb.hashing.values import (
    UnhashableValue,
    cache_entries,
    caches_of,
    delegate_of,
    hash_value,
    time_limit,
)
from hitnb.ipython import formatters, interactivity
from hitnb.ipython.auto import BADGE_MIN_SAVED, auto_session
from hitnb.ipython.capture import (
    flush_inline_figures,
    recording,
    replay,
    show_result,
    show_value,
    showing_nothing,
)
from hitnb.ipython.known_digests import KnownDigests, Origin, known_digests
from hitnb.store import codecs
from hitnb.store.codecs import Part, dill_dumps
from hitnb.store.local import LocalStore
from hitnb.widgets.badge import BADGE_METADATA, badge_bundle

CELL_IDENTITY = "cell"
"""The identity of unnamed cells: their key is their code and inputs, wherever they are."""
ABSENT = "absent"
_STREAMS = ("stdout", "stderr")


def _touches(values: Iterable[Any], modules: tuple[str, ...]) -> bool:
    """Whether one of ``values``, or a global one of them (a function) reads, comes from one
    of ``modules`` (top-level names): a module, or a value, function or class of theirs."""
    for value in values:
        for candidate in (value, *_globals_read(value)):
            own: Any = (
                candidate.__name__
                if isinstance(candidate, types.ModuleType)
                else getattr(candidate, "__module__", None)
            )
            kind = type(candidate).__module__
            for name in (own, kind):
                if isinstance(name, str) and name.partition(".")[0] in modules:
                    return True
    return False


def _globals_read(value: Any) -> list[Any]:
    """The globals a notebook function reads (a cell calling ``f``, which divides Decimals,
    touches ``decimal``)."""
    if type(value) is not types.FunctionType:  # not a proxy passing for one (wrapt's)
        return []
    namespace = value.__globals__
    return [namespace[name] for name in analyze(value).reads if name in namespace]


@dataclass
class CellOptions:
    """The options of one ``%%memo`` line."""

    line: str = ""
    """The line as typed, kept so an exported notebook has the same magic."""
    name: str | None = None
    force: bool = False
    experiment: bool = False
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    quiet: bool = False
    why: bool = False
    files: list[str] = field(default_factory=list)
    """Files the cell reads that hitnb cannot see it open (``--files``)."""
    auto: bool = False
    """Put there by auto mode (:mod:`hitnb.ipython.auto`): why a cell runs uncached is
    counted rather than printed, and a badge shows only where a hit saved noticeable time."""


@dataclass
class CellRun:
    """What happened to the last ``%%memo`` cell, for ``%hitnb why``."""

    hit: bool
    explanation: Explanation | None = None
    note: str = ""
    key: str = ""
    """The cell's key in the store (for the files its run read and wrote), when it has one."""
    auto: bool = False
    """The cell was memoized by auto mode (it has no ``%%memo`` line to add ``--why`` to)."""


TRANSPARENT_CELL_MAGICS = frozenset({"time", "capture"})
"""Cell magics that run the code below them in the user's namespace and only add to (or
capture) what it shows: a ``%%memo`` cell that starts with one caches the code it wraps."""


@dataclass(frozen=True)
class Wrapper:
    """A transparent cell magic at the top of a ``%%memo`` cell (``%%time``, ``%%capture out``)."""

    magic: str
    line: str

    def binds(self) -> list[str]:
        """Names the magic itself binds: ``%%capture out`` binds ``out``."""
        if self.magic != "capture":
            return []
        names = [w for w in self.line.split() if not w.startswith("-")]
        return names[-1:] if names and names[-1].isidentifier() else []

    def __str__(self) -> str:
        return f"%%{self.magic} {self.line}".rstrip()


def split_wrappers(cell: str) -> tuple[tuple[Wrapper, ...], str]:
    """The transparent cell magics a cell starts with, outermost first, and the code below."""
    wrappers: list[Wrapper] = []
    while cell.startswith("%%"):
        first, _, rest = cell.partition("\n")
        magic, _, line = first[2:].strip().partition(" ")
        if magic not in TRANSPARENT_CELL_MAGICS:
            break
        wrappers.append(Wrapper(magic, line.strip()))
        cell = rest
    return tuple(wrappers), cell


def run_memo_cell(shell: Any, cell: str, options: CellOptions) -> tuple[Any, CellRun]:
    """Run one ``%%memo`` cell through the run engine; return its last expression's value
    and what happened."""
    __tracebackhide__ = True
    started = time.perf_counter()
    source = shell.transform_cell(cell)  # what runs: a wrapper magic runs the code it wraps
    wrappers, body = split_wrappers(cell)
    analysis = analyze_cell(
        shell.transform_cell(body) if wrappers else source,
        extra_inputs=options.inputs,
        extra_outputs=[*options.outputs, *(name for w in wrappers for name in w.binds())],
        ignore=options.ignore,
    )
    shows = interactivity.current(shell)
    if shows != interactivity.DEFAULT:  # what the cell shows, as IPython's setting asks
        result = interactivity.split(ast.parse(source).body, shows).result
        analysis = dataclasses.replace(analysis, has_result=result is not None)
    if any(w.magic == "capture" for w in wrappers) or _quiet_result(body):
        analysis = dataclasses.replace(analysis, has_result=False)  # captured, or `;` hides it
    rebound = _rebound_by_calls(shell.user_ns, analysis)
    if rebound:  # `counter += 1` under `global`: read, then bound again, by the call
        analysis = dataclasses.replace(
            analysis,
            inputs=tuple(sorted({*analysis.inputs, *rebound})),
            outputs=tuple(sorted({*analysis.outputs, *rebound})),
            bound=analysis.bound | rebound,
        )
    settings = config.settings()
    quiet = options.quiet or settings.quiet
    mode = "recompute" if options.force else modes.resolve(None, None, settings.mode)
    if not analysis.cacheable:
        return _run_uncached(
            shell, cell, source, f"this cell is not cached: {analysis.reason}", quiet, options
        )
    if mode == "off":
        return execute(shell, source), CellRun(hit=False, note="cache mode is off")
    figure = figure_among(shell.user_ns, analysis.inputs)
    if figure is not None:
        why = (
            f"this cell is not cached: it draws on `{figure}`, a figure an earlier cell "
            "made, which costs more to key and restore than to draw again"
        )
        return _run_uncached(shell, cell, source, why, quiet, options)
    known = known_digests(shell)
    taken: dict[type, Fingerprint] = {}  # (the notebook classes' fingerprints the key took)
    try:
        with module_values_known(known.get, known.put):
            digests, learned = _input_digests(shell.user_ns, analysis, known)
            imported = _user_modules_imported(analysis.imports)
            imported.update(_classes_of_inputs(shell.user_ns, analysis, source, taken))
            imported.update(_attributes_of_inputs(shell.user_ns, analysis, known))
    except UnhashableValue as exc:
        name = re.split(r"[\[.]", exc.path, maxsplit=1)[0] or "?"  # `u` of `u.__dict__`
        refused = (
            f"this cell is not cached: input `{name}` holds a {exc.type_name} that cannot be "
            f"hashed ({exc.reason}); leave it out with %%memo --ignore {name}"
        )
    else:
        refused = ""
    if refused:  # run outside the handler, or the cell's own error would chain to hitnb's
        return _run_uncached(shell, cell, source, refused, quiet, options)
    identity = options.name or CELL_IDENTITY
    libraries = library_versions(analysis.imports, settings.version_sensitivity)
    packages = {Dependency("package", dist).label: v for dist, v in sorted(libraries.items())}
    parts = KeyParts(
        identity,
        analysis.code,
        _with_packages(analysis.code, packages),
        digests,
        {
            "python": PYTHON,
            "records": CELL_RECORDS,
            "outputs": ",".join(analysis.outputs),
            **{f"environment {k}": v for k, v in environment_read(shell.user_ns, analysis).items()},
            **({"wrappers": ";".join(map(str, wrappers))} if wrappers else {}),
            **({"interactivity": shows} if shows != interactivity.DEFAULT else {}),
            **({"ast transformers": _transformers(shell)} if shell.ast_transformers else {}),
            **({"aliases": aliases} if (aliases := _aliases(shell.user_ns, analysis)) else {}),
            **imported,
        },
        {CODE: analysis.code, **packages},
        {},
        [],
    )
    store = current_store()
    if learned:
        _keep_learned(shell, store, learned)
    work = _CellWork(shell, cell, source, analysis, digests, options, quiet, taken)
    with codecs.references(work.refer, work.found, work.containers):
        outcome = engine.run(
            engine.Call(
                parts, parts.key, work, store, mode, settings, wait=settings.wait,
                experiment=options.experiment, codec="pickle", cell=True,
                namespace=shell.user_ns,
            )
        )  # fmt: skip
        codecs.take_cached()  # (any a hit given up left: see codecs.load_cached)
    if options.auto and not work.noted:
        auto_session(shell).ran_memoized(outcome.hit or bool(outcome.rerun))
    _note_origins(shell, store, outcome, work)
    if outcome.hit:
        return _show_hit(
            shell, store, outcome.key, work.restored, identity, quiet, options, started
        )
    if outcome.rerun and options.why:
        print(f"hitnb: {identity}: {outcome.rerun}")
    stale = f"it ran again: {work.stale_reason}" if work.stale_reason else ""
    note = outcome.note or outcome.rerun or stale or work.problem
    # the run showed its result already, before its figures (see _run_recorded)
    return None, CellRun(False, work.explanation, note, outcome.key, auto=options.auto)


def _user_modules_imported(imports: Iterable[str]) -> dict[str, str]:
    """The user modules among those the cell imports that are imported already, by their
    fingerprint (:func:`~hitnb.hashing.code.module_fingerprint`): ``from settings import
    CONFIG`` binds what the session's import made of the world (a config file read then),
    which the module's source does not say. One not imported yet runs its code in the
    cell, whose run records what that code read."""
    found = {}
    for name in imports:
        module = sys.modules.get(name)
        if isinstance(module, types.ModuleType) and is_user_code(module):
            found[f"module {name}"] = module_fingerprint(module).hex()
    return found


def _classes_of_inputs(
    namespace: dict[str, Any],
    analysis: CellAnalysis,
    source: str,
    taken: dict[type, Fingerprint],
) -> dict[str, str]:
    """For each input that is an instance of a class the user wrote, or holds one a step
    inside (``logs[0].add(x)``: see :func:`_with_what_they_hold`), that class's
    fingerprint (:func:`~hitnb.hashing.dependencies.instance_code`): ``tok.tokenize(d)``
    reads ``STOPWORDS`` in the method, which the instance's own digest does not cover; and
    for each pandas accessor the user registered that ``source`` names (``df.feat``), its
    class's. The fingerprints of notebook classes go into ``taken`` too: the run compares
    them with the class's after it (:func:`_called_functions`), without hashing again
    what the methods read (a big frame)."""
    found = {}
    sensitivity = config.settings().version_sensitivity
    for name in analysis.inputs:
        classes: dict[type, str] = {}
        for held in _with_what_they_hold([namespace.get(name)]):
            kind = type(held)
            if kind in classes:
                continue
            if is_notebook_class(kind):
                with suppress(UnhashableValue):  # (instance_code says why, below)
                    taken[kind] = fingerprint(kind, sensitivity)
            code = taken[kind].digest.hex() if kind in taken else instance_code(held)
            if code is not None:  # (instance_code never refuses: see its docstring)
                classes[kind] = code
        for kind, code in classes.items():
            inside = "" if kind is type(namespace.get(name)) else f" ({kind.__qualname__})"
            found[f"class of {name}{inside}"] = code
    for attribute, accessor in user_accessors().items():
        if re.search(rf"\.{re.escape(attribute)}\b", source):  # `df.feat.total()`
            found[f"accessor {attribute}"] = fingerprint(accessor, sensitivity).digest.hex()
    return found


def _attributes_of_inputs(
    namespace: dict[str, Any], analysis: CellAnalysis, known: KnownDigests
) -> dict[str, str]:
    """For each input that is a notebook function holding attributes of its own (``f.count
    = 7`` in another cell), the digest of those (see
    :func:`~hitnb.core.cells.function_data_digests`): the function's digest covers its code
    and defaults, not them, and a cell reading ``f.count`` hit with what another session's
    value gave. One that cannot be hashed (a lock) counts by its name, as a class's own
    value does (:func:`~hitnb.core.cells.class_data_digest`). A value the session knows
    hashed already (``known``) is not hashed again: ``fib.memo`` of a million entries is
    hashed once, not by every cell reading ``fib``."""
    inputs = {name: namespace.get(name) for name in analysis.inputs}
    digests = function_data_digests(inputs, known.hashed)
    return {f"attributes of {name}": d for name, d in digests.items()}


def _with_packages(code: str, packages: dict[str, str]) -> str:
    """The cell's fingerprint: its code, and the versions of the libraries it imports."""
    if not packages:
        return code
    text = code + "".join(f";{label}={version}" for label, version in packages.items())
    return text_digest(text)


class _CellWork(engine.Work):
    """One ``%%memo`` cell, as the engine runs it: run and record, or restore."""

    def __init__(
        self,
        shell: Any,
        cell: str,
        source: str,
        analysis: CellAnalysis,
        digests: dict[str, str],
        options: CellOptions,
        quiet: bool,
        taken: dict[type, Fingerprint],
    ) -> None:
        self.shell = shell
        self.cell = cell
        self.taken = taken
        """The fingerprints of notebook classes the key took (see :func:`_classes_of_inputs`)."""
        self.source = source
        self.analysis = analysis
        self.digests = digests
        self._summaries: dict[str, Any] | None = None
        self.options = options
        self.quiet = quiet
        self.explanation: Explanation | None = None
        self.stale_reason = ""
        self.restored: CellRecord | None = None
        self.settings_failed: str | None = None
        """What failed of the settings the cell's magics make, once a hit made them again
        (empty: nothing did); None before."""
        self.ran: CellRecord | None = None
        """The last run's record, its outputs as they are in the namespace."""
        self.noted = False
        """Something went wrong with caching this cell, and the user was told."""
        self.problem = ""
        """What went wrong, for ``%hitnb why`` (a stored run that cannot be restored)."""
        namespace = shell.user_ns
        self.read = {name: namespace[name] for name in analysis.inputs if name in namespace}
        """The inputs' values as the cell starts."""
        self.found: Mapping[str, Any] = _Found(dict(namespace), namespace, analysis)
        """The namespace as the cell starts: what a stored reference to a name loads as
        (an input, or a name the record restores for sharing what the cell changed: see
        :func:`~hitnb.core.cells.parts_of_shared`), whatever a restore binds first."""
        self.refer: dict[int, str | tuple[str, Part]] = {}
        """The inputs the run left as they were, by id: the record refers to them by name;
        and the objects inside them, by name and where (see
        :func:`~hitnb.core.cells.parts_of_inputs`)."""
        self.containers: dict[int, Any] = {}
        """The lists, dicts and sets among those, by id: pickle writes them itself, so the
        codec refers to them its own way (see :func:`~hitnb.store.codecs.references`)."""

    def summaries(self) -> dict[str, Any]:
        """A summary of each input (for tables and ``why``), made only when a miss needs
        it: when it is announced, before the run, or when it is stored. A hit never does,
        and an object's repr can cost more than the hit (a linearmodels result prints its
        whole summary table: 62 ms)."""
        if self._summaries is None:
            self._summaries = {name: summarize(value) for name, value in self.read.items()}
        return self._summaries

    def run(self) -> engine.Computed:
        __tracebackhide__ = True
        value, record, unstorable, reached = _run_recorded(
            self.shell, self.source, self.analysis, self.digests, self.read, self.taken
        )
        self.ran = record
        if unstorable:
            return engine.Computed(value, None, record.duration, unstorable=unstorable)
        if not self.analysis.has_result:
            value = None  # a trailing `;` or %%capture: the cell shows no value
        namespace = self.shell.user_ns
        try:  # (hitnb's own work from here: a failure leaves the run as it is, not stored)
            self.refer.update(_unchanged_inputs(namespace, self.read, self.analysis, record))
            self.refer.update(
                _read_by_its_code(namespace, self.found, self.analysis, record, self.containers)
            )
            self.refer.update(_values_of_classes_defined(self.analysis, record, self.containers))
            self.refer.update(parts_of_inputs(self.read, self.refer, self.containers))
            if reached:  # (the changed values reach, and the inputs: see reach_marks)
                self.refer.update(
                    parts_of_shared(
                        namespace, record.shared, reached, record.outputs, self.refer,
                        self.containers,
                    )
                )  # fmt: skip
            for name in record.written_in_place:  # stored as it became, written into the
                self.refer.pop(id(record.outputs[name]), None)  # live one (`z = y`: not `z`)
            anchors = [self.found[n] for n in self.refer.values() if isinstance(n, str)]
            stored = {n: v for n, v in record.outputs.items() if n not in (record.patches or ())}
            outputs = pack_outputs(stored, self.analysis.definitions, anchors, self.refer)
            result = pack_result(record.result, record.outputs, outputs)
            shown = tuple(pack_result(v, record.outputs, outputs) for v in record.shown)
            packed = CellRecord(
                **{**record.__dict__, "outputs": outputs, "result": result, "shown": shown}
            )
        except Exception as exc:  # a definition dill cannot write: the cell ran all the same
            self.refer.clear()  # (nothing stored refers to anything)
            note = f"this cell ran but was not cached: {type(exc).__name__}: {exc}"
            return engine.Computed(value, None, record.duration, unstorable=note)
        return engine.Computed(value, packed, record.duration)

    def output_bytes(self, computed: engine.Computed) -> int:
        record = self.ran
        if record is None:
            return 0
        patched = record.patches or {}
        return costs.nbytes_of(
            v for n, v in record.outputs.items() if id(v) not in self.refer and n not in patched
        )

    def settings_unread(self) -> frozenset[str]:
        """IPython's display settings, when the run showed nothing through the display
        formatter (it printed, or showed nothing: with ``%precision 3`` later in the
        notebook, every cell above it ran again when the notebook was run again), and the
        settings of libraries it did not touch (:func:`~hitnb.core.ambient.settings_not_read`)."""
        record = self.ran
        if record is None:
            return frozenset()
        values = [*self.read.values(), *record.outputs.values(), record.result, *record.shown]
        unread = ambient.settings_not_read(lambda modules: _touches(values, modules))
        if all(kind in _STREAMS for kind, *_ in record.events):
            unread |= {formatters.SETTINGS}
        return unread

    def produced(self, computed: engine.Computed) -> Iterable[Any]:
        """The outputs and the last value."""
        record = self.ran
        outputs = () if record is None else record.outputs.values()
        return (*outputs, computed.result)

    def produced_digest(self, computed: engine.Computed) -> str | None:
        """The digest of the outputs (by the digests the run kept, else hashed now; those
        only sharing an object with a changed value aside: see ``CellRecord.shared``), the
        names deleted, what the cell showed and its last value."""
        record = self.ran
        if record is None:
            return None
        outputs: list[tuple[str, str]] = []
        try:
            for name, value in sorted(record.outputs.items()):
                if name in record.shared:  # how objects happen to be shared is no result
                    continue
                digest = record.digests.get(name)
                outputs.append((name, digest if digest is not None else hash_value(value)))
            shown = [(kind, payload, metadata) for kind, payload, metadata in record.events]
            result = record.result if record.has_result else None
            return hash_value((outputs, sorted(record.deleted), shown, result))
        except UnhashableValue:
            return None

    def loading(self) -> AbstractContextManager[None]:
        """Before the first load, the settings the cell's magics make (``%matplotlib
        notebook``: pyplot's backend, which a figure among the outputs is managed by again
        as it loads; ``%config``); extensions wait for :meth:`restore`, since a stored run
        that is run again loads its own. Then what loading displays, prints or warns is not
        shown (:func:`~hitnb.ipython.capture.showing_nothing`)."""
        if self.settings_failed is None:
            settings = [(m, line) for m, line in self.analysis.magics if m != "load_ext"]
            self.settings_failed = _run_quietly(self.shell, settings)
        return showing_nothing(self.shell)

    def restore(self, stored: Any) -> Any:
        """Put a stored run's outputs into the namespace; its last value is the result.
        First the extensions its magics loaded (``%load_ext``), when not loaded yet, and its
        ``from __future__`` imports."""
        if not isinstance(stored, CellRecord):
            raise engine.Unrestorable(f"the stored run is a {type(stored).__qualname__}")
        if "__future__" in self.source:
            _make_futures(self.shell, self.source)
        loaded = self.shell.extension_manager.loaded
        extensions = [
            ("load_ext", line)
            for magic, line in self.analysis.magics
            if magic == "load_ext" and line.strip() not in loaded
        ]
        failed = self.settings_failed or _run_quietly(self.shell, extensions)
        if failed:
            raise engine.Unrestorable(failed)
        namespace = self.shell.user_ns
        before = {name: namespace.get(name, _UNBOUND) for name in stored.outputs}
        try:
            unpack_outputs(stored.outputs, self._define, namespace)
            result = unpack_result(stored.result, namespace)
            shown = tuple(unpack_result(v, namespace) for v in getattr(stored, "shown", ()))
            for name, data in getattr(stored, "classes", {}).items():
                value = namespace.get(name)
                if not is_notebook_class(value) or class_data_digest(value) != data:
                    raise engine.Unrestorable(
                        f"class `{name}` defined again from its source is not as the run "
                        "left it (the cell changed its attributes after defining it)"
                    )
            for name, data in getattr(stored, "functions", {}).items():
                value = namespace.get(name)
                if not (isinstance(value, types.FunctionType) and data) or (
                    defaults_digest(value) != data
                ):  # ("" when they could not be hashed: never the same)
                    raise engine.Unrestorable(
                        f"function `{name}` defined again from its source has other default "
                        "values than the run gave it"
                    )
            for name, data in (stored.function_data or {}).items():
                if function_data_digests({name: namespace.get(name)}).get(name) != data:
                    raise engine.Unrestorable(
                        f"function `{name}` made again is not as the run left it (the cell "
                        "set attributes on it, which defining it again from its source does "
                        "not)"
                    )
            patches = _patches_unmet(namespace, stored)  # (checked before anything is written)
            written = _write_in_place(namespace, before, stored)
            for name, patch in patches.items():
                patch.apply(namespace[name], namespace)
        except Exception as exc:  # a module gone, a class that no longer loads: the cell
            codecs.take_cached()  # (its inputs' caches as the hit found them)
            for name, value in before.items():  # runs on the namespace as it found it
                if value is _UNBOUND:
                    namespace.pop(name, None)
                else:
                    namespace[name] = value
            if isinstance(exc, engine.Unrestorable):
                raise
            raise engine.Unrestorable(f"the stored outputs cannot be restored ({exc})") from exc
        for cache, entry, value in codecs.take_cached():  # the hit is sure: as a plain run
            cache.setdefault(entry, value)  # computing them keeps them
        kept_objects = getattr(stored, "changed", frozenset()) | stored.shared
        pairs = {
            name: (old, namespace[name])
            for name in kept_objects
            if name in namespace
            and (old := before.get(name, _UNBOUND)) is not _UNBOUND
            and old is not namespace[name]
            and may_change(old)
        }
        replaced = _items_replaced(pairs, getattr(stored, "items_kept", None) or {})
        replaced.update((id(old), (old, new)) for old, new in pairs.values())
        followed = _defaults_follow(namespace, replaced)
        known = known_digests(self.shell)
        if followed or written:  # (a partial, a dict of closures, what views the array:
            known.clear()  # their digests are kept by identity)
        elif targets := [
            target
            for name, patch in patches.items()
            if patch.changes_value
            for target in patch.targets(namespace[name])
        ]:
            known.patched(targets)
        for name, digest in getattr(stored, "digests", {}).items():
            if name in namespace:
                known.put(namespace[name], digest)
        for name in stored.deleted:
            namespace.pop(name, None)
        self.restored = dataclasses.replace(stored, result=result, shown=shown)
        return result if stored.has_result else None

    def _define(self, source: str) -> None:
        """Run a stored definition again, compiled as IPython compiles cells (so its source
        can be read back, as the original's could), under the number of the cell running
        (tracebacks through it say ``Cell In[7]``, as after the run)."""
        shell = self.shell
        filename = shell.compile.cache(source, _cell_number(shell))
        exec(shell.compile(source, filename, "exec"), shell.user_ns)

    def announce_miss(self, store: LocalStore, parts: KeyParts) -> None:
        summaries = self.summaries()  # of the inputs as they are before the run changes them
        options = self.options
        if not (options.why or (options.name and not self.quiet)):
            return
        explanation = explain_call(store, parts, summaries, noun="input")
        self.explanation = explanation
        if explanation.compared_with is not None and (options.why or explanation.reasons):
            print(f"hitnb: recomputing {parts.identity}: {'; '.join(explanation.reasons)}")

    def params(self, parts: KeyParts) -> dict[str, Any]:
        return self.summaries()

    def recipe(self, store: LocalStore) -> Recipe:
        """How to run this cell again in a notebook of its own; never raises."""
        settings = config.settings()
        known = known_digests(self.shell).get  # emptied when a value may have changed
        before = {id(self.read[n]): d for n, d in self.digests.items() if n in self.read}

        def digest_before(value: Any) -> str | None:
            """The digest an input had as the run started, if it still has it; for any
            other value, the digest the session knows. An input the run changed in place
            (or may have: it was hashed again after) is not kept: it is no longer the value
            the run started from, and the exported cell would run on what it made."""
            expected = before.get(id(value))
            if expected is None or id(value) in self.refer:  # the run left it as it was
                return expected if expected is not None else known(value)
            now = known(value)
            if now is None:
                now = hash_value(value)
            if now != expected:
                raise NotKept(
                    f"a {type(value).__qualname__} this cell changed in place; its value "
                    "from before the run was not kept"
                )
            return now

        keep = keeper(store, settings.keep_inputs, settings.keep_inputs_max, digest_before)
        source = f"%%memo {self.options.line}".rstrip() + "\n" + self.cell
        try:
            return cell_recipe(source, self.read, self.shell.user_ns, keep)
        except Exception as exc:
            return Recipe.failed(exc)

    def note(self, message: str, category: type[Warning]) -> None:
        """Print what went wrong with caching; in auto mode, count it (the cell ran
        uncached, or was restored no more) and say so once a session."""
        self.problem = message.removeprefix(f"{CELL_IDENTITY}: ")
        if self.options.auto:
            if not self.noted:  # the look-up under the lock may find the same problem
                auto_session(self.shell).ran_uncached(self.problem)
            self.noted = True
        elif not self.quiet:
            print(f"hitnb: {message}")

    def named_files(self) -> list[str]:
        """Paths in the cell's strings, declared files, the paths its inputs hold (see
        :func:`~hitnb.core.files.paths_held`), and the source of the user modules it
        imports (read again only when first imported: an edit must still count)."""
        literals = self.analysis.literals
        named = [*self.options.files, *files.paths_held(self.read.values(), literals)]
        return [
            *files.named_paths(literals, quoted=True),
            *files.named_paths(named),
            *user_module_files(self.analysis.imports),
        ]

    def unmet(self, stored: Any) -> str | None:
        if not isinstance(stored, CellRecord):
            return None
        if frames_viewed_apart(stored):
            return (
                "it was stored by an earlier hitnb, which kept a numpy array it made beside "
                "a frame apart from the frame's memory (`arr = df.values`)"
            )
        return _sharing_unmet(self.shell.user_ns, self.analysis, stored, self.read)

    def stale(self, reason: str) -> None:
        codecs.take_cached()  # loaded for a hit given up: the run finds the caches as they were
        self.stale_reason = reason
        options = self.options
        if options.why or (options.name and not self.quiet):
            print(f"hitnb: recomputing {options.name or CELL_IDENTITY}: {reason}")

    def unstorable(self, stored: Any, error: Exception) -> Unstorable:
        record = stored.result if isinstance(stored, RunRecord) else stored
        culprit = _unstorable_output(record) if isinstance(record, CellRecord) else None
        what = f"output `{culprit[0]}` (a {culprit[1]}) cannot be stored" if culprit else str(error)
        note = f"this cell ran but was not cached: {what}"
        return Unstorable.of(note, (culprit[2],) if culprit else ())


CELL_RECORDS = "3"
"""The version of what a cell's run records, part of every cell's key: raised when hitnb
learns to record something a run does that records made before lack (version 2: what a
loop over ``models.items()`` changes, the live objects of other names a sharing name
holds; 3: what ``fit_all(models.values())``, ``fit_all([ridge, lasso])`` and other ways
of handing values on change, the outputs a closure made in the cell holds, which items of a
changed dict the run left in place), so that those are not served again
with it: after the upgrade each cell runs once more, saying so. (Records without it:
version 1.)"""


def _sharing_unmet(
    namespace: dict[str, Any], analysis: CellAnalysis, stored: CellRecord, read: dict[str, Any]
) -> str | None:
    """Why the names sharing objects with the inputs the stored run changed in place are
    not as they were when it ran; None when they are (or it changed none). The key holds
    each input's value, not which other names hold it: ``df2 = df`` edited to ``df2 =
    df.copy()`` keys the cell ``df2["price"] *= 1.2`` alike, and a hit restored ``df`` with
    the change it had when the two were one. So a hit needs every name sharing such an
    input now to have shared it then (else a plain run would change it and the hit not),
    and every name that shared it then to share it now: restored, such a name would be
    bound to what the restored input holds, one object where a plain run leaves two
    (``model = {"w": w}`` edited to ``{"w": w.copy()}``); left alone, it would not share
    it where the run itself made it share (``box.labels = labels`` with a list). Restored,
    a sharing name is as the run left it: what else it holds must be as it was then (see
    :func:`_shared_unmet`)."""
    overlaps = getattr(stored, "changed_overlaps", None)
    if overlaps is not None and _overlaps(namespace, stored.changed) != overlaps:
        return "the values it changes are one object or view each other otherwise than when it ran"
    then = stored.sharing_when_run or {}
    for name in sorted(stored.written_in_place):
        now = _sharing_of(namespace, name) if name in namespace else None
        if now != then.get(name):
            return (
                f"the names sharing `{name}`, which the cell changes, are "
                f"{_listed(now)} now and were {_listed(then.get(name))} when it ran"
            )
    patched = (getattr(stored, "patches", None) or {}).keys()
    changed = sorted(
        name for name in stored.changed - stored.written_in_place - patched if name in namespace
    )
    if not changed:
        return _shared_unmet(namespace, stored, read, None)
    reached: dict[int, Any] = {}
    for name in changed:
        try:
            reached.update(objects_reached(namespace[name]))
        except UnhashableValue:
            return f"input `{name}` cannot be walked for what shares it"
    sharing = set(sharing_names(namespace, reached)) - set(changed) - analysis.bound
    them = " or ".join(f"`{name}`" for name in changed)
    as_found = stored.shared | stored.outputs.keys() | getattr(stored, "left", frozenset())
    for name in sorted(sharing - as_found):
        return f"`{name}` shares objects with {them}, which the cell changes, and did not then"
    for name in sorted(stored.shared - sharing):
        return f"`{name}` shared objects with {them} when the cell ran, and does not now"
    walked = set(changed) == set(getattr(stored, "apart_from", ()))
    return _shared_unmet(namespace, stored, read, reached if walked else None)


def _overlaps(
    namespace: dict[str, Any], names: Iterable[str]
) -> tuple[tuple[str, str, tuple[Any, ...]], ...]:
    """The pairs of ``names`` bound to one object, or to numpy arrays whose memory may
    overlap, each with where the second lies in the first's (offset in bytes, shape,
    strides, dtype): see :attr:`~hitnb.core.cells.CellRecord.changed_overlaps`."""
    np: Any = sys.modules.get("numpy")
    values = [(name, namespace[name]) for name in sorted(names) if name in namespace]
    found: list[tuple[str, str, tuple[Any, ...]]] = []
    for i, (first, one) in enumerate(values):
        for second, other in values[i + 1 :]:
            if one is other:
                found.append((first, second, ()))
            elif (
                np is not None
                and isinstance(one, np.ndarray)
                and isinstance(other, np.ndarray)
                and np.may_share_memory(one, other)
            ):
                found.append((first, second, _placed(other, one)))
    return tuple(found)


def _placed(view: Any, base: Any) -> tuple[Any, ...]:
    """Where the numpy array ``view`` looks in ``base``'s memory: its start's offset from
    ``base``'s in bytes, its shape, strides and dtype."""
    start = codecs.data_start(view) - codecs.data_start(base)
    return (start, view.shape, view.strides, view.dtype.str)


def _listed(sharing: Sharing | None) -> str:
    if not sharing:
        return "none"
    return ", ".join(f"`{name}`" + (" (a view)" if at else "") for name, at in sharing)


def _shared_unmet(
    namespace: dict[str, Any],
    stored: CellRecord,
    read: dict[str, Any],
    reached: dict[int, Any] | None,
) -> str | None:
    """Why a name the stored run restores for sharing objects with what it changed holds
    other values beside them than it did when the cell ran (``cfg = {"opt": opt, "seed":
    0}`` edited to ``seed: 1``, and a cell changing ``opt``: restored, ``cfg`` would say
    ``seed: 0``); None when each holds what it held. Compared apart from what the cell
    changed and its inputs, which the key covers (see
    :func:`~hitnb.core.cells.shared_apart`); ``reached`` is what those changed values
    reach, when the caller walked them already. A name holding an array that viewed a
    changed array's memory then and holds its own memory now (restored apart from it) is
    compared with what it held as values (see ``shared_by_value``)."""
    if not stored.shared:
        return None
    kept = getattr(stored, "shared_apart", None)
    if kept is None:
        return (
            "it was stored by an earlier hitnb, which did not keep what the names sharing "
            "objects with what it changes held beside them"
        )
    for name in sorted(stored.shared - namespace.keys()):
        return f"`{name}` shared objects with what the cell changes when it ran, and is gone"
    if not all(name in namespace for name in stored.apart_from):
        return "an input it changed is not defined now"
    try:
        marks = reach_marks({n: namespace[n] for n in stored.apart_from}, read, reached)
        now = shared_apart(namespace, sorted(stored.shared), marks)
    except Exception as exc:  # (UnhashableValue, or a library's own failure)
        return f"what shares objects with what it changes cannot be walked ({exc})"
    by_value = stored.shared_by_value or {}
    for name in sorted(stored.shared):
        if name not in kept or name not in now:
            return f"`{name}`, which shares objects with what the cell changes, cannot be hashed"
        if now[name] != kept[name] and not (
            name in by_value and _as_values(namespace, name, marks) == by_value[name]
        ):
            return (
                f"`{name}` shares objects with what the cell changes and holds other values "
                "beside them than when it ran"
            )
    return None


def _as_values(namespace: dict[str, Any], name: str, marks: Marks) -> str | None:
    """The digest of ``name`` apart from ``marks`` with the arrays viewing their memory
    written as values, as a record keeps it (``shared_by_value``); None when one of its
    arrays views memory outside it (a marked array's, another name's): its values then
    stand for no copy restored apart after a restart."""
    values = marks.views_as_values()
    digest = shared_apart(namespace, [name], values).get(name)
    return None if values.memory_outside() else digest


def _quiet_result(cell: str) -> bool:
    """Whether the cell ends with `;`, which tells IPython not to show its last value
    (tokenized only when it holds a `;`: this runs for every cell, twice)."""
    from IPython.core.displayhook import DisplayHook

    return ";" in cell and bool(DisplayHook.semicolon_at_end_of_expression(cell))


def _run_quietly(shell: Any, magics: list[tuple[str, str]]) -> str:
    """Run line magics as a hit makes a cell's settings again, showing nothing of what
    they print or display (the record replays what the run showed). Returns what failed,
    empty when none did (and with none to run, does nothing at all)."""
    if not magics:
        return ""
    with showing_nothing(shell):
        for magic, line in magics:
            try:
                shell.run_line_magic(magic, line)
            except Exception as exc:
                return f"its magic %{magic} {line} failed here ({type(exc).__name__}: {exc})"
    return ""


def execute(shell: Any, source: str, show: Callable[[Any], None] | None = None) -> Any:
    """Run cell code in the user's namespace, transformed by IPython's ``ast_transformers``
    as IPython transforms cells; return the value of the expression that is its result (its
    last, by default), or None. The values of the expressions IPython's
    ``ast_node_interactivity`` shows before it (all of them, with ``"all"``) go to ``show``
    (recording them), else to IPython's display hook. A cell ending with `;` shows none of
    them, and its result is None."""
    __tracebackhide__ = True
    tree = shell.transform_ast(ast.parse(source))  # the AST transformers a user registered
    parts = interactivity.split(tree.body, interactivity.current(shell))
    filename = shell.compile.cache(source, _cell_number(shell))
    namespace = shell.user_ns
    quiet = _quiet_result(source)
    # each statement compiled on its own just before it runs, as IPython does: a
    # `from __future__` import after a magic's statement is then legal, and the statements
    # before one that does not compile (`return` at top level) have run
    for node in parts.plain:
        exec(shell.compile(ast.Module([node], []), filename, "exec"), namespace)
    for node in parts.interactive:
        code = shell.compile(ast.Interactive([node]), filename, "single")
        with _display_hook(_drop if quiet else show):
            exec(code, namespace)
    if parts.result is None:
        return None
    value = eval(shell.compile(ast.Expression(parts.result), filename, "eval"), namespace)
    return None if quiet else value


def _drop(value: Any) -> None:
    """A display hook that shows nothing: a cell ending with `;` shows no value at all."""


@contextmanager
def _display_hook(show: Callable[[Any], None] | None) -> Iterator[None]:
    """``show`` as ``sys.displayhook`` for the block (IPython's own hook when None)."""
    if show is None:
        yield
        return
    before, sys.displayhook = sys.displayhook, show
    try:
        yield
    finally:
        sys.displayhook = before


def _transformers(shell: Any) -> str:
    """The AST transformers IPython applies to cells (SymPy's ``init_session`` makes integer
    literals SymPy integers with one): part of a cell's key, since they change what its code
    does. Each counts by its class's digest (its code, a library's version), or its name
    when that cannot be hashed."""
    named = []
    for transformer in shell.ast_transformers:
        kind = type(transformer)
        try:
            named.append(hash_value(kind))
        except UnhashableValue:
            named.append(f"{kind.__module__}.{kind.__qualname__}")
    return ",".join(named)


def _make_futures(shell: Any, source: str) -> None:
    """Compile the cell's ``from __future__`` imports: IPython's compiler keeps the features
    a cell imports for the cells after it (``annotations``: annotations left unevaluated),
    and for the definitions a hit makes again, as after a run."""
    futures: list[ast.stmt] = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.ImportFrom) and node.module == "__future__"
    ]
    if futures:
        shell.compile(ast.Module(futures, []), "<hitnb: __future__>", "exec")


def _cell_number(shell: Any) -> int:
    """The number of the cell running now, as its tracebacks name it (``Cell In[7]``)."""
    running = getattr(getattr(shell, "displayhook", None), "exec_result", None)
    number = getattr(running, "execution_count", None)
    return number if isinstance(number, int) else shell.execution_count


def _run_uncached(
    shell: Any, cell: str, source: str, why: str, quiet: bool, options: CellOptions
) -> tuple[Any, CellRun]:
    __tracebackhide__ = True
    known_digests(shell).clear()  # it may change any value, as a cell without %%memo may
    if options.auto:
        auto_session(shell).ran_uncached(why)
    elif not quiet:
        print(f"hitnb: {why}; it runs normally.")
    if "it uses top-level await" in why:
        result = shell.run_cell(cell, store_history=False)
        result.raise_error()
        return None, CellRun(hit=False, note=why)
    return execute(shell, source), CellRun(hit=False, note=why)


def _input_digests(
    namespace: dict[str, Any], analysis: CellAnalysis, known: KnownDigests
) -> tuple[dict[str, str], list[tuple[str, str, str, str]]]:
    """The digest of each input, and the digests learned for stored outputs (see
    :mod:`~hitnb.ipython.known_digests`) as rows for the store."""
    digests: dict[str, str] = {}
    learned: list[tuple[str, str, str, str]] = []
    for name in analysis.inputs:
        if name in namespace:
            value = namespace[name]
            digest = known.get(value)
            if digest is None:
                refused = known.refused(value)
                if refused is not None:
                    raise UnhashableValue(refused.type_name, refused.reason, name + refused.path)
                try:
                    digest = hash_value(value)
                except UnhashableValue as exc:
                    known.refuse(value, UnhashableValue(exc.type_name, exc.reason, exc.path))
                    raise UnhashableValue(exc.type_name, exc.reason, name + exc.path) from None
                known.put(value, digest)
                origin = known.origin(value)
                if origin is not None:
                    learned.append((*origin, digest))
            digests[name] = digest
        elif not hasattr(builtins, name):
            digests[name] = ABSENT  # not defined yet: a later definition must change the key
    return digests, learned


def _left_as_read(
    namespace: dict[str, Any], name: str, digests: dict[str, str], changed: list[Any]
) -> bool:
    """Whether ``name``, sharing objects with a value the run changed, is an input the run
    left holding what it held (its digest as in the key), which the record can refer to
    (see :func:`_unchanged_inputs`) instead of keeping it as a shared output. ``dta.index =
    index`` makes ``index`` share ``dta``; restored, ``dta`` holds the live ``index``, as
    after the run, and ``index`` is not bound again (another holder of it, a function's
    default, keeps the very object); lists, dicts and sets too (the codec refers to them
    through pickle's memo: see :func:`~hitnb.store.codecs.references`). Tuples and frozen
    sets, which pickle writes itself and nothing refers to, stay shared outputs, and a hit
    where they no longer share runs the cell again; so do numpy views
    (referred to, a view stays one of the array a hit replaces: see
    :class:`~hitnb.core.cells.ArrayView`)."""
    before, value = digests.get(name), namespace[name]
    if before is None or type(value) in _NOT_REFERRED or _array_view(value):
        return False
    if type(value) in MUTABLE_CONTAINERS and not codecs.written_as_reference(changed, value):
        return False  # held inside a function's defaults (dill copies it): a shared output
    try:
        return hash_value(value) == before
    except UnhashableValue:
        return False


_NOT_REFERRED = frozenset({frozenset, tuple})


def _array_view(value: Any) -> bool:
    """A numpy array holding memory it does not own: a view (``head = arr[:3]``), or one
    over a buffer or a memory map."""
    kind = type(value)
    return kind.__module__.partition(".")[0] == "numpy" and getattr(value, "base", None) is not None


def _unchanged_inputs(
    namespace: dict[str, Any], read: dict[str, Any], analysis: CellAnalysis, record: CellRecord
) -> dict[int, str]:
    """The inputs a run left bound to the same object and did not change, by id (values
    that could change at all): the record refers to them by name (see
    :func:`hitnb.store.codecs.references`). Their digests are part of the cell's key, so on
    a hit the names hold these values again; what the cell made holds them as it did when
    it ran, not copies. An input it changed, rebound or deleted is stored as it became.
    Inputs bound to one object are one object on a hit too (see :func:`_aliases`)."""
    return {
        id(value): name
        for name, value in read.items()
        if namespace.get(name) is value
        and name not in record.outputs
        and name not in analysis.bound
        and may_change(value)
    }


def _read_by_its_code(
    namespace: dict[str, Any],
    found: Mapping[str, Any],
    analysis: CellAnalysis,
    record: CellRecord,
    containers: dict[int, Any],
) -> dict[int, str | tuple[str, Part]]:
    """The notebook globals, and the values of notebook classes, that the notebook code
    the cell ran reads (see :func:`_called_plans`), left bound to the same object and
    unchanged, by id: the record refers to them as it refers to inputs (see
    :func:`_unchanged_inputs`). ``m = M()`` keeping ``self.cfg = DEFAULTS``, or
    ``M.registry``, was restored holding a copy: after a restart ``m.cfg is DEFAULTS`` was
    False, and a later change to ``DEFAULTS`` no longer reached ``m``. Their values are
    in the key, through the code's fingerprint. The lists, dicts and sets among them go
    into ``containers``."""
    found_now: dict[int, str | tuple[str, Part]] = {}
    left = analysis.bound | record.outputs.keys() | record.changed
    for _, code, plan in _called_plans(namespace, analysis):
        in_notebook = getattr(code, "__globals__", namespace) is namespace
        for label, _ in plan.values:
            kind, where = Dependency.from_label(label)
            module, _, var = where.partition(".")
            if module != "__main__" or not in_notebook:
                continue
            owner, _, attribute = var.partition(".")
            if owner in left or owner not in found or namespace.get(owner) is not found[owner]:
                continue
            to: str | tuple[str, Part]
            if kind == "global" and not attribute:
                value, to = found[owner], owner
            elif (
                kind == "attribute" and is_notebook_class(found[owner]) and owner in analysis.inputs
            ):
                if "." in attribute or attribute not in vars(found[owner]):
                    continue
                value = vars(found[owner])[attribute]
                to = (owner, (("attribute", attribute),))
            else:
                continue
            if may_change(value) and id(value) not in found_now:
                found_now[id(value)] = to
                if type(value) in MUTABLE_CONTAINERS:
                    containers.setdefault(id(value), value)
    return found_now


class _Found(Mapping[str, Any]):
    """What a stored reference to a name loads as: the value the name held as the cell
    started; for a class the cell defines, the class bound now, which a hit defines again
    before it loads the values holding what the class holds (see
    :func:`_values_of_classes_defined`)."""

    def __init__(
        self, started: dict[str, Any], namespace: dict[str, Any], analysis: CellAnalysis
    ) -> None:
        self.started = started
        self.namespace = namespace
        self.defined = {name for name, _ in analysis.definitions}

    def __getitem__(self, name: str) -> Any:
        if name in self.defined:
            return self.namespace[name]
        return self.started[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.started.keys() | self.defined)

    def __len__(self) -> int:
        return len(self.started.keys() | self.defined)


def _values_of_classes_defined(
    analysis: CellAnalysis, record: CellRecord, containers: dict[int, Any]
) -> dict[int, tuple[str, Part]]:
    """The values the notebook classes the cell defines hold (``registry = {}`` in the
    class body), by id, with where they lie: an output holding one (``self.reg =
    M.registry``) is stored referring to it, and a hit, which defines the class again
    before it loads the outputs, gives it the new class's own (restored as a copy,
    ``m.reg is M.registry`` was False after a restart). The hit checks the class holds
    what it held after the run (``CellRecord.classes``). The lists, dicts and sets among
    them go into ``containers``."""
    found: dict[int, tuple[str, Part]] = {}
    for name, _ in analysis.definitions:
        cls = record.outputs.get(name)
        if not is_notebook_class(cls) or name not in record.classes:
            continue
        for attribute, value in vars(cls).items():
            if attribute.startswith("__") or not may_change(value) or is_code_value(value):
                continue
            if hasattr(type(value), "__get__"):  # properties and other descriptors
                continue
            found.setdefault(id(value), (name, (("attribute", attribute),)))
            if type(value) in MUTABLE_CONTAINERS:
                containers.setdefault(id(value), value)
    return found


def _aliases(namespace: dict[str, Any], analysis: CellAnalysis) -> str:
    """The cell's inputs bound to one object that could change, as ``a=b``, groups apart by
    ``;``: part of the cell's key. Each input's digest holds its value, not that two are one
    object: ``b = a`` edited to ``b = [1]`` keyed a cell reading both alike, and the hit of
    ``pair = [a]`` gave back the list the record refers to by one name where a plain run
    holds the other's."""
    names: dict[int, list[str]] = {}
    for name in sorted(analysis.inputs):
        value = namespace.get(name)
        if name in namespace and may_change(value):
            names.setdefault(id(value), []).append(name)
    return ";".join("=".join(group) for group in names.values() if len(group) > 1)


def _keep_learned(shell: Any, store: LocalStore, rows: list[tuple[str, str, str, str]]) -> None:
    """Keep digests learned for stored outputs in the store, and in the session's copy of
    the entries it has read them for (an entry not read yet is read whole when needed)."""
    store.learn_digests(rows)
    cached = known_digests(shell).learned
    for key, checksum, name, digest in rows:
        if (key, checksum) in cached:
            cached[key, checksum][name] = digest


def _note_origins(shell: Any, store: LocalStore, outcome: engine.Outcome, work: _CellWork) -> None:
    """After a cell stored or restored its outputs: give the restored ones the digests
    learned for them, and remember which stored output each of the others is, so that the
    first cell that hashes one can keep its digest (see :mod:`~hitnb.ipython.known_digests`)."""
    if outcome.hit and outcome.found is not None and work.restored is not None:
        stored, names = outcome.found, work.restored.outputs
    elif outcome.entry is not None and work.ran is not None:
        stored, names = outcome.entry, work.ran.outputs
    else:
        return
    namespace, known = shell.user_ns, known_digests(shell)
    unknown = [
        (name, value)
        for name in names
        if (value := namespace.get(name)) is not None
        and known.get(value) is None
        and may_change(value)
    ]
    if not unknown:  # every output has its digest (the usual hit): no query
        return
    learned: dict[str, str] = {}
    if outcome.hit:
        slot = (stored.key, stored.checksum)
        if slot not in known.learned:
            known.learned[slot] = store.learned_digests(*slot)
        learned = known.learned[slot]
    for name, value in unknown:
        if name in learned:
            known.put(value, learned[name])
        else:
            known.note_origin(value, Origin(stored.key, stored.checksum, name))


def _show_hit(
    shell: Any,
    store: LocalStore,
    key: str,
    record: CellRecord | None,
    identity: str,
    quiet: bool,
    options: CellOptions,
    started: float,
) -> tuple[Any, CellRun]:
    assert record is not None  # a hit is restored before it is shown
    replay(shell, record.events, record.result, getattr(record, "shown", ()))
    saved = record.duration - (time.perf_counter() - started)
    entry = store.get(key) if not (options.auto and saved < BADGE_MIN_SAVED) else None
    if not quiet and entry is not None:
        label = identity if identity != CELL_IDENTITY else ""
        bundle = badge_bundle(saved=record.duration, created=entry.created, key=key, label=label)
        shell.display_pub.publish(bundle, BADGE_METADATA)
    if options.why:
        print(f"hitnb: {identity} is stored; restored {len(record.outputs)} names")
    shown = record.shows_result() or not record.has_result  # older records: IPython shows it
    return (None if shown else record.result), CellRun(hit=True, key=key, auto=options.auto)


def _run_recorded(
    shell: Any,
    source: str,
    analysis: CellAnalysis,
    digests: dict[str, str],
    read: dict[str, Any],
    taken: dict[type, Fingerprint],
) -> tuple[Any, CellRecord, str, dict[int, Any]]:
    """Run the cell, recording what it shows; its outputs are the names it binds and the
    inputs whose digest changed while it ran (in place, through a function it called, or
    through a view), never an input it only called a method on; and the notebook globals
    that a notebook function it called changed (``add(x)`` appending to ``seen``).

    A name the cell binds again to the object it held (``lines += more`` on a list) is
    measured like those inputs: that object changed in place, for every name sharing it,
    and a digest the session kept for it is stale.

    Names sharing objects with such a changed value are outputs too (see
    :func:`~hitnb.core.cells.sharing_names`): restored with it, they stay one object with
    it, as in the session that ran the cell. The text returned says why the run cannot be
    stored (a called function changed a value outside the notebook); empty when it can.
    Last, by id, what the changed values reach and the inputs, when names share them
    (see :func:`~hitnb.core.cells.parts_of_shared`); else empty."""
    __tracebackhide__ = True
    namespace = shell.user_ns
    called = _called_functions(namespace, analysis, taken)
    kept = {  # `lines += more` binds `lines` to the object it held, changed in place
        name: namespace[name]
        for name in analysis.bound
        if name in digests and name in namespace and may_change(namespace[name])
    }
    held = {name: id(value) for name, value in namespace.items() if name not in analysis.bound}
    items_before = _items_of(namespace, analysis)
    module_globals = {m: _globals_ids(m) for m in _user_modules_reached(namespace, analysis)}
    swapped = _attributes_as_found(namespace, analysis.put_back)
    classes = notebook_classes(namespace, analysis.bound)  # their own values, checked after
    caches = _cached_held(namespace, set(analysis.inputs) - set(analysis.bound))  # inputs'
    # cached attributes (a run clearing one is not stored)
    functions = notebook_functions(  # and their own attributes
        namespace, analysis.bound, known_digests(shell).hashed
    )
    layouts = _layouts(namespace, analysis.candidates | analysis.receivers | kept.keys())
    read_only = _attribute_sizes(  # inputs the cell only reads (a read may fill one in)
        namespace,
        set(analysis.inputs) - analysis.bound - analysis.candidates - analysis.receivers,
    )
    snapshots = _snapshots(namespace, analysis.candidates | analysis.receivers | read_only.keys())
    shown: list[Any] = []  # the values shown before the result
    watch_clocks = may_read_a_clock(source) or _calls_a_clock(namespace, analysis)
    clocks_before = read_clocks() if watch_clocks else None
    start = time.perf_counter()
    with recording(shell) as events:
        value = execute(shell, source, lambda v: show_value(shell, v, events, shown))
        if analysis.has_result:
            show_result(shell, value, events)
        flush_inline_figures()
    duration = time.perf_counter() - start
    clocks_after = read_clocks() if watch_clocks else None

    def measure() -> tuple[CellRecord, str, dict[int, Any]]:
        """What the run changed and made, measured after it."""
        known = known_digests(shell)
        outputs: dict[str, Any] = {}
        deleted: list[str] = []
        for name in analysis.bound:
            if name not in namespace:
                deleted.append(name)
            else:
                outputs[name] = namespace[name]
        bound_unseen, deleted_unseen = _bound_where_code_does_not_say(held, namespace, analysis)
        outputs.update(bound_unseen)
        deleted += deleted_unseen
        written, unstorable = _written_through_calls(namespace, called, held, analysis.bound)
        changed_module = _outside_changed(namespace, analysis, module_globals, swapped)
        if unstorable or changed_module is not None:
            known.clear()  # what changed outside the notebook's names, values may share
        if changed_module is not None and not unstorable:
            unstorable = (
                f"this cell ran but was not cached: it changed {changed_module}, "
                "which a hit could not change again"
            )
        if not unstorable and clocks_before is not None and clocks_after is not None:
            unstorable = _clock_read(outputs, clocks_before, clocks_after)
        measured: dict[str, str | None] = {}  # inputs changed in place, hashed after the run
        patches: dict[str, Patch] = {}  # those of them changed by additions only
        candidates = analysis.candidates - drawn_only(namespace, analysis)
        changing = [
            name
            for name in sorted(candidates | analysis.receivers | analysis.element_receivers)
            if name not in outputs
            and name in namespace
            and may_change(namespace[name])
            and (
                name in candidates
                or (name in analysis.receivers and not pure_methods_hold(namespace[name]))
                or (name in analysis.element_receivers and not elements_pure(namespace[name]))
            )
        ]
        changing += sorted(name for name, value in kept.items() if namespace.get(name) is value)
        changing += sorted(  # `res.aic`: statsmodels keeps what summaries show on the read
            name
            for name, (value, sizes) in read_only.items()
            if namespace.get(name) is value
            and name not in outputs
            and name not in changing  # (an element receiver, measured already)
            and _sizes(value) != sizes
        )
        changed_by: dict[str, dict[int, Any]] = {}  # what each changed value reaches, by id
        if written:  # changed where no candidate showed it: values sharing them may have too
            known.clear()
        for name in written:
            outputs.setdefault(name, namespace[name])
            changed_by[name] = {id(namespace[name]): namespace[name]}
        # Hashed again: the inputs that may have changed, and the objects inputs held before
        # the cell bound them to others (`df["b"] = 1; df = df.copy()`: what other names hold
        # of the old frame changed). Only the first are outputs themselves.
        again = [(name, namespace[name], True) for name in changing]
        again += [
            (name, held_before, False)
            for name, held_before in _rebound_away(kept, namespace, candidates)
        ]
        apart_from = {name: namespace[name] for name in written}  # (see shared_apart below)
        for name, obj, still_bound in again:  # (`value` is the cell's result)
            try:
                digest: str | None = hash_value(obj)
            except UnhashableValue:
                digest = None  # it hashed before the run: keep what it became
            if digest != digests.get(name):
                apart_from[name] = obj
                if still_bound:
                    outputs[name] = obj
                    measured[name] = digest
                    if digest is not None:  # (before anything here holds what it added)
                        _patch_into(patches, name, namespace, snapshots, digests, outputs)
                elif not unstorable and (holder := _code_holding(namespace, obj)) is not None:
                    unstorable = (  # log.append(1); log = log + [2], with record(sink=log)
                        f"this cell ran but was not cached: it changed `{name}` in place and "
                        f"bound the name to another object; {holder} holds the one it "
                        "changed, which a hit could not change again"
                    )
                reached_now = changed_by.setdefault(name, {})
                with suppress(UnhashableValue):
                    reached_now.update(objects_reached(obj))
                reached_now[id(obj)] = obj
                if still_bound and name in patches:  # (its change is what it added to these,
                    known.patched(patches[name].targets(obj))  # whether or not it is stored so)
                else:
                    known.clear()  # changed in place: values sharing it may have changed too
        changed_class = next(
            (
                name
                for name, (cls, data) in classes.items()
                if namespace.get(name) is cls and class_data_digest(cls) != data
            ),
            None,
        )
        if changed_class is not None and not unstorable:
            unstorable = (
                f"this cell ran but was not cached: it changed class `{changed_class}`, which "
                "another cell defines: a hit could not change it again"
            )
        removed = _cache_removed(namespace, {n: c for n, c in caches.items() if n not in outputs})
        if removed is not None and not unstorable:
            unstorable = (
                f"this cell ran but was not cached: it removed {removed}, which a hit could "
                "not remove again (a hit gives what it restores as the input's own entries)"
            )
        changed_function = _attribute_changed(namespace, functions, outputs)
        if changed_function is not None or any(
            namespace.get(name) is not function for name, (function, _) in functions.items()
        ):  # the digests kept of what those functions held, taken before the run, may be
            known.clear()  # stale (those of functions left as they were are not)
        known.drop_hashed({id(value) for value in outputs.values()})  # (`log = f.items;
        # log.append(1)`: an output, which the check of f's attributes leaves to the record)
        if changed_function is not None and not unstorable:
            unstorable = (
                f"this cell ran but was not cached: it {changed_function}, which another "
                "cell made: a hit could not change it again"
            )
        shared: set[str] = set()
        left: set[str] = set()
        changed_values = [namespace[n] for n in sorted(measured) + written if n in namespace]
        results = [*shown, value] if analysis.has_result else shown
        sharing_when_run = in_place_values(
            namespace, changed_by, measured, layouts, outputs, results
        )
        patches = _patches(namespace, patches, measured, snapshots, digests, outputs, results)
        in_place = frozenset(sharing_when_run)
        changed = {
            ident: obj
            for name, reached_by_name in changed_by.items()
            if name not in in_place and name not in patches
            for ident, obj in reached_by_name.items()
        }
        if changed:
            for name in sharing_names(namespace, changed):
                if name in outputs:
                    continue
                if _left_as_read(namespace, name, digests, changed_values):
                    left.add(name)
                else:
                    outputs[name] = namespace[name]
                    shared.add(name)
        apart: dict[str, str] = {}
        by_value: dict[str, str] = {}
        reached: dict[int, Any] = {}  # what the changed values reach, and the inputs
        if shared:
            try:
                marks = reach_marks(apart_from, read)
            except UnhashableValue:
                marks = None  # a hit cannot walk them either: it runs the cell again
            if marks is not None:
                reached = marks.reached
                apart = shared_apart(namespace, sorted(shared), marks)
                if marks.viewed:
                    by_value = shared_apart(namespace, sorted(shared), marks.views_as_values())
        output_digests: dict[str, str] = {}
        budget = duration * DIGEST_BUDGET if duration >= DIGEST_OUTPUTS_AFTER else 0.0
        for name, output in sorted(outputs.items()):  # by name: the same ones in every process
            if name in measured:  # hashed just above, whatever the cell cost: kept, not again
                found = measured[name]
                if found is not None:
                    output_digests[name] = found
                    known.put(output, found)
                continue
            cheap = _hashed_by_its_buffers(output)
            if not (cheap or budget > 0):
                continue
            started = time.perf_counter()
            try:
                with time_limit(max(budget, OBJECTS_IN_DATA_LIMIT) if cheap else budget):
                    output_digests[name] = hash_value(output)
            except UnhashableValue:  # or over the budget: left to the cells that read it
                continue
            finally:
                if not cheap:
                    budget -= time.perf_counter() - started
            known.put(output, output_digests[name])
        record = CellRecord(
            outputs,
            deleted,
            list(events),
            value if analysis.has_result else None,  # `;` hides it: nothing to show, nor store
            analysis.has_result,
            duration,
            output_digests,
            frozenset(shared),
            {n: class_data_digest(v) for n, v in sorted(outputs.items()) if is_notebook_class(v)},
            tuple(shown),
            frozenset(measured) | frozenset(written),
            function_defaults(outputs),
            frozenset(left),
            apart,
            tuple(sorted(apart_from)),
            by_value or None,
            frames_viewed=True,
            items_kept=_items_kept(items_before, namespace, frozenset(measured) | set(written)),
            written_in_place=in_place,
            changed_overlaps=_overlaps(namespace, set(measured) | set(written)),
            sharing_when_run=sharing_when_run or None,
            patches=patches or None,
            function_data=function_data_digests(outputs) or None,
        )
        return record, unstorable, reached if apart else {}

    try:
        record, unstorable, reached = measure()
    except Exception as exc:  # hitnb's own failure: the user's run stands, not stored
        known_digests(shell).clear()  # what it changed is not known
        result = value if analysis.has_result else None
        record = CellRecord({}, [], list(events), result, analysis.has_result, duration)
        unstorable = (
            "this cell ran but was not cached: hitnb could not measure what it changed "
            f"({type(exc).__name__}: {exc})"
        )
        reached = {}
    return value, record, unstorable, reached


def _calls_a_clock(namespace: dict[str, Any], analysis: CellAnalysis) -> bool:
    """Whether the cell calls a clock under a name that does not say so (``pc()``,
    ``timeit.default_timer()``)."""
    called = [namespace.get(name) for name in analysis.called]
    for base, attribute in analysis.attribute_calls:
        owner = namespace.get(base)
        if isinstance(owner, types.ModuleType):
            called.append(owner.__dict__.get(attribute))
    return any(is_clock(value) for value in called if value is not None)


def _clock_read(outputs: dict[str, Any], before: Readings, after: Readings) -> str:
    """Why the run cannot be stored when an output is a reading of a clock taken as it ran
    (see :mod:`hitnb.core.clocks`); empty when none is."""
    readings = readings_in(outputs, before, after)
    if not readings:
        return ""
    name, clock = next(iter(sorted(readings.items())))
    return (
        f"this cell ran but was not cached: `{name}` holds a reading of the clock "
        f"({clock}) taken as it ran, which a hit would bring back from an old run "
        f"(`del {name}` at the end of the cell lets it be cached, if no later cell reads it)"
    )


def _outputs_may_hold(outputs: dict[str, Any], values: Iterable[str], shown: list[Any]) -> bool:
    """Whether an output of the cell other than ``values``, or a value it showed, may hold
    one of them, or view an array's memory, where the names sharing it are not found: code
    (a closure made in the cell, restored holding the restored value), or what a pickle
    of it reaches."""
    held = [outputs[name] for name in values]
    idents = {id(value) for value in held}
    np: Any = sys.modules.get("numpy")
    arrays = [value for value in held if np is not None and type(value) is np.ndarray]
    others = [output for name, output in outputs.items() if name not in values]
    for output in [*others, *shown]:
        if output is None:
            continue
        if callable(output) and not follows_into(output):
            return True
        try:
            reached = objects_reached(output)
        except UnhashableValue:
            return True
        if not idents.isdisjoint(reached) or any(
            isinstance(obj, np.ndarray) and np.may_share_memory(obj, array)
            for obj in reached.values()
            for array in arrays
        ):
            return True
    return False


def _snapshots(namespace: dict[str, Any], names: Iterable[str]) -> dict[str, tuple[Any, Snapshot]]:
    """The inputs among ``names`` a patch may be made for (objects holding attributes, see
    :func:`~hitnb.core.patches.snapshot_of`), each with its snapshot as the run found it."""
    found = {}
    for name in sorted(names):
        value = namespace.get(name)
        if value is None or is_code_value(value) or not may_change(value):
            continue
        if type(value).__module__.partition(".")[0] in ("numpy", "pandas", "builtins"):
            continue
        snapshot = snapshot_of(value)
        if snapshot is not None:
            found[name] = (value, snapshot)
    return found


def _patch_into(
    patches: dict[str, Patch],
    name: str,
    namespace: dict[str, Any],
    snapshots: dict[str, tuple[Any, Snapshot]],
    digests: dict[str, str],
    outputs: dict[str, Any],
) -> None:
    """Put into ``patches`` the patch of the input ``name`` (see
    :func:`~hitnb.core.patches.patch_of`), when the run's change to it is one. Called before
    the run's record holds anything the run added (a patch needs the objects added held
    by nothing else). What it adds may be held by one of ``outputs`` not patched itself,
    which a hit restores first."""
    taken = snapshots.get(name)
    value = namespace.get(name)
    before = digests.get(name)
    if taken is None or taken[0] is not value or before is None:
        return
    stored = {n: v for n, v in outputs.items() if n not in snapshots}
    patch = patch_of(value, taken[1], before, stored)
    if patch is not None:
        patches[name] = patch


def _patches(
    namespace: dict[str, Any],
    found: dict[str, Patch],
    measured: dict[str, str | None],
    snapshots: dict[str, tuple[Any, Snapshot]],
    digests: dict[str, str],
    outputs: dict[str, Any],
    shown: list[Any],
) -> dict[str, Patch]:
    """The inputs the run changed by adding plain entries only, each with its patch
    (``found``, see :func:`_patch_into`), when no other output of the cell, nor a value it
    showed, holds the input or an object inside it (restored, those would hold a copy of
    it, where a plain run leaves them holding the input). Also the inputs the run left as
    they were but for entries it added to their caches (``res.ssr`` read): left out of the
    digest, a hit did not add them, and a later read computed them again, from state
    changed since (``y[0] += 100``) or not as the run had (a getter counting the object's
    attributes). Inputs holding one object are patched when no patch adds to it or
    compares its caches (two formula models fitted on one frame)."""
    for name, (value, snapshot) in snapshots.items():
        if name not in measured and namespace.get(name) is value and caches_filled(snapshot):
            _patch_into(found, name, namespace, snapshots, digests, outputs)
            patch = found.get(name)
            if patch is not None and patch.changes_value:  # (added beside its caches,
                del found[name]  # unseen by the checks choosing what to hash again)
    if not found:
        return {}
    try:
        inside: dict[int, Any] = {}
        patched = {id(namespace[name]) for name in found}
        for name in found:
            reached = _changeable(objects_reached(namespace[name]))
            if any(
                ident in patched or keeps_own_caches(reached[ident])
                for ident in inside.keys() & reached.keys()
            ):
                return {}  # (two inputs holding an object a patch adds to or checks)
            inside.update(reached)
        if not any(patch.changes_value for patch in found.values()):
            return found  # (the inputs are not stored either way: what holds them, as before)
        restored: dict[int, Any] = {}  # (what the additions outputs hold reach: one object
        for name, patch in found.items():  # with them after a hit too, when the run made
            for *_, item in patch.additions:  # all of it)
                if type(item) is Held and item.output is not None:
                    reached = _changeable(objects_reached(item.of(namespace[name], namespace)))
                    if any(  # (`m.child = Node(parent=m)`:
                        not snapshots[n][1].reached.keys().isdisjoint(reached) for n in found
                    ):
                        return {n: p for n, p in found.items() if not p.changes_value}
                    restored.update(reached)  # the restored output holds a copy of `m`)
        others = [(v, True) for n, v in outputs.items() if n not in found]
        for other, is_output in [*others, *((v, False) for v in shown)]:
            if other is not None and (
                (callable(other) and not follows_into(other))
                or any(
                    not (is_output and ident in restored)
                    for ident in inside.keys() & objects_reached(other).keys()
                )
            ):
                return {n: patch for n, patch in found.items() if not patch.changes_value}
    except UnhashableValue:
        return {}
    return found


def _changeable(reached: dict[int, Any]) -> dict[int, Any]:
    """The objects of ``reached`` code could change in place, but for those a library
    defines at module level or holds in a class: what two values holding in common makes
    them one. (A results object and a frame a cell showed both reach ``slice``, pandas'
    ``_new_Index`` and the ``_metadata`` list of pandas' frames, which a frame's pickled
    state holds.) Kept by id with the objects themselves, whose ids stay theirs while
    held: the dicts a pickle walk meets are often made for it (a frame's state) and freed
    after, and their ids given to the next walk's."""
    class_level = _held_by_classes(reached.values())
    return {
        ident: obj
        for ident, obj in reached.items()
        if ident not in class_level and shared_as_data(obj)
    }


def _held_by_classes(objects: Iterable[Any]) -> set[int]:
    """The ids of what the classes of ``objects`` (and their bases) hold as attributes:
    shared by every instance by design, as a module's names are."""
    held: set[int] = set()
    kinds = {type(obj) for obj in objects}
    for klass in {base for kind in kinds for base in kind.__mro__}:
        if klass.__module__ != "builtins":
            held.update(id(value) for value in vars(klass).values())
    return held


def _patches_unmet(namespace: dict[str, Any], stored: CellRecord) -> dict[str, Patch]:
    """The patches of the stored run (see :attr:`~hitnb.core.cells.CellRecord.patches`),
    each checked against the live input it adds to; raises
    :class:`~hitnb.core.engine.Unrestorable` when one cannot take its entries: the cell
    runs."""
    patches: dict[str, Patch] = getattr(stored, "patches", None) or {}
    for name, patch in patches.items():
        if name not in namespace:
            raise engine.Unrestorable(f"`{name}`, which the cell adds to, is not defined")
        why = patch.unmet(namespace[name], namespace)
        if why is not None:
            raise engine.Unrestorable(f"`{name}` cannot take what the run added to it: {why}")
    return patches


def _write_in_place(namespace: dict[str, Any], before: dict[str, Any], stored: CellRecord) -> bool:
    """Write what the run left into the live values it changed in place (see
    :func:`in_place_values`), each bound again to its name; whether there were any. The
    live value, keyed as the run found it, takes the stored one's contents unless it is of
    another type, or a library made the array another shape, dtype or read-only since
    (then the cell runs)."""
    pairs: list[tuple[str, Any, Any]] = [
        (name, before.get(name), namespace[name]) for name in stored.written_in_place
    ]
    for name, live, new in pairs:
        if (
            live is new
            or type(live) is not type(new)
            or (
                type(live) not in _REFILLED
                and not (
                    live.shape == new.shape
                    and live.dtype == new.dtype
                    and live.flags.writeable
                    and not sys.modules["numpy"].may_share_memory(live, new)
                )
            )
        ):
            raise engine.Unrestorable(f"`{name}` cannot take the run's values in place")
    for name, live, new in pairs:
        if type(live) is dict:
            _refill_dict(live, new)
        elif type(live) is set:
            _refill_set(live, new)
        elif type(live) is list:
            live[:] = new
        else:
            live[...] = new
        namespace[name] = live
    return bool(pairs)


def _refill_dict(live: dict[Any, Any], new: dict[Any, Any]) -> None:
    """Make ``live`` hold what ``new`` holds, in its order, changing no more of it than
    that takes: its entries gone taken out, the others set, the new ones added last; only
    when that would leave another order is it emptied and filled. An iterator over the
    dict (``it = iter(d)``, taken after deletions) then goes on where a plain run's
    would: rebuilt, the table moved its entries up and the iterator skipped one."""
    for key in [key for key in live if key not in new]:
        del live[key]
    kept = [key for key in new if key in live]
    if kept != list(live) or list(new)[: len(kept)] != kept:
        live.clear()
    live.update(new)


def _refill_set(live: set[Any], new: set[Any]) -> None:
    """Make ``live`` hold what ``new`` holds by taking out what went and adding what came,
    in its own table, as ``discard``, ``difference_update`` and ``add`` leave it:
    ``intersection_update`` builds a new table and swaps it in, so a set shrunk from 20
    items to ``{3, 10}`` iterated ``[10, 3]`` after the hit and ``[3, 10]`` after a plain run."""
    live.difference_update([item for item in live if item not in new])
    live.update(new)


Sharing = tuple[tuple[str, tuple[Any, ...] | None], ...]
"""The names sharing a value written in place, each with where it views an array's memory
(see :func:`_sharing_of`)."""


def _sharing_of(
    namespace: dict[str, Any], name: str, sharers: Iterable[str] | None = None
) -> Sharing:
    """The names other than ``name`` that share its value or its memory (found by
    :func:`~hitnb.core.cells.sharing_names` unless given), with, for an array viewing an
    array's memory, where it looks in it (offset in bytes, shape, strides, dtype). What
    the cell computes through them (``z = y[:]`` read by ``y += 1; s = z.sum()``, or
    read by a function it calls) depends on whether the change reaches them, and what
    the change leaves in them on where they look, which the key does not say: a hit needs
    the same as when the cell ran (see :func:`in_place_values`)."""
    value = namespace[name]
    if sharers is None:
        try:
            reached = objects_reached(value)
        except UnhashableValue:
            reached = {}
        reached[id(value)] = value
        sharers = sharing_names(namespace, reached)
    np: Any = sys.modules.get("numpy")
    found = []
    for other in sorted(set(sharers) - {name}):
        held = namespace.get(other)
        at = None
        if np is not None and type(value) is np.ndarray and isinstance(held, np.ndarray):
            at = _placed(held, value)
        found.append((other, at))
    return tuple(found)


def _layouts(namespace: dict[str, Any], names: Iterable[str]) -> dict[str, tuple[Any, ...]]:
    """The values among ``names`` a hit may write into in place, as the run found them:
    numpy arrays (exactly ``ndarray``) with their shape, dtype and strides, and lists,
    dicts and sets (see :func:`in_place_values`). Not bytearrays: one a memoryview
    exports cannot be resized, and a hit failing on it after another write ran the cell
    on what it had written."""
    np = sys.modules.get("numpy")
    found: dict[str, tuple[Any, ...]] = {}
    for name in names:
        value: Any = namespace.get(name)
        kind = type(value)
        if kind in _REFILLED:
            found[name] = (value,)
        elif np is not None and kind is np.ndarray:
            found[name] = (value, value.shape, value.dtype, value.strides)
    return found


def _attribute_sizes(
    namespace: dict[str, Any], names: Iterable[str]
) -> dict[str, tuple[Any, tuple[tuple[str, int], ...]]]:
    """The values among ``names`` that hold attributes, each with :func:`_sizes`, as a run
    found them: a cell only reading an attribute (``res.aic``) is not hashed again after
    it runs, yet the read may change the object, and did where it adds an attribute or
    an entry to one (a statsmodels state space model keeps ``llf`` in its
    ``_summary_statistics_cache`` on that read, so that ``summary()`` outlives
    ``remove_data()``): such a value is hashed again, as one the run may have changed."""
    found = {}
    for name in sorted(names):
        value = namespace.get(name)
        if value is None or is_code_value(value) or not may_change(value):
            continue
        sizes = _sizes(value)
        if sizes:
            found[name] = (value, sizes)
    return found


def _sizes(value: Any) -> tuple[tuple[str, int], ...]:
    """Each attribute of ``value`` and of the object it hands out the attributes of (a
    statsmodels results wrapper's ``_results``: see
    :func:`~hitnb.hashing.values.delegate_of`), with the length of a dict, list or set held
    there (else -1). Attributes holding caches the digest leaves out are not listed (see
    :func:`~hitnb.hashing.values.caches_of`): a read filling ``_cache`` changes nothing
    the digest holds. Empty for a value with no ``__dict__`` (or one a library will not
    let be read)."""
    found: list[tuple[str, int]] = []
    try:
        delegate = delegate_of(value)
        held = (
            [("", value)] if delegate is None else [("", value), (f"{delegate[0]}.", delegate[1])]
        )
        for prefix, obj in held:
            own = getattr(obj, "__dict__", None)
            if type(own) is not dict:
                continue
            left = caches_of(type(obj))
            found.extend(
                (prefix + key, len(item) if isinstance(item, _SIZED) else -1)
                for key, item in own.items()
                if key not in left
            )
    except Exception:  # (a proxy raising when asked for its attributes: nothing to compare)
        return ()
    return tuple(found)


_SIZED = (dict, list, set)


_REFILLED = (list, dict, set)
"""Containers a hit refills in place when they hold only values that cannot change."""
_ATOMS = frozenset({int, float, complex, str, bytes, bool, type(None)})


def _atoms_only(value: Any) -> bool:
    """Whether the list, dict or set ``value`` holds only values that cannot change
    (numbers, strings, bytes, None, numpy scalars, tuples of those): refilled with copies
    of them, it holds what it held after the run, as no one can tell a copy of such a
    value from itself (but by ``is``: a string appended from another name)."""
    items = (*value.keys(), *value.values()) if type(value) is dict else value
    return all(_atom(item) for item in items)


def _atom(value: Any, depth: int = 0) -> bool:
    kind = type(value)
    if kind in _ATOMS:
        return True
    if kind is tuple:
        return depth < 3 and all(_atom(item, depth + 1) for item in value)
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.generic) and not value.dtype.hasobject


def in_place_values(
    namespace: dict[str, Any],
    changed_by: dict[str, dict[int, Any]],
    measured: dict[str, str | None],
    layouts: dict[str, tuple[Any, ...]],
    outputs: dict[str, Any],
    shown: list[Any],
) -> dict[str, Sharing]:
    """The inputs the run changed in place (``y += 3 * x``, ``log.append(1)``) that a hit
    may write what the run left into, keeping the live object: numpy arrays still of the
    shape, dtype and strides they had, writeable, of no Python objects; lists, dicts, sets
    holding only values that cannot change (see :func:`_atoms_only`). Each must still be
    bound to its name, and share its memory or itself with no other output of the cell,
    nor the values it showed (``shown``, its result among them: ``_`` is the list itself
    after a plain run), nor what shares the other values it changed (``changed_by``: what
    each reaches). Whatever holds or views such a value (the models fitted on ``y``, a
    function's default, a library object keeping the list) then sees the change as after
    a plain run, where restoring a new object meant storing and restoring each holder
    with it (135 MB for a cell of 1 ms: statespace_sarimax_faq cell 12), and a holder not
    seen as one (behind a library object's private attributes) kept the old values. A value
    failing that is restored as before, with the names sharing it. Each comes with the
    names sharing it after the run (see :func:`_sharing_of`): a name whose sharing the run
    changed is bound or changed by it, an output, so they are those that shared it
    before."""
    sharers: dict[str, set[str]] = {}
    for name, digest in measured.items():
        found = layouts.get(name)
        value: Any = namespace.get(name)
        if digest is None or found is None or found[0] is not value:
            continue
        if len(found) > 1:  # an array
            if (
                (value.shape, value.dtype, value.strides) != found[1:]
                or not value.flags.writeable
                or value.dtype.hasobject
            ):
                continue
        elif not _atoms_only(value):
            continue
        sharers[name] = set(sharing_names(namespace, changed_by[name])) - {name}
    if sharers and _outputs_may_hold(outputs, sharers, shown):
        return {}
    in_place = set(sharers)
    while in_place:
        rest = {
            ident: obj
            for name, reached in changed_by.items()
            if name not in in_place
            for ident, obj in reached.items()
        }
        shared_with_rest = set(sharing_names(namespace, rest)) if rest else set()
        failing = {
            name
            for name in in_place
            if name in shared_with_rest or sharers[name] & (outputs.keys() | shared_with_rest)
        }
        if not failing:
            break
        in_place -= failing
    return {name: _sharing_of(namespace, name, sharers[name]) for name in sorted(in_place)}


def _defaults_named(
    namespace: dict[str, Any], fn: types.FunctionType, held: dict[str, int]
) -> list[str] | None:
    """The notebook names bound to the default values of ``fn`` that could change in
    place, before the run (``held``: the ids of the values of the names the cell does not
    bind) and after it (``def record(e, sink=log)``: ``log``); None when one of those is
    bound to no such name (``seen=[]``; ``log2 = log; log = []`` in the cell), which a hit
    could not restore the default with (see :func:`_defaults_follow`)."""
    values = [*(fn.__defaults__ or ()), *(fn.__kwdefaults__ or {}).values()]
    names = []
    for value in values:
        if not may_change(value) or is_code_value(value):
            continue
        name = next(
            (
                n
                for n, v in namespace.items()
                if v is value and held.get(n) == id(v) and not is_session_name(n)
            ),
            None,
        )
        if name is None:
            return None
        names.append(name)
    return names


def _defaults_follow(namespace: dict[str, Any], replaced: dict[int, tuple[Any, Any]]) -> bool:
    """Make the code of the notebook that holds an object a hit replaced (``replaced``: by
    id, the object and what replaced it) hold its replacement: its functions and its
    classes' methods, as a default value or in a closure, and ``functools.partial`` objects
    as an argument (:func:`_code_holders`). The hit restores a value the cell changed in
    place (or one sharing it) as a new object, where a plain run changes the very object
    every holder holds: ``def record(e, sink=log)`` went on appending to the old ``log``
    after a hit restored ``log`` changed (so do the items of such a dict or list the run
    left in place: see :func:`_items_replaced`). A name the cell bound to a new object is
    not replaced so: a plain run leaves the defaults holding the old one. Whether any
    holder changed (the digests kept of values holding it no longer hold)."""
    if not replaced:
        return False

    def new(obj: Any) -> Any:
        found = replaced.get(id(obj))
        return found[1] if found is not None and found[0] is obj else obj

    changed = False
    functions, partials = _code_holders(namespace)
    for made in partials:  # partial(list.append, log): its arguments follow too
        args, keywords = tuple(map(new, made.args)), {k: new(v) for k, v in made.keywords.items()}
        held = (*made.args, *made.keywords.values())
        if any(a is not b for a, b in zip((*args, *keywords.values()), held, strict=True)):
            state = (made.func, args, keywords, made.__dict__ or None)
            made.__setstate__(state)  # type: ignore[attr-defined]  # (in C; typeshed lacks it)
            changed = True
    for function in functions:
        moved = [(k, at, new(v)) for k, at, v in function_holds(function) if new(v) is not v]
        if moved:
            hold_at(function, moved)
            changed = True
    return changed


def _items_of(namespace: dict[str, Any], analysis: CellAnalysis) -> dict[str, tuple[Any, Any]]:
    """Each dict or list input the run may change in place (of at most
    :data:`ITEMS_FOLLOWED` items), with a shallow copy of it: which of its items are
    the same objects after the run (:func:`_items_kept`)."""
    found: dict[str, tuple[Any, Any]] = {}
    for name in analysis.candidates | analysis.receivers | analysis.element_receivers:
        value: Any = namespace.get(name)
        if isinstance(value, dict | list) and len(value) <= ITEMS_FOLLOWED:
            found[name] = (value, dict(value) if isinstance(value, dict) else list(value))
    return found


def _items_kept(
    before: dict[str, tuple[Any, Any]], namespace: dict[str, Any], changed: Iterable[str]
) -> dict[str, tuple[Any, ...]]:
    """For each of ``changed`` that :func:`_items_of` copied and the name still holds, the
    keys (places) of the items the run left in place (see ``CellRecord.items_kept``)."""
    kept: dict[str, tuple[Any, ...]] = {}
    for name in changed:
        if name not in before or namespace.get(name) is not before[name][0]:
            continue
        value, copied = before[name]
        if isinstance(value, dict):
            kept[name] = tuple(k for k, v in copied.items() if k in value and value[k] is v)
        else:
            kept[name] = tuple(at for at, v in enumerate(copied[: len(value)]) if value[at] is v)
    return kept


def _items_replaced(
    pairs: dict[str, tuple[Any, Any]], kept: dict[str, tuple[Any, ...]]
) -> dict[int, tuple[Any, Any]]:
    """For each name of ``pairs`` (the dict or list a hit replaced, and its replacement)
    whose record says which items the run left in place (``kept``), each of those items
    that may change and the replacement's item there, by id."""
    found: dict[int, tuple[Any, Any]] = {}
    for name, (old, new) in pairs.items():
        if type(old) is not type(new) or type(old) not in (dict, list):
            continue
        for key in kept.get(name, ()):
            try:
                item, restored = old[key], new[key]
            except (KeyError, IndexError):
                continue
            if item is not restored and may_change(item):
                found[id(item)] = (item, restored)
    return found


def _code_holding(namespace: dict[str, Any], obj: Any) -> str | None:
    """Which of the notebook's functions, methods or partials (:func:`_code_holders`)
    holds ``obj`` as a default, in a closure or as an argument, said as a user reads it;
    None when none does."""
    functions, partials = _code_holders(namespace)
    for made in partials:
        if any(part is obj for part in (*made.args, *made.keywords.values())):
            return "a partial"
    for function in functions:
        if any(held is obj for _, _, held in function_holds(function)):
            return f"`{function.__qualname__}`"
    return None


def _code_holders(
    namespace: dict[str, Any],
) -> tuple[list[types.FunctionType], list[functools.partial[Any]]]:
    """The notebook's functions (its classes' methods among them) and the partials the
    namespace holds, and those one step inside its lists, tuples, dicts and notebook objects
    (``hooks = {"rec": make(log)}``, ``job.report = lambda out=seen: ...``)."""
    functions: list[types.FunctionType] = []
    partials: list[functools.partial[Any]] = []
    for value in _with_what_they_hold(namespace.values()):
        if type(value) is types.FunctionType and value.__module__ == "__main__":
            functions.append(value)
        elif type(value) is functools.partial:
            partials.append(value)
        elif is_notebook_class(value):
            functions += [
                f
                for member in vars(value).values()
                if type(f := getattr(member, "__func__", member)) is types.FunctionType
            ]
    return functions, partials


def _with_what_they_hold(values: Iterable[Any]) -> Iterator[Any]:
    """``values``, and what each list, tuple or dict among them (of at most
    :data:`ITEMS_FOLLOWED` items) and each notebook object's attributes hold."""
    for value in list(values):
        yield value
        kind = type(value)
        if kind is list or kind is tuple or kind is dict:
            if len(value) <= ITEMS_FOLLOWED:
                yield from list(value.values() if kind is dict else value)
        elif kind.__module__ == "__main__" and isinstance(getattr(value, "__dict__", None), dict):
            yield from list(vars(value).values())


def _rebound_away(
    kept: dict[str, Any], namespace: dict[str, Any], candidates: frozenset[str]
) -> Iterator[tuple[str, Any]]:
    """Inputs the cell may have changed and then bound to another object, with the object
    each held before: other names may still hold it (``args = (df, "a")`` before
    ``df["b"] = 1; df = df.copy()``). Inputs only read, or only given methods that leave
    their values as they were (``df = df.dropna()``), are not."""
    for name, value in sorted(kept.items()):
        if namespace.get(name, _UNBOUND) is value:
            continue
        if name in candidates or not pure_methods_hold(value):
            yield name, value


def _bound_where_code_does_not_say(
    held: dict[str, int], namespace: dict[str, Any], analysis: CellAnalysis
) -> tuple[dict[str, Any], list[str]]:
    """Names the run bound (or bound again) and deleted that no statement of the cell
    names: ``exec("z = 5")``, ``globals()[name] = value``, a loop making ``x_val`` and
    ``y_val``. Outputs like any other: a hit that left them out failed on them (NameError)
    where the run had defined them. ``held`` is the id of each name's value before the run
    (ids, not values: a cell may free what it deletes). IPython's history names aside."""

    def unseen(name: str) -> bool:
        return name not in analysis.bound and not (is_session_name(name) or name.startswith("__"))

    bound = {
        name: value
        for name, value in namespace.items()
        if held.get(name) != id(value) and unseen(name)
    }
    deleted = [name for name in held if name not in namespace and unseen(name)]
    return bound, deleted


_UNBOUND = object()


def _attribute_changed(
    namespace: dict[str, Any],
    before: dict[str, tuple[types.FunctionType, dict[str, tuple[Any, str | None]]]],
    outputs: dict[str, Any],
) -> str | None:
    """An attribute of a notebook function the cell did not bind (``before``: see
    :func:`~hitnb.core.cells.notebook_functions`) that the run set, deleted or changed in
    place (``f.items = log``, ``f.calls += 1``, ``f.items.append(2)``), said as a user reads
    it; None when none. Neither the function's digest nor a hit covers what it holds: a
    hit restores the cell's outputs, and the function, an input, came back without the
    attribute (AttributeError after a restart). One holding an output of the cell changed
    in place (``f.items = log`` in an earlier cell, ``log.append(2)`` in this one) is as
    after a plain run: a hit writes into that very object, or makes the function hold the
    one it restores (see :func:`_defaults_follow`)."""
    made = {id(value) for value in outputs.values()}
    for name, (function, found) in sorted(before.items()):
        if namespace.get(name) is not function:
            continue  # bound again by the run: an output, its attributes stored with it
        held = own_attributes(function)
        now: dict[str, str | None] | None = None  # (hashed again only when needed)
        for attribute in sorted(found.keys() | held.keys()):
            value = held.get(attribute, _UNBOUND)
            was, digest = found.get(attribute, (_UNBOUND, None))
            if value is _UNBOUND:
                return f"deleted attribute `{attribute}` of function `{name}`"
            if value is not was:
                return f"set attribute `{attribute}` of function `{name}`"
            if id(value) in made:
                continue
            now = attribute_digests(function) if now is None else now
            if now.get(attribute) != digest:
                return f"changed attribute `{attribute}` of function `{name}` in place"
    return None


def _cached_held(
    namespace: dict[str, Any], names: Iterable[str]
) -> dict[str, tuple[Any, frozenset[tuple[tuple[str, ...], str]]]]:
    """The inputs ``names`` that hold cached attributes (see
    :func:`~hitnb.hashing.values.cache_entries`), each with where those are kept and their
    names: a run clearing one (``del fit.doubled``, statsmodels' ``remove_data()``) changes
    nothing their digests hold, and a hit would not clear it."""
    found = {}
    for name in sorted(names):
        value = namespace.get(name)
        if value is not None and may_change(value) and (held := _cache_places(value)):
            found[name] = (value, held)
    return found


def _cache_places(value: Any) -> frozenset[tuple[tuple[str, ...], str]]:
    """Where each cached attribute ``value`` holds is kept, and its name (see
    :func:`~hitnb.hashing.values.cache_entries`); none for a value whose ``__dict__`` a
    library will not let be read."""
    try:
        return frozenset((kept_in, entry) for kept_in, entry, _ in cache_entries(value))
    except Exception:
        return frozenset()


def _cache_removed(
    namespace: dict[str, Any], before: dict[str, tuple[Any, frozenset[tuple[tuple[str, ...], str]]]]
) -> str | None:
    """A cached attribute one of the inputs ``before`` (see :func:`_cached_held`) held
    before the run and not after it, said as a user reads it; None when none. (The caller
    leaves out the inputs the run changed otherwise: a hit restores those whole, caches and
    all, as the run left them.)"""
    for name, (value, held) in before.items():
        if namespace.get(name) is not value:
            continue
        for _, entry in sorted(held - _cache_places(value)):
            return f"the cached attribute `{entry}` of `{name}`"
    return None


def _user_modules_reached(namespace: dict[str, Any], analysis: CellAnalysis) -> list[Any]:
    """The user modules (not the notebook) a cell names, imports from (imported already),
    and those of the functions it calls by name: a run may change their globals
    (``helpers.bump()`` rebinding ``COUNT``)."""
    found: dict[str, Any] = {}
    reached: list[Any] = [sys.modules.get(name) for name in analysis.imports]
    for name in analysis.inputs:
        value = namespace.get(name)
        if name in analysis.called and isinstance(value, types.FunctionType):
            value = sys.modules.get(value.__module__)
        reached.append(value)
    for value in reached:
        if not isinstance(value, types.ModuleType) or value.__name__ == "__main__":
            continue
        if is_user_code(value):
            found[value.__name__] = value
    return list(found.values())


def _globals_ids(module: Any) -> dict[str, int]:
    return {name: id(value) for name, value in vars(module).items()}


def _outside_changed(
    namespace: dict[str, Any],
    analysis: CellAnalysis,
    before: dict[Any, dict[str, int]],
    swapped: dict[Callee, tuple[Any, Any]],
) -> str | None:
    """What outside the notebook the run changed, for the note: a user module the cell
    assigned into, a global of one of the modules in ``before`` (the ids of their globals
    as the run started) bound, rebound or deleted since, or an attribute the cell set on a
    library's module or class and did not put back (``swapped``: see
    :func:`_attributes_as_found`); None when none of these."""
    for name in sorted(analysis.stored_into):
        value = namespace.get(name)
        if isinstance(value, types.ModuleType) and is_user_code(value):
            return f"module `{name}`"
    for module, ids in before.items():
        now = _globals_ids(module)
        for name in sorted(ids.keys() | now.keys()):
            if ids.get(name) != now.get(name):
                return f"`{module.__name__}.{name}`"
    return _outside_attribute_set(namespace, analysis, swapped)


def _attributes_as_found(
    namespace: dict[str, Any], paths: Iterable[Callee]
) -> dict[Callee, tuple[Any, Any]]:
    """The owner and own value of each attribute in ``paths`` (those the cell's code swaps
    and puts back: :attr:`CellAnalysis.put_back`) as the run starts, where the owner can be
    found: by the names the cell uses, or else through ``sys.modules`` (``import
    pkg._impl`` in the cell binds ``pkg``). The run left such an attribute as the session
    had it when the same owner holds the same object after it. Looked up without running
    code (no property, no module ``__getattr__`` loading a submodule): before the run,
    hitnb may not do what only the cell's code would."""
    found: dict[Callee, tuple[Any, Any]] = {}
    for path in paths:
        owner = _reach(namespace.get(path[0], _UNBOUND), path[1:-1], static=True)
        for end in range(len(path) - 1, 0, -1):
            if owner is not _UNBOUND:
                break
            module = sys.modules.get(".".join(path[:end]), _UNBOUND)
            owner = _reach(module, path[end:-1], static=True)
        if owner is not _UNBOUND:
            found[path] = (owner, _own_attribute(owner, path[-1]))
    return found


def _own_attribute(owner: Any, name: str) -> Any:
    """What ``owner`` itself holds under ``name`` (no descriptor run, nothing inherited);
    ``_UNBOUND`` when nothing."""
    try:
        return vars(owner).get(name, _UNBOUND)
    except TypeError:  # no __dict__
        return _UNBOUND


def _reach(root: Any, steps: Iterable[str], *, static: bool = False) -> Any:
    """The object ``root.step1.step2...``; ``_UNBOUND`` when a step is missing. ``static``
    looks each step up with :func:`inspect.getattr_static`, which runs no code."""
    get = inspect.getattr_static if static else getattr
    try:
        for step in steps:
            root = get(root, step)
    except Exception:  # gone, or never there
        return _UNBOUND
    return root


def _outside_attribute_set(
    namespace: dict[str, Any], analysis: CellAnalysis, swapped: dict[Callee, tuple[Any, Any]]
) -> str | None:
    """An attribute the cell set or deleted on a module, or on a class the notebook does not
    define (``torch.backends.cudnn.deterministic = True``, ``json.indent = 2``,
    ``InteractiveShell.ast_node_interactivity = "all"``), and did not swap and put back
    (``swapped``), for the note; None when none. The object is looked up after the run,
    the way the cell reached it."""
    for path in analysis.attributes_set:
        owner = _reach(namespace.get(path[0], _UNBOUND), path[1:-1])
        if owner is _UNBOUND:  # gone since, or never there: not a module's
            continue
        found = swapped.get(path)
        if found and found[0] is owner and found[1] is _own_attribute(owner, path[-1]):
            continue
        name = ".".join(path)
        if isinstance(owner, types.ModuleType) and owner.__name__ != "__main__":
            return f"`{name}` (an attribute of module `{owner.__name__}`)"
        if isinstance(owner, type) and owner.__module__ != "__main__":
            return f"`{name}` (an attribute of class `{owner.__module__}.{owner.__qualname__}`)"
    return None


def _called_plans(
    namespace: dict[str, Any], analysis: CellAnalysis, by_name_only: bool = False
) -> Iterator[tuple[str, Any, Plan]]:
    """The notebook code the cell may run, with its dependency plans: the functions and
    notebook classes it calls by name (``M()`` runs ``M.__init__``), the functions of user
    modules it calls by their module (``helpers.bump()``), the class of a notebook object
    or class it calls a method of (``m.add()``), and the notebook functions and classes
    it reads otherwise, or that its inputs hold one step inside (``map(add, xs)``,
    ``hooks["log"](x)``, ``logs[0].add(x)``): any of them may write a global. Each with
    how the cell reaches it, for messages. With ``by_name_only``, the functions the cell
    calls by name and those of user modules only."""
    sensitivity = config.settings().version_sensitivity
    called = [
        (f"calling `{name}()`", _run_by(namespace.get(name))) for name in sorted(analysis.called)
    ]
    if by_name_only:
        called = [(how, code) for how, code in called if isinstance(code, types.FunctionType)]
    for base, attribute in sorted(analysis.attribute_calls):
        owner = namespace.get(base)
        how = f"calling `{base}.{attribute}()`"
        if isinstance(owner, types.ModuleType):
            if is_user_code(owner):
                called.append((how, owner.__dict__.get(attribute)))
        elif not by_name_only and (is_notebook_code(owner) or is_notebook_class(type(owner))):
            called.append((how, owner if is_notebook_code(owner) else type(owner)))
    for name in sorted(analysis.inputs) if not by_name_only else ():
        for held in _with_what_they_hold([namespace.get(name)]):
            code = _run_by(held)
            code = code if is_notebook_code(code) else type(held)
            if is_notebook_code(code):
                called.append((f"the notebook code `{name}` is or holds", code))
    seen: set[int] = set()
    for how, code in called:
        if isinstance(code, types.FunctionType) or is_notebook_class(code):
            if id(code) in seen:
                continue
            seen.add(id(code))
            try:
                yield how, code, plan_for(code, sensitivity, frozenset())
            except Exception:  # unreadable: the cell's key says so
                continue


def _run_by(value: Any) -> Any:
    """The function a call of ``value`` runs, when it is a partial of one, a method bound
    to an object (``p = partial(add, 10)``, ``cb = t.f``) or the wrapper ``functools.cache``
    and ``lru_cache`` make (which runs it on a call it has not seen); else ``value``."""
    for _ in range(8):  # (a partial of a partial)
        if isinstance(value, functools.partial):
            value = value.func
        elif isinstance(value, types.MethodType):
            value = value.__func__
        elif isinstance(value, _LRU_CACHE_WRAPPER):
            value = value.__wrapped__
        else:
            break
    return value


_LRU_CACHE_WRAPPER = type(functools.lru_cache(lambda: None))


def _rebound_by_calls(namespace: dict[str, Any], analysis: CellAnalysis) -> frozenset[str]:
    """Notebook globals that the notebook functions the cell calls by name (or the helpers
    they call) assign with ``global``: inputs of the cell, since such a function reads them
    first as a rule, and outputs, which a hit binds again. Not for the code the cell
    reaches otherwise (a class's methods, a callback): the methods it never calls would
    make inputs of what they assign (``global conn; conn = sqlite3.connect(...)`` in an
    unused method left every cell reading an instance uncached); a global such code does
    rebind is found changed after the run (see :func:`_written_through_calls`)."""
    rebound: set[str] = set()
    for _, code, plan in _called_plans(namespace, analysis, by_name_only=True):
        if getattr(code, "__globals__", namespace) is namespace:
            for walked, _ in plan.functions:
                if walked.__globals__ is namespace:
                    rebound |= analyze(walked).assigned
    return frozenset(rebound)


def _called_functions(
    namespace: dict[str, Any], analysis: CellAnalysis, taken: dict[type, Fingerprint]
) -> dict[str, tuple[Any, Fingerprint, str | None]]:
    """The code the cell may run (see :func:`_called_plans`) that reads values, or whose
    own defaults a call may change (a list they append to, a counter they rebind with
    ``global``, ``seen=[]``), with their fingerprints and the digest of their own defaults
    before the run, by how the cell reaches them. A class whose fingerprint the key took
    (``taken``) is not hashed again: nothing ran since."""
    sensitivity = config.settings().version_sensitivity
    found: dict[str, tuple[Any, Fingerprint, str | None]] = {}
    for name, code, plan in _called_plans(namespace, analysis):
        defaults = (
            defaults_digest(code, changeable_only=True)
            if isinstance(code, types.FunctionType)
            else None
        )
        if plan.values or defaults is not None:
            try:
                taken_before = taken.get(code) if isinstance(code, type) else None
                before = taken_before or fingerprint(code, sensitivity, plan=plan)
                found[name] = (code, before, defaults)
            except Exception:  # unhashable: the cell's key already said so
                continue
    return found


def _written_through_calls(
    namespace: dict[str, Any],
    called: dict[str, tuple[Any, Fingerprint, str | None]],
    held: dict[str, int],
    bound: frozenset[str],
) -> tuple[list[str], str]:
    """The notebook globals the called functions changed (outputs of the cell), and why
    the run cannot be stored when they changed a value elsewhere (a user module's global,
    a closure's variable, a default argument), which a hit could not change again. What
    the code reads through a name the cell binds (a class it defines again: the old
    class's ``__init__`` reads ``Model.registry`` by the name) is an output, not a
    change."""
    sensitivity = config.settings().version_sensitivity
    written: list[str] = []
    for how, (code, before, defaults) in called.items():
        if defaults is not None and defaults_digest(code, changeable_only=True) != defaults:
            named = _defaults_named(namespace, code, held)
            if named is None:
                return [], (
                    f"this cell ran but was not cached: {how} changed one of its default "
                    "arguments in place, which a hit could not change again"
                )
            written += named  # (`def record(e, sink=log)`: a hit restores `log`, and the
            # default follows it: see _defaults_follow)
        try:
            labels = written_during(before, fingerprint(code, sensitivity))
        except Exception as exc:
            return [], f"this cell ran but was not cached: {how} left {exc}"
        in_notebook = getattr(code, "__globals__", namespace) is namespace
        for label in sorted(labels):
            kind, where = Dependency.from_label(label)
            module, _, var = where.rpartition(".")
            if kind == "global" and module == code.__module__ and in_notebook and var in namespace:
                written.append(var)
                continue
            main, _, path = where.partition(".")
            if main == "__main__" and in_notebook and path.partition(".")[0] in bound:
                continue
            return [], (
                f"this cell ran but was not cached: {how} changed {kind} `{where}`, which a "
                "hit could not change again"
            )
    return written, ""


DIGEST_OUTPUTS_AFTER = 0.1
"""Seconds: a cell that ran this long keeps the digest of its other outputs in its record
too, within :data:`DIGEST_BUDGET`. What such a cell makes (a fitted model, a results
object) is what later cells read, and after a restart each would hash the restored value
again (a GEE result: 0.6 s, for a cell that prints its summary in 10 ms; a state-space fit
of 0.2 s: 50 ms, for a cell that prints a table in 6 ms). The first reader would hash it in
this session anyway; only outputs no cell reads cost more."""

DIGEST_BUDGET = 0.25
"""Of the cell's own time, what hashing those other outputs may take: an output that would
take longer is given up half-way, and the rest are left to the cells that read them (a
figure of 12 plots takes about a second to hash, and a plotting cell's ``fig`` and ``ax``
are seldom read again)."""

OBJECTS_IN_DATA_LIMIT = 0.05
"""Seconds the objects inside an array or frame output may take to hash when the cell's
own budget is smaller. Such outputs are hashed whatever the cell cost, for their buffers;
the Python objects an object array holds are walked one by one, and ``axes`` of
``plt.subplots(1, 2)`` reaches every line drawn (2000 lines: 2.5 s, for a cell of 1 s)."""

_BUFFER_TYPES = frozenset(
    {
        "numpy.ndarray",
        "pandas.DataFrame",
        "pandas.Series",
        "pandas.Index",
        "pandas.RangeIndex",
        "pandas.DatetimeIndex",
        "pandas.TimedeltaIndex",
        "pandas.PeriodIndex",
    }
)


def _hashed_by_its_buffers(value: Any) -> bool:
    """Outputs whose digest is worth keeping at once, whatever the cell cost: data hashed at
    memory speed (arrays, frames) that the next cells would otherwise hash again. Objects
    hashed by walking them are left for the cells that read them, if any do, unless the
    cell was slow (:data:`DIGEST_OUTPUTS_AFTER`)."""
    kind = type(value)
    if kind in (str, bytes, int, float, bool):
        return True
    module = kind.__module__.partition(".")[0]
    return f"{module}.{kind.__qualname__}" in _BUFFER_TYPES


def _unstorable_output(record: CellRecord) -> tuple[str, str, str] | None:
    """The first output by name that no codec can store (its name, type and type's module),
    to name it in the message (by name: the order a run binds its outputs in can change from
    one kernel to the next)."""
    import pickle

    for name, output in sorted(record.outputs.items()):
        value = output.value if isinstance(output, Pickled | PickledTogether) else output
        try:
            pickle.dumps(value, protocol=5)
        except Exception:
            try:
                dill_dumps(value)
            except Exception:
                return name, type(value).__qualname__, type(value).__module__
    return None
