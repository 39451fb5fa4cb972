"""How to make a stored call again: the *recipe* kept with each entry, for export.

A recipe is what a notebook needs to repeat the call far from the kernel that made it:

- ``imports``: statements for the modules, library functions and user-module code that
  the notebook code uses (``import numpy as np``, ``from utils import scale``);
- ``definitions``: the source of every function and class defined in the notebook that
  the call reaches, each once, classes before functions and bases before subclasses;
- ``values`` and ``arguments``: for each global the code reads and each argument, a
  Python literal when one reproduces the value exactly (checked by hashing it back),
  else the key under which the value itself was kept in the store;
- ``call``: the call, written with those names.

It is captured when the call is computed, because only then are the notebook's sources
and values at hand. What cannot be written as source is kept as a value and named in
``notes``.
"""

from __future__ import annotations

import ast
import collections
import functools
import inspect
import keyword
import linecache
import math
import sys
import textwrap
import types
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hitnb.hashing.dependencies import Plan, is_code
from hitnb.hashing.values import UnhashableValue, hash_value
from hitnb.store.codecs import holds_other_references, references
from hitnb.store.local import LocalStore

MAX_LITERAL = 20_000
"""Longest literal source written into a notebook; larger values are loaded from the store."""
INPUT_FUNCTION = "hitnb.input"
"""The function name under which inputs kept for export are stored."""

KeepValue = Callable[[Any], str | None]
"""Stores a value by its digest for export and returns that key (None if it cannot)."""


class NotKept(Exception):
    """Raised by a :data:`KeepValue` for a value that must not be kept, saying why (an input
    the run changed in place is no longer the value the run started from)."""


def keep_input(store: LocalStore, value: Any, digest: str | None = None) -> str:
    """Store an input value under its own digest (once) so exports can load it; return the key.

    ``digest`` is the value's digest when the caller has it already (it hashed the value for
    the call's key): a big model or frame is then not hashed again for the recipe."""
    key = digest if digest is not None else hash_value(value)
    if not store.contains(key):
        with references({}, {}):  # a value of its own, not one referring to the cell's inputs
            store.put(key, value, function=INPUT_FUNCTION, code="", args="", duration=0.0)
    return key


def keeper(
    store: LocalStore,
    keep_inputs: bool,
    at_most: int | None = None,
    known: Callable[[Any], str | None] = lambda value: None,
) -> KeepValue:
    """How a recipe keeps the values it cannot write as literals: in ``store``, when the
    ``keep_inputs`` setting allows and the value takes at most ``at_most`` bytes of memory
    (as far as :func:`memory_size` can tell without walking it). ``known`` gives the digest
    of a value the call hashed for its key and did not change, by identity; None for others."""

    def keep(value: Any) -> str | None:
        if not keep_inputs:
            return None
        if at_most is not None and (memory_size(value) or 0) > at_most:
            return None
        if holds_other_references(value):
            raise NotKept(
                f"a {type(value).__qualname__} holding another input of the call, which it "
                "would keep a copy of"
            )
        return keep_input(store, value, known(value))

    return keep


def memory_size(value: Any) -> int | None:
    """Bytes ``value`` holds, for arrays, frames, series, strings and bytes; None for others."""
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    nbytes = getattr(value, "nbytes", None)  # numpy arrays, pandas Series and Index
    if isinstance(nbytes, int):
        return nbytes
    usage = getattr(value, "memory_usage", None)
    module = type(value).__module__
    if callable(usage) and module.startswith("pandas"):  # a DataFrame: shallow, no walk
        return int(usage(index=True, deep=False).sum())
    return None


# -- literals ---------------------------------------------------------------------------------
class _TooLong(Exception):
    """The literal being written is over :data:`MAX_LITERAL` already."""


def _literal_source(value: Any, depth: int = 0, budget: list[int] | None = None) -> str | None:
    """Source for ``value``; None past :data:`MAX_LITERAL` characters, found as it is
    written, not after (a list of 500,000 records took a second to write in full, then was
    refused: mesa's batch runs)."""
    if budget is None:
        try:
            return _literal_source(value, depth, [MAX_LITERAL])
        except _TooLong:
            return None
    if depth > 20:
        return None
    kind = type(value)
    if kind in (list, tuple, set, frozenset, dict):
        budget[0] -= 2 * len(value)  # a separator for each item at least
        if budget[0] < 0:
            raise _TooLong
    if value is None or kind in (bool, int, str, bytes, complex):
        return _spent(repr(value), budget)
    if kind is float:
        return _spent(repr(value) if math.isfinite(value) else f"float({str(value)!r})", budget)
    if kind in (list, tuple, set, frozenset):
        items = [_literal_source(v, depth + 1, budget) for v in value]
        if any(i is None for i in items):
            return None
        inner = ", ".join(items)  # type: ignore[arg-type]
        if kind is list:
            return f"[{inner}]"
        if kind is tuple:
            return f"({inner},)" if len(items) == 1 else f"({inner})"
        return f"{kind.__name__}([{inner}])" if items else f"{kind.__name__}()"
    if kind is dict:
        pairs = [
            (_literal_source(k, depth + 1, budget), _literal_source(v, depth + 1, budget))
            for k, v in value.items()
        ]
        if any(k is None or v is None for k, v in pairs):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    small_array = kind.__module__ == "numpy" and kind.__name__ == "ndarray" and value.size <= 2000
    if small_array and value.dtype.kind in "biufc":
        return _spent(f"np.array({value.tolist()!r}, dtype={str(value.dtype)!r})", budget)
    return None


