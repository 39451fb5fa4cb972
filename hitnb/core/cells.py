"""What a notebook cell reads and writes: the analysis behind ``%%memo``.

*Inputs* are the names a cell reads before binding them: at top level in statement
order (a loop variable read in the loop body is bound by then), and anywhere inside
comprehensions, lambdas, nested functions, classes and f-strings. *Outputs* are the
names it binds at top level (assignments of all kinds, ``for``/``with``/``except``
targets, imports, ``def``, ``class``, walrus), plus inputs syntax says it may change in
place (item or attribute assignment, ``del``, augmented assignment, a method not known to
be pure, ``inplace=``), unless declared with ``--in``. These are only proposals: after a
miss the run measures which inputs really changed (``_run_recorded`` in the IPython layer),
and only those are stored and restored.

Where it is unsure, the analysis over-approximates inputs (hashing one more value is
safe) and says why a cell cannot be cached rather than guessing: top-level ``await``,
``yield`` or ``return``, star imports, shell escapes and magics other than pure ones.
It never raises: a cell it cannot parse is reported as not cacheable.

This module knows nothing of IPython: it gets the cell's source after IPython's input
transformations (``!ls`` is ``get_ipython().system('ls')`` by then).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import gc
import importlib
import inspect
import linecache
import math
import os
import pickle
import re
import sys
import types
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from hitnb.core.reaching import objects_reached
from hitnb.core.scalars import library_scalar
from hitnb.deep import deep_if_needed
from hitnb.errors import CodecError
from hitnb.hashing.analysis import expression_names, strip_docstrings, text_digest
from hitnb.hashing.apart import Marks, hash_apart, memory_owner
from hitnb.hashing.code import importable_name, library_attribute, library_method
from hitnb.hashing.values import UnhashableValue, cache_entries, caches_of, hash_value
from hitnb.store.codecs import (
    Part,
    anchor_placements,
    dill_dumps,
    dill_loads,
    dumps_referring,
    dumps_with_dill_functions,
    gc_paused,
    is_cached_part,
    loads_in,
    part_of,
    pickled_apart,
    placements_within,
    walk_pickled,
)

PURE_MAGICS = frozenset({"matplotlib", "config", "load_ext"})
"""Line magics that change nothing a cell's results depend on, allowed in cached cells."""

PURE_METHODS = frozenset(
    {"sum", "mean", "std", "var", "min", "max", "median", "prod", "count", "nunique", "all",
     "any", "argmax", "argmin", "idxmax", "idxmin", "quantile", "describe", "info", "head",
     "tail", "copy", "tolist", "to_list", "to_numpy", "to_dict", "to_string", "to_markdown",
     "memory_usage", "isna", "isnull", "notna", "notnull", "value_counts", "unique", "corr",
     "cov", "round", "abs", "cumsum", "cumprod", "astype", "get", "keys", "items", "values",
     "index", "startswith", "endswith", "format", "summary", "plot", "hist", "equals",
     "dot", "nbytes", "mode", "first", "last", "diff", "pct_change", "sort_values",
     "sort_index", "pivot_table", "merge", "join", "filter", "select_dtypes", "duplicated",
     "drop_duplicates", "dropna", "fillna", "replace", "rename", "drop", "reset_index",
     "set_index", "assign"}
)  # fmt: skip
"""Methods that return a new object and leave their receiver as it was when it is a value of
:data:`PURE_METHOD_LIBRARIES` (a class of another library or of the notebook may fill a cache
or count calls in ``summary``: see :func:`pure_methods_hold`). Called with an ``inplace=``
keyword they count as changing it; methods that run the user's callbacks (``apply``, ``map``,
``groupby``) are not listed."""
PURE_METHOD_LIBRARIES = frozenset({"builtins", "numpy", "pandas"})
"""Where the classes come from for which :data:`PURE_METHODS` are known to be pure."""
PURE_FUNCTIONS = frozenset(
    {"len", "print", "repr", "str", "int", "float", "bool", "type", "isinstance", "id",
     "hash", "round", "abs", "sum", "min", "max", "sorted", "display", "format", "range"}
)  # fmt: skip
"""Builtins that read their arguments without changing them."""

IPYTHON_NAMES = frozenset(
    {"In", "Out", "_", "__", "___", "_i", "_ii", "_iii", "_ih", "_oh", "_dh", "_exit_code"}
)
"""Names IPython keeps for its own history: never outputs (but see :data:`RESULT_NAMES`). A
cell reading one of the values (``y = _ + 1``: the last result) has it as an input, by its
value."""
HISTORY_TABLES = frozenset({"In", "Out", "_ih", "_oh", "_dh"})
"""IPython's history as a whole, which every cell adds to: a cell reading it is not cached."""
SHELL_NAMES = frozenset({"get_ipython", "exit", "quit"})
"""Objects of the shell itself that IPython puts in the namespace: never inputs (they hold
the shell), but a cell's own binding of one of these names is an output like any other.
``display`` is not among them: IPython's is a library function, hashed by its version."""
_HISTORY_NAME = re.compile(r"_i?\d+$")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_NESTED = _SCOPES + _COMPREHENSIONS


@dataclass(frozen=True)
class CellAnalysis:
    """What running a cell reads and writes, and whether it can be cached."""

    code: str = ""
    """Digest of the normalized cell: comments, blank lines and docstrings do not count."""
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    mutated: frozenset[str] = frozenset()
    """Inputs the code may change in place, as far as syntax tells (candidates only: what a
    run really changed is measured, see :func:`changed_inputs`)."""
    bound: frozenset[str] = frozenset()
    """Names the cell binds (or deletes) at top level, and declared outputs."""
    candidates: frozenset[str] = frozenset()
    """Inputs the run may change in place, as syntax proposes (receivers of methods not
    known to be pure, call arguments, aliases, names used by nested code, names called):
    the ones whose digest is measured again after a miss."""
    stored_into: frozenset[str] = frozenset()
    """Inputs the cell assigns into (``config.params["lr"] = 0.1``): when one is a user
    module, the run changed state a hit could not change again."""
    attribute_calls: frozenset[tuple[str, str]] = frozenset()
    """Calls ``name.attribute(...)`` on inputs (``helpers.register(x)``)."""
    attributes_set: tuple[Callee, ...] = ()
    """The attributes the cell sets or deletes by a dotted name
    (``torch.backends.cudnn.deterministic = True``: ``("torch", "backends", "cudnn",
    "deterministic")``): set on a module or a class from outside the notebook, they are
    state a hit could not set again."""
    put_back: frozenset[Callee] = frozenset()
    """Those of :attr:`attributes_set` the cell swaps and puts back (``orig = mod.f``
    before any set of ``mod.f``, and ``mod.f = orig`` its last set): as the code reads,
    the attribute ends holding what it held as the cell started, whatever that was. The
    run checks that it did (see :func:`_put_back`)."""
    passed_only: tuple[tuple[str, tuple[Callee, ...]], ...] = ()
    """Candidates that are only given as arguments to calls, with those callees: the run
    can tell which of them only draw what they are given (:func:`drawn_only`)."""
    receivers: frozenset[str] = frozenset()
    """Inputs the cell only calls methods of :data:`PURE_METHODS` on (``res.summary()``):
    candidates too unless their value is of a class those methods are known to leave as it
    was (:func:`pure_methods_hold`), which only the run can tell."""
    element_receivers: frozenset[str] = frozenset()
    """Inputs a loop or comprehension goes over calling only methods of
    :data:`PURE_METHODS` on what it gets (``for r in fits.values(): r.summary()``):
    candidates too unless every value they hold is of a class those methods are known to
    leave as it was (:func:`elements_pure`), which only the run can tell."""
    called: frozenset[str] = frozenset()
    """Inputs the cell calls by name: notebook functions among them may change the globals
    they read, which the run measures around the call (not inputs of the cell)."""
    has_result: bool = False
    """Whether the last statement is an expression, whose value the cell shows."""
    reason: str | None = None
    """Why the cell cannot be cached; None if it can."""
    uses: frozenset[str] = field(default_factory=frozenset)
    """Every global name read anywhere (inputs or not), for ``--in`` checks."""
    environment: tuple[tuple[Callee, str], ...] = ()
    """Environment variables the cell reads by name, with how it reaches them
    (``os.environ.get("DATA_DIR")``: ``(("os", "environ", "get"), "DATA_DIR")``): their
    values are part of the cell's key (see :func:`environment_read`)."""
    literals: tuple[str, ...] = ()
    """Short string constants in the cell: the paths a reader written in C may open."""
    definitions: tuple[tuple[str, str], ...] = ()
    """Each function and class the cell defines at top level, as name and source
    (decorators included), in the cell's order and each time it is defined: a hit defines
    them again instead of restoring frozen copies."""
    magics: tuple[tuple[str, str], ...] = ()
    """The line magics of :data:`PURE_MAGICS` the cell runs, each with its arguments, in
    order: session settings (pyplot's backend, a configurable's value, an extension) that a
    hit makes again, since they are no value a record could hold."""
    imports: tuple[str, ...] = ()
    """Modules the cell imports by absolute name (``import a.b`` gives ``a.b``; ``from a
    import b`` gives ``a`` and ``a.b``, which may be a module): inputs by their version or
    source (:func:`hitnb.hashing.code.library_versions`)."""

    @property
    def cacheable(self) -> bool:
        return self.reason is None


def is_session_name(name: str) -> bool:
    """Names IPython keeps for its own history (``_``, ``_i3``, ``Out``): outputs only when
    a cell binds ``_``, ``__`` or ``___`` itself."""
    return name in IPYTHON_NAMES or bool(_HISTORY_NAME.match(name))


RESULT_NAMES = frozenset({"_", "__", "___"})
"""IPython's last results, which a cell may bind itself (``_, b = f()``): outputs then, so
that a hit binds them too, for the cells that read them."""


def _may_bind(name: str) -> bool:
    return name in RESULT_NAMES or not is_session_name(name)


