"""Fingerprints of code: functions, classes and modules.

A function's fingerprint is the xxh3_128 of its normalized AST: comments, blank
lines, formatting, docstrings and decorators do not count. Functions whose source
cannot be read (builtins, C extensions, ``exec`` without a file) fall back to their
bytecode, or for compiled code to module, name and package version.

Fingerprints are memoized per code object, so a repeated call costs a dict lookup.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
import textwrap
import types
import weakref
from collections.abc import Mapping
from typing import Any

import xxhash

from hitnb.hashing.values import qualified_name

_by_code: weakref.WeakKeyDictionary[types.CodeType, bytes] = weakref.WeakKeyDictionary()


def _digest(*parts: str | bytes) -> bytes:
    h = xxhash.xxh3_128()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.digest()


def _strip(node: ast.AST) -> ast.AST:
    """Drop what does not change behaviour: docstrings and the decorators of ``node``."""
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


def normalized_source(obj: Any) -> str | None:
    """The AST dump of a function or class definition, or None if its source is unavailable."""
    try:
        source = textwrap.dedent(inspect.getsource(obj))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    kinds: tuple[type, ...] = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    name = getattr(obj, "__name__", "")
    if name == "<lambda>":
        lambdas = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
        if len(lambdas) != 1:
            return None  # several lambdas on the line: the bytecode tells them apart
        return ast.dump(lambdas[0], annotate_fields=False)
    for node in ast.walk(tree):
        if isinstance(node, kinds) and getattr(node, "name", None) == name:
            return ast.dump(_strip(node), annotate_fields=False)
    return None


def _bytecode_digest(code: types.CodeType) -> bytes:
    """Fingerprint from the code object itself, for functions without readable source."""
    consts: list[str | bytes] = []
    for const in code.co_consts:
        consts.append(_bytecode_digest(const) if isinstance(const, types.CodeType) else repr(const))
    return _digest(
        code.co_code,
        repr((code.co_argcount, code.co_kwonlyargcount, code.co_flags)),
        repr(code.co_names),
        repr(code.co_varnames),
        repr(code.co_freevars),
        *consts,
    )


def function_fingerprint(fn: Any) -> bytes:
    """16-byte fingerprint of a function's code, memoized per code object."""
    fn = inspect.unwrap(fn)
    if isinstance(fn, functools.partial):
        from hitnb.hashing.values import digest_value

        return _digest("partial", digest_value((fn.func, fn.args, fn.keywords)))
    code = getattr(fn, "__code__", None)
    if not isinstance(code, types.CodeType):
        return _digest("compiled", qualified_name(fn), package_version(fn))
    cached = _by_code.get(code)
    if cached is None:
        source = normalized_source(fn)
        body = source.encode() if source is not None else _bytecode_digest(code)
        cached = _digest("function", qualified_name(fn), body)
        _by_code[code] = cached
    return cached


@functools.lru_cache(maxsize=4096)
def _class_digest(cls: type) -> bytes:
    if cls.__module__ in ("builtins", "__builtin__") or not _is_user_code(cls):
        return _digest("class", qualified_name(cls), package_version(cls))
    source = normalized_source(cls)
    return _digest("class", qualified_name(cls), source or "")


def class_fingerprint(cls: type) -> bytes:
    """16-byte fingerprint of a class: its name, and its source when it is user code."""
    try:
        return _class_digest(cls)
    except TypeError:  # unhashable metaclass instances
        return _digest("class", qualified_name(cls))


def module_fingerprint(module: types.ModuleType) -> bytes:
    """16-byte fingerprint of a module: its name and installed version."""
    return _digest("module", module.__name__, package_version(module))


def _is_user_code(obj: Any) -> bool:
    module = sys.modules.get(getattr(obj, "__module__", "") or "")
    if module is None:
        return True
    path = getattr(module, "__file__", None) or ""
    return not any(marker in path for marker in ("site-packages", "dist-packages")) and (
        module.__name__.partition(".")[0] not in sys.stdlib_module_names
    )


@functools.lru_cache(maxsize=1)
def _distributions() -> Mapping[str, list[str]]:
    from importlib import metadata

    return metadata.packages_distributions()


@functools.lru_cache(maxsize=1024)
def _version_of_top(top: str) -> str:
    if top in sys.stdlib_module_names or top in ("builtins", "__main__"):
        return f"python-{sys.version_info.major}.{sys.version_info.minor}"
    from importlib import metadata

    for dist in _distributions().get(top, []):
        try:
            return f"{dist}-{metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return "unversioned"


def package_version(obj: Any) -> str:
    """``dist-version`` of the installed distribution that provides ``obj``'s module."""
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
    return _version_of_top((module or "").partition(".")[0])