def _spent(source: str, budget: list[int]) -> str:
    budget[0] -= len(source)
    if budget[0] < 0:
        raise _TooLong
    return source


_EXACT_REPR = (type(None), bool, int, str, bytes)


def literal(value: Any) -> str | None:
    """Python source that evaluates to an equal value with the same hash, or None.

    ``repr`` is exact for None, bools, ints, strings and bytes; anything else is checked by
    evaluating the source and hashing the result back.
    """
    if type(value) in _EXACT_REPR and len(source := repr(value)) <= MAX_LITERAL:
        return source
    try:
        source = _literal_source(value)  # type: ignore[assignment]
    except Exception:
        return None
    if source is None or len(source) > MAX_LITERAL:
        return None
    try:
        namespace: dict[str, Any] = {}
        if "np.array(" in source:
            import numpy

            namespace["np"] = numpy
        again = eval(source, namespace)  # our own generated literal, checked right here
        return source if hash_value(again) == hash_value(value) else None
    except Exception:
        return None


@dataclass(frozen=True)
class ValueSource:
    """How an exported notebook gets a value back: a Python ``literal``, else the ``key``
    under which the value was kept in the store, else why it is ``missing``."""

    literal: str | None = None
    key: str | None = None
    missing: str | None = None

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ValueSource:
        fields = ("literal", "key", "missing")
        found = {k: str(data[k]) for k in fields if isinstance(data.get(k), str)}
        return cls(**found) if found else cls(missing="unknown")


@dataclass(frozen=True)
class Definition:
    """A function or class defined in the notebook, as source."""

    name: str
    kind: str
    """``"function"`` or ``"class"``."""
    source: str


@dataclass(frozen=True)
class Recipe:
    """How to make a stored run again in a notebook of its own (see the module docstring).

    A function call has ``call`` and ``function``; a ``%%memo`` cell has ``cell``. Stored as
    JSON with the entry (:meth:`to_json`), read back with :meth:`from_json`.
    """

    imports: list[str] = field(default_factory=list)
    definitions: list[Definition] = field(default_factory=list)
    values: dict[str, ValueSource] = field(default_factory=dict)
    arguments: dict[str, ValueSource] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    call: str | None = None
    function: str | None = None
    cell: str | None = None

    @property
    def is_cell(self) -> bool:
        return self.cell is not None

    @property
    def exportable(self) -> bool:
        """Whether it holds a call or a cell to write (a failed recipe holds only notes)."""
        return self.call is not None or self.cell is not None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "imports": self.imports,
            "definitions": [d.__dict__ for d in self.definitions],
            "values": {n: v.to_json() for n, v in self.values.items()},
            "arguments": {n: v.to_json() for n, v in self.arguments.items()},
            "notes": self.notes,
        }
        for name in ("call", "function", "cell"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Recipe:
        """A stored recipe; fields an older or damaged one lacks are empty."""
        data = data if isinstance(data, Mapping) else {}

        def text(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) else None

        def sources(name: str) -> dict[str, ValueSource]:
            found = data.get(name)
            if not isinstance(found, Mapping):
                return {}
            return {str(n): ValueSource.from_json(v if isinstance(v, Mapping) else {})
                    for n, v in found.items()}  # fmt: skip

        definitions = [
            Definition(str(d.get("name", "")), str(d.get("kind", "")), str(d.get("source", "")))
            for d in data.get("definitions", []) or []
            if isinstance(d, Mapping)
        ]
        return cls(
            imports=[str(i) for i in data.get("imports", []) or []],
            definitions=definitions,
            values=sources("values"),
            arguments=sources("arguments"),
            notes=[str(n) for n in data.get("notes", []) or []],
            call=text("call"),
            function=text("function"),
            cell=text("cell"),
        )

    @classmethod
    def failed(cls, exc: Exception) -> Recipe:
        """The recipe of a run whose recipe could not be written (the run is stored all the
        same): only a note saying why."""
        return cls(notes=[f"no recipe could be written: {type(exc).__name__}: {exc}"])


def describe_value(value: Any, keep: KeepValue) -> ValueSource:
    """A literal when one reproduces the value exactly, else its key in the store, else why
    it is missing."""
    source = literal(value)
    if source is not None:
        return ValueSource(literal=source)
    try:
        key = keep(value)
    except UnhashableValue as exc:
        return ValueSource(missing=f"a {exc.type_name} that cannot be hashed")
    except NotKept as exc:
        return ValueSource(missing=str(exc))
    if key is None:
        what = (
            f"a {type(value).__qualname__} that was not kept (keep_inputs is off, or it takes "
            "more memory than keep_inputs_max)"
        )
        return ValueSource(missing=what)
    return ValueSource(key=key)


# -- sources ----------------------------------------------------------------------------------
def _cell_sources() -> list[tuple[str, str]]:
    """(filename, text) of code that lives only in memory, newest last: notebook cells."""
    out = []
    for filename, entry in list(linecache.cache.items()):
        if len(entry) == 4 and entry[1] is None and entry[2]:
            out.append((filename, "".join(entry[2])))
    return out


def _definition_in(text: str, name: str, kinds: tuple[type, ...]) -> str | None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, kinds) and node.name == name:  # type: ignore[attr-defined]
            return _with_decorators(text, node)
    return None