def analyze_cell(
    source: str,
    *,
    extra_inputs: Iterable[str] = (),
    extra_outputs: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> CellAnalysis:
    """Analyze a cell's (transformed) source. Never raises; see ``reason``.

    ``extra_inputs`` are declared inputs, also declared *pure* (a method call on them is
    not a mutation); ``extra_outputs`` are declared outputs; ``ignore`` drops inputs.
    The result depends on these alone, so it is kept for the last few cells: auto mode's
    transformer, the ``pre_run_cell`` event and the cell itself all ask about one cell.
    """
    return _analyzed(source, tuple(extra_inputs), tuple(extra_outputs), tuple(ignore))


@functools.lru_cache(maxsize=32)
def _analyzed(
    source: str,
    extra_inputs: tuple[str, ...],
    extra_outputs: tuple[str, ...],
    ignore: tuple[str, ...],
) -> CellAnalysis:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        return CellAnalysis(
            reason=f"it does not parse as Python ({exc.msg if hasattr(exc, 'msg') else exc})"
        )
    try:
        analysis = _analyze(tree, set(extra_inputs), set(extra_outputs), set(ignore))
        return dataclasses.replace(analysis, definitions=_definitions(source, tree))
    except RecursionError:
        return CellAnalysis(reason="it is nested too deeply to analyze")
    except Exception as exc:  # the analyzer must never break a cell; say so and run it uncached
        return CellAnalysis(reason=f"hitnb could not analyze it ({type(exc).__name__}: {exc})")


def _definitions(source: str, tree: ast.Module) -> tuple[tuple[str, str], ...]:
    lines = source.splitlines()
    found: list[tuple[str, str]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            found.append((node.name, "\n".join(lines[first - 1 : node.end_lineno]) + "\n"))
    return tuple(found)


def _analyze(
    tree: ast.Module, pure: set[str], extra_out: set[str], ignore: set[str]
) -> CellAnalysis:
    normalized = ast.dump(strip_docstrings(tree), annotate_fields=False)
    has_result = bool(tree.body) and isinstance(tree.body[-1], ast.Expr)
    tree = _TimedInline().visit(tree)  # `%time stmt` reads and binds what `stmt` does
    reason = _uncacheable(tree)
    flow = _Flow()
    flow.block(tree.body)
    mutated = flow.mutated - pure
    changeable = flow.mutated | flow.escaped | flow.called  # or given as arguments
    inputs = (flow.inputs | pure) - ignore
    outputs = flow.bound | mutated | extra_out
    tables = sorted(HISTORY_TABLES & inputs)
    if tables and reason is None:
        reason = f"it reads IPython's history `{tables[0]}`, which every cell adds to"
    inputs = {n for n in inputs if n not in HISTORY_TABLES and n not in SHELL_NAMES}
    outputs = {n for n in outputs if _may_bind(n)}
    return CellAnalysis(
        code=text_digest(normalized),
        inputs=tuple(sorted(inputs)),
        outputs=tuple(sorted(outputs)),
        mutated=frozenset(mutated),
        bound=frozenset(n for n in flow.bound | extra_out if _may_bind(n)),
        candidates=frozenset((changeable | set(flow.passed)) & inputs),
        stored_into=frozenset(flow.stored_into & inputs),
        attribute_calls=frozenset(c for c in flow.attribute_calls if c[0] in inputs),
        attributes_set=tuple(sorted(flow.attributes_set)),
        put_back=_put_back(tree, flow.attributes_set, inputs),
        passed_only=tuple(
            (name, tuple(sorted(callees)))
            for name, callees in sorted(flow.passed.items())
            if name in inputs and name not in changeable
        ),
        receivers=frozenset((flow.receivers - flow.mutated - pure) & inputs),
        element_receivers=frozenset((flow.element_receivers - flow.mutated - pure) & inputs),
        called=frozenset(flow.called & inputs),
        has_result=has_result,
        reason=reason,
        uses=frozenset(flow.inputs | flow.late_reads),
        imports=tuple(dict.fromkeys(_imported_modules(tree))),
        magics=tuple(_session_magics(tree)),
        environment=_environment_reads(tree),
        literals=tuple(
            dict.fromkeys(
                node.value
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and 0 < len(node.value) < 4096
                and "\n" not in node.value
            )
        ),
    )


def _imported_modules(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")


def _session_magics(tree: ast.Module) -> Iterator[tuple[str, str]]:
    """Each line magic of :data:`PURE_MAGICS` the cell runs as a statement of its own at top
    level, with its arguments (see :attr:`CellAnalysis.magics`)."""
    for node in tree.body:
        magic = _pure_magic(node)
        if magic is not None:
            yield magic


def _pure_magic(node: ast.AST) -> tuple[str, str] | None:
    """``("matplotlib", "notebook")`` for the statement ``%matplotlib notebook``."""
    value = node.value if isinstance(node, ast.Expr) else None
    call = _ipython_call(value) if value is not None else None
    if call is None or call[0] != "run_line_magic" or call[1] not in PURE_MAGICS:
        return None
    assert isinstance(value, ast.Call)
    line = value.args[1] if len(value.args) > 1 else None
    if isinstance(line, ast.Constant) and isinstance(line.value, str):
        return call[1], line.value
    return None


def _uncacheable(tree: ast.Module) -> str | None:
    """Why running this cell twice may not do the same thing, as far as code can tell."""
    writes = _namespace_writes(tree)
    for node in _walk_module_scope(tree):
        if isinstance(node, ast.Await | ast.AsyncFor | ast.AsyncWith):
            return "it uses top-level await"
        if isinstance(node, ast.Yield | ast.YieldFrom):
            return "it uses yield at top level"
        if isinstance(node, ast.Return):
            return "it uses return at top level"
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return f"`from {node.module} import *` binds names hitnb cannot know"
        reader = _namespace_reader(node)
        if reader is not None and id(node) not in writes:
            return _DYNAMIC_READS.format(f"`{reader}()`")
    for node in ast.walk(tree):
        reason = _dynamic_read(node, writes)
        if reason is not None:
            return reason
    for node in ast.walk(tree):
        call = _ipython_call(node)
        if call is None:
            continue
        kind, magic = call
        if kind == "run_line_magic" and magic in PURE_MAGICS:
            continue
        if kind in ("system", "getoutput"):
            return "it runs shell commands (`!`)"
        return f"it runs the magic %{magic}" if magic else f"it calls get_ipython().{kind}"
    return None


_DYNAMIC_READS = "it reads the notebook's names through {}, which hitnb cannot follow"


def _namespace_writes(tree: ast.Module) -> set[int]:
    """The calls of ``globals()`` (``vars()``, ``locals()``) that only write the notebook's
    names (``globals()[name] = value``, ``del globals()[name]``, ``globals().update(d)``):
    what they bind, the run finds by comparing the namespace before and after it."""
    augmented = {id(n.target) for n in ast.walk(tree) if isinstance(n, ast.AugAssign)}
    writes = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Subscript | ast.Attribute):
            continue
        stored = not isinstance(node.ctx, ast.Load) and id(node) not in augmented
        if not (stored if isinstance(node, ast.Subscript) else node.attr == "update"):
            continue
        target = node.value
        if isinstance(target, ast.Call) and isinstance(target.func, ast.Name) and not target.args:
            writes.add(id(target))
    return writes


def _dynamic_read(node: ast.AST, writes: set[int]) -> str | None:
    """Why ``node`` reads the notebook's names in a way no name in the code shows, or None:
    ``globals()`` read (``globals()[f"df_{split}"]``, ``"{thr}".format(**globals())``), the
    module ``__main__`` (``import __main__``, ``sys.modules["__main__"]``), or ``eval``
    and ``exec`` of a string that is not written in the cell (one that is, is read like
    the cell's own code: see :meth:`_Flow.call`)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        if name == "globals" and id(node) not in writes:
            return _DYNAMIC_READS.format("`globals()`")
        if name in ("eval", "exec") and not (node.args and _literal_code(node.args[0])):
            return f"it runs code it does not spell out, with `{name}()`, which hitnb cannot read"
    imports_main = (
        isinstance(node, ast.Import) and any(a.name == "__main__" for a in node.names)
    ) or (isinstance(node, ast.ImportFrom) and node.module == "__main__")
    if imports_main or _names_main(node):
        return _DYNAMIC_READS.format("`__main__`")
    return None


def _namespace_reader(node: ast.AST) -> str | None:
    """``"locals"``, ``"vars"`` or ``"dir"`` when ``node`` calls it with no argument (at the
    notebook's top level, where it gives the notebook's names); None for anything else."""
    called = node.func if isinstance(node, ast.Call) and not node.args else None
    if isinstance(called, ast.Name) and called.id in ("locals", "vars", "dir"):
        return called.id
    return None


def _names_main(node: ast.AST) -> bool:
    """``sys.modules["__main__"]``, ``sys.modules.get("__main__")`` or
    ``importlib.import_module("__main__")`` (not ``__name__ == "__main__"``, nor
    ``logging.getLogger("__main__")``, which read no name of the notebook)."""
    if isinstance(node, ast.Subscript) and _callee_path(node.value)[-1:] == ("modules",):
        keys = [node.slice]
    elif isinstance(node, ast.Call) and _callee_path(node.func)[-2:] in (
        ("modules", "get"),
        ("importlib", "import_module"),
    ):
        keys = list(node.args[:1])
    else:
        return False
    return any(isinstance(k, ast.Constant) and k.value == "__main__" for k in keys)


def _literal_code(node: ast.expr) -> ast.Module | None:
    """The code in a string literal given to ``eval`` or ``exec``, parsed; None if it is
    not a literal or does not parse."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None
    try:
        return ast.parse(node.value)
    except (SyntaxError, ValueError):
        return None


TIMING_MAGICS = frozenset({"time"})
"""Line magics that run their statement in the user's namespace and print how long it took:
transparent to the analysis (``%time df = load()`` binds ``df``), part of the cell's code."""


class _TimedInline(ast.NodeTransformer):
    """Replaces ``get_ipython().run_line_magic('time', 'stmt')`` by ``stmt`` itself: the
    statement where the magic stands alone on a line, the expression where its value is used
    (``x = %time f()``). A statement that does not parse is left as the magic call."""

    def visit_Expr(self, node: ast.Expr) -> Any:
        timed = _timed_source(node.value)
        if timed is not None:
            try:
                return ast.parse(timed).body or node
            except SyntaxError:
                return node
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> Any:
        timed = _timed_source(node)
        if timed is not None:
            try:
                return ast.parse(timed.strip(), mode="eval").body
            except SyntaxError:
                return node
        return self.generic_visit(node)


def _timed_source(node: ast.AST) -> str | None:
    """The statement a ``%time`` line magic call runs, when ``node`` is one."""
    call = _ipython_call(node)
    if call is None or call[0] != "run_line_magic" or call[1] not in TIMING_MAGICS:
        return None
    assert isinstance(node, ast.Call)
    argument = node.args[1] if len(node.args) > 1 else None
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    return None


def _ipython_call(node: ast.AST) -> tuple[str, str] | None:
    """``("run_line_magic", "time")`` for ``get_ipython().run_line_magic('time', ...)``."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    owner = node.func.value
    if not (
        isinstance(owner, ast.Call)
        and isinstance(owner.func, ast.Name)
        and owner.func.id == "get_ipython"
    ):
        return None
    first = node.args[0] if node.args else None
    magic = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
    return node.func.attr, magic


def _walk_module_scope(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node evaluated in the module scope (not inside functions, lambdas or classes)."""
    todo = list(ast.iter_child_nodes(tree))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, _SCOPES):
            todo.extend(ast.iter_child_nodes(node))


class _Flow:
    """Walks top-level statements in execution order, tracking what is bound by then."""

    def __init__(self) -> None:
        self.bound: set[str] = set()
        """Names bound at top level anywhere in the cell (the outputs)."""
        self.definitely: set[str] = set()
        """Names certainly bound at the current point of the walk."""
        self.inputs: set[str] = set()
        self.mutated: set[str] = set()
        self.escaped: set[str] = set()
        """Names handed to code that may change them: aliases, globals used in nested
        functions and comprehensions."""
        self.passed: dict[str, set[Callee]] = {}
        """Names given as call arguments, with the callees they were given to (an empty
        callee: one the syntax does not name)."""
        self.late_reads: set[str] = set()
        self.called: set[str] = set()
        """Names called directly (``add(x)``): a method bound to data changes its object,
        a notebook function the globals it reads."""
        self.receivers: set[str] = set()
        """Names a method of :data:`PURE_METHODS` is called on (``res.summary()``)."""
        self.element_receivers: set[str] = set()
        """Names whose values a loop calls only such methods on."""
        self.stored_into: set[str] = set()
        """Names assigned into (``x[i] = v``, ``x.a = v``, ``del x.a``, ``x.a += 1``)."""
        self.attribute_calls: set[tuple[str, str]] = set()
        """``(name, attribute)`` of calls ``name.attribute(...)``: a user module's function
        among them is measured as a notebook function called by name is."""
        self.attributes_set: set[Callee] = set()
        """Dotted names of attributes assigned or deleted (``json.indent = 2``)."""

    # -- statements -----------------------------------------------------------------------
    def block(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.statement(statement)

    def branch(self, *blocks: list[ast.stmt]) -> None:
        """Run alternative blocks; afterwards only what all of them bound is certain."""
        start = set(self.definitely)
        results = []
        for block in blocks:
            self.definitely = set(start)
            self.block(block)
            results.append(self.definitely)
        self.definitely = set.intersection(*results) if results else start

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.For | ast.AsyncFor):
            self.read(node.iter)
            self.alias(node.iter, made=False)  # the loop variable is each element in turn
            before = set(self.definitely)
            self.bind_target(node.target)
            self.block(node.body)
            targets = _names_in(node.target)  # `for m in models.values(): m.fit(X, y)`
            if targets & self.handed_on():
                self.escaped.update(_iterated(node.iter))
            elif targets & self.receivers:  # `m.summary()`: only the run can tell
                self.element_receivers.update(_iterated(node.iter))
            self.definitely = before  # the loop may run zero times
            self.block(node.orelse)
        elif isinstance(node, ast.While):
            self.read(node.test)
            before = set(self.definitely)
            self.block(node.body)
            self.definitely = before
            self.block(node.orelse)
        elif isinstance(node, ast.If):
            self.read(node.test)
            self.branch(node.body, node.orelse)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                self.read(item.context_expr)
                if item.optional_vars is not None:
                    self.bind_target(item.optional_vars)
            self.block(node.body)
        elif isinstance(node, ast.Try | ast.TryStar):
            before = set(self.definitely)
            self.block(node.body)
            for handler in node.handlers:
                self.definitely = set(before)
                if handler.type is not None:
                    self.read(handler.type)
                if handler.name:
                    self.bind(handler.name)
                self.block(handler.body)
            self.definitely = set(before)
            self.block(node.orelse)
            self.block(node.finalbody)
        elif isinstance(node, ast.Match):
            self.read(node.subject)
            start = set(self.definitely)
            for case in node.cases:  # no case may match: afterwards only `start` is certain
                self.definitely = set(start)
                for name in _pattern_names(case.pattern):
                    self.bind(name)
                if case.guard is not None:
                    self.read(case.guard)
                self.block(case.body)
            self.definitely = start
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self.read_definition(node)
            self.bind(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                self.bind((alias.asname or alias.name).partition(".")[0])
        elif isinstance(node, ast.Assign):
            self.read(node.value)
            self.alias(node.value)
            for target in node.targets:
                self.bind_target(target)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.read(node.value)
                self.alias(node.value)
                self.bind_target(node.target)
        elif isinstance(node, ast.AugAssign):
            self.read(node.value)
            if isinstance(node.target, ast.Name):
                self.read_name(node.target.id)
                self.bind(node.target.id)
            else:
                self.bind_target(node.target)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.bound.add(target.id)
                    self.definitely.discard(target.id)
                else:
                    self.bind_target(target)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            pass
        else:  # Expr, Assert, Raise, Pass, Break, Continue, Return, and anything newer
            self.read(node)

    def handed_on(self) -> set[str]:
        """The names seen so far given to code that may change them: changed, given to a
        method not known to be pure or to a call, aliased, or called."""
        return self.mutated | self.escaped | self.called | self.passed.keys()

    # -- names ----------------------------------------------------------------------------
    def bind(self, name: str) -> None:
        self.bound.add(name)
        self.definitely.add(name)

    def bind_target(self, target: ast.expr) -> None:
        """Bind assignment targets; ``x[i] = v`` and ``x.a = v`` mutate ``x`` instead."""
        if isinstance(target, ast.Name):
            self.bind(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self.bind_target(element)
        elif isinstance(target, ast.Starred):
            self.bind_target(target.value)
        else:
            self.read(target)
            base = _base_name(target)
            if base is not None:
                self.mutated.add(base)
                self.stored_into.add(base)
            path = _callee_path(target) if isinstance(target, ast.Attribute) else ()
            if len(path) > 1 and not any(step.startswith("[") for step in path):
                self.attributes_set.add(path)

    def read_name(self, name: str) -> None:
        if name not in self.definitely:
            self.inputs.add(name)

    def read(self, node: ast.AST) -> None:
        """Reads in an expression evaluated now: names, and what nested scopes use."""
        for child in _walk_module_scope_of(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
                self.read_name(child.id)
            elif isinstance(child, ast.NamedExpr) and isinstance(child.target, ast.Name):
                self.alias(child.value)  # if (m := models.get("a")) is not None: m.fit(X, y)
                self.bind(child.target.id)
            elif isinstance(child, ast.Call) and _ipython_call(child) is None:
                self.call(child)
            elif isinstance(child, _NESTED):
                self.read_scope(child)

    def call(self, node: ast.Call) -> None:
        """A call may change its receiver and its arguments, unless it is known not to."""
        func = node.func
        for name in expression_names(node):  # df.query("v > @min_v") reads min_v
            self.read_name(name)
        if isinstance(func, ast.Name) and func.id in ("eval", "exec") and node.args:
            code = _literal_code(node.args[0])  # eval("thr + 1") reads thr
            for child in ast.walk(code) if code is not None else ():
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
                    self.read_name(child.id)
        in_place = any(k.arg == "inplace" for k in node.keywords)
        base = _base_name(func.value) if isinstance(func, ast.Attribute) else None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            self.attribute_calls.add((func.value.id, func.attr))
        changing = isinstance(func, ast.Attribute) and (in_place or func.attr not in PURE_METHODS)
        if isinstance(func, ast.Attribute) and base is not None:
            if changing:
                self.mutated.add(base)
            else:
                self.receivers.add(base)
        if changing:  # next(iter(models.values())).fit(X, y), (a if big else b).fit(X, y)
            assert isinstance(func, ast.Attribute)
            self.escaped.update(_held_names(func.value) - {base})
        elif isinstance(func, ast.Subscript) and (base := _base_name(func)) is not None:
            self.mutated.add(base)  # sinks["log"](x): a method it holds (log.append) changes it
        if isinstance(func, ast.Name):
            if func.id in PURE_FUNCTIONS:
                return
            self.called.add(func.id)
        callee = _callee_path(func)
        going_over = isinstance(func, ast.Name) and func.id in _GOING_OVER
        for argument in (*node.args, *(k.value for k in node.keywords)):
            # fit_all([ridge, lasso]), fit_all(*models.values()); list(models.values()) makes
            # a container of what it is given, followed where it goes (see alias)
            for name in _held_names(argument, made=not going_over):
                self.passed.setdefault(name, set()).add(callee)

    def alias(self, value: ast.expr, made: bool = True) -> None:
        """``view = x[:2]``, ``y = x``: the new name shares ``x``'s memory or object;
        ``ms = list(models.values())`` (``made``, a value bound, not a loop's): it holds
        what ``models`` holds."""
        self.escaped.update(_held_names(value, made))

    def read_definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.read(decorator)
        if isinstance(node, ast.ClassDef):
            for base in (*node.bases, *(k.value for k in node.keywords)):
                self.read(base)
        else:
            self.read_arguments(node.args)
            if node.returns is not None:
                self.read(node.returns)
        self.read_scope(node, evaluated_parts_done=True)

    def read_arguments(self, args: ast.arguments) -> None:
        for default in (*args.defaults, *(d for d in args.kw_defaults if d is not None)):
            self.read(default)
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None and arg.annotation is not None:
                self.read(arg.annotation)

    def read_scope(self, node: ast.AST, *, evaluated_parts_done: bool = False) -> None:
        """Global names a nested scope uses. Deferred scopes (functions, lambdas) may run
        after later statements bound those names; counting them as inputs is the safe side."""
        if isinstance(node, ast.Lambda) and not evaluated_parts_done:
            self.read_arguments(node.args)
        if isinstance(node, _COMPREHENSIONS):
            self.read(node.generators[0].iter)  # evaluated in the enclosing scope
            handed = _handed_on_in(node)  # `[m.fit(X, y) for m in models.values()]`
            if handed is not None:
                into = self.escaped if handed else self.element_receivers
                for generator in node.generators:
                    into.update(_iterated(generator.iter))
        for name, mutates in _scope_globals(node, frozenset()):
            if name in self.definitely:
                self.late_reads.add(name)
            else:
                self.inputs.add(name)
            self.escaped.add(name)
            if mutates:
                self.mutated.add(name)


def _put_back(tree: ast.Module, paths: Iterable[Callee], inputs: set[str]) -> frozenset[Callee]:
    """The attributes in ``paths`` the cell swaps and puts back: in the order of the source
    (at module scope), the cell reads one into a name before it first sets it (``orig =
    mod.f``), its last set of it sets that name (``mod.f = orig``), and the name is bound
    nowhere else in the cell nor read before. An attribute set to a value it happened to
    hold already (``logging.raiseExceptions = True``) is no swap: a later session may find
    it otherwise, and a plain run would set it."""
    paths = set(paths)
    if not paths:
        return frozenset()
    named: dict[int, str] = {}  # id of `mod.f` in `orig = mod.f` or `mod.f = orig`: "orig"
    bindings: dict[str, int] = {}
    scope = list(_walk_module_scope_of(tree))
    for node in scope:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bindings[node.id] = bindings.get(node.id, 0) + 1
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Name) and isinstance(value, ast.Attribute):
                named[id(value)] = target.id
            elif isinstance(target, ast.Attribute) and isinstance(value, ast.Name):
                named[id(target)] = value.id
    touches: dict[Callee, list[tuple[int, int, bool, str | None]]] = {}
    for node in scope:
        if isinstance(node, ast.Attribute) and (path := _callee_path(node)) in paths:
            setting = not isinstance(node.ctx, ast.Load)
            touch = (node.lineno, node.col_offset, setting, named.get(id(node)))
            touches.setdefault(path, []).append(touch)
    swapped = set()
    for path, found in touches.items():
        found.sort(key=lambda touch: touch[:2])
        sets = [at for at, touch in enumerate(found) if touch[2]]
        kept = found[sets[-1]][3] if sets else None
        if (
            kept is not None
            and bindings.get(kept) == 1
            and kept not in inputs
            and any(not setting and name == kept for *_, setting, name in found[: sets[0]])
        ):
            swapped.add(path)
    return frozenset(swapped)


def _walk_module_scope_of(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and its descendants evaluated in the same scope; nested scopes are yielded
    (to be read by :meth:`_Flow.read_scope`) but not descended into."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        if not isinstance(current, _NESTED):
            todo.extend(ast.iter_child_nodes(current))


def _view_base(node: ast.AST) -> str | None:
    """The name whose object ``node`` may be (or share memory with): ``x``, ``x[:2]``,
    ``x.T``, ``x.reshape(4)``; None for a new object (``x.sum()``, ``len(x)``, literals)."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call | ast.NamedExpr):
        if isinstance(node, ast.Call):
            func = node.func
            if not isinstance(func, ast.Attribute) or func.attr in PURE_METHODS:
                return None
            node = func.value
        else:
            node = node.value
    return node.id if isinstance(node, ast.Name) else None


Callee = tuple[str, ...]
"""A callee as the syntax names it: a name, then attributes and constant subscripts
(``axes[0].plot`` is ``("axes", "[0]", "plot")``); empty when it is another expression."""


def _callee_path(node: ast.AST) -> Callee:
    steps: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            steps.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            index = node.slice.value
            if type(index) not in (int, str):
                return ()
            steps.append(f"[{index!r}]")
            node = node.value
        elif isinstance(node, ast.Name):
            return (node.id, *reversed(steps))
        else:
            return ()


DRAWING = frozenset(
    {"plot", "scatter", "bar", "barh", "hist", "hist2d", "fill_between", "fill_betweenx",
     "errorbar", "step", "stem", "stairs", "imshow", "matshow", "pcolor", "pcolormesh",
     "contour", "contourf", "boxplot", "violinplot", "pie", "hexbin", "quiver", "loglog",
     "semilogx", "semilogy", "axhline", "axvline", "axhspan", "axvspan", "hlines", "vlines",
     "text", "annotate", "set_xticks", "set_yticks", "set_xticklabels", "set_yticklabels",
     "set_xlim", "set_ylim", "set_title", "set_xlabel", "set_ylabel", "xlim", "ylim",
     "xticks", "yticks", "title", "xlabel", "ylabel", "suptitle"}
)  # fmt: skip
"""Functions and methods of matplotlib (``Axes``, ``Figure``, ``pyplot``) that draw the data
they are given and leave it as it was (the artists they make hold copies)."""


def figure_among(namespace: dict[str, Any], names: Iterable[str]) -> str | None:
    """The first of ``names`` bound to a matplotlib figure or part of one (an ``Axes``, the
    array, list or dict of them ``plt.subplots`` and ``subplot_mosaic`` give), or None. A
    cell drawing on a figure an earlier cell made is not worth caching: keying it walks
    the figure's artists (tens of thousands of objects: 0.1 to 2 s where the cell drew
    in 10 ms), and a hit restores a figure no one sees until it is shown again."""
    artist = getattr(sys.modules.get("matplotlib.artist"), "Artist", None)
    if artist is None:
        return None
    for name in names:
        value: Any = namespace.get(name)
        if isinstance(value, dict):
            value = next(iter(value.values()), None)
        elif isinstance(value, list | tuple) or (
            type(value).__name__ == "ndarray" and getattr(value.dtype, "hasobject", False)
        ):
            value = next(iter(getattr(value, "flat", value)), None)
        if isinstance(value, artist):
            return name
    return None


def drawn_only(namespace: dict[str, Any], analysis: CellAnalysis) -> frozenset[str]:
    """Candidates that the run only gave to matplotlib's drawing functions
    (``ax.plot(res.resid)``), by what the callees' names resolve to after the run: these
    are not changed, and a big results object is not hashed again after every plot."""
    rebound = set(analysis.inputs) & analysis.bound  # a callee looked up after the run may
    return frozenset(  # not be the one called: only names the cell binds afresh, or not at all
        name
        for name, callees in analysis.passed_only
        if not hasattr(type(namespace.get(name)), "__next__")  # drawing uses an iterator up
        and all(_draws_only(namespace, callee) and callee[0] not in rebound for callee in callees)
    )


def _draws_only(namespace: dict[str, Any], callee: Callee) -> bool:
    if len(callee) < 2 or callee[-1] not in DRAWING:
        return False
    target: Any = namespace.get(callee[0], _MISSING)
    for step in callee[1:-1]:
        if step.startswith("["):
            if not isinstance(target, list | tuple | dict) and type(target).__name__ != "ndarray":
                return False
            try:
                target = target[ast.literal_eval(step[1:-1])]
            except Exception:
                return False
        elif isinstance(target, types.ModuleType):
            target = target.__dict__.get(step, _MISSING)
        else:
            return False
    try:
        function = inspect.getattr_static(target, callee[-1])
    except AttributeError:
        return False
    module = getattr(function, "__module__", None)
    return (
        isinstance(function, types.FunctionType)
        and isinstance(module, str)
        and module.partition(".")[0] == "matplotlib"
        and function.__name__ == callee[-1]
    )


_MISSING = object()


def _environment_reads(tree: ast.AST) -> tuple[tuple[Callee, str], ...]:
    """``os.getenv("X")``, ``os.environ.get("X")`` and ``os.environ["X"]`` (and the same
    through ``environ`` or ``getenv`` imported by name), with ``"X"`` a string literal."""
    found: dict[tuple[Callee, str], None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            key, path = node.args[0], _callee_path(node.func)
            reads = path[-1:] == ("getenv",) or path[-2:] == ("environ", "get")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key, path = node.slice, _callee_path(node.value)
            reads = path[-1:] == ("environ",)
        else:
            continue
        if reads and isinstance(key, ast.Constant) and isinstance(key.value, str):
            found[path, key.value] = None
    return tuple(found)


def environment_read(namespace: dict[str, Any], analysis: CellAnalysis) -> dict[str, str]:
    """The value of each environment variable the cell reads by name (``"<unset>"`` for
    one not set), when what the cell reads it through is ``os.environ`` or ``os.getenv``:
    a cached ``os.environ.get("DATA_DIR")`` was served in a session with another value."""
    values: dict[str, str] = {}
    for path, name in analysis.environment:
        target: Any = namespace.get(path[0], os if path[0] == "os" else _MISSING)
        if target is _MISSING and path[0] in ("environ", "getenv") and "os" in analysis.imports:
            target = getattr(os, path[0])
        for step in path[1:]:
            target = (
                getattr(target, step, _MISSING)
                if isinstance(target, types.ModuleType) or (target is os.environ and step == "get")
                else _MISSING
            )
        reads = target is os.getenv or target is os.environ
        if not reads and getattr(target, "__self__", None) is os.environ:
            reads = getattr(target, "__name__", "") == "get"
        if reads:
            values[name] = os.environ.get(name, "<unset>")
    return values


def _names_in(target: ast.AST) -> set[str]:
    """The names an assignment or loop target binds."""
    return {node.id for node in ast.walk(target) if isinstance(node, ast.Name)}


def _iterated(node: ast.expr) -> set[str]:
    """The names whose parts iterating over ``node`` may give: ``models`` of
    ``models.items()``, ``sorted(rows)``, ``zip(a, b)``, ``(ridge, lasso)``. A loop that
    changes what it is given changes them, through methods syntax takes for reads."""
    found: set[str] = set()
    todo: list[ast.AST] = [node]
    while todo:
        child = todo.pop()
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Tuple | ast.List | ast.Set):
            todo.extend(child.elts)
        elif isinstance(child, ast.Starred | ast.Attribute | ast.Subscript):
            todo.append(child.value)
        elif isinstance(child, _COMPREHENSIONS):
            todo.extend(generator.iter for generator in child.generators)
        elif isinstance(child, ast.Call):
            todo.extend(child.args)
            todo.extend(keyword.value for keyword in child.keywords)
            if isinstance(child.func, ast.Attribute):
                todo.append(child.func.value)
    return found


_GOING_OVER = frozenset(
    {"list", "tuple", "sorted", "reversed", "set", "frozenset", "iter", "enumerate", "zip",
     "filter"}
)  # fmt: skip
"""Builtins whose result holds what their argument holds, not copies of it."""


def _held_names(node: ast.AST, made: bool = True) -> set[str]:
    """The names whose objects ``node`` may be, share memory with or hold as a literal
    (``x``, ``x[:2]``, ``a if big else b``, ``a or b``, ``(m := x)``, ``[ridge, lasso]``,
    ``{"m": ridge}``), or, when ``made`` (a value made, not a loop's variable), hold or
    give one of: ``d.get("a")``, ``list(models.values())``, ``list(models.values())[0]``,
    ``next(iter(models.values()))``, ``[m for m in models.values()]``."""
    found: set[str] = set()
    todo = [node]
    while todo:
        child = todo.pop()
        if isinstance(child, ast.IfExp):
            todo += [child.body, child.orelse]
        elif isinstance(child, ast.BoolOp):
            todo += child.values
        elif isinstance(child, ast.NamedExpr | ast.Starred):
            todo.append(child.value)
        elif (base := _view_base(child)) is not None:
            found.add(base)
        elif isinstance(child, ast.Tuple | ast.List | ast.Set):  # (a loop's: each of them)
            todo += child.elts
        elif isinstance(child, ast.Dict):
            todo += [part for part in (*child.keys, *child.values) if part is not None]
        elif not made:
            continue
        elif isinstance(child, ast.Subscript):  # an element of what follows
            todo.append(child.value)
        elif isinstance(child, ast.Call) and (whole := _element_of(child)) is not None:
            todo.append(whole)
        elif isinstance(child, ast.expr) and _holds_what_it_goes_over(child):
            found |= _iterated(child)
    return found


def _gives(node: ast.AST, names: set[str]) -> bool:
    """Whether ``node`` is one of ``names``, or a literal holding one (``(k, m)``)."""
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Starred):
        return _gives(node.value, names)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_gives(element, names) for element in node.elts)
    if isinstance(node, ast.Dict):
        return any(_gives(part, names) for part in node.values)
    return False


def _element_of(call: ast.Call) -> ast.expr | None:
    """What ``call`` gives one of the objects of, not a copy: ``it`` of ``next(it)``, ``d``
    of ``d.get(key)``; None for another call."""
    func = call.func
    if isinstance(func, ast.Name) and func.id == "next" and call.args:
        return call.args[0]
    return func.value if isinstance(func, ast.Attribute) and func.attr == "get" else None


def _holds_what_it_goes_over(node: ast.AST) -> bool:
    """``list(models.values())``, ``sorted(rows)``, ``models.values()``, a comprehension
    giving what it goes over: a new container of the objects another holds, which code
    given it may change."""
    if isinstance(node, _COMPREHENSIONS):  # [m for m in models.values() if m.alpha]
        targets = set().union(*(_names_in(g.target) for g in node.generators))
        made = (node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,)
        return any(_gives(part, targets) for part in made)
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in _GOING_OVER
    return isinstance(func, ast.Attribute) and func.attr in ("values", "items")


def _handed_on_in(
    node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp,
) -> bool | None:
    """Whether a comprehension's own code may change what its loops give: True when it
    calls a method of one not known to be pure (``m.fit(X, y)``) or gives one to a call
    that may change it; False when it only calls methods of :data:`PURE_METHODS` on them
    (``m.summary()``: only the run can tell, see :func:`pure_methods_hold`); None when
    neither."""
    targets = set().union(*(_names_in(g.target) for g in node.generators))
    inner = [g for c in ast.walk(node) if isinstance(c, _COMPREHENSIONS) for g in c.generators]
    grown = True
    while grown:  # `[[m.fit(X, y) for m in ms] for ms in groups.values()]`: m is of ms
        reached = {n for g in inner if _iterated(g.iter) & targets for n in _names_in(g.target)}
        grown = not reached <= targets
        targets |= reached
    found = None
    for child in ast.walk(node):
        if not isinstance(child, ast.Call):
            continue
        func = child.func
        if isinstance(func, ast.Attribute) and _base_name(func.value) in targets:
            if func.attr not in PURE_METHODS or any(k.arg == "inplace" for k in child.keywords):
                return True
            found = False
        if isinstance(func, ast.Name) and func.id in PURE_FUNCTIONS:
            continue
        arguments = (*child.args, *(keyword.value for keyword in child.keywords))
        if any(_view_base(argument) in targets for argument in arguments):
            return True
    return found


def _base_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call | ast.NamedExpr):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _pattern_names(pattern: ast.pattern) -> Iterator[str]:
    for node in ast.walk(pattern):
        if isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            yield node.name
        elif isinstance(node, ast.MatchMapping) and node.rest:
            yield node.rest


def _scope_locals(node: ast.AST) -> set[str]:
    """Names local to a function, lambda, class body or comprehension."""
    names: set[str] = set()
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        args = node.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                names.add(arg.arg)
        body: list[ast.AST] = list(node.body) if isinstance(node.body, list) else [node.body]
    elif isinstance(node, ast.ClassDef):
        body = list(node.body)
    else:  # a comprehension
        body = [g.target for g in node.generators]  # type: ignore[attr-defined]
    declared_global: set[str] = set()
    todo = list(body)
    while todo:
        child = todo.pop()
        if isinstance(child, ast.Global):
            declared_global.update(child.names)
        elif isinstance(child, ast.Nonlocal):
            names.update(child.names)  # an enclosing function's local: not a global either
        elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store | ast.Del):
            names.add(child.id)
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(child.name)
            continue
        elif isinstance(
            child, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
        ):
            continue
        elif isinstance(child, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).partition(".")[0] for a in child.names)
        elif (isinstance(child, ast.ExceptHandler) and child.name) or (
            isinstance(child, ast.MatchAs | ast.MatchStar) and child.name
        ):
            names.add(child.name)
        todo.extend(ast.iter_child_nodes(child))
    return names - declared_global


def _scope_globals(node: ast.AST, enclosing: frozenset[str]) -> Iterator[tuple[str, bool]]:
    """(name, mutates) for each global a nested scope reads, ``global``-assigns or mutates."""
    local = _scope_locals(node)
    visible = enclosing | local if not isinstance(node, ast.ClassDef) else enclosing
    if isinstance(node, ast.ClassDef):
        parts: list[ast.AST] = list(node.body)
    elif isinstance(node, _COMPREHENSIONS):
        gens = node.generators
        parts = [*(g.iter for g in gens[1:]), *(c for g in gens for c in g.ifs)]
        parts += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
    elif isinstance(node, ast.Lambda):
        parts = [node.body]
    else:
        parts = list(node.body)  # type: ignore[attr-defined]
    todo = parts
    while todo:
        child = todo.pop()
        if isinstance(child, ast.Global):
            for name in child.names:
                yield name, True
        elif isinstance(child, ast.Name):
            if child.id not in local and child.id not in enclosing:
                yield child.id, False
        elif isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
            base = _base_name(child.func.value)
            if base is not None and base not in local and base not in enclosing:
                yield base, True
        if isinstance(child, _NESTED):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                for decorator in child.decorator_list:
                    todo.append(decorator)
            if isinstance(child, _COMPREHENSIONS):
                todo.append(child.generators[0].iter)
            yield from _scope_globals(child, frozenset(visible))
            continue
        todo.extend(ast.iter_child_nodes(child))


# -- what a cell run leaves behind ---------------------------------------------------------
Event = tuple[str, Any, Any]
"""("stdout"|"stderr", text, None), ("display", data, metadata), or a value shown by the
display hook: ("result", data, metadata) for the cell's result, ("shown", data, metadata)
for an expression before it, or ("error", {"ename", "evalue", "traceback"}, None) for a
traceback IPython showed while the cell went on; in the order the kernel showed them.
(While a run is recorded, text not yet sent carries the time of its first write instead of
None: see :func:`as_shown`.)"""

FLUSH_INTERVAL = 0.2
"""Seconds ipykernel keeps a stream's text before sending it (``OutStream.flush_interval``)."""
_STREAMS = ("stdout", "stderr")


def as_shown(
    events: list[Event], ended: float | None = None, sends: list[tuple[str, float]] | None = None
) -> list[Event]:
    """The recorded events in the order a kernel showed them.

    ipykernel buffers stdout and stderr apart and sends a stream's text from its IO thread:
    on a timer, before any rich output, and when the cell ends, stdout first. ``sends``, when
    the recording saw them, are those sends as they happened (stream, time): a piece of
    text went out with its stream's first send after it was written. Without them, the
    timer is taken to be :data:`FLUSH_INTERVAL` after the stream's first unsent write, so a
    warning and a summary printed in the same instant show stdout first, while a warning
    written well before the summary shows first. The kernel's timers are not that regular
    (a timer set by a write the kernel has since sent still fires, and sends what is
    written by then), which is why the sends, when seen, decide. ``ended``: when the run
    ended, if known; text recorded without times keeps its order.
    """
    shown: list[Event] = []
    pending: dict[str, list[Any]] = {}  # stream -> [when its text goes out, text]

    def due_after(name: str, written: float) -> float:
        if sends is None:
            return written + FLUSH_INTERVAL
        return next((at for stream, at in sends if stream == name and at >= written), math.inf)

    def send(due: float | None) -> None:
        """Send the text due by ``due``, earliest first; when None, all of it: what the
        kernel was seen sending, in its order, then the rest, stdout first."""
        ready = []
        for rank, name in enumerate(_STREAMS):
            if name in pending:
                out = pending[name][0]
                if due is not None and out > due:
                    continue
                timed = due is not None or sends is not None  # else: all of it, stdout first
                ready.append((out if timed else math.inf, rank, name))
        for _, _, name in sorted(ready):
            shown.append((name, pending.pop(name)[1], None))

    for event in events:
        kind, payload, when = event
        if kind not in _STREAMS or not isinstance(when, float):
            send(None)
            shown.append(event)
        else:
            send(when)
            if kind in pending:
                pending[kind][1] += payload
            else:
                pending[kind] = [due_after(kind, when), payload]
    if ended is not None:
        send(ended)
    send(None)
    return shown


NO_RESULT: Any = None


@dataclass
class CellRecord:
    """A cell's run as stored: its outputs, what it showed, and the value it ended with."""

    outputs: dict[str, Any]
    deleted: list[str]
    events: list[Event]
    result: Any
    has_result: bool
    duration: float
    digests: dict[str, str] = field(default_factory=dict)
    """The digest of each output as it was stored: a hit gives the restored value this
    digest, so the cells after it key on the value the run made, however it unpickles."""
    shared: frozenset[str] = frozenset()
    """Outputs only because they share an object with a value the run changed, kept so that,
    restored, they stay shared with it. Which objects are shared can differ from session to
    session (an object unpickled from a cache of its class's: geopandas frames loaded
    together share one CRS), so a re-execution is not checked on them."""

    classes: dict[str, str] = field(default_factory=dict)
    """For each output that is a class the notebook defines, the digest of the values its
    own namespace held as the run left it (:func:`class_data_digest`). A hit defines such a
    class again from its source, which does not redo what the cell did to it after
    (``Registry.add("x")``): it checks them instead."""

    shown: tuple[Any, ...] = ()
    """The values of the expressions shown before the result (IPython's ``"all"``
    interactivity shows each), in the order of the ``"shown"`` events: a hit binds them as
    IPython's display hook did (``_``, ``__``, ``Out``)."""

    changed: frozenset[str] = frozenset()
    """The inputs the run changed in place (or a notebook function it called changed):
    a hit checks that the names sharing objects with them are the ones that did when it
    ran (see ``_sharing_unmet`` in :mod:`hitnb.ipython.memo_cell`)."""

    functions: dict[str, str] = field(default_factory=dict)
    """For each output that is a function the cell defined with default values, the digest
    of those as the run left them (:func:`defaults_digest`): a hit defines the function
    again from its source, which evaluates them again, and checks they came out the same
    (``N = 2; def f(k=N); N = 3`` makes ``k`` 2)."""

    left: frozenset[str] = frozenset()
    """Inputs sharing objects with what the run changed that it left as they were: the
    record refers to them (see ``_left_as_read`` in :mod:`hitnb.ipython.memo_cell`), and a
    hit finding them sharing those objects now is as the run found them."""

    shared_apart: dict[str, str] | None = None
    """For each of ``shared``, its digest apart from what the cell changed reaches (see
    :func:`shared_apart`): a hit restores it as the run left it, which is what a plain run
    leaves only if what else it holds is as it was then (``cfg = {"opt": opt, "seed": 0}``
    edited to ``seed: 1``). Absent from a digest, a name was not checked (a hit runs the
    cell again); None in records made before it was kept."""

    apart_from: tuple[str, ...] = ()
    """The names whose values ``shared_apart`` is taken apart from beside the cell's
    inputs: the values the run changed (in place, or bound again after: ``df["b"] = 1;
    df = df.copy()``), which include globals a notebook function it called changed."""

    shared_by_value: dict[str, str] | None = None
    """For each of ``shared`` whose digest in ``shared_apart`` wrote an array viewing a
    changed array's memory as a mark, its digest with such views written as their values
    (see :meth:`~hitnb.hashing.apart.Marks.views_as_values`): restored apart from the
    arrays they viewed (pickled, each holds its own memory), they are as a plain run would
    leave them when they hold what the run left. None when there are none, and in records
    made before it was kept (a field a record lacks must have a class default: loaded,
    the record holds only the fields it was made with)."""

    frames_viewed: bool = False
    """Whether the record keeps numpy outputs viewing a pandas output's memory as views of
    it (``arr = df.values``: see :func:`_array_views`). Records made before did not, and
    load as False: one holding both kinds is not restored (see
    :func:`frames_viewed_apart`), it runs again and is stored anew."""
    items_kept: dict[str, tuple[Any, ...]] | None = None
    """For each dict or list input the run changed in place (of at most a thousand items),
    the keys (places) whose item is the same object after the run as before: a hit that
    restores it makes the code holding such an item hold the restored one (``partial(score,
    models["a"])`` beside a loop fitting ``models``), and leaves an item the cell replaced
    (``models["a"] = Lasso()``) where it was. None in records made before."""
    written_in_place: frozenset[str] = frozenset()
    """The inputs the run changed in place that a hit writes what it left into, keeping
    the live object (``y += 3 * x`` on a numpy array, ``log.append(1)`` on a list of
    strings): whatever views or holds them (the models fitted on ``y``, a function's
    default) sees the change as after a plain run, and such holders are not stored with
    them (see ``in_place_values`` in :mod:`hitnb.ipython.memo_cell`)."""
    sharing_when_run: dict[str, tuple[tuple[str, tuple[Any, ...] | None], ...]] | None = None
    """For each of :attr:`written_in_place`, the names that shared it or its memory when
    the cell ran, with where each array among them looked in it (``z = y[:]``): a hit needs
    the same (a copy ``z = y.copy()`` would not see the change the cell reads through
    ``z``, nor would ``y[2:4]`` hold what ``y[0:2]`` held)."""
    changed_overlaps: tuple[tuple[str, str, tuple[Any, ...]], ...] | None = None
    """The pairs of :attr:`changed` bound to one object, or numpy arrays whose memory
    overlapped, when the cell ran, with where the second lay in the first's: which values
    view or are which is not in the key when a function the cell calls reads one (``z =
    y[:]`` and ``z = y.copy()`` hold the same values), and a cell changing ``y`` changes
    ``z`` only through a view. A hit needs the same. None in records made before."""
    patches: dict[str, Any] | None = None
    """For each input the run changed by adding plain entries to it alone, or only filled
    the caches of (see :mod:`~hitnb.core.patches`), those entries (a
    :class:`~hitnb.core.patches.Patch`): a hit adds them to the live input, which is not
    stored (nor the names sharing it). None when none, and in records made before."""
    function_data: dict[str, str] | None = None
    """For each output that is a notebook function holding attributes of its own, the
    digest of those as the run left them (:func:`function_data_digests`): a hit defines a
    ``def`` again from its source, which sets none (``def f(): ...`` then ``f.items =
    log``), and checks the function it restores holds the same; else the cell runs. A
    lambda, stored by value, comes back holding them. None when none, and in records made
    before."""

    def shows_result(self) -> bool:
        """Whether ``events`` hold the result as it was shown (a ``"result"`` event, placed
        before the inline figures as IPython places it); older records show it last."""
        return any(kind == "result" for kind, _, _ in self.events)


@dataclass(frozen=True)
class ModuleRef:
    """A module bound by a cell (``import numpy as np``), stored by name and imported again."""

    name: str


@dataclass(frozen=True)
class LibraryRef:
    """An object a module outside the notebook binds at top level (``from scipy.stats import
    norm``, ``from numpy.random import randn``, a class or function imported by name),
    stored by its module and name and looked up again: the restored name is the module's
    own object, as a fresh import would bind it. Restored before the cell's definitions run
    again, so their annotations and defaults can name it."""

    module: str
    name: str


@dataclass(frozen=True)
class Definition:
    """A function or class the cell defined at top level, stored as its source and defined
    again on a hit, in the live namespace: it reads the notebook's globals as they are then,
    instances of a class come back as instances of the class the namespace holds, and the
    function fingerprints as the original did."""

    source: str
    after_values: bool = False
    """Whether it runs once the cell's values are back, not before them: its defaults or
    decorators read a name the cell bound (``N = 2`` then ``def f(k=N)``), which before
    them would be the session's ``N``, or none."""


class Pickled:
    """A value stored as its own pickle, loaded after the cell's definitions are back (it may
    be an instance of one of them).

    The pickle is made when the record itself is pickled for the store, not when the cell
    runs: a run that is not stored (one that costs less to run again than to restore, and
    is run again on a hit) does not pay for it (variance_components cell 25: 90 ms of a
    240 ms hit, for 192 MB of arrays). It pickles as ``payload`` alone, as records made
    before did, so both load alike."""

    by_dill = False
    """Whether ``payload`` is dill's: a value pickle refuses other than for the lambdas and
    local functions inside it (a typing alias holding a forward reference, which holds
    code) is pickled by dill, as the store's last codec would pickle it in a cell that
    defines nothing."""

    def __init__(self, value: Any) -> None:
        self.value = value

    @functools.cached_property
    def payload(self) -> bytes:
        return deep_if_needed(self._encode, "hitnb-deep-pickle")

    def _encode(self) -> bytes:
        self.by_dill = False  # (a first attempt past the recursion limit may have set it)
        try:
            return dumps_referring(self.value)
        except Exception:
            pass
        try:  # a lambda inside: only it goes to dill
            return dumps_with_dill_functions(self.value)
        except Exception:
            return self._refused()

    def _refused(self) -> bytes:
        """The payload when pickle refuses the value for more than a lambda: dill's."""
        self.by_dill = True
        return dill_dumps(self.value, protocol=5)

    def load(self, load: Callable[..., Any]) -> Any:
        """The value again, unpickled by ``load`` (see :func:`~hitnb.store.codecs.loads_in`),
        on this thread's stack (unpickling does not recurse by nesting: see
        :meth:`~hitnb.store.codecs.PickleCodec.load`)."""
        loads = dill_loads if self.by_dill else pickle.loads
        with gc_paused():
            return load(loads, self.payload, ())

    def __getstate__(self) -> dict[str, Any]:
        payload = self.payload
        return {"payload": payload, "by_dill": True} if self.by_dill else {"payload": payload}


pickled_apart(Pickled)


class _PickledGroup(Pickled):
    """The outputs :class:`PickledTogether` names, as one pickle of a dict of them by name.
    When pickle refuses the dict for more than a lambda inside (a callback closing over a
    list), dill pickles it, writing the notebook's top-level functions and classes by name
    as pickle does (a copy of a class made ``isinstance(box, Box)`` False after a hit), so
    that what the values share stays shared (``job.report = lambda out=seen: len(out)``
    beside ``seen``); when dill refuses it too, each value is pickled alone."""

    def _refused(self) -> bytes:
        try:  # one pickle, where what they share stays shared (a lambda's default)
            payload = dill_dumps(self.value, by_name=True, protocol=5)
        except Exception:
            alone = {name: Pickled(value) for name, value in self.value.items()}
            return pickle.dumps(alone, protocol=5)
        self.by_dill = True
        return payload


pickled_apart(_PickledGroup)


@dataclass(frozen=True)
class PickledTogether:
    """An output stored in one pickle with the cell's other outputs pickled apart from its
    record (:class:`Pickled`), so that the objects they share stay shared: ``MISSING =
    object()`` and ``cfg.lr = MISSING`` in a cell that defines a function came back as two
    sentinels, ``data`` and ``model = Model(data)`` as two frames."""

    group: Pickled
    """The pickle of a dict of those outputs, by name (one object in the record)."""
    name: str
    early: bool = False
    """Whether it is loaded before the definitions whose defaults or decorators read it
    (``log = []``, ``def record(e, sink=log)``), apart from the outputs that may hold
    those definitions (``pipe = Pipeline(record)``), which load after them."""

    @property
    def value(self) -> Any:
        return self.group.value[self.name]

    def load(self, load: Callable[..., Any]) -> Any:
        loaded = self.group.__dict__.get("loaded")
        if loaded is None:
            loaded = self.group.__dict__["loaded"] = self.group.load(load)
        value = loaded[self.name]
        return value.load(load) if isinstance(value, Pickled) else value  # (pickled alone)


@dataclass(frozen=True)
class InputPart:
    """An output that is an input the run left unchanged, or an object inside one
    (``clf = pipe[-1]``, ``model_cfg = cfg["model"]``: see :func:`parts_of_inputs`),
    stored as where it lies and restored as the live input's own object there. The
    input's digest is part of the key, so it holds the same there. Pickled, the part was
    a copy (pickle writes lists and dicts itself, past any reference to them): after a
    hit, ``model_cfg["C"] = 0.1`` in an edited cell left ``cfg`` as it was."""

    name: str
    part: Part


@dataclass(frozen=True)
class ArrayView:
    """A numpy output whose memory another array the record holds or refers to holds too
    (``v = arr[0]``; ``head = a[:3]`` of an input ``a``): stored as where it lies in that
    array, its anchor, and made a view of it again on a hit, so that a change through one
    name reaches the other, as after the run. Pickle stores a view as an array of its own:
    restored, ``v[:] = -1`` left ``arr`` as it was."""

    anchor: Any
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    dtype: Any
    writeable: bool = True
    """False for a view pandas hands out read-only (``df.values``): a change through the
    frame reaches it, a write through it is refused, as after the run."""

    def make(self) -> Any:
        import numpy as np

        anchor = self.anchor
        if type(anchor) is bytearray:  # made over an array exporting its memory, as
            anchor = np.frombuffer(anchor, dtype=np.uint8)  # np.frombuffer's are: a bytearray
            # exporting none could be resized under the view, which then read freed memory
        made = np.ndarray(
            self.shape, self.dtype, buffer=anchor, offset=self.offset, strides=self.strides
        )
        if not self.writeable:
            made.flags.writeable = False
        return made


def _array_views(
    values: dict[str, Any], anchors: Iterable[Any], referred: Container[int] = ()
) -> dict[str, ArrayView]:
    """The numpy outputs to store as views (see :class:`ArrayView`): each output array
    whose memory's owner another array among the outputs, the arrays of the pandas outputs
    (``arr = df.values``; not those of ``referred`` inputs) and ``anchors`` (the inputs the
    record refers to by name) views too, lying within the one of them that spans most of
    that memory in one contiguous block; or within a bytearray among the outputs and
    ``anchors`` whose memory it views (see :func:`_placed_in_buffer`)."""
    np = sys.modules.get("numpy")
    if np is None:
        return {}
    arrays = [v for v in (*values.values(), *anchors) if type(v) is np.ndarray]
    arrays += [  # (an input's, referred to by name, would be pickled apart from it)
        array
        for v in values.values()
        if id(v) not in referred
        for array in _frame_arrays(v, alone=True)
    ]
    owners: dict[int, list[Any]] = {}
    for array in arrays:
        owners.setdefault(id(memory_owner(array)), []).append(array)
    buffers = {id(v): v for v in (*values.values(), *anchors) if type(v) is bytearray and v}
    views: dict[str, ArrayView] = {}
    for group in owners.values():
        anchor, starts = _placed_in_buffer(group, buffers) or anchor_placements(group)
        for name, value in values.items():
            offset = starts.get(id(value))  # (by id: the group's arrays are alive)
            if offset is not None:
                views[name] = ArrayView(
                    anchor,
                    offset,
                    value.shape,
                    value.strides,
                    value.dtype,
                    bool(value.flags.writeable),
                )
    return views


def _placed_in_buffer(
    group: list[Any], buffers: dict[int, bytearray]
) -> tuple[bytearray, dict[int, int]] | None:
    """When the numpy arrays of ``group``, sharing one memory, view a bytearray among
    ``buffers`` (``np.frombuffer(ba)``, whose base is a memory view of ``ba``): that
    bytearray, as their anchor, and where each lying within it starts in it, in bytes.
    Pickled, such an array held a copy of the bytes: after a hit, ``ba[1] = 7`` no longer
    reached it. None when they view no such bytearray."""
    owner = memory_owner(group[0])
    held = owner.obj if isinstance(owner, memoryview) else owner
    buffer = buffers.get(id(held))
    if buffer is None or buffer is not held:
        return None
    np = sys.modules["numpy"]
    return buffer, placements_within(np.frombuffer(buffer, dtype=np.uint8), group)


@dataclass(frozen=True)
class ByValue:
    """A function or class defined in the notebook other than by a top-level statement,
    stored by value (dill) rather than by a reference a fresh kernel could not resolve."""

    payload: bytes
    source: tuple[str, str] | None = None
    """A function's file (its cell, as IPython named it) and that file's text: put back in
    ``linecache`` when it is loaded, so the restored function hashes by its source, as it
    did in the session that made it, and the cells reading it hit."""
    holds: tuple[tuple[Any, ...], ...] = ()
    """The closure cells (by index) and defaults (by index, or keyword) of a function that
    held another output of the cell or an item of one, with that output's name and the
    item's key: ``rec = make(log)`` beside ``log``, ``sc = make(models["a"])`` beside
    ``models``. Dill writes a copy of what they hold; loaded, they hold the output again
    (:meth:`hold_outputs`)."""

    @classmethod
    def of(cls, value: Any, outputs: Mapping[int, Place] | None = None) -> ByValue:
        """``value`` stored by value; ``outputs`` are the cell's other outputs that may
        change and their items, by id, each with its place (see :func:`output_places`)."""
        payload = dill_dumps(value, by_name=False, recurse=True)  # (itself, by its name)
        holds = tuple(_outputs_held(value, outputs or {}))
        filename = getattr(getattr(value, "__code__", None), "co_filename", None)
        if not isinstance(filename, str) or os.path.exists(filename):  # noqa: PTH110 (a text path, as code objects hold it)
            return cls(payload, holds=holds)  # a file's source is read from it
        lines = linecache.getlines(filename)
        return cls(payload, (filename, "".join(lines)) if lines else None, holds)

    def hold_outputs(self, function: Any, namespace: dict[str, Any]) -> None:
        """Make the loaded ``function`` hold the outputs it held when it was stored."""
        holds = getattr(self, "holds", ())  # (none: a class, or a record made before them)
        if not holds:
            return
        places = []
        for kind, where, name, *key in holds:
            held = namespace[name]
            for step in key:
                held = held[step]
            places.append((kind, where, held))
        hold_at(function, places)

    def load(self, load: Callable[..., Any], namespace: dict[str, Any]) -> Any:
        """The function or class, reading the notebook's globals in ``namespace``: dill
        stores a copy of those it reads, and a restored ``lambda x: x * K`` went on
        computing with the ``K`` of the run that stored it after ``K = 2``."""
        if self.source is not None:
            filename, text = self.source
            if filename not in linecache.cache and not os.path.exists(filename):  # noqa: PTH110 (a text path, as code objects hold it)
                # (an entry as IPython makes for a cell: never checked on disk)
                lines = text.splitlines(keepends=True)
                linecache.cache[filename] = (len(text), None, lines, filename)
        value = load(dill_loads, self.payload, ())
        if _notebooks(value):
            return _reading(value, namespace)
        if isinstance(value, type):
            for name, member in list(vars(value).items()):
                inner = getattr(member, "__func__", member)  # a static or class method's
                if _notebooks(inner):
                    fresh = _reading(inner, namespace)
                    setattr(value, name, type(member)(fresh) if inner is not member else fresh)
        return value


Place = tuple[Any, ...]
"""An output's name, then the key of its item where one is meant: ``("log",)``,
``("models", "a")``."""
ITEMS_FOLLOWED = 1000
"""The longest dict or list (or tuple) whose items are looked at for the code holding
what a hit restores: here, the outputs' items :func:`output_places` places; in the IPython
host, the holders one step inside the namespace and the items a run left in place (a list
of a million records holds no function worth the walk)."""


def output_places(values: dict[str, Any]) -> dict[int, dict[int, Place]]:
    """For each output, by id, the other outputs that may change and the items of the dict
    and list outputs (of at most :data:`ITEMS_FOLLOWED`), by id, with their places."""
    places: dict[int, Place] = {}
    for name, value in values.items():
        if isinstance(value, dict | list) and len(value) <= ITEMS_FOLLOWED:
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if may_change(item):
                    places.setdefault(id(item), (name, key))
    for name, value in values.items():
        if may_change(value):
            places[id(value)] = (name,)
    return {
        id(value): {i: place for i, place in places.items() if place[0] != name}
        for name, value in values.items()
    }


def _outputs_held(function: Any, outputs: Mapping[int, Place]) -> Iterator[tuple[Any, ...]]:
    """Where ``function`` holds one of ``outputs`` (see :attr:`ByValue.holds`)."""
    if type(function) is not types.FunctionType:
        return
    for kind, where, held in function_holds(function):
        if (place := outputs.get(id(held))) is not None:
            yield kind, where, *place


def function_holds(function: types.FunctionType) -> Iterator[tuple[str, int | str, Any]]:
    """What ``function`` holds beside its code: each closure cell's contents (``"closure"``,
    by index; a cell not filled yet left out), default (``"default"``, by index), keyword
    default (``"keyword"``, by name) and own attribute (``"attribute"``, by name: ``f.items
    = log``), with its place."""
    for at, cell in enumerate(function.__closure__ or ()):
        try:
            contents = cell.cell_contents
        except ValueError:
            continue
        yield "closure", at, contents
    for at, default in enumerate(function.__defaults__ or ()):
        yield "default", at, default
    for keyword, default in (function.__kwdefaults__ or {}).items():
        yield "keyword", keyword, default
    for attribute, held in list(vars(function).items()):
        yield "attribute", attribute, held


def hold_at(function: types.FunctionType, places: Iterable[tuple[str, int | str, Any]]) -> None:
    """Make ``function`` hold each value at its place, as :func:`function_holds` names
    them: closure cells and attributes set, defaults and keyword defaults given anew."""
    defaults = list(function.__defaults__ or ())
    keywords = dict(function.__kwdefaults__ or {})
    new_defaults = new_keywords = False
    for kind, where, value in places:
        if kind == "closure":
            assert function.__closure__ is not None
            function.__closure__[int(where)].cell_contents = value
        elif kind == "attribute":
            vars(function)[str(where)] = value
        elif kind == "default":
            defaults[int(where)] = value
            new_defaults = True
        else:
            keywords[str(where)] = value
            new_keywords = True
    if new_defaults:
        function.__defaults__ = tuple(defaults)
    if new_keywords:
        function.__kwdefaults__ = keywords


def _notebooks(fn: Any) -> bool:
    """Whether ``fn`` is a function the notebook defined, whose globals a copy stands for:
    not a library's (a ``@contextmanager`` wrapper says ``__module__ = "__main__"``, copied
    by ``functools.wraps``, but its code is contextlib's, reading contextlib's globals)."""
    if type(fn) is not types.FunctionType or fn.__module__ != "__main__":
        return False
    return not fn.__code__.co_filename.startswith(_INSTALLED)


_INSTALLED = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})
"""Where Python's own modules and installed packages live: their code is no notebook's."""


def _reading(fn: types.FunctionType, namespace: dict[str, Any]) -> types.FunctionType:
    """``fn`` made again with ``namespace`` as its globals, all else as it was."""
    made = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)
    made.__kwdefaults__ = fn.__kwdefaults__
    made.__dict__.update(fn.__dict__)
    for attribute in ("__qualname__", "__module__", "__doc__", "__annotations__"):
        setattr(made, attribute, getattr(fn, attribute))
    return made


def pack_outputs(
    values: dict[str, Any],
    definitions: Sequence[tuple[str, str]],
    anchors: Iterable[Any] = (),
    refer: dict[int, str | tuple[str, Part]] | None = None,
) -> dict[str, Any]:
    """Make a cell's output values storable: modules by name, the cell's own functions and
    classes by source, other notebook code by value; when the cell defines anything (at top
    level or not: ``def`` in a loop), every other value as a pickle of its own, so loading
    the record needs none of its classes and functions. The definitions come first, in
    the order the cell made them (a class before its subclass), whatever order the run
    bound them in. Numpy outputs viewing memory of another output or of an input in
    ``anchors`` are stored as views of it (:class:`ArrayView`); one that is an input the
    run left unchanged, or a part of one, as where it lies (``refer``: see
    :class:`InputPart`)."""
    apart = bool(definitions) or any(is_notebook_code(v) for v in values.values())
    packed: dict[str, Any] = _definitions_kept(values, definitions)
    views = _array_views(values, anchors, refer or ())
    places: dict[int, dict[int, Place]] | None = None  # (for the code stored by value)
    if not apart:  # (pickled apart, each view goes with the others: see PickledTogether)
        packed.update(views)
    for name, value in values.items():
        held = refer.get(id(value)) if refer else None
        if held is not None and name not in packed and not is_cached_part(held):
            packed[name] = InputPart(held, ()) if isinstance(held, str) else InputPart(*held)
        if name in packed:
            continue
        if isinstance(value, types.ModuleType):
            packed[name] = ModuleRef(value.__name__)
        elif (
            where := library_attribute(value) or library_method(value) or importable_name(value)
        ) is not None:
            packed[name] = LibraryRef(*where)
        elif is_notebook_code(value):
            places = places if places is not None else output_places(values)
            packed[name] = ByValue.of(value, places[id(value)])
        elif apart:
            packed[name] = Pickled(views.get(name, value))
        else:
            packed[name] = value
    together = {n: v.value for n, v in packed.items() if isinstance(v, Pickled)}
    if len(together) > 1:
        group = _PickledGroup(together)
        packed.update((name, PickledTogether(group, name)) for name in together)
    loaded_after = {
        n for n, v in packed.items() if isinstance(v, Pickled | PickledTogether | ByValue)
    }
    read_first: set[str] = set()
    for name, value in packed.items():
        if isinstance(value, Definition) and (reads := _header_reads(value.source) & loaded_after):
            packed[name] = Definition(value.source, after_values=True)
            read_first |= reads
    if read_first and read_first <= together.keys() and _held_apart(together, read_first):
        for early in (True, False):
            names = [n for n in together if (n in read_first) is early]
            group = _PickledGroup({n: together[n] for n in names})
            packed.update((n, PickledTogether(group, n, early)) for n in names)
    return packed


def _digest_or_none(value: Any, digest_of: Callable[[Any], str] = hash_value) -> str | None:
    """``digest_of(value)``, None for a value that cannot be hashed."""
    try:
        return digest_of(value)
    except UnhashableValue:
        return None


def _held_apart(values: dict[str, Any], names: set[str]) -> bool:
    """Whether the values of ``names`` and the others share no object that could change
    (pickled apart, each would come back with a copy of its own), and neither is empty.
    What pickle writes: not what the notebook's functions hold, which are written by name
    and defined again (``pipe`` holding ``record`` holding ``log``)."""
    if names >= values.keys():
        return False
    reached: list[set[int]] = [set(), set()]
    try:
        for name, value in values.items():
            found = _pickled(value)
            reached[name in names].update(i for i, obj in found.items() if may_change(obj))
    except Exception:  # (pickle refuses it: a lambda inside; dill would copy what it holds)
        return False
    return reached[0].isdisjoint(reached[1])


def _pickled(value: Any, opaque: Callable[[Any], bool] = lambda obj: False) -> dict[int, Any]:
    """The objects pickle writes of ``value``, by id; those ``opaque`` says are not looked
    into (they are met, not what they hold). Raises what pickle raises for a value it
    refuses."""
    met: dict[int, Any] = {}

    def keep(obj: Any) -> bool:
        met[id(obj)] = obj
        return opaque(obj)

    walk_pickled(value, keep)
    return met


def _header_reads(source: str) -> set[str]:
    """The names a function's definition reads as it runs (its decorators, defaults and
    annotations), not those its body reads when called; none for a class, whose instances
    may be among the values and need it first."""
    node = ast.parse(source).body[-1]
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return set()
    args = node.args
    evaluated: list[ast.AST] = [*node.decorator_list, *args.defaults]
    evaluated += [d for d in args.kw_defaults if d is not None]
    evaluated += [
        a.annotation
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
        if a is not None and a.annotation is not None
    ]
    if node.returns is not None:
        evaluated.append(node.returns)
    return {n.id for part in evaluated for n in ast.walk(part) if isinstance(n, ast.Name)}


def _definitions_kept(
    values: dict[str, Any], definitions: Sequence[tuple[str, str]]
) -> dict[str, Definition]:
    """The definitions a hit runs again, by the name each binds, in the cell's order. A
    name the cell defines again later is bound by its last definition, but what the cell
    defined in between may use the earlier one (``class Sub(Base)`` before ``Base`` is
    redefined): each superseded definition runs again just before the next one kept."""
    last = {name: at for at, (name, _) in enumerate(definitions)}
    kept: dict[str, Definition] = {}
    superseded = ""
    for at, (name, source) in enumerate(definitions):
        if last[name] != at:
            superseded += source
        elif name in values and _made_by_definition(values[name], name):
            kept[name] = Definition(superseded + source)
            superseded = ""
    return kept


@dataclass(frozen=True)
class OutputRef:
    """A cell's last value that is one of its outputs (``p = partial(f, 1); p``): restored
    as that output, the same object."""

    name: str


def pack_result(result: Any, values: dict[str, Any], packed: dict[str, Any]) -> Any:
    """A cell's last value as stored beside its outputs (``values``, ``packed`` by
    :func:`pack_outputs`): when those hold code of the cell's, the output it is, or a
    pickle of its own, loaded once that code is back (:func:`unpack_result`)."""
    if isinstance(result, _IMMUTABLE) or not any(
        isinstance(v, Definition | ByValue | Pickled | PickledTogether) for v in packed.values()
    ):
        return result
    for name, value in values.items():
        if value is result:
            return OutputRef(name)
    return Pickled(result)


def unpack_result(result: Any, namespace: dict[str, Any]) -> Any:
    """The last value :func:`pack_result` stored, after :func:`unpack_outputs`."""
    if isinstance(result, OutputRef):
        return namespace[result.name]
    if not isinstance(result, Pickled):
        return result
    return result.load(loads_in(namespace))


def is_notebook_code(value: Any) -> bool:
    """A function or class the notebook defines."""
    return isinstance(value, types.FunctionType | type) and value.__module__ == "__main__"


def _made_by_definition(value: Any, name: str) -> bool:
    """Whether ``value`` is what the cell's ``def name`` or ``class name`` made, decorators
    included (a ``@hitnb.memo`` function is no function: stored as a pickle, it named
    ``__main__.f``, which a new session lacks until the cell's source runs again)."""
    return (
        getattr(value, "__module__", None) == "__main__"
        and getattr(value, "__name__", None) == name
    )


def unpack_outputs(
    packed: dict[str, Any], define: Callable[[str], None], namespace: dict[str, Any]
) -> None:
    """Put a stored cell's outputs into ``namespace``: modules imported, definitions run
    again with ``define`` (in the order the cell made them), then the values. A part of a
    class the cell defines (``reg = Model.registry``) is taken from the class defined
    again, not the one the namespace held before."""
    defined = {name for name, value in packed.items() if isinstance(value, Definition)}
    for name, value in packed.items():
        if isinstance(value, ModuleRef):
            namespace[name] = importlib.import_module(value.name)
        elif isinstance(value, LibraryRef):
            namespace[name] = getattr(importlib.import_module(value.module), value.name)
        elif isinstance(value, ArrayView):
            namespace[name] = value.make()
        elif isinstance(value, InputPart):
            if value.name not in defined:
                namespace[name] = part_of(namespace[value.name], value.part)
        elif not isinstance(value, Definition | Pickled | PickledTogether | ByValue):
            namespace[name] = value
    later = []
    for name, value in packed.items():
        if isinstance(value, Definition):
            if value.after_values:
                namespace.pop(name, None)  # a value naming it must not find the session's
                later.append(value.source)
            else:
                define(value.source)
    for name, value in packed.items():
        if isinstance(value, InputPart) and value.name in defined:
            namespace[name] = part_of(namespace[value.name], value.part)
    load = loads_in(namespace)  # as the notebook would: see loads_in
    for name, value in packed.items():  # code first: the values may be instances of it
        if isinstance(value, ByValue):
            namespace[name] = value.load(load, namespace)

    def load_values(early: bool) -> None:
        for name, value in packed.items():
            if isinstance(value, Pickled | PickledTogether) and (
                getattr(value, "early", False) is early
            ):
                loaded = value.load(load)
                namespace[name] = loaded.make() if isinstance(loaded, ArrayView) else loaded

    def define_later(source: str) -> None:
        """Define it again, checking it leaves the restored values it reads as they were
        (a decorator appending the function to a registry the cell made: restored holding
        it, the registry would hold it twice)."""
        read = sorted(_header_reads(source) & packed.keys() & namespace.keys())
        before = [_digest_or_none(namespace[name]) for name in read]
        define(source)
        for name, digest in zip(read, before, strict=True):
            if digest is None or _digest_or_none(namespace.get(name)) != digest:
                raise CodecError(f"defining it again changes `{name}`, which the cell restores")

    if any(getattr(value, "early", False) for value in packed.values()):
        load_values(early=True)  # what the later definitions read, then them, then the rest
        for source in later:
            define_later(source)
        load_values(early=False)
    else:
        load_values(early=False)
        for source in later:
            define_later(source)
    for name, value in packed.items():
        if isinstance(value, ByValue):
            value.hold_outputs(namespace[name], namespace)


_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None), range, frozenset)


