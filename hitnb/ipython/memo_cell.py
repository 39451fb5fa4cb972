"""Running a ``%%memo`` cell: hit, replay and restore; or run, record and store.

A miss runs the cell as IPython would (same namespace; the last expression's value is
what the magic returns, so IPython shows it as the cell's result; exceptions propagate
and nothing is stored). A hit restores the output names, shows again what the cell
showed, in order, adds a small badge, and returns the same last value.
"""

from __future__ import annotations

import ast
import builtins
import time
from dataclasses import dataclass, field
from typing import Any

from hitnb import config
from hitnb.core import modes
from hitnb.core.arguments import summarize
from hitnb.core.cells import (
    CellAnalysis,
    CellRecord,
    analyze_cell,
    is_code_value,
    pack_outputs,
    unpack_outputs,
)
from hitnb.core.explain import Explanation, explain_call
from hitnb.core.memo import current_store, keep_input
from hitnb.core.recipe import cell_recipe
from hitnb.errors import CodecError, CorruptEntryError
from hitnb.hashing.fingerprint import PYTHON, KeyParts
from hitnb.hashing.values import UnhashableValue, hash_value
from hitnb.ipython.capture import recording, replay
from hitnb.store.local import LocalStore
from hitnb.widgets.badge import BADGE_METADATA, badge_bundle

CELL_IDENTITY = "cell"
"""The identity of unnamed cells: their key is their code and inputs, wherever they are."""
ABSENT = "absent"


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


@dataclass
class CellRun:
    """What happened to the last ``%%memo`` cell, for ``%hitnb why``."""

    hit: bool
    explanation: Explanation | None = None
    note: str = ""


def run_memo_cell(shell: Any, cell: str, options: CellOptions) -> tuple[Any, CellRun]:
    """Run one ``%%memo`` cell; return its last expression's value and what happened."""
    __tracebackhide__ = True
    source = shell.transform_cell(cell)
    analysis = analyze_cell(
        source, extra_inputs=options.inputs, extra_outputs=options.outputs, ignore=options.ignore
    )
    settings = config.settings()
    quiet = options.quiet or settings.quiet
    mode = "recompute" if options.force else modes.resolve(None, None, settings.mode)
    if not analysis.cacheable:
        return _run_uncached(
            shell, cell, source, f"this cell is not cached: {analysis.reason}", quiet
        )
    if mode == "off":
        return execute(shell, source), CellRun(hit=False, note="cache mode is off")
    try:
        digests, params = _input_digests(shell.user_ns, analysis)
    except UnhashableValue as exc:
        name = exc.path.split("[", 1)[0] or "?"
        why = (
            f"this cell is not cached: input `{name}` holds a {exc.type_name} that cannot be "
            f"hashed ({exc.reason}); leave it out with %%memo --ignore {name}"
        )
        return _run_uncached(shell, cell, source, why, quiet)
    identity = options.name or CELL_IDENTITY
    parts = KeyParts(
        identity,
        analysis.code,
        analysis.code,
        digests,
        {"python": PYTHON, "outputs": ",".join(analysis.outputs)},
        {"code": analysis.code},
        {},
        [],
    )
    key = parts.key
    store = current_store()
    if mode != "recompute":
        record = _stored_record(store, key, quiet)
        if record is not None and _restore(shell.user_ns, record, quiet):
            return _show_hit(shell, store, key, record, identity, quiet, options)
    explanation = None
    if options.why or (options.name and not quiet):
        explanation = explain_call(store, parts, params, noun="input")
        if explanation.compared_with is not None and (options.why or explanation.reasons):
            print(f"hitnb: recomputing {identity}: {'; '.join(explanation.reasons)}")
    value, record = _run_recorded(shell, source, analysis)
    run = CellRun(hit=False, explanation=explanation)
    if mode != "read-only":
        run.note = _store_record(
            store, key, record, cell, shell.user_ns, parts, params, options, quiet
        )
    return value, run


def execute(shell: Any, source: str) -> Any:
    """Run cell code in the user's namespace; return the last expression's value (or None)."""
    __tracebackhide__ = True
    tree = ast.parse(source)
    filename = shell.compile.cache(source)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    namespace = shell.user_ns
    exec(shell.compile(ast.Module(tree.body, type_ignores=[]), filename, "exec"), namespace)
    if last is None:
        return None
    return eval(shell.compile(ast.Expression(last.value), filename, "eval"), namespace)


def _run_uncached(shell: Any, cell: str, source: str, why: str, quiet: bool) -> tuple[Any, CellRun]:
    __tracebackhide__ = True
    if not quiet:
        print(f"hitnb: {why}; it runs normally.")
    if "it uses top-level await" in why:
        result = shell.run_cell(cell, store_history=False)
        result.raise_error()
        return None, CellRun(hit=False, note=why)
    return execute(shell, source), CellRun(hit=False, note=why)