def _with_decorators(text: str, node: ast.AST) -> str:
    lines = text.splitlines()
    first = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])  # type: ignore[attr-defined]
    return "\n".join(lines[first - 1 : node.end_lineno])  # type: ignore[attr-defined]


_function_sources: weakref.WeakKeyDictionary[types.CodeType, str | None] = (
    weakref.WeakKeyDictionary()
)


def function_source(fn: Any) -> str | None:
    """The source of a function's definition, decorators included (read once per code)."""
    fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    if code not in _function_sources:
        try:
            _function_sources[code] = textwrap.dedent(inspect.getsource(code)).rstrip()
        except (OSError, TypeError):
            _function_sources[code] = None
    return _function_sources[code]


def class_source(cls: type) -> str | None:
    """The source of a notebook class: found in the cell of one of its methods, or in the
    newest cell that defines a class of that name (``inspect`` cannot find notebook classes)."""
    try:
        return textwrap.dedent(inspect.getsource(cls)).rstrip()
    except (OSError, TypeError):
        pass
    kinds = (ast.ClassDef,)
    files = []
    for member in vars(cls).values():
        code = getattr(inspect.unwrap(member), "__code__", None) if callable(member) else None
        if code is not None:
            files.append(code.co_filename)
    cells = dict(_cell_sources())
    for filename in files:
        if filename in cells and (found := _definition_in(cells[filename], cls.__name__, kinds)):
            return found
    for _, text in reversed(list(cells.items())):
        if found := _definition_in(text, cls.__name__, kinds):
            return found
    return None


def import_statement(name: str, obj: Any) -> str | None:
    """``import numpy as np`` or ``from utils import scale as s``: binds ``obj`` to ``name``."""
    if isinstance(obj, types.ModuleType):
        module_name: str = obj.__name__
        if module_name == name:
            return f"import {module_name}"
        if "." in module_name and module_name.rpartition(".")[2] == name:
            parent, _, child = module_name.rpartition(".")
            return f"from {parent} import {child}"
        return f"import {module_name} as {name}"
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not module or not qualname or not qualname.isidentifier() or module == "__main__":
        return None  # nested, a lambda, or defined in the notebook: not importable by name
    suffix = "" if qualname == name else f" as {name}"
    top = module.partition(".")[0]
    if getattr(sys.modules.get(top), qualname, None) is obj:  # prefer the public path
        return f"from {top} import {qualname}{suffix}"
    return f"from {module} import {qualname}{suffix}"


# -- the recipe ------------------------------------------------------------------------------
class _Writer:
    def __init__(self, namespace: Mapping[str, Any], keep: KeepValue) -> None:
        self.namespace = namespace
        self.keep = keep
        self.imports: dict[str, None] = {}
        self.classes: list[Definition] = []
        self.functions: list[Definition] = []
        self.values: dict[str, ValueSource] = {}
        self.notes: list[str] = []
        self.done: set[str] = set()

    def name(self, name: str) -> None:
        """Make ``name``, as bound in the notebook, available in the exported notebook."""
        if name in self.done or name not in self.namespace:
            return
        self.done.add(name)
        self.bind(name, self.namespace[name])

    def bind(self, name: str, obj: Any) -> None:
        wrapped = getattr(obj, "__wrapped__", None)
        target = inspect.unwrap(obj) if wrapped is not None else obj
        in_notebook = getattr(target, "__module__", None) == "__main__"
        if in_notebook and isinstance(target, types.FunctionType) and target.__name__ == name:
            self.define(name, "function", function_source(obj))
        elif in_notebook and isinstance(target, type) and target.__name__ == name:
            for base in target.__bases__:
                if base.__module__ == "__main__":
                    self.name(base.__name__)
            self.define(name, "class", class_source(target))
        elif (statement := import_statement(name, obj)) is not None:
            self.imports[statement] = None
        elif is_code(obj):
            self.notes.append(f"`{name}` is code that cannot be written as source; it is loaded")
            self.values[name] = describe_value(obj, self.keep)
        else:
            self.values[name] = describe_value(obj, self.keep)

    def define(self, name: str, kind: str, source: str | None, *, load: bool = True) -> None:
        if source is None:
            if load:
                self.notes.append(f"the source of {kind} `{name}` was not found; it is loaded")
                self.values[name] = describe_value(self.namespace[name], self.keep)
            else:
                self.notes.append(f"the source of {kind} `{name}` was not found")
            return
        (self.classes if kind == "class" else self.functions).append(Definition(name, kind, source))
        for used in _names_used_at_definition(source):
            self.name(used)