PARTS_LIMIT = 2000
"""Objects looked at inside each input a record refers to, for the parts outputs hold."""
PARTS_DEPTH = 4
"""Steps from an input to the deepest part of it looked at."""


def parts_of_inputs(
    read: dict[str, Any],
    refer: dict[int, str | tuple[str, Part]],
    containers: dict[int, Any] | None = None,
) -> dict[int, tuple[str, Part]]:
    """The objects inside the inputs a run left unchanged (``refer``: their ids, with
    their names), each with where it lies in one of them, found breadth first (by the
    shortest way). An output holding one (``clf = pipe[-1]``, ``model_cfg = cfg["model"]``)
    is stored as a reference to that part of the input and loads as the input's own
    object, as after the run: a copy was stored, and after a hit ``clf.set_params(C=0.1)``
    changed the copy, not the pipeline. Only what an input's value is made of is followed:
    items of lists, tuples and dicts keyed by str or int, and the public attributes an
    instance holds itself (not caches, which an equal instance may lack), up to
    :data:`PARTS_LIMIT` objects and :data:`PARTS_DEPTH` steps from the input. A part two
    inputs hold is left out: the key holds each input's value, not that the two hold one
    object, which another session may make two equal ones. The lists, dicts and sets among
    the inputs and the parts go into ``containers`` (see
    :func:`~hitnb.store.codecs.references`)."""
    found: dict[int, tuple[str, Part]] = {}
    both: set[int] = set()
    if containers is not None:
        containers.update(
            (ident, read[name])
            for ident, name in refer.items()
            if isinstance(name, str) and type(read.get(name)) in MUTABLE_CONTAINERS
        )
    for ident, name in list(refer.items()):
        if not isinstance(name, str) or name not in read:
            continue
        seen = {ident}
        todo: list[tuple[Any, Part]] = [(read[name], ())]
        while todo and len(seen) < PARTS_LIMIT:
            below: list[tuple[Any, Part]] = []
            for obj, part in todo:
                for step, child in _parts_inside(obj, axes=True, cached=True):
                    if id(child) in seen or id(child) in refer or not may_change(child):
                        continue
                    seen.add(id(child))
                    where = (*part, step)
                    if step[0] == "cached" and type(child) in MUTABLE_CONTAINERS:
                        continue  # (pickle writes those itself: see codecs.load_cached)
                    if found.setdefault(id(child), (name, where))[0] != name:
                        both.add(id(child))
                    if step[0] == "cached":  # the live input's own entry after a hit, when it
                        continue  # holds one; else the stored one, kept in it: not walked
                    if containers is not None and type(child) in MUTABLE_CONTAINERS:
                        containers.setdefault(id(child), child)
                    if len(where) < PARTS_DEPTH:
                        below.append((child, where))
            todo = below
    for ident in both:
        del found[ident]
    return found


