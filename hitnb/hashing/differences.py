"""Why two keys of one function differ, in words: "helper `clean` changed".

Keys keep their parts (:class:`~hitnb.hashing.keys.KeyParts`), so comparing a
new call's parts with a stored entry's names each difference: code, helpers,
classes, globals (with old and new values when they are small scalars), closures,
package versions, arguments, Python, the manual version and the seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hitnb.hashing.keys import CODE, Dependency, KeyParts
from hitnb.names import display_name

_NOUNS = {
    "function": "helper",
    "class": "class",
    "global": "global",
    "closure": "closure variable",
    "defaults": "default arguments of",
    "attribute": "class attribute",
    "module": "module",
    "partial": "partial",
    "instance": "bound instance of",
    "wrapped": "function wrapped by",
}
_EXTRAS = {
    "python": "Python",
    "version": "version",
    "seed": "seed",
    "records": "the version of hitnb's cell records",
}


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _change(old: Any, new: Any) -> str:
    return f" {old} -> {new}" if old is not None and new is not None else ""


def _dependency_change(
    dependency: Dependency, old: str | None, new: str | None, shown: tuple[Any, Any]
) -> str:
    kind, name = dependency
    if kind == CODE:
        return "its code changed"
    if kind == "package":
        if old is None:
            return f"now uses {name} {new}"
        if new is None:
            return f"no longer uses {name}"
        return f"{name} {old} -> {new}"
    if kind == "missing":
        return f"`{display_name(name)}` is {'now defined' if new is None else 'no longer defined'}"
    noun = _NOUNS.get(kind, kind)
    if old is None:
        return f"now uses {noun} `{display_name(name)}`"
    if new is None:
        return f"no longer uses {noun} `{display_name(name)}`"
    return f"{noun} `{display_name(name)}` changed{_change(*shown)}"


def differences(
    old: KeyParts,
    old_params: Mapping[str, Any],
    new: KeyParts,
    new_params: Mapping[str, Any],
    *,
    noun: str = "argument",
) -> list[str]:
    """What differs between two keys' parts, most telling first.

    ``noun`` names what the ``args`` part holds: arguments of a function, inputs of a cell.
    """
    reasons: list[str] = []
    old_deps, new_deps = old.deps, new.deps
    code_first = sorted(set(old_deps) | set(new_deps), key=lambda label: (label != CODE, label))
    for label in code_first:
        a, b = old_deps.get(label), new_deps.get(label)
        if a != b:
            shown = (old.shown.get(label), new.shown.get(label))
            reasons.append(_dependency_change(Dependency.from_label(label), a, b, shown))
    old_args, new_args = old.args, new.args
    for name in [*new_args, *(n for n in old_args if n not in new_args)]:
        if old_args.get(name) == new_args.get(name):
            continue
        before, after = old_params.get(name), new_params.get(name)
        if name not in old_args or name not in new_args:
            reasons.append(f"{noun} `{name}` {'added' if name in new_args else 'removed'}")
        elif _scalar(before) and _scalar(after):
            reasons.append(f"{noun} `{name}` changed {before!r} -> {after!r}")
        else:
            reasons.append(f"{noun} `{name}` changed")
    old_extras, new_extras = old.extras, new.extras
    for name in sorted(set(old_extras) | set(new_extras)):
        a, b = old_extras.get(name), new_extras.get(name)
        if a != b:
            reasons.append(f"{_EXTRAS.get(name, name)} {a} -> {b}")
    return reasons
