"""The SQLite index of entries: one row per stored call, queried without loading blobs.

WAL mode lets many kernels read while one writes; each thread has its own
connection and a forked child opens new ones. Hits are counted in memory and
written in batches, so a hit costs a point query and no write transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

SCHEMA_VERSION = 2
_HIT_FLUSH_SECONDS = 2.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    function TEXT NOT NULL,
    code TEXT NOT NULL,
    args TEXT NOT NULL,
    codec TEXT NOT NULL,
    codec_meta TEXT NOT NULL DEFAULT '{}',
    blob TEXT,
    inline BLOB,
    checksum TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    duration REAL NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    last_access REAL NOT NULL,
    experiment INTEGER NOT NULL DEFAULT 0,
    params TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}',
    parts TEXT NOT NULL DEFAULT '{}',
    origin TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'ok',
    error TEXT,
    series TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS entries_by_function ON entries (function, created);
CREATE INDEX IF NOT EXISTS entries_by_access ON entries (last_access);
CREATE INDEX IF NOT EXISTS entries_by_blob ON entries (blob);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS recipes (key TEXT PRIMARY KEY, recipe TEXT NOT NULL);
"""

_JSON_FIELDS = ("codec_meta", "params", "metrics", "parts", "series")
_ADDED_COLUMNS = {"series": "series TEXT NOT NULL DEFAULT '{}'"}  # by schema version 2
COLUMNS = (
    "key", "function", "code", "args", "codec", "codec_meta", "blob", "inline", "checksum",
    "size", "created", "duration", "hits", "last_access", "experiment", "params", "metrics",
    "parts", "origin", "status", "error", "series",
)  # fmt: skip


class Stored(NamedTuple):
    """The part of an entry needed to load its value: what a hit reads from the index."""

    key: str
    codec: str
    codec_meta_json: str
    blob: str | None
    inline: bytes | None
    checksum: str
    size: int
    status: str

    @property
    def codec_meta(self) -> dict[str, Any]:
        if self.codec_meta_json == "{}":
            return {}
        meta: dict[str, Any] = json.loads(self.codec_meta_json)
        return meta


class Listed(NamedTuple):
    """One line of a listing."""

    key: str
    function: str
    created: float
    duration: float
    size: int
    hits: int
    experiment: int
    status: str


_STORED_SQL = f"SELECT {', '.join(Stored._fields).replace('_json', '')} FROM entries WHERE key = ?"


_open_indexes: weakref.WeakSet[Index] = weakref.WeakSet()


def _after_fork() -> None:
    for index in list(_open_indexes):
        index._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork)


@dataclass
class Entry:
    """One stored call: what was called, how it was stored, and what it cost."""

    key: str
    function: str
    code: str
    args: str
    codec: str
    checksum: str
    size: int
    created: float
    duration: float
    blob: str | None = None
    inline: bytes | None = None
    codec_meta: dict[str, Any] = field(default_factory=dict)
    hits: int = 0
    last_access: float = 0.0
    experiment: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    status: str = "ok"
    error: str | None = None
    series: dict[str, list[list[float]]] = field(default_factory=dict)
    """Metric series logged during the call: name -> [[step, value], ...]."""

    def fields(self) -> dict[str, Any]:
        """The entry as a flat dict (``dataclasses.asdict`` would deep-copy every value)."""
        return {name: getattr(self, name) for name in COLUMNS}

    def row(self) -> tuple[Any, ...]:
        values = self.fields()
        for name in _JSON_FIELDS:
            values[name] = json.dumps(values[name], default=str)
        values["experiment"] = int(self.experiment)
        return tuple(values[c] for c in COLUMNS)

    @classmethod
    def from_row(cls, row: Iterable[Any]) -> Entry:
        values = dict(zip(COLUMNS, row, strict=True))
        for name in _JSON_FIELDS:
            values[name] = json.loads(values[name] or "{}")
        values["experiment"] = bool(values["experiment"])
        return cls(**values)