def parts_of_shared(
    namespace: dict[str, Any],
    shared: Iterable[str],
    reached: Container[int],
    outputs: dict[str, Any],
    refer: dict[int, str | tuple[str, Part]],
    containers: dict[int, Any] | None = None,
) -> dict[int, tuple[str, Part]]:
    """The values of other names that a name restored for sharing what a cell changed
    holds (``pipe`` holding ``scaler`` beside the ``clf`` the cell fitted), each with where
    it lies in that name, when nothing in them is what the changed values reach
    (``reached``, by id). The record refers to each there: a hit restores the name holding
    the objects it holds as the hit comes, as a plain run leaves it, not copies (after a
    restart, ``scaler.fit(X)`` did not reach ``pipe``). What else the name holds is as it
    was when the cell ran, or the hit runs the cell (see
    :func:`~hitnb.core.cells.shared_apart`). Looked for as :func:`parts_of_inputs` looks.
    Left out, and stored as copies as before: one another of the cell's ``outputs`` holds
    too, or the name holds a part of otherwise (``cfg = {"L": L, "inner": L[0]}``): the
    name's digest holds values, not which objects two places hold, and one taken from
    the live name would be one object where the other place holds the record's copy. The
    lists, dicts and sets among those referred to go into ``containers``."""
    named = _values_by_id(namespace).keys() - {id(value) for value in outputs.values()}
    found: dict[int, tuple[str, Part]] = {}
    inside: dict[int, dict[int, Any]] = {}
    parts: dict[int, Any] = {}
    for name in sorted(shared):
        candidates: dict[int, tuple[str, Part]] = {}
        seen = {id(namespace[name])}
        todo: list[tuple[Any, Part]] = [(namespace[name], ())]
        while todo and len(seen) < PARTS_LIMIT:
            below: list[tuple[Any, Part]] = []
            for obj, part in todo:
                for step, child in _parts_inside(obj, axes=True):
                    ident = id(child)
                    if ident in seen or ident in refer or ident in reached:
                        continue  # (what the changed values reach is restored with them)
                    seen.add(ident)
                    where = (*part, step)
                    held = _held_if_apart(child, reached) if ident in named else None
                    if held is not None:
                        candidates[ident] = (name, where)
                        inside[ident], parts[ident] = held, child
                    elif len(where) < PARTS_DEPTH and may_change(child):
                        below.append((child, where))
            todo = below
        if candidates:
            found.update(_held_once(name, candidates, inside, outputs))
    for ident in found:
        if containers is not None and type(parts[ident]) in MUTABLE_CONTAINERS:
            containers.setdefault(ident, parts[ident])
    return found