def _input_digests(
    namespace: dict[str, Any], analysis: CellAnalysis
) -> tuple[dict[str, str], dict[str, Any]]:
    digests: dict[str, str] = {}
    params: dict[str, Any] = {}
    for name in analysis.inputs:
        if name in namespace:
            value = namespace[name]
            try:
                digests[name] = hash_value(value)
            except UnhashableValue as exc:
                raise UnhashableValue(exc.type_name, exc.reason, name + exc.path) from None
            params[name] = summarize(value)
        elif not hasattr(builtins, name):
            digests[name] = ABSENT  # not defined yet: a later definition must change the key
    return digests, params


def _stored_record(store: LocalStore, key: str, quiet: bool) -> CellRecord | None:
    try:
        found = store.lookup(key)
        if found is None or found.status != "ok":
            return None
        record = store.load(found)
    except (CorruptEntryError, CodecError) as exc:
        if not quiet:
            print(f"hitnb: the stored run of this cell cannot be used ({exc}); running it again")
        if isinstance(exc, CorruptEntryError):
            store.drop_corrupt(key)
        return None
    if not isinstance(record, CellRecord):
        return None
    store.note_hit(key)
    return record


def _restore(namespace: dict[str, Any], record: CellRecord, quiet: bool) -> bool:
    """Put a stored run's outputs into the namespace; False if they cannot be loaded."""
    try:
        values = unpack_outputs(record.outputs)
    except Exception as exc:  # a module gone, a class that no longer loads: run it again
        if not quiet:
            print(f"hitnb: the stored outputs cannot be restored ({exc}); running the cell again")
        return False
    namespace.update(values)
    for name in record.deleted:
        namespace.pop(name, None)
    return True


def _show_hit(
    shell: Any,
    store: LocalStore,
    key: str,
    record: CellRecord,
    identity: str,
    quiet: bool,
    options: CellOptions,
) -> tuple[Any, CellRun]:
    replay(shell, record.events)
    entry = store.get(key)
    if not quiet and entry is not None:
        label = identity if identity != CELL_IDENTITY else ""
        bundle = badge_bundle(saved=record.duration, created=entry.created, key=key, label=label)
        shell.display_pub.publish(bundle, BADGE_METADATA)
    if options.why:
        print(f"hitnb: {identity} is stored; restored {len(record.outputs)} names")
    return (record.result if record.has_result else None), CellRun(hit=True)


def _run_recorded(shell: Any, source: str, analysis: CellAnalysis) -> tuple[Any, CellRecord]:
    __tracebackhide__ = True
    start = time.perf_counter()
    with recording(shell) as events:
        value = execute(shell, source)
    duration = time.perf_counter() - start
    namespace = shell.user_ns
    outputs: dict[str, Any] = {}
    deleted: list[str] = []
    for name in analysis.outputs:
        if name not in namespace:
            deleted.append(name)
        elif (
            name in analysis.mutated and name in analysis.inputs and is_code_value(namespace[name])
        ):
            continue  # `np.mean(x)` calls a module's function; it does not mutate `np`
        else:
            outputs[name] = namespace[name]
    record = CellRecord(outputs, deleted, list(events), value, analysis.has_result, duration)
    return value, record


def _cell_recipe(
    store: LocalStore,
    cell: str,
    namespace: dict[str, Any],
    inputs: dict[str, Any],
    options: CellOptions,
) -> dict[str, Any]:
    """How to run this cell again in a notebook of its own; never raises."""
    settings = config.settings()

    def keep(value: Any) -> str | None:
        return keep_input(store, value) if settings.keep_inputs else None

    source = f"%%memo {options.line}".rstrip() + "\n" + cell
    try:
        return cell_recipe(
            source, {n: namespace[n] for n in inputs if n in namespace}, namespace, keep
        )
    except Exception as exc:
        return {"notes": [f"no recipe could be written: {type(exc).__name__}: {exc}"]}


def _store_record(
    store: LocalStore,
    key: str,
    record: CellRecord,
    cell: str,
    namespace: dict[str, Any],
    parts: KeyParts,
    params: dict[str, Any],
    options: CellOptions,
    quiet: bool,
) -> str:
    """Store a cell's run; return a note (empty when it was stored)."""
    packed = CellRecord(**{**record.__dict__, "outputs": pack_outputs(record.outputs)})
    try:
        store.put(
            key,
            packed,
            codec="pickle",
            recipe=_cell_recipe(store, cell, namespace, params, options),
            function=parts.identity,
            code=parts.code,
            args=parts.args_fingerprint,
            duration=record.duration,
            experiment=options.experiment,
            params=params,
            parts=parts.to_json(),
        )
    except (CodecError, OSError) as exc:
        culprit = _unstorable_output(packed)
        what = f"output `{culprit[0]}` (a {culprit[1]}) cannot be stored" if culprit else str(exc)
        note = f"this cell ran but was not cached: {what}"
        if not quiet:
            print(f"hitnb: {note}")
        return note
    return ""


def _unstorable_output(record: CellRecord) -> tuple[str, str] | None:
    """The first output no codec can store, to name it in the message."""
    import pickle

    import dill

    for name, value in record.outputs.items():
        try:
            pickle.dumps(value, protocol=5)
        except Exception:
            try:
                dill.dumps(value)
            except Exception:
                return name, type(value).__qualname__
    return None