class Index:
    """The ``index.sqlite`` of a store."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        """On a read-only file system: opened immutable; writes raise, hit counts are dropped."""
        self._local = threading.local()
        self._hits: dict[str, tuple[int, float]] = {}
        self._hits_lock = threading.Lock()
        self._last_flush = time.monotonic()
        _open_indexes.add(self)
        if not read_only:
            self.conn.executescript(_SCHEMA)  # idempotent; executescript commits by itself
            self._migrate()

    # -- connections ----------------------------------------------------------------------
    def _migrate(self) -> None:
        """Bring an index written by an older hitnb up to this schema (columns only grow)."""
        present = {row[1] for row in self.conn.execute("PRAGMA table_info(entries)")}
        with self.transaction() as conn:
            for name, definition in _ADDED_COLUMNS.items():
                if name not in present:
                    conn.execute(f"ALTER TABLE entries ADD COLUMN {definition}")
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection; a forked child gets new ones (see :func:`_after_fork`)."""
        try:
            conn: sqlite3.Connection = self._local.conn
        except AttributeError:
            conn = self._local.conn = self._connect()
        return conn

    def _forget_after_fork(self) -> None:
        """In a forked child: drop the parent's connections, pending hits and lock state."""
        self._local = threading.local()
        self._hits = {}
        self._hits_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:  # no -wal/-shm can be made, and nobody can change the file
            uri = f"file:{self.path}?immutable=1"
            return sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None)
        existed = self.path.exists()
        conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        if not existed:
            self.path.chmod(0o600)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def close(self) -> None:
        self.flush_hits()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local = threading.local()

    class _Transaction:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def __enter__(self) -> sqlite3.Connection:
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type: object, *_: object) -> None:
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")

    def transaction(self) -> Index._Transaction:
        """A write transaction, taken up front so concurrent writers queue instead of failing."""
        return Index._Transaction(self.conn)

    # -- reads ----------------------------------------------------------------------------
    def get(self, key: str) -> Entry | None:
        row = self.conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM entries WHERE key = ?", (key,)
        ).fetchone()
        return Entry.from_row(row) if row else None

    def find(self, key: str) -> Stored | None:
        """What loading the value of ``key`` needs, in one cheap point query."""
        row = self.conn.execute(_STORED_SQL, (key,)).fetchone()
        return Stored._make(row) if row else None

    def contains(self, key: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM entries WHERE key = ?", (key,)).fetchone() is not None
        )

    def entries(
        self,
        function: str | None = None,
        *,
        experiment: bool | None = None,
        keys: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries, newest first, filtered by function name, experiment flag or keys."""
        where: list[str] = []
        params: list[Any] = []
        if function is not None:
            where.append("function = ?")
            params.append(function)
        if experiment is not None:
            where.append("experiment = ?")
            params.append(int(experiment))
        if keys is not None:
            key_list = list(keys)
            where.append(f"key IN ({', '.join('?' * len(key_list))})")
            params.extend(key_list)
        sql = f"SELECT {', '.join(COLUMNS)} FROM entries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        self.flush_hits()
        sql += " ORDER BY created DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = self.conn.execute(sql, params).fetchall()
        return [Entry.from_row(r) for r in rows]

    def listing(self, *, experiment: bool | None = None) -> list[Listed]:
        """What a listing shows of every entry, newest first: cheap even for 100,000 rows,
        since no JSON column is read."""
        self.flush_hits()
        where = "" if experiment is None else f"WHERE experiment = {int(experiment)}"
        sql = (
            "SELECT key, function, created, duration, size, hits, experiment, status "
            f"FROM entries {where} ORDER BY created DESC"
        )
        return [Listed._make(row) for row in self.conn.execute(sql)]

    def keys_with_prefix(self, prefix: str, *, limit: int = 2) -> list[str]:
        """Keys starting with ``prefix`` (hex digits), at most ``limit`` of them, in order."""
        sql = "SELECT key FROM entries WHERE key >= ? AND key < ? ORDER BY key LIMIT ?"
        return [str(row[0]) for row in self.conn.execute(sql, (prefix, prefix + "g", limit))]

    def blob_in_use(self, blob_id: str) -> bool:
        sql = "SELECT 1 FROM entries WHERE blob = ? LIMIT 1"
        return self.conn.execute(sql, (blob_id,)).fetchone() is not None

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def total_size(self) -> int:
        """Bytes the entries take: inline data, plus each distinct blob once."""
        inline, blobs = self.conn.execute(
            "SELECT (SELECT COALESCE(SUM(size), 0) FROM entries WHERE blob IS NULL),"
            " (SELECT COALESCE(SUM(size), 0) FROM"
            "  (SELECT blob, MAX(size) AS size FROM entries WHERE blob IS NOT NULL GROUP BY blob))"
        ).fetchone()
        return int(inline) + int(blobs)

    def by_function(self) -> list[tuple[str, int, int, int]]:
        """(function, entries, experiments, bytes) for every function, most bytes first."""
        rows = self.conn.execute(
            "SELECT function, COUNT(*), SUM(experiment), SUM(size) FROM entries"
            " GROUP BY function ORDER BY SUM(size) DESC"
        ).fetchall()
        return [(f, int(n), int(e), int(s)) for f, n, e, s in rows]

    def least_recently_used(self, *, include_experiments: bool) -> list[tuple[str, int, float]]:
        """(key, size, last access) of evictable entries, least recently used first."""
        self.flush_hits()
        where = "" if include_experiments else "WHERE experiment = 0"
        sql = f"SELECT key, size, last_access FROM entries {where} ORDER BY last_access, created"
        return [(k, int(s), float(t)) for k, s, t in self.conn.execute(sql).fetchall()]

    # -- writes ---------------------------------------------------------------------------
    def put(self, entry: Entry, recipe: dict[str, Any] | None = None) -> None:
        """Insert or replace one entry (and its recipe) in one transaction."""
        self.put_many([entry], {entry.key: recipe} if recipe is not None else None)

    def put_recipe(self, key: str, recipe: dict[str, Any]) -> None:
        """How to make entry ``key`` again (see :mod:`hitnb.core.recipe`); kept apart from the
        entries so listing them never reads sources."""
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO recipes VALUES (?, ?)", (key, json.dumps(recipe)))

    def recipe(self, key: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT recipe FROM recipes WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put_many(
        self, entries: Iterable[Entry], recipes: dict[str, dict[str, Any]] | None = None
    ) -> None:
        """Insert or replace entries (and recipes, by key) in one transaction."""
        placeholders = ", ".join("?" * len(COLUMNS))
        with self.transaction() as conn:
            sql = f"INSERT OR REPLACE INTO entries ({', '.join(COLUMNS)}) VALUES ({placeholders})"
            conn.executemany(sql, [e.row() for e in entries])
            if recipes:
                conn.executemany(
                    "INSERT OR REPLACE INTO recipes VALUES (?, ?)",
                    [(key, json.dumps(recipe)) for key, recipe in recipes.items()],
                )
        self.flush_hits()

    def delete(self, keys: Iterable[str]) -> list[Entry]:
        """Remove entries; return what was removed so the caller can free their blobs."""
        key_list = list(keys)
        if not key_list:
            return []
        removed = self.entries(keys=key_list)
        with self.transaction() as conn:
            conn.executemany("DELETE FROM entries WHERE key = ?", [(k,) for k in key_list])
            conn.executemany("DELETE FROM recipes WHERE key = ?", [(k,) for k in key_list])
        return removed

    def note_hit(self, key: str) -> None:
        """Count a hit in memory; written with the next write or every couple of seconds."""
        now = time.time()
        with self._hits_lock:
            count = self._hits.get(key, (0, 0.0))[0]
            self._hits[key] = (count + 1, now)
        if time.monotonic() - self._last_flush > _HIT_FLUSH_SECONDS:
            self.flush_hits()

    def flush_hits(self) -> None:
        with self._hits_lock:
            pending, self._hits = self._hits, {}
            self._last_flush = time.monotonic()
        if not pending or self.read_only:
            return
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE entries SET hits = hits + ?, last_access = max(last_access, ?) "
                "WHERE key = ?",
                [(n, t, k) for k, (n, t) in pending.items()],
            )