def _held_if_apart(value: Any, reached: Container[int]) -> dict[int, Any] | None:
    """What ``value``'s pickle reaches below it (by id, with the objects, so that their
    ids stay theirs: some are made for the walk), when none of it is among ``reached``;
    None when some is, or it cannot be walked."""
    try:
        below = objects_reached(value)
    except UnhashableValue:
        return None
    if any(ident in reached for ident in below):
        return None
    below.pop(id(value), None)
    return below


def _held_once(
    name: str,
    candidates: dict[int, tuple[str, Part]],
    inside: dict[int, dict[int, Any]],
    outputs: dict[str, Any],
) -> dict[int, tuple[str, Part]]:
    """Those of ``candidates`` (parts of output ``name``) no other output holds, and
    whose own parts ``name`` holds nowhere else: what pickle writes of the outputs, with
    the candidates, and each output inside another (``cfg`` holding ``pipe``), not looked
    into."""
    roots = {id(value) for value in outputs.values()}

    def written(root: Any) -> dict[int, Any]:
        def opaque(obj: Any) -> bool:
            return id(obj) in candidates or (id(obj) in roots and obj is not root)

        return _pickled(root, opaque)

    elsewhere: dict[int, Any] = {}  # (the objects kept with their ids: see _held_if_apart)
    try:
        for other, value in outputs.items():
            if other != name:
                elsewhere.update(written(value))
        own = written(outputs[name])
    except Exception:
        return {}
    elsewhere.update((ident, obj) for ident, obj in own.items() if ident not in candidates)
    return {
        ident: where
        for ident, where in candidates.items()
        if ident not in elsewhere and inside[ident].keys().isdisjoint(elsewhere)
    }


