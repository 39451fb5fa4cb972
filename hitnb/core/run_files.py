"""The files a run read and wrote, as its entry keeps them for people to see.

The hit checks files from the stored :class:`~hitnb.core.record.RunRecord` (which holds
written content). The entry's parts keep a summary without content, so ``hitnb why``,
``hitnb show``, ``f.explain(...)``, the experiment table and exported notebooks can say
which files a run read (path, size, modification time, content digest) and wrote (path,
size, digest), and whether the files read are still as the run read them, without loading
the stored result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hitnb.core import files
from hitnb.core.files import ABSENT, LINK, STAT_ONLY, FileRead, FileWrite, shown

UNKNOWN = ""
"""The digest of a read whose summary holds only its path (kept so by earlier versions)."""


@dataclass(frozen=True)
class FileWritten:
    """A file a run wrote, without its content."""

    path: str
    size: int
    digest: str


@dataclass(frozen=True)
class RunFiles:
    """What a run read and wrote, as its entry keeps it."""

    read: tuple[FileRead, ...] = ()
    written: tuple[FileWritten, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.read or self.written)

    @classmethod
    def of(cls, read: Iterable[FileRead], written: Iterable[FileWrite]) -> RunFiles:
        return cls(
            tuple(read),
            tuple(FileWritten(w.path, len(w.content), w.digest) for w in written),
        )

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        """One record per file (``hitnb show --json``)."""
        return {
            "read": [_read_json(r) for r in self.read],
            "written": [{"path": w.path, "size": w.size, "digest": w.digest} for w in self.written],
        }

    def to_parts(self) -> dict[str, dict[str, list[Any]]]:
        """As kept with the entry's parts: a column per field, which encodes several times
        faster than a record per file (a run may read thousands, and every miss pays)."""
        read, written = self.read, self.written
        return {
            "read": {
                "path": [r.path for r in read], "size": [r.size for r in read],
                "mtime_ns": [r.mtime_ns for r in read], "digest": [r.digest for r in read],
                "folder": [r.folder for r in read], "ctime_ns": [r.ctime_ns for r in read],
            },
            "written": {
                "path": [w.path for w in written], "size": [w.size for w in written],
                "digest": [w.digest for w in written],
            },
        }  # fmt: skip

    @classmethod
    def from_parts(cls, parts: dict[str, Any]) -> RunFiles:
        """The files kept with an entry's parts (none when the run touched none)."""
        data = parts.get("files") or {}
        read, written = data.get("read", ()), data.get("written", ())
        if isinstance(read, dict):
            read = [dict(zip(read, row, strict=True)) for row in zip(*read.values(), strict=True)]
        if isinstance(written, dict):
            columns = written.values()
            written = [dict(zip(written, row, strict=True)) for row in zip(*columns, strict=True)]
        return cls.from_json({"read": read, "written": written})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunFiles:
        """From :meth:`to_json`'s records (or paths alone, as earlier versions kept them)."""
        return cls(
            tuple(_read_of(item) for item in data.get("read", ())),
            tuple(_written_of(item) for item in data.get("written", ())),
        )

    def changed(self) -> list[str]:
        """How the files read differ here and now from what the run read ("file data.csv
        changed", "file data.csv is gone"): a hit would run the call again for any of them."""
        reasons = []
        for read in self.read:
            if read.digest != UNKNOWN:
                reason = files.unmet([read])
                if reason is not None:
                    reasons.append(reason)
        return reasons

    def lines(self) -> list[str]:
        """One line per file: ``read data.csv (12 bytes, xxh3 1a2b3c4d5e6f)``."""
        return [
            *(describe_read(r) for r in self.read),
            *(describe_written(w) for w in self.written),
        ]


def size_text(size: int) -> str:
    return f"{size:,} byte{'' if size == 1 else 's'}"


def digest_text(digest: str) -> str:
    if digest == STAT_ONLY:
        return "compared by size and time only"
    if digest == ABSENT:
        return "not there"
    if digest.startswith(LINK):
        return f"a link to {digest.removeprefix(LINK)}"
    return f"xxh3 {digest[:12]}"


def describe_read(read: FileRead) -> str:
    if read.folder:
        return f"listed folder {shown(read.path)}"
    if read.digest == UNKNOWN:
        return f"read {shown(read.path)}"
    if read.digest == ABSENT:
        return f"looked for {shown(read.path)} (not there)"
    return f"read {shown(read.path)} ({size_text(read.size)}, {digest_text(read.digest)})"


def describe_written(written: FileWritten) -> str:
    if written.digest == UNKNOWN:
        return f"wrote {shown(written.path)}"
    return f"wrote {shown(written.path)} ({size_text(written.size)}, xxh3 {written.digest[:12]})"


def _read_json(read: FileRead) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": read.path, "size": read.size, "mtime_ns": read.mtime_ns, "digest": read.digest,
    }  # fmt: skip
    if read.folder:
        data["folder"] = True
    if read.ctime_ns:
        data["ctime_ns"] = read.ctime_ns
    return data


def _read_of(item: Any) -> FileRead:
    if isinstance(item, str):
        return FileRead(item, 0, 0, UNKNOWN)
    return FileRead(
        str(item["path"]), int(item["size"]), int(item["mtime_ns"]), str(item["digest"]),
        folder=bool(item.get("folder", False)), ctime_ns=int(item.get("ctime_ns", 0)),
    )  # fmt: skip


def _written_of(item: Any) -> FileWritten:
    if isinstance(item, str):
        return FileWritten(item, 0, UNKNOWN)
    return FileWritten(str(item["path"]), int(item["size"]), str(item["digest"]))
