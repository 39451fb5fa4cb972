"""A cell run whose outputs no codec could store, remembered so that later runs do not try.

Learning that an output cannot be stored costs encoding the outputs (pickle, then dill) and,
to name the one that fails, each of them again: for a state-space model's simulation results,
100 to 200 ms against 26 ms for the cell itself, in every new session. So the engine stores an
:class:`Unstorable` in the run's place. A later run of the same cell (the same code and
inputs) finds it, runs the cell, stores nothing and says what the first run said.

It holds the versions of the libraries whose objects could not be stored: when one of them
changes (a release may make its objects picklable), the cell is run and stored as a new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hitnb.hashing.code import library_versions


@dataclass(frozen=True)
class Unstorable:
    """Stored in place of a cell run whose outputs could not be stored."""

    note: str
    """What the run said: which output cannot be stored."""
    modules: tuple[str, ...] = ()
    """The modules of the objects that could not be stored."""
    versions: dict[str, str] = field(default_factory=dict)
    """The versions of the libraries behind :attr:`modules` then, by distribution."""

    @classmethod
    def of(cls, note: str, modules: Iterable[str]) -> Unstorable:
        named = tuple(sorted(set(modules)))
        return cls(note, named, library_versions(named, "patch"))

    def holds(self) -> bool:
        """Whether the libraries are as they were, so storing would fail the same way."""
        return library_versions(self.modules, "patch") == self.versions


__all__ = ["Unstorable"]