@functools.lru_cache(maxsize=512)
def _names_used_at_definition(source: str) -> tuple[str, ...]:
    """Decorators, bases and defaults: names evaluated when a definition runs (parsed once
    per source: every miss writes a recipe)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ()
    node = tree.body[0] if tree.body else None
    parts: list[ast.AST] = list(getattr(node, "decorator_list", []))
    if isinstance(node, ast.ClassDef):
        parts += [*node.bases, *(k.value for k in node.keywords), *node.body]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        parts += [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
    names = []
    for part in parts:
        for child in ast.walk(part):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
                names.append(child.id)
    return tuple(names)


def _call_source(name: str, signature: inspect.Signature, bound: Mapping[str, Any]) -> str:
    """``train(lr=lr, batch_size=batch_size)``: the call, with each argument by its own name."""
    parts = []
    for param in signature.parameters.values():
        if param.name not in bound:
            continue
        expr = param.name
        if param.kind is param.POSITIONAL_ONLY:
            parts.append(expr)
        elif param.kind is param.VAR_POSITIONAL:
            parts.append(f"*{expr}")
        elif param.kind is param.VAR_KEYWORD:
            parts.append(f"**{expr}")
        else:
            parts.append(f"{param.name}={expr}")
    return f"{name}({', '.join(parts)})"


def function_recipe(
    fn: Any,
    plan: Plan,
    bound: Mapping[str, Any],
    keep: KeepValue,
    *,
    ignore: frozenset[str] = frozenset(),
    signature: inspect.Signature | None = None,
) -> Recipe:
    """The recipe of a call of ``fn`` (the undecorated function) with ``bound`` arguments.

    Globals named in ``ignore`` (state, connections) are left for the reader to provide.
    ``signature``: ``fn``'s, when the caller has it (reading it costs 15 us a miss)."""
    signature = signature or inspect.signature(fn)
    name = fn.__name__
    arguments = {n: describe_value(v, keep) for n, v in bound.items()}
    call = _call_source(name, signature, bound)
    nested = "<locals>" in getattr(fn, "__qualname__", "")
    if fn.__module__ != "__main__" and not nested:
        statement = import_statement(name, fn) or f"from {fn.__module__} import {name}"
        return Recipe(imports=[statement], arguments=arguments, call=call, function=name)
    writer = _Writer(fn.__globals__, keep)
    writer.done.add(name)
    writer.define(name, "function", function_source(fn), load=False)
    for namespace, global_name, _ in plan.bindings:
        if namespace is fn.__globals__ and global_name not in ignore:
            writer.name(global_name)
    if nested:
        outer = fn.__qualname__.rsplit(".<locals>", 1)[0]
        writer.notes.append(
            f"`{name}` was defined inside `{outer}` in {fn.__module__}: its source is "
            "copied here, and names it took from the enclosing function must be provided"
        )
    return Recipe(
        imports=list(writer.imports),
        definitions=writer.classes + writer.functions,
        values=writer.values,
        arguments=arguments,
        notes=writer.notes,
        call=call,
        function=name,
    )


def cell_recipe(
    source: str,
    inputs: Mapping[str, Any],
    namespace: dict[str, Any],
    keep: KeepValue,
) -> Recipe:
    """The recipe of a ``%%memo`` cell: its source, and how to get each of its inputs.

    ``inputs`` are the values the run started from (a name the cell binds again, such as
    ``df = df.dropna()``, is written as it was before the run); other names (helpers,
    imports) are looked up in ``namespace``."""
    writer = _Writer(collections.ChainMap(dict(inputs), namespace), keep)
    for name in inputs:
        if name.isidentifier() and not keyword.iskeyword(name):
            writer.name(name)
    return Recipe(
        imports=list(writer.imports),
        definitions=writer.classes + writer.functions,
        values=writer.values,
        notes=writer.notes,
        cell=source,
    )
