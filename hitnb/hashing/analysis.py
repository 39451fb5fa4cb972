"""Static analysis of one function: its normalized code, and the global names it uses.

Names come from the bytecode (``LOAD_GLOBAL``/``LOAD_NAME`` in the function and every
nested code object: comprehensions, lambdas, inner functions), which resolves scopes
exactly as Python does. The normalized code comes from the AST, so comments, blank
lines, formatting, docstrings and decorators do not count; without source, from the
bytecode.

A global the function *assigns* (``global n; n += 1``) is state, not input, and is left
out of the key. Whether the function changes a value in place (``LOG.append(x)``,
``CACHE[k] = v``) is not guessed from the code: the call measures it
(:func:`hitnb.hashing.dependencies.written_during`).

Results are memoized per code object: source is read and parsed once.
"""

from __future__ import annotations

import ast
import copy
import dis
import linecache
import re
import textwrap
import types
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import xxhash

_READS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})
_WRITES = frozenset({"STORE_GLOBAL", "DELETE_GLOBAL"})
_ATTRS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})


@dataclass(frozen=True)
class CodeInfo:
    """What one function's code is and which globals it uses."""

    digest: str
    """xxh3_128 of the normalized code."""
    reads: tuple[str, ...]
    """Global names read (sorted), assigned ones excluded."""
    assigned: frozenset[str]
    """Global names the function assigns or deletes: state, never inputs."""
    attributes: dict[str, frozenset[tuple[str, ...]]] = field(default_factory=dict)
    """For each name read, the attribute chains read from it (``np.linalg.norm``)."""
    has_source: bool = True


_cache: weakref.WeakKeyDictionary[types.CodeType, CodeInfo] = weakref.WeakKeyDictionary()


def analyze(fn: Any) -> CodeInfo:
    """Analyze a function (or lambda, or method's function); memoized per code object."""
    code: types.CodeType = fn.__code__
    info = _cache.get(code)  # everything below depends on the code object alone
    if info is None:
        info = _analyze(fn, code)
        _cache[code] = info
    return info


def _analyze(fn: Any, code: types.CodeType) -> CodeInfo:
    reads: set[str] = set()
    assigned: set[str] = set()
    chains: dict[str, set[tuple[str, ...]]] = {}
    for each in _code_objects(code):
        _scan_bytecode(each, reads, assigned, chains)
    tree = _definition_ast(fn)
    if tree is not None:
        digest = text_digest(ast.dump(tree, annotate_fields=False))
        local = {name for each in _code_objects(code) for name in _local_names(each)}
        reads |= {
            name
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            for name in expression_names(node)
            if name not in local
        }
    else:
        digest = bytecode_digest(code)
    return CodeInfo(
        digest=digest,
        reads=tuple(sorted(reads - assigned)),
        assigned=frozenset(assigned),
        attributes={name: frozenset(c) for name, c in chains.items() if name not in assigned},
        has_source=tree is not None,
    )


EXPRESSION_METHODS = frozenset({"query", "eval"})
"""Methods and functions taking an expression string in which ``@name`` reads a variable of
the caller (``df.query("v > @min_v")``, ``df.eval``, ``pd.eval``)."""
_AT_NAME = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)")


