"""Errors and warnings raised by hitnb.

Every error says what went wrong and what to do about it; every warning is a
subclass of :class:`HitnbWarning` so users can filter them as one family.
"""

from __future__ import annotations


class HitnbError(Exception):
    """Base class of every error hitnb raises on purpose."""


class ConfigError(HitnbError, ValueError):
    """A setting has a value hitnb cannot use."""


class UnhashableArgumentError(HitnbError, TypeError):
    """An argument's value cannot be hashed deterministically.

    Raised instead of silently giving two different values the same key.
    """

    def __init__(
        self,
        argument: str,
        value_type: str,
        reason: str,
        function: str = "",
        path: str = "",
        *,
        kind: str = "argument",
    ) -> None:
        self.argument = argument
        self.value_type = value_type
        self.reason = reason
        where = (
            (" of " if kind == "argument" else " read by ") + f"{function}()" if function else ""
        )
        inside = f" at {argument}{path}" if path else ""
        if kind == "reader":  # `globals()`, `eval`: the value is every name of a module
            super().__init__(
                f"{function}() cannot be keyed: {reason}, so its key would miss the names "
                f"it reads. Pass what it reads as arguments, or, if that never changes, "
                f"leave it out of the cache key with ignore=({argument!r},)."
            )
            return
        super().__init__(
            f"{kind} {argument!r}{where} holds a value of type {value_type}{inside} that cannot "
            f"be hashed deterministically ({reason}). Pass a hashable value, register a hasher "
            f"for the type with hitnb.register_hasher(...), or leave the {kind} out of the "
            f"cache key with ignore=({argument!r},)."
        )


class UnknownKeyError(HitnbError, KeyError):
    """No entry with that key is in the store."""

    def __init__(self, key: str, store: str) -> None:
        self.key = key
        super().__init__(
            f"no entry with key {key!r} in the store at {store}; list stored entries with "
            f"`hitnb ls` (or `hitnb.runs()` in Python)"
        )

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return str(self.args[0])


class CodecError(HitnbError):
    """A value could not be encoded or decoded by its codec."""


class StaleReferenceError(CodecError):
    """A stored value refers to a name, or a part of one, that the namespace does not hold
    as it did when the value was stored: the stored run is stale here, not broken."""


class CorruptEntryError(HitnbError):
    """A stored blob or manifest does not match its checksum or cannot be read."""


class HitnbWarning(UserWarning):
    """Base class of every warning hitnb emits."""


class StoreWriteWarning(HitnbWarning):
    """A result was computed and returned but could not be stored."""


class CorruptEntryWarning(HitnbWarning):
    """A stored entry was found corrupt; it was dropped and will be recomputed."""