def _parts_inside(
    obj: Any, axes: bool = False, cached: bool = False
) -> Iterator[tuple[tuple[str, Any], Any]]:
    """The parts of ``obj`` a user names: its items and public attributes; with ``axes``,
    a pandas frame's index and columns too, which libraries keep as they are (statsmodels'
    models hold ``data.index`` as their ``_index``); with ``cached``, the cached
    attributes it holds (see :func:`~hitnb.hashing.values.cache_entries`), each with
    where it is kept (``r = res.resid`` is ``res``'s own cache entry)."""
    kind = type(obj)
    if axes and kind.__module__.partition(".")[0] == "pandas":
        for axis in _AXES.get(kind.__name__, ()):
            yield ("axis", axis), getattr(obj, axis)
    if kind is list or kind is tuple:
        if len(obj) <= SHARING_SCAN_LIMIT:
            yield from ((("item", i), item) for i, item in enumerate(obj))
    elif kind is dict:
        if len(obj) <= SHARING_SCAN_LIMIT:
            for key, item in obj.items():
                if type(key) is str or type(key) is int:
                    yield ("item", key), item
    elif kind.__module__.partition(".")[0] not in _NOT_WALKED and not is_code_value(obj):
        own = getattr(obj, "__dict__", None)
        if type(own) is dict:
            caches = caches_of(kind)
            for key, item in own.items():
                if type(key) is str and not key.startswith("_") and key not in caches:
                    yield ("attribute", key), item
            if cached:  # last: a part named otherwise too is referred to by that name
                for kept_in, name, value in cache_entries(obj):
                    if type(value).__module__.partition(".")[0] in _CACHED_PARTS:
                        yield ("cached", (kept_in, name)), value