def expression_names(call: ast.Call) -> list[str]:
    """The names ``@name`` reads in a ``.query``/``.eval`` call's literal expression."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in EXPRESSION_METHODS):
        return []
    texts = [*call.args[:1], *(k.value for k in call.keywords if k.arg == "expr")]
    return [
        name
        for text in texts
        if isinstance(text, ast.Constant) and isinstance(text.value, str)
        for name in _AT_NAME.findall(text.value)
    ]


def _local_names(code: types.CodeType) -> tuple[str, ...]:
    return (*code.co_varnames, *code.co_cellvars)


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _scan_bytecode(
    code: types.CodeType, reads: set[str], writes: set[str], chains: dict[str, set[tuple[str, ...]]]
) -> None:
    current: str | None = None
    chain: list[str] = []

    def close() -> None:
        if current is not None:
            chains.setdefault(current, set()).add(tuple(chain))

    for ins in dis.get_instructions(code):
        if ins.opname in _ATTRS and current is not None:
            chain.append(str(ins.argval))
            continue
        close()
        current, chain = None, []
        if ins.opname in _READS:
            current = str(ins.argval)
            reads.add(current)
        elif ins.opname in _WRITES:
            writes.add(str(ins.argval))
    close()


def _definition_ast(fn: Any) -> ast.AST | None:
    """The AST of ``fn``'s definition without docstrings and decorators, or None.

    Everything is found from the code object (``inspect.getsource(fn)`` would follow
    ``__wrapped__``, and ``functools.wraps`` copies the wrapped function's name). The source
    comes from ``linecache`` (which IPython fills with cells): the indented block starting at
    the code's first line, parsed alone; when that does not parse (a string literal that
    leaves the indentation), the whole file or cell, parsed once.
    """
    code = fn.__code__
    linecache.checkcache(code.co_filename)  # an edited file (autoreload) is read again
    lines = linecache.getlines(code.co_filename)
    first, name = code.co_firstlineno, code.co_name
    if not lines or first > len(lines):
        return None
    tree = _block(lines, first - 1)
    if tree is None or _definition_in(tree, name, first=None) is None:
        tree = _parsed(code.co_filename, lines)
        if tree is None:
            return None
        return _definition_in(tree, name, first)
    return _definition_in(tree, name, first=None)


def _block(lines: list[str], start: int) -> ast.Module | None:
    """The lines from ``start`` (a definition, or its first decorator) to the end of the
    block it opens, dedented and parsed; None when they do not parse alone."""
    indent = _indent(lines[start])
    in_decorators = lines[start].lstrip().startswith("@")
    end = start + 1
    while end < len(lines):
        line = lines[end]
        text = line.strip()
        deeper = not text or _indent(line) > indent or text.startswith((")", "]", "}", "#"))
        if not deeper:
            if not (in_decorators and text.startswith(("@", "def ", "async def "))):
                break
            in_decorators = text.startswith("@")
        end += 1
    try:
        return ast.parse(textwrap.dedent("".join(lines[start:end])))
    except (SyntaxError, ValueError):
        return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _definition_in(tree: ast.AST, name: str, first: int | None) -> ast.AST | None:
    """The definition of ``name`` in ``tree`` (starting at line ``first``, when given), its
    docstrings and decorators left out; a lambda only when it is alone on its line."""
    if name == "<lambda>":
        lambdas = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Lambda) and (first is None or n.lineno == first)
        ]
        return lambdas[0] if len(lambdas) == 1 else None  # several on a line: use bytecode
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == name
            and (
                first is None
                or min([d.lineno for d in node.decorator_list] + [node.lineno]) == first
            )
        ):
            return strip_docstrings(copy.deepcopy(node) if first is not None else node)
    return None


_trees: dict[str, tuple[list[str], ast.Module | None]] = {}


def _parsed(filename: str, lines: list[str]) -> ast.Module | None:
    """The parsed source of a whole file or cell, kept while ``linecache`` holds the same
    lines (a changed file gets new lines once ``linecache.checkcache`` has seen it)."""
    cached = _trees.get(filename)
    if cached is not None and cached[0] is lines:
        return cached[1]
    try:
        tree: ast.Module | None = ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        tree = None
    _trees[filename] = (lines, tree)
    return tree


def strip_docstrings(node: ast.AST) -> ast.AST:
    """Remove docstrings everywhere below ``node``, and ``node``'s own decorators."""
    for child in ast.walk(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            body = child.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                child.body = body[1:] or [ast.Pass()]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        node.decorator_list = []
    return node


def text_digest(text: str) -> str:
    """Hex xxh3_128 of a text (source, an AST dump) as UTF-8."""
    return xxhash.xxh3_128_hexdigest(text.encode("utf-8", "surrogatepass"))


def bytecode_digest(code: types.CodeType) -> str:
    """Fingerprint from the code object itself, for code without readable source."""
    h = xxhash.xxh3_128()
    h.update(code.co_code)
    h.update(repr((code.co_argcount, code.co_kwonlyargcount, code.co_flags)).encode())
    h.update(repr((code.co_names, code.co_varnames, code.co_freevars)).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            h.update(bytecode_digest(const).encode())
        elif isinstance(const, frozenset):  # `x in {"a", "b"}`: its repr's order is per process
            h.update(repr(sorted(map(repr, const))).encode())
        else:
            h.update(repr(const).encode())
    return h.hexdigest()
