"""Content-addressed, immutable blobs: ``objects/ab/cdef...`` named by their xxh3_128.

A blob is written to a temp file, hashed while it is written, and renamed into
place, so a reader never sees half a blob and identical results are stored once.
Every read checks the bytes against the name, a memory-mapped one included: the whole
mapping is hashed once when it is made (xxh3 runs at memory speed, so this costs about
what reading the file once does; what mmap still saves is the copy into the process).
A file verified unchanged since (same inode, size, mtime and ctime) is not hashed again
by the same process.

Small encodings (up to :data:`INLINE_LIMIT` bytes) never become files: they are kept
inline in the entry, which makes a hit one index lookup.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import queue
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from hitnb.errors import CodecError, CorruptEntryError

_verified: dict[str, tuple[int, ...]] = {}
"""Blob id -> the file state (device, inode, size, mtime, ctime) its mapping was verified in."""
_VERIFIED_MAX = 100_000

INLINE_LIMIT = 16 * 1024
FSYNC_THRESHOLD = 1 << 20
CHUNK = 4 << 20
"""Large blobs are hashed and moved in pieces of this size, small enough to stay in cache."""
HELD_COPIES = 64 << 20
"""Bytes a held :class:`BlobWriter` copies (of buffers a codec may reuse) before it
writes through."""
DIR_MODE = 0o700


FILE_MODE = 0o600


_HEX_DIGITS = frozenset("0123456789abcdef")


def is_digest(text: str) -> bool:
    """Whether ``text`` is 32 lowercase hex digits: an xxh3_128 hex digest, which is what blob
    ids and entry keys are (checked before either becomes part of a path)."""
    return len(text) == 32 and _HEX_DIGITS.issuperset(text)


def make_dirs(path: Path) -> None:
    """Create ``path`` and every missing parent, each ``0700`` whatever the umask (``mkdir``
    with ``parents=True`` would give the parents the umask's mode, 0755 or even 0777)."""
    if path.is_dir():
        return
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made by another process meanwhile (it uses this mode too)
        folder.chmod(DIR_MODE)  # a umask only removes bits; make it exactly 0700


def write_private(path: Path, text: str) -> None:
    """Write a small file readable by its owner only (``0600``, whatever the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    path.chmod(FILE_MODE)


@dataclass(frozen=True)
class Encoded:
    """Where the encoded bytes of a result ended up."""

    checksum: str
    size: int
    inline: bytes | None = None

    @property
    def blob(self) -> str | None:
        return None if self.inline is not None else self.checksum


class BlobWriter(io.RawIOBase):
    """A write-only binary file that hashes what it is given.

    It keeps the bytes in memory until they pass :data:`INLINE_LIMIT`, then spills
    them to a temp file in the store. Use :meth:`BlobStore.writer` as a context
    manager: leaving it with an exception removes the temp file.

    A writer made ``held`` writes nothing yet: it keeps what it is given (the codec's
    own buffers, by reference) until :meth:`release`, so a caller that learns from the
    encoded size that it will not store these bytes after all (see
    :meth:`~hitnb.store.local.LocalStore.put`) has not written them to disk. Scratch
    buffers a codec may reuse are copied, up to :data:`HELD_COPIES`; past that the writer
    releases itself and writes through.
    """

    def __init__(self, tmp_dir: Path, *, held: bool = False) -> None:
        super().__init__()
        self._tmp_dir = tmp_dir
        self._hash = xxhash.xxh3_128()
        self._memory: bytearray | None = bytearray()
        self._file: Any = None
        self.temp_path: Path | None = None
        self.size = 0
        self._held: list[memoryview] | None = [] if held else None
        self._copied = 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        n = view.nbytes
        if self._held is not None:
            if isinstance(view.obj, bytearray):  # a scratch buffer the codec may reuse
                view = memoryview(bytes(view))
                self._copied += n
            self._held.append(view)
            self._hash.update(view)
            self.size += n
            if self._copied > HELD_COPIES:
                self.release()
            return n
        if self._memory is not None:
            if self.size + n <= INLINE_LIMIT:
                self._hash.update(view)
                self.size += n
                self._memory += view
                return n
            self._spill()
        # Hash each piece just before writing it, while it is still in the CPU cache: one
        # pass over memory instead of two.
        for start in range(0, n, CHUNK):
            piece = view[start : start + CHUNK]
            self._hash.update(piece)
            self._file.write(piece)
        self.size += n
        return n

    def release(self) -> None:
        """Write what a held writer kept, and write through from now on. Raises
        :class:`~hitnb.errors.CodecError` if the bytes kept by reference changed since the
        codec wrote them (they would not be what was hashed)."""
        held, self._held = self._held, None
        if held is None:
            return
        kept = self._hash.hexdigest()
        self._hash, self.size = xxhash.xxh3_128(), 0
        for view in held:
            self.write(view)
        if self._hash.hexdigest() != kept:
            raise CodecError("the encoded bytes changed while they were being written")

    def writable(self) -> bool:
        return True

    @property
    def inline(self) -> bool:
        """Whether the bytes are small enough to be kept in the entry (no blob file)."""
        return self._memory is not None

    @property
    def checksum(self) -> str:
        """The xxh3_128 of the bytes written so far (the blob's id once committed)."""
        return self._hash.hexdigest()

    def tell(self) -> int:
        return self.size

    def close(self) -> None:
        """Codecs may close their file; the store still owns (and finishes) the write."""

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def _spill(self) -> None:
        make_dirs(self._tmp_dir)
        fd, name = tempfile.mkstemp(dir=self._tmp_dir, prefix=f"{os.getpid()}-", suffix=".part")
        self.temp_path = Path(name)
        self._file = os.fdopen(fd, "wb")
        assert self._memory is not None
        self._file.write(self._memory)
        self._memory = None

    def discard(self) -> None:
        """Remove the temp file, even when closing it fails (a full disk fails the flush
        that closing does: the file must go all the same, or such files fill the disk)."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        if self.temp_path is not None:
            with contextlib.suppress(OSError):
                self.temp_path.unlink(missing_ok=True)


class BlobStore:
    """The ``objects/`` folder of a store."""

    def __init__(self, root: Path) -> None:
        self.objects = root / "objects"
        self.tmp = root / "tmp"

    def path(self, blob_id: str) -> Path:
        if not is_digest(blob_id):
            raise CorruptEntryError(f"{blob_id!r} is not a blob id (32 lowercase hex digits)")
        return self.objects / blob_id[:2] / blob_id[2:]

    @contextlib.contextmanager
    def writer(self, *, held: bool = False) -> Any:
        """Yield a :class:`BlobWriter`; the temp file goes away if the block raises."""
        writer = BlobWriter(self.tmp, held=held)
        try:
            yield writer
        except BaseException:
            writer.discard()
            raise

    def commit(self, writer: BlobWriter) -> Encoded:
        """Finish a write: small results stay inline, large ones are renamed into place."""
        writer.release()
        checksum = writer._hash.hexdigest()
        if writer._memory is not None:
            return Encoded(checksum, writer.size, bytes(writer._memory))
        try:
            writer._file.flush()
            if writer.size >= FSYNC_THRESHOLD:
                os.fsync(writer._file.fileno())
            writer._file.close()
            writer._file = None
            target = self.path(checksum)
            if self._intact(target, checksum, writer.size):
                writer.discard()
            else:  # absent, or damaged: the fresh bytes replace it, so every entry heals
                make_dirs(target.parent)
                assert writer.temp_path is not None
                writer.temp_path.replace(target)
        except BaseException:
            writer.discard()
            raise
        return Encoded(checksum, writer.size)

    @staticmethod
    def _intact(path: Path, blob_id: str, size: int) -> bool:
        """Whether the blob at ``path`` exists and holds exactly the bytes named ``blob_id``
        (read in full: this runs only when a result's bytes are stored already)."""
        try:
            with open(path, "rb", buffering=0) as fh:
                if os.fstat(fh.fileno()).st_size != size:
                    return False
                digest = xxhash.xxh3_128()
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError:
            return False
        return digest.hexdigest() == blob_id

    def write_verified(self, blob_id: str, data: bytes) -> None:
        """Keep bytes fetched from elsewhere as blob ``blob_id``, if they match that name."""
        with self.writer() as writer:
            writer.write(data)
            if writer._hash.hexdigest() != blob_id:
                raise CorruptEntryError(f"blob {blob_id} from the shared store does not match")
            self.commit(writer)

    def read(self, blob_id: str) -> bytearray | memoryview:
        """The blob's bytes, checked against its id.

        Large blobs are read piece by piece into fresh private memory (not zero-filled
        first, unlike a bytearray) while another thread hashes the pieces already read:
        xxh3 releases the GIL, so checking costs little more than reading.
        """
        path = self.path(blob_id)
        try:
            with open(path, "rb", buffering=0) as fh:
                size = os.fstat(fh.fileno()).st_size
                if size < CHUNK:
                    small = bytearray(size)
                    got = fh.readinto(small)
                    if got != size or xxhash.xxh3_128_hexdigest(small) != blob_id:
                        raise CorruptEntryError(f"blob {blob_id} does not match its checksum")
                    return small
                buf = _fresh_memory(size)
                got, checksum = _read_hashing(fh, buf)
        except FileNotFoundError:
            raise CorruptEntryError(f"blob {blob_id} is missing from {self.objects}") from None
        if got != size or checksum != blob_id:
            raise CorruptEntryError(f"blob {blob_id} does not match its checksum")
        return buf

    def map(self, blob_id: str, size: int) -> memoryview:
        """A read-only memory map of the blob, after checking its size and its bytes (once
        per file state, see the module's docstring)."""
        path = self.path(blob_id)
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                if st.st_size != size:
                    raise CorruptEntryError(
                        f"blob {blob_id} has {st.st_size} bytes, expected {size}"
                    )
                if size == 0:
                    return memoryview(b"")
                mapped = memoryview(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))
        except FileNotFoundError:
            raise CorruptEntryError(f"blob {blob_id} is missing from {self.objects}") from None
        state = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if _verified.get(blob_id) != state:
            if xxhash.xxh3_128_hexdigest(mapped) != blob_id:
                mapped.release()
                raise CorruptEntryError(f"blob {blob_id} does not match its checksum")
            if len(_verified) >= _VERIFIED_MAX:
                _verified.clear()
            _verified[blob_id] = state
        return mapped

    def exists(self, blob_id: str) -> bool:
        return self.path(blob_id).exists()

    def delete(self, blob_id: str) -> None:
        self.path(blob_id).unlink(missing_ok=True)

    def ids(self) -> list[str]:
        """Every blob id present on disk."""
        if not self.objects.is_dir():
            return []
        return [p.parent.name + p.name for p in self.objects.glob("??/*") if len(p.name) == 30]


def _fresh_memory(size: int) -> memoryview:
    """``size`` writable bytes of private anonymous memory, in huge pages where the kernel
    allows (a shared mapping, mmap's default, faults in each 4 KiB page at twice the cost)."""
    mapping = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | getattr(mmap, "MAP_ANONYMOUS", 0))
    with contextlib.suppress(AttributeError, OSError):
        mapping.madvise(mmap.MADV_HUGEPAGE)
    return memoryview(mapping)


def _read_hashing(fh: Any, buf: memoryview) -> tuple[int, str]:
    """Fill ``buf`` from ``fh`` in :data:`CHUNK` pieces, each hashed by a helper thread
    while the next is read; the bytes read and their xxh3_128."""
    hasher = xxhash.xxh3_128()
    pieces: queue.SimpleQueue[memoryview | None] = queue.SimpleQueue()

    def hash_pieces() -> None:
        while (piece := pieces.get()) is not None:
            hasher.update(piece)

    worker = threading.Thread(target=hash_pieces, name="hitnb-blob-check", daemon=True)
    worker.start()
    got = 0
    try:
        while got < len(buf):
            count = fh.readinto(buf[got : got + CHUNK])
            if not count:
                break
            pieces.put(buf[got : got + count])
            got += count
    finally:
        pieces.put(None)
        worker.join()
    return got, hasher.hexdigest()