_CACHED_PARTS = frozenset({"numpy", "pandas"})
"""The libraries whose values :func:`_parts_inside` gives as cached parts: arrays and frames
(residuals, fitted values, covariances), which rebuild from their pickled state as pickle
builds them; an object may reach itself from its own state."""

_AXES = {"DataFrame": ("index", "columns"), "Series": ("index",)}
"""The axes :func:`_parts_inside` gives as parts of pandas values, by type name."""

MUTABLE_CONTAINERS = frozenset({list, dict, set, bytearray})
"""The containers that can change in place which pickle writes itself, never asking the
codec whether to refer to them (see :func:`~hitnb.store.codecs.references`)."""

_NOT_WALKED = frozenset({"builtins", "numpy", "pandas"})
"""Modules whose objects' attributes are their machinery, not parts a user names."""


def may_change(value: Any) -> bool:
    """Whether running code could change ``value`` in place: not for code (modules,
    functions, classes) and not for immutable scalars. (A notebook class's own values can
    change, but they are checked on their own: see :func:`class_data_digest`.)"""
    return not (isinstance(value, _IMMUTABLE) or is_code_value(value) or library_scalar(value))


def is_notebook_class(value: Any) -> bool:
    """A class defined in the notebook (``__main__``)."""
    return isinstance(value, type) and value.__module__ == "__main__"


def class_data_digest(cls: type) -> str:
    """The digest of what a notebook class holds besides code: its own attributes that are
    values (``n = 0``, a registry's dict), as opposed to methods, properties and other
    descriptors, nested classes and Python's own ``__dunder__`` entries. Each is hashed on
    its own; one that cannot be hashed (a lock, ``abc``'s ``_abc_impl``) is left out, so
    a class holding one is judged by the rest."""
    digests = {}
    for name, value in vars(cls).items():
        if (
            (name.startswith("__") and name.endswith("__"))
            or isinstance(value, type)
            or hasattr(type(value), "__get__")
        ):
            continue
        try:
            digests[name] = hash_value(value)
        except UnhashableValue:
            continue
    return hash_value(digests)


def defaults_digest(fn: types.FunctionType, changeable_only: bool = False) -> str | None:
    """The digest of a function's default values, or ``""`` when they cannot be hashed
    (which no stored digest matches: a hit runs the cell instead). With
    ``changeable_only``, None when none of them could change in place (a call cannot
    change them, so none needs watching)."""
    if changeable_only:
        values = (*(fn.__defaults__ or ()), *(fn.__kwdefaults__ or {}).values())
        if not any(may_change(value) for value in values):
            return None
    try:
        return hash_value((fn.__defaults__, fn.__kwdefaults__))
    except UnhashableValue:
        return ""


