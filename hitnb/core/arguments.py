"""Binding call arguments to a signature, and summarizing them for display.

Binding applies defaults, so ``f(1)`` and ``f(1, n=10)`` are the same call when
``n`` defaults to 10. The common case (plain positional-or-keyword parameters) is
bound without :meth:`inspect.Signature.bind`, which costs several microseconds.
"""

from __future__ import annotations

import inspect
import math
import reprlib
from collections.abc import Callable, Mapping
from typing import Any

_SIMPLE_KIND = inspect.Parameter.POSITIONAL_OR_KEYWORD
_MISSING = inspect.Parameter.empty


class Binder:
    """Binds ``(args, kwargs)`` to an ordered dict of every parameter's value."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.signature = inspect.signature(fn)
        self.defaults_were = getattr(fn, "__defaults__", None)
        self.kwdefaults_were = getattr(fn, "__kwdefaults__", None)
        """The default objects the signature was read with (a patch replaces them)."""
        params = list(self.signature.parameters.values())
        self.names = tuple(p.name for p in params)
        self.defaults = {p.name: p.default for p in params if p.default is not _MISSING}
        self.simple = all(p.kind is _SIMPLE_KIND for p in params)
        """Whether every parameter is positional-or-keyword (no ``*args``/``**kwargs``)."""
        try:
            own = inspect.signature(fn, follow_wrapped=False).parameters.values()
        except (TypeError, ValueError):
            own = self.signature.parameters.values()
        self.by_position = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in own)
        """Whether ``fn`` itself (a decorator's wrapper, whose signature is not the one
        read: ``inspect`` follows ``__wrapped__``) takes ``*args``: a wrapper that reads
        ``args[0]`` must get them by position, one taking ``**kwargs`` only by keyword."""

    def bind(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Every parameter's value by name, in signature order; raises TypeError like a call."""
        names = self.names
        if self.simple and len(args) <= len(names):
            bound = dict(zip(names, args, strict=False))
            if len(bound) == len(names) and not kwargs:
                return bound
            if not kwargs.keys() & bound.keys() and kwargs.keys() <= set(names):
                out = {}
                for name in names:
                    if name in bound:
                        out[name] = bound[name]
                    elif name in kwargs:
                        out[name] = kwargs[name]
                    elif name in self.defaults:
                        out[name] = self.defaults[name]
                    else:
                        break
                else:
                    return out
        ba = self.signature.bind(*args, **kwargs)
        ba.apply_defaults()
        return dict(ba.arguments)

    def call(self, fn: Callable[..., Any], bound: Mapping[str, Any]) -> Any:
        """Call ``fn`` with arguments as bound by :meth:`bind`: by position when ``fn``
        takes ``*args`` (see :attr:`by_position`), else by keyword."""
        if self.simple:
            return fn(*bound.values()) if self.by_position else fn(**bound)
        ba = inspect.BoundArguments(self.signature, dict(bound))
        return fn(*ba.args, **ba.kwargs)


def _displayable(text: str) -> str:
    """Text that any UTF-8 consumer takes: lone surrogates become backslash escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


_SHORT = reprlib.Repr()
"""Writes a long container's first items only (a full ``repr`` of 500,000 records, cut to
120 characters after, took 0.2 s)."""
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 40, 40


def summarize(value: Any, *, depth: int = 0) -> Any:
    """A small JSON-able picture of an argument for tables: scalars as they are, big values
    by type and shape. Never loads or pickles anything large, and never raises: a summary is
    for reading, and a value it cannot picture (its ``repr`` raises) is named by its type.
    """
    try:
        return _summary(value, depth)
    except Exception as exc:  # a library's repr or attribute that raises: the run goes on
        return {"type": type(value).__qualname__, "repr": f"<not shown: {type(exc).__name__}>"}


def _summary(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return _displayable(value if len(value) <= 200 else value[:197] + "...")
    shape = getattr(value, "shape", None)  # a class's is a descriptor; a module's, a module
    if isinstance(shape, tuple | list) and not isinstance(value, type):
        dims = [d if isinstance(d, int) else str(d) for d in shape]
        out: dict[str, Any] = {"type": type(value).__qualname__, "shape": dims}
        dtype = getattr(value, "dtype", None)
        if dtype is not None:
            out["dtype"] = str(dtype)
        return out
    if depth < 2 and isinstance(value, list | tuple) and len(value) <= 20:
        return [summarize(v, depth=depth + 1) for v in value]
    if depth < 2 and isinstance(value, dict) and len(value) <= 20:
        return {str(k): summarize(v, depth=depth + 1) for k, v in value.items()}
    if callable(value):
        name = getattr(value, "__qualname__", None) or type(value).__qualname__
        return {"type": "function", "name": name}
    long = isinstance(value, list | tuple | dict | set | frozenset)  # (shorter ones are above)
    text = _SHORT.repr(value) if long else repr(value)
    out = {
        "type": type(value).__qualname__,
        "repr": text if len(text) <= 120 else text[:117] + "...",
    }
    if long:
        out["len"] = len(value)
    return out
