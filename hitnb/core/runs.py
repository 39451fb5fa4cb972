"""What users get back about stored calls: :class:`Run` records and :class:`Lazy` handles."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from hitnb.core.record import result_of
from hitnb.core.run_files import RunFiles
from hitnb.store.codecs import without_references
from hitnb.store.local import Entry, LocalStore

_UNSET: Any = object()


class Lazy:
    """A stored result that is read from the store the first time ``.value`` is used.

    ``@memo(lazy=True)`` returns these, so a pipeline can pass large results along
    without loading the ones nobody reads (Curifactory's ``Lazy``).
    """

    def __init__(self, key: str, store: LocalStore, *, mmap: bool = False, value: Any = _UNSET):
        self.key = key
        self._store = store
        self._mmap = mmap
        self._value = value
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._value is not _UNSET

    @property
    def value(self) -> Any:
        """The result, loaded (once) on first use."""
        if self._value is _UNSET:
            with self._lock:
                if self._value is _UNSET:
                    entry = self._store.get(self.key)
                    if entry is None:
                        from hitnb.errors import UnknownKeyError

                        raise UnknownKeyError(self.key, str(self._store.root))
                    with without_references():  # (see there)
                        self._value = result_of(self._store.load(entry, mmap=self._mmap))
        return self._value

    def load(self) -> Any:
        """Same as ``.value``."""
        return self.value

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "not loaded"
        return f"<hitnb.Lazy {self.key} ({state})>"


@dataclass
class Run:
    """One stored call of a memoized function or experiment; the value loads on demand."""

    key: str
    function: str
    arguments: dict[str, Any]
    created: dt.datetime
    duration: float
    experiment: bool
    hits: int
    size: int
    codec: str
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    series: dict[str, list[list[float]]] = field(default_factory=dict, repr=False)
    error: str | None = field(default=None, repr=False)
    code: str = field(default="", repr=False)
    """The code version: runs with the same code share it."""
    origin: str = field(default="", repr=False)
    files: RunFiles = field(default_factory=RunFiles, repr=False)
    """The files the run read and wrote."""
    _store: LocalStore | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_entry(cls, entry: Entry, store: LocalStore) -> Run:
        return cls(
            key=entry.key,
            function=entry.function,
            arguments=entry.params,
            created=dt.datetime.fromtimestamp(entry.created).astimezone(),
            duration=entry.duration,
            experiment=entry.experiment,
            hits=entry.hits,
            size=entry.size,
            codec=entry.codec,
            status=entry.status,
            metrics=entry.metrics,
            series=entry.series,
            error=entry.error,
            code=entry.code,
            origin=entry.origin,
            files=RunFiles.from_parts(entry.parts),
            _store=store,
        )

    @property
    def value(self) -> Any:
        """The stored result, read from the store now."""
        return self.load()

    def load(self, *, mmap: bool = False) -> Any:
        assert self._store is not None
        return Lazy(self.key, self._store, mmap=mmap).value
