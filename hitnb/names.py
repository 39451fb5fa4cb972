"""How users name functions: with or without their module (``train``, ``__main__.train``).

Plain string rules, used by every layer (store, hashing, core, views).
"""

from __future__ import annotations


def display_name(function: str) -> str:
    """A function's identity as shown: without ``__main__.`` for notebook functions."""
    return function.removeprefix("__main__.")


def names_function(name: str, function: str) -> bool:
    """Whether ``name`` refers to the stored identity ``function``: the identity itself, its
    display name, or its last component (``train`` for ``experiments.models.train``)."""
    return name in (function, display_name(function)) or function.rpartition(".")[2] == name