def function_defaults(outputs: dict[str, Any]) -> dict[str, str]:
    """:func:`defaults_digest` of each notebook function in ``outputs`` that has defaults."""
    return {
        name: defaults_digest(value) or ""
        for name, value in sorted(outputs.items())
        if isinstance(value, types.FunctionType)
        and value.__module__ == "__main__"
        and (value.__defaults__ or value.__kwdefaults__)
    }


def own_attributes(fn: types.FunctionType) -> dict[str, Any]:
    """What a function holds as its own attributes (``f.calls = 0``, ``f.items = log``):
    data code may set on it, which neither its digest (its code and defaults) nor the
    definition a hit runs again gives back. Python's ``__dunder__`` entries aside
    (``__wrapped__``, which ``functools.wraps`` sets: a decorator makes it again)."""
    return {
        name: value
        for name, value in vars(fn).items()
        if not (name.startswith("__") and name.endswith("__"))
    }


def attribute_digests(
    fn: types.FunctionType, digest_of: Callable[[Any], str] = hash_value
) -> dict[str, str | None]:
    """The digest of each of :func:`own_attributes`, None for one that cannot be
    hashed. ``digest_of``: how a value is hashed (a session's cache of digests)."""
    return {
        name: _digest_or_none(value, digest_of)
        for name, value in sorted(own_attributes(fn).items())
    }


def function_data_digests(
    outputs: dict[str, Any], digest_of: Callable[[Any], str] = hash_value
) -> dict[str, str]:
    """For each notebook function among ``outputs`` that holds attributes of its own (see
    :func:`own_attributes`), the digest of their names and values (an unhashable one
    by its name alone): a hit checks the restored function holds the same (a ``def`` made
    again from its source holds none)."""
    return {
        name: hash_value(attribute_digests(value, digest_of))
        for name, value in sorted(outputs.items())
        if _notebooks(value) and own_attributes(value)
    }


def notebook_functions(
    namespace: dict[str, Any],
    leave_out: Iterable[str],
    digest_of: Callable[[Any], str] = hash_value,
) -> dict[str, tuple[types.FunctionType, dict[str, tuple[Any, str | None]]]]:
    """The notebook functions bound in ``namespace`` (other than the names ``leave_out``),
    each with its own attributes (:func:`own_attributes`), their values and the
    digests of those (see :func:`attribute_digests`; ``digest_of`` hashes them): what a
    run set on them, deleted or changed in place is told after it."""
    left = set(leave_out)
    found = {}
    for name, value in namespace.items():
        if name in left or not _notebooks(value):
            continue
        held = own_attributes(value)
        found[name] = (value, {a: (v, _digest_or_none(v, digest_of)) for a, v in held.items()})
    return found


def notebook_classes(namespace: dict[str, Any], leave_out: Iterable[str]) -> dict[str, Any]:
    """The notebook classes bound in ``namespace`` (other than the names ``leave_out``),
    each with the digest of its own values (:func:`class_data_digest`)."""
    left = set(leave_out)
    return {
        name: (value, class_data_digest(value))
        for name, value in namespace.items()
        if name not in left and is_notebook_class(value)
    }


def elements_pure(value: Any) -> bool:
    """Whether :data:`PURE_METHODS` leave what ``value`` holds as it was: ``value`` is a
    list, tuple, dict (its values) or set of at most :data:`SHARING_SCAN_LIMIT` items, each
    of a class :func:`pure_methods_hold` for (a notebook class's ``get`` may change it)."""
    kind = type(value)
    if kind not in (list, tuple, dict, set, frozenset) or len(value) > SHARING_SCAN_LIMIT:
        return False
    return all(map(pure_methods_hold, value.values() if kind is dict else value))


def pure_methods_hold(value: Any) -> bool:
    """Whether :data:`PURE_METHODS` leave ``value`` as it was: its class is one of builtins,
    numpy or pandas. statsmodels' results fill their caches in ``summary()``, and a notebook's
    own class may do anything in a method called ``get``."""
    return type(value).__module__.partition(".")[0] in PURE_METHOD_LIBRARIES


def is_code_value(value: Any) -> bool:
    """Modules, functions and classes: a method call on them is not a mutation of data.
    A method bound to data (``seen.append``) is not code: calling it changes its object;
    one a library module binds by name (``numpy.random.randn``) is, like a function."""
    if isinstance(value, types.BuiltinMethodType | types.MethodType):
        owner = getattr(value, "__self__", None)
        if owner is not None and not isinstance(owner, types.ModuleType):
            return library_method(value) is not None
    return isinstance(
        value, types.ModuleType | types.FunctionType | types.BuiltinFunctionType | type
    )


def _values_by_id(namespace: dict[str, Any]) -> dict[int, list[str]]:
    """The names bound to each value of a notebook's namespace that code could change in
    place (IPython's history and the shell's own objects aside), by the value's id."""
    found: dict[int, list[str]] = {}
    for name, value in namespace.items():
        if may_change(value) and not (
            is_session_name(name) or name in SHELL_NAMES or name.startswith("__")
        ):
            found.setdefault(id(value), []).append(name)
    return found


SHARING_SCAN_LIMIT = 10_000
"""Containers with more elements than this are not searched for shared objects."""


def shared_as_data(obj: Any) -> bool:
    """Whether two values holding ``obj`` share data through it: it may change in place
    (see :func:`may_change`) and is no object a library defines at module level, which
    every value using the library holds by design."""
    return may_change(obj) and library_attribute(obj) is None


def sharing_names(namespace: dict[str, Any], changed: dict[int, Any]) -> list[str]:
    """Names whose values share objects with what a cell changed in place.

    ``changed`` holds the changed values and every object inside them, by id (as hashing
    them found them). A name is sharing when its value is one of those objects (the fitted
    results a treatment model keeps), or holds one directly, as an item, an attribute or
    the base of a view (a statsmodels results wrapper around the results a diagnostic
    changed), or holds a sharing value in turn. Code and the objects libraries define at
    module level are shared by design, not data, and do not count. Stored and restored with
    the changed values, sharing names stay one object with them, in the state the run left
    them in, as in the session that ran it.
    """
    objects = {ident for ident, obj in changed.items() if shared_as_data(obj)}
    objects.update(id(base) for obj in changed.values() if (base := _array_base(obj)) is not None)
    blocks = {ident for obj in changed.values() for ident in _memory_held(obj)}
    values = _values_by_id(namespace)
    found = {ident for ident in objects if ident in values}
    held_by: dict[int, tuple[set[int], set[int]]] = {}
    grew = True
    while grew:
        grew = False
        for ident, names in values.items():
            if ident in found:
                continue
            if ident not in held_by:
                value = namespace[names[0]]
                held_by[ident] = (_held(value), _memory_held(value))
            held, memory = held_by[ident]
            if not held.isdisjoint(objects) or any(
                m in objects and m not in blocks for m in memory
            ):
                found.add(ident)
                objects.add(ident)
                grew = True
    return sorted(name for ident in found for name in values[ident])


def reach_marks(
    changed: dict[str, Any], read: dict[str, Any], reached: dict[int, Any] | None = None
) -> Marks:
    """The objects the values a cell changed reach (see
    :func:`~hitnb.core.reaching.objects_reached`) that could change in place, and its
    inputs themselves, each marked by the name it is bound to, else its type: what
    :func:`shared_apart` writes them as. The inputs are marked, not walked (a hit pays for
    what it walks): a run may make a changed value hold one (``box.head = head``), which
    the changed value reaches after the run, when the record is made, and not before it,
    when a hit checks. What cannot change (a numpy scalar) is written as itself:
    ``metrics["acc"] = np.mean(x)`` replaces one the changed value reached before the run,
    not after. ``reached``: what the changed values reach, when the caller walked them
    already. Raises :class:`~hitnb.hashing.values.UnhashableValue` for a value that
    cannot be walked."""
    if reached is None:
        reached = {}
        for value in changed.values():
            reached.update(objects_reached(value))
    reached = {**reached, **{id(value): value for value in read.values()}}
    changeable = {ident: obj for ident, obj in reached.items() if may_change(obj)}
    names = {id(value): name for name, value in sorted({**read, **changed}.items(), reverse=True)}
    return Marks(changeable, names)


def shared_apart(namespace: dict[str, Any], names: Iterable[str], marks: Marks) -> dict[str, str]:
    """The digest of each of ``names`` (sharing objects with what a cell changed) with the
    objects the cell changed reach written as their marks (see
    :func:`~hitnb.hashing.apart.hash_apart`): what else the name holds, which the cell's
    key does not cover. A name that cannot be hashed is left out."""
    digests = {}
    for name in names:
        with suppress(UnhashableValue):
            digests[name] = hash_apart(namespace[name], marks)
    return digests


def _array_base(value: Any) -> Any:
    """The array owning the memory of a numpy view (``v = arr[0]``: changing ``v`` changes
    ``arr``, whose base that array is too); None for anything else."""
    if type(value).__module__.partition(".")[0] != "numpy":
        return None
    base = getattr(value, "base", None)
    return base if type(base).__module__.partition(".")[0] == "numpy" else None


def frames_viewed_apart(record: CellRecord) -> bool:
    """Whether ``record``, made before views of frames were kept (``frames_viewed``),
    holds a numpy array beside a pandas value: the array may have been a view of the
    frame's memory (``arr = df.values``), which it restores as an array of its own."""
    if record.frames_viewed:
        return False
    kinds = {type(value).__module__.partition(".")[0] for value in record.outputs.values()}
    return {"numpy", "pandas"} <= kinds


def _frame_arrays(value: Any, alone: bool = False) -> list[Any]:
    """The numpy arrays holding a pandas Series' or DataFrame's data (its blocks), which
    other arrays may view (``arr = df.values``, ``pd.Series(a, copy=False)``); none for
    anything else. With ``alone``, only those no other pandas object refers to: a write
    to the frame copies a block another refers to (Copy-on-Write), so a numpy view of it
    stops seeing the frame's changes."""
    np = sys.modules.get("numpy")
    if np is None or type(value).__module__.partition(".")[0] != "pandas":
        return []
    return [
        block.values
        for block in getattr(getattr(value, "_mgr", None), "blocks", ())
        if type(block.values) is np.ndarray and not (alone and _referenced(block))
    ]


def _referenced(block: Any) -> bool:
    """Whether another pandas object refers to a block's memory (or pandas cannot say)."""
    try:
        return bool(block.refs.has_reference())
    except Exception:
        return True


def _memory_held(value: Any) -> set[int]:
    """Ids of the arrays holding a pandas value's data and of the arrays those view. A
    numpy name viewing that memory (``arr = df.values``) shares what a change to the frame
    changes, and a frame over a numpy array what a change to the array changes; two
    pandas values do not share it as names do (Copy-on-Write: a change to one copies)."""
    held = set()
    for array in _frame_arrays(value):
        held.add(id(array))
        if (base := _array_base(array)) is not None:
            held.add(id(base))
    return held


def _held(value: Any) -> set[int]:
    """Ids of what ``value`` refers to directly, and of its attributes' values; for a numpy
    view, the array that owns its memory (which the garbage collector does not report);
    and the parts a user names below it (``pipe.steps[-1][1]``: see :func:`_parts_below`)."""
    if isinstance(value, list | tuple | dict | set) and len(value) > SHARING_SCAN_LIMIT:
        return set()
    base = _array_base(value)
    held = set() if base is None else {id(base)}
    if (exporter := _buffer_exporter(value)) is not None:
        held.add(id(exporter))
    for ref in gc.get_referents(value):
        held.add(id(ref))
        if type(ref) is dict and len(ref) <= SHARING_SCAN_LIMIT:
            held.update(id(item) for item in ref.values())
    held.update(_parts_below(value))
    return held


def _buffer_exporter(value: Any) -> Any:
    """The object other than a numpy array whose memory a memory view or a numpy array
    views (``memoryview(ba)``; ``np.frombuffer(ba)``, over a memory view of it; an array
    a hit made over ``ba`` itself): a change to a bytearray reaches them, and the garbage
    collector reports none as holding it. None for anything else."""
    if type(value).__module__.partition(".")[0] == "numpy" and hasattr(value, "base"):
        owner = memory_owner(value)
        if owner is value or type(owner).__module__.partition(".")[0] == "numpy":
            return None  # (an array owning its memory, and its views)
        value = owner
        if not isinstance(value, memoryview):
            return value
    return value.obj if isinstance(value, memoryview) else None


def _parts_below(value: Any) -> set[int]:
    """Ids of the objects inside ``value`` that could change, found as
    :func:`parts_of_inputs` finds them (items, public attributes), up to
    :data:`PARTS_DEPTH` steps and :data:`SHARING_PARTS_LIMIT` objects: a scikit-learn pipeline
    holds its last step in a tuple in a list (``reg = pipe[-1]``), and a cell fitting
    ``reg`` changes what ``pipe`` holds; restored alone, ``reg`` was fitted and ``pipe``
    was not."""
    found: set[int] = set()
    if isinstance(value, list | tuple | dict) and len(value) > SHARING_PARTS_LIMIT:
        return found  # a table of records: its rows are held directly, not looked into
    level = [value]
    for _ in range(PARTS_DEPTH):
        below = []
        for obj in level:
            for _, child in _parts_inside(obj):
                if id(child) not in found and may_change(child):
                    found.add(id(child))
                    below.append(child)
                    if len(found) >= SHARING_PARTS_LIMIT:
                        return found
        level = below
    return found


SHARING_PARTS_LIMIT = 200
"""Objects :func:`_parts_below` looks at inside each value of the namespace: every value
is looked through when a cell changed something (300 lists of 2000 objects each took
0.6 s at :data:`PARTS_LIMIT`)."""
