"""Data files as reads and effects of a run, with nothing for the user to declare.

While a run executes, an audit hook (installed once, filtered in C when the package was
built with a compiler: ``_file_events.c`` says why) sees every ``open`` made by the run's
thread: Python's ``open``, ``pathlib``, ``io``, and the numpy,
pandas, json and pickle readers built on them, plus directory listings (``os.listdir``,
``os.scandir``, ``glob``). Readers written in C or C++ (pyarrow's own IO, h5py) are not
seen; paths the host names (a cell's string literals, a function's path arguments, declared
``files=``) that point at existing files are added for them.

After the run, each file read is a :class:`FileRead` (path, size, mtime_ns, content digest;
a directory by the digest of its listing) and each file written is a :class:`FileWrite` (its
content). A hit checks the reads, by ``stat`` first and by content only when size or mtime
moved (so a ``touch`` or an identical rewrite still hits), and puts back a written file that
is missing or changed.

A file opened for appending is a log, neither read nor written as far as the key goes: its
lines are what runs leave behind, not a result to put back. What never counts: files under
the interpreter's prefixes (site-packages, the standard
library), ``__pycache__``, caches and configuration of libraries (``~/.cache``,
``~/.config``, ``~/.ipython``, matplotlib's folders, fonts), ``/proc``, ``/dev``, ``/sys``,
``/etc``, ``/usr``, the store itself, and temporary files the run created and deleted.
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import importlib
import importlib.abc
import importlib.machinery
import itertools
import linecache
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from stat import S_ISDIR, S_ISLNK, S_ISREG
from typing import Any, cast

import xxhash

KEEP_WRITTEN_LIMIT = 256 * 2**20
"""Largest written file whose content is kept to put back on a hit; a run that writes a
bigger one is not cached (a hit could not leave the file as the run did)."""
_CHUNK = 4 * 2**20
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


@dataclass(frozen=True)
class FileRead:
    """A file or folder a run read, as it was then."""

    path: str
    size: int
    mtime_ns: int
    digest: str
    folder: bool = False
    ctime_ns: int = 0
    """When its inode last changed (0: not known, in records made before it was kept).
    A file replaced by one of the same size and mtime (extracted from an archive whose
    members carry one mtime, copied with ``cp -p``) has another: its content decides."""


@dataclass(frozen=True)
class FileWrite:
    """A file a run wrote, with its content as the run left it."""

    path: str
    digest: str
    content: bytes


@dataclass
class _Observed:
    read: dict[str, None] = field(default_factory=dict)
    written: dict[str, None] = field(default_factory=dict)
    listed: dict[str, None] = field(default_factory=dict)
    named: dict[str, None] = field(default_factory=dict)
    """Paths given to readers that open files in C (:data:`READERS`)."""
    missing: dict[str, None] = field(default_factory=dict)
    """Paths the run looked for and did not find (``os.path.exists``, ``Path.is_file``)."""


enabled = True
"""Whether runs' files are observed at all; benchmarks switch it off to measure what
observing costs (not a setting: a run's files are part of what it depends on)."""

_observing: ContextVar[_Observed | None] = ContextVar("hitnb_files", default=None)
_hook_lock = threading.Lock()
hook: str | None = None
"""How the audit hook was installed: ``"compiled"`` (the events filtered in C, by
``hitnb/core/_file_events.c``, built when the package is installed), ``"python"`` (no
compiler then: every audited event of the process calls :func:`_audit`), or None (not
yet: installed by the first run observed)."""

compiled_hook = True
"""Whether the hook filtered in C is used when it is built; benchmarks and tests switch it
off, before the first run, to compare the two (not a setting: both see the same files)."""

_EVENTS = ("open", "os.listdir", "os.scandir", "glob.glob", "sqlite3.connect")
"""The audit events :func:`_audit` looks at."""


def _audit(event: str, args: tuple[Any, ...]) -> None:
    observed = _observing.get()
    if observed is None:
        return
    if event == "open":
        path, mode, flags = args  # this runs for every file the run opens: kept lean
        if isinstance(path, int):
            return
        name = path if isinstance(path, str) else os.fsdecode(path)
        if mode:
            if "a" in mode:
                return  # a log the run appends to: its lines are not the run's result
            writes = "w" in mode or "x" in mode or "+" in mode
        else:
            if flags & os.O_APPEND:
                return
            writes = bool(flags & _WRITE_FLAGS)
        (observed.written if writes else observed.read)[name] = None
    elif event in ("os.listdir", "os.scandir"):
        where = args[0]
        if where is not None and not isinstance(where, int) and not _importing():
            observed.listed[os.fsdecode(where)] = None
    elif event == "sqlite3.connect":
        database = args[0]
        if isinstance(database, str | bytes | os.PathLike) and os.fsdecode(database) not in (
            "",
            ":memory:",
        ):
            observed.named[os.fsdecode(database)] = None  # read and written in C
    elif event == "glob.glob":
        pattern = os.fsdecode(args[0])
        if glob.has_magic(pattern):
            observed.listed[os.path.dirname(pattern) or "."] = None
        else:
            observed.read[pattern] = None  # a plain name: that file, not its folder


def _importing() -> bool:
    """Whether the listing being made is the import system's, not the run looking at a
    folder: the import system filling its cache of a folder on ``sys.path`` (a first
    import in the run), or ``importlib.metadata`` looking through every folder on
    ``sys.path`` for installed packages (a library finding its plugins: scikit-learn does,
    through narwhals, the first time it is given pandas data). The notebook's own folder
    is on ``sys.path`` in a kernel: counted, such a listing made the cell run again as soon
    as the notebook saved a file next to itself."""
    try:
        frame = sys._getframe(2)  # _importing <- _audit <- whoever called os.listdir
    except ValueError:
        return False
    if frame.f_code.co_filename.startswith("<frozen importlib"):
        return True
    return str(frame.f_globals.get("__name__", "")).startswith(_PACKAGE_DISCOVERY)


_PACKAGE_DISCOVERY = ("importlib.metadata", "importlib_metadata")
"""Modules (the standard library's, and its backport) whose listings look for packages."""


_stat = os.stat


def _stat_noting_misses(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
    """``os.stat``, noting a path it does not find for the run observed: Python raises no
    audit event for a ``stat``, through which ``os.path.exists``, ``os.path.isfile`` and
    ``Path.exists`` ask whether a file is there."""
    try:
        return _stat(path, *args, **kwargs)
    except FileNotFoundError:
        observed = _observing.get()
        if (
            observed is not None
            and isinstance(path, str | bytes | os.PathLike)
            and not _asked_by_hitnb()
        ):
            observed.missing[os.fsdecode(path)] = None
        raise


def _asked_by_hitnb() -> bool:
    """Whether hitnb's own code asked (directly, or through ``os.path`` or ``pathlib``): a
    cell's file name it looks up to store a definition is not a file the run read."""
    frame: Any = sys._getframe(2)  # _asked_by_hitnb <- _stat_noting_misses <- the caller
    while frame is not None and frame.f_globals.get("__name__") in _PATH_MODULES:
        frame = frame.f_back
    return frame is not None and str(frame.f_globals.get("__name__", "")).startswith(_NOT_READS)


_PATH_MODULES = frozenset({"genericpath", "posixpath", "ntpath", "os", "pathlib"})
"""Modules through which code asks ``os.stat`` whether a path is there."""

_NOT_READS = ("hitnb.", "linecache", "traceback", "IPython.", "importlib")
"""Callers whose look-ups are not the run's: hitnb's own, and source looked up for a
traceback or a definition (``linecache`` tries a cell's name as a file)."""


def _install_hook() -> None:
    """Install the audit hook, for the life of the process (audit hooks cannot go), and
    the ``os.stat`` that notes what a run looked for and did not find."""
    global hook
    with _hook_lock:
        if hook is not None:
            return
        for supports in (os.supports_dir_fd, os.supports_fd, os.supports_follow_symlinks):
            if _stat in supports:  # (shutil asks `os.stat in os.supports_follow_symlinks`)
                supports.add(_stat_noting_misses)
        os.stat = _stat_noting_misses
        sys.meta_path.insert(0, _ReadersImported())
        install = _compiled_install() if compiled_hook else None
        if install is not None:
            try:
                install(_audit, _EVENTS)
                hook = "compiled"
                return
            except RuntimeError:  # a subinterpreter: the process's C hook serves the first
                pass  # interpreter only, so this one gets a hook of its own
        sys.addaudithook(_audit)
        hook = "python"


_Hook = Callable[[str, tuple[Any, ...]], None]


def _compiled_install() -> Callable[[_Hook, tuple[str, ...]], None] | None:
    """``install(callback, events)`` of the C filter (``_file_events.c``), or None when the
    package was installed without a C compiler. Imported by name: a compiled module has no
    source for import-linter to read."""
    try:
        module = importlib.import_module("hitnb.core._file_events")
    except ImportError:
        return None
    return cast(Callable[[_Hook, tuple[str, ...]], None], module.install)


READERS = (
    ("pyarrow.parquet", "read_table"),
    ("pyarrow.dataset", "dataset"),
    ("pyarrow.feather", "read_table"),
    ("pyarrow.orc", "read_table"),
)
"""Functions that open the files they are given in C, unseen by the audit hook, and the
modules holding them: ``pd.read_parquet(f"data/{name}.parquet")`` in a helper reads a file
no code of the cell names. While a run is observed, the path each is given is noted
(pandas' ``read_parquet`` and ``read_feather`` call the first three). ``sqlite3.connect``
raises an audit event of its own."""


class _ReadersImported(importlib.abc.MetaPathFinder):
    """Wraps :data:`READERS` as their modules are imported: pandas imports pyarrow's the
    first time it reads Parquet, inside the run that reads it, too late for
    :func:`_note_readers` at the start of that run."""

    modules = frozenset(module for module, _ in READERS)

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in self.modules:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = getattr(spec, "loader", None)
        run = getattr(loader, "exec_module", None)
        if spec is None or run is None:
            return None

        def exec_module(module: Any) -> None:
            run(module)
            _note_readers()

        loader.exec_module = exec_module  # type: ignore[union-attr]
        return spec


def _note_readers() -> None:
    """Wrap each of :data:`READERS` whose module is imported (again, after a reload)."""
    for module_name, name in READERS:
        module = sys.modules.get(module_name)
        reader = getattr(module, name, None) if module is not None else None
        if callable(reader) and not getattr(reader, "_hitnb_notes_paths", False):
            setattr(module, name, _noting_paths(reader))


def _noting_paths(reader: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(reader)
    def noting(*args: Any, **kwargs: Any) -> Any:
        observed = _observing.get()
        if observed is not None:
            source = args[0] if args else kwargs.get("source")
            for path in source if isinstance(source, list | tuple) else (source,):
                if isinstance(path, str | os.PathLike):
                    observed.named[os.fsdecode(path)] = None
        return reader(*args, **kwargs)

    noting._hitnb_notes_paths = True  # type: ignore[attr-defined]
    return noting


@contextmanager
def observing() -> Iterator[_Observed]:
    """Record the files the block opens (in this thread and context). A run inside another
    (a memoized call in a cell) passes what it read and wrote up to it: the other run's hit
    does not make the call, so it must check those files itself."""
    observed = _Observed()
    if not enabled:
        yield observed
        return
    _install_hook()
    _note_readers()
    token = _observing.set(observed)
    try:
        yield observed
    finally:
        _observing.reset(token)
        outer = _observing.get()
        if outer is not None:
            outer.read.update(observed.read)
            outer.written.update(observed.written)
            outer.listed.update(observed.listed)
            outer.missing.update(observed.missing)
            outer.named.update(observed.named)


def pass_up(reads: Iterable[FileRead]) -> None:
    """A stored run served inside another run: the files it read are the other run's
    reads too (before, a cell whose memoized call was a hit kept its result when the
    call's file changed)."""
    outer = _observing.get()
    if outer is not None:
        for read in reads:
            if read.folder:
                kept = outer.named if read.digest.startswith(TREE) else outer.listed
            else:
                kept = outer.missing if read.digest == ABSENT else outer.read
            kept[read.path] = None


# -- what counts --------------------------------------------------------------------------------
_roots: dict[tuple[str, bool], tuple[str, ...]] = {}


def _ignored_roots() -> tuple[str, ...]:
    """The folders whose files never count, resolved (once for a home folder, and again
    once matplotlib is imported: its folders join them)."""
    known = (os.path.expanduser("~"), "matplotlib" in sys.modules)
    found = _roots.get(known)
    if found is None:
        found = _roots[known] = _resolved_roots()
    return found


def _resolved_roots() -> tuple[str, ...]:
    home = Path.home()
    roots = {
        sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
        str(home / ".cache"), str(home / ".config"), str(home / ".ipython"),
        str(home / ".matplotlib"), str(home / ".local" / "share" / "jupyter"),
        "/proc", "/dev", "/sys", "/etc", "/usr", "/run", "/var/cache",
    }  # fmt: skip
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:
        for name in ("get_cachedir", "get_configdir"):
            try:
                roots.add(getattr(mpl, name)())
            except Exception:
                continue
    return tuple(os.path.realpath(r) + os.sep for r in roots if r)


class _Counting:
    """The rule of :func:`counts` for one run: its folders resolved once, not for each file."""

    def __init__(self, excluded: Iterable[str]) -> None:
        excluded = tuple(excluded)
        folders = (os.path.realpath(e) + os.sep for e in excluded if not glob.has_magic(e))
        self.prefixes = (*_ignored_roots(), *folders)
        self.patterns = tuple(e for e in excluded if glob.has_magic(e))

    def __call__(self, path: str) -> bool:
        if "__pycache__" in path or path.endswith((".pyc", ".pyo")):
            return False
        if (path + os.sep).startswith(self.prefixes):
            return False
        if not self.patterns:
            return True
        name = os.path.basename(path)
        return not any(fnmatch.fnmatch(path, e) or fnmatch.fnmatch(name, e) for e in self.patterns)


def counts(path: str, excluded: Iterable[str] = ()) -> bool:
    """Whether ``path`` (absolute, resolved) is a data file a run's key may depend on.

    ``excluded`` holds folders and glob patterns (the ``exclude_files`` setting, the store)."""
    return _Counting(excluded)(path)


def _digest_file(path: str) -> str:
    hasher = xxhash.xxh3_128()
    fd = os.open(path, os.O_RDONLY)  # not open(): no buffer to set up for a small file
    try:
        while chunk := os.read(fd, _CHUNK):
            hasher.update(chunk)
    finally:
        os.close(fd)
    return hasher.hexdigest()


def _digest_listing(path: str) -> str:
    return xxhash.xxh3_128_hexdigest("\0".join(sorted(os.listdir(path))).encode())


TREE = "tree:"
"""How the digest of a folder named as data begins (:func:`_tree`)."""

TREE_LIMIT = 10_000
"""Files of a folder named as data that count one by one; past them, by name only."""


def _tree(path: str) -> tuple[str, list[str]]:
    """The digest of the names of the files under a folder named as data
    (``pd.read_parquet("data/sales")``: a dataset of part files a reader in C opens,
    unseen), and the first :data:`TREE_LIMIT` of those files, which count as read each
    (its listing alone missed a part rewritten in place)."""
    hasher = xxhash.xxh3_128()
    files: list[str] = []
    seen = 0
    for root, folders, names in os.walk(path, followlinks=True):  # (a partition linked in)
        folders.sort()
        for name in sorted(names):
            full = os.path.join(root, name)
            hasher.update(os.path.relpath(full, path).encode("utf-8", "surrogateescape") + b"\0")
            seen += 1
            if len(files) < TREE_LIMIT:
                files.append(full)
        if seen > 10 * TREE_LIMIT:  # (a link back up, or not a dataset at all)
            break
    return TREE + hasher.hexdigest(), files


def _folder_digest(path: str, digest_was: str) -> str:
    """A folder's digest now, made as ``digest_was`` was (its tree, or its listing)."""
    return _tree(path)[0] if digest_was.startswith(TREE) else _digest_listing(path)


_known: dict[str, tuple[int, int, int, str]] = {}
"""Digests already computed in this process, by path: (size, mtime_ns, ctime_ns, digest)."""


STAT_ONLY = "stat-only"
"""The digest of a file compared by size and mtime alone (``stat_only_above``)."""

LINK = "link:"
"""How the digest of a symbolic link the run opened begins; the file it named follows: a
hit needs the link to name it still (``ln -sf v2/data.csv latest.csv`` is a change)."""

ABSENT = "absent"
"""The digest of a file the run looked for (opened, or asked whether it exists) and did not
find: an optional ``override.json``, ``try: read_csv(p) except FileNotFoundError``. A hit
needs it absent still; created since, it is a change."""


def file_read(
    path: str, stat_only_above: int | None = None, stat: os.stat_result | None = None
) -> FileRead | None:
    """The read of an existing file or folder as it is now (``stat``: its stat, when the
    caller has it); None if it is neither."""
    try:
        stat = os.stat(path) if stat is None else stat
        if S_ISDIR(stat.st_mode):
            return FileRead(path, 0, stat.st_mtime_ns, _digest_listing(path), folder=True)
        if not S_ISREG(stat.st_mode):
            return None
        known = _known.get(path)
        if stat_only_above is not None and stat.st_size > stat_only_above:
            digest = STAT_ONLY
        elif known is not None and known[:3] == (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns):
            digest = known[3]
        else:
            digest = _digest_file(path)
            _known[path] = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, digest)
    except OSError:
        return None
    return FileRead(path, stat.st_size, stat.st_mtime_ns, digest, ctime_ns=stat.st_ctime_ns)


class _Resolver:
    """Absolute paths of the names a run opened from ``cwd``, with their folders' symbolic
    links resolved, each folder once (a run that reads 1,000 files from one folder resolves
    it once, not 1,000 times)."""

    def __init__(self, cwd: str) -> None:
        self.cwd = cwd
        self.folders: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        head, slash, base = name.rpartition(os.sep)
        if base in ("", ".", "..") or name[:1] == "~":
            return os.path.realpath(os.path.join(self.cwd, os.path.expanduser(name)))
        folder = self.folders.get(head)
        if folder is None:
            real = os.path.realpath(os.path.join(self.cwd, head + slash))
            folder = self.folders[head] = real.rstrip(os.sep) + os.sep
        return folder + base  # its last part may be a link: see _target


def reads_and_writes(
    observed: _Observed,
    named: Iterable[str],
    excluded: Iterable[str],
    cwd: str,
    stat_only_above: int | None = None,
) -> tuple[list[FileRead], list[FileWrite]]:
    """What a run read and wrote, from what it opened and the paths its host names.

    Raises :class:`ValueError` naming a written file too large to keep."""
    named = [*named, *observed.named]
    given_to_readers = set(observed.named) - set(observed.listed)
    if not enabled or not (
        observed.read or observed.written or observed.listed or observed.missing or named
    ):
        return [], []
    counting, absolute = _Counting(excluded), _Resolver(cwd)
    written: dict[str, str] = {}  # path: as the run named it
    for name in observed.written:
        path = _target(absolute(name))
        if counting(path):
            written.setdefault(path, _as_named(name, path, absolute))
    writes = []
    for path, named_as in sorted(written.items()):
        if not os.path.isfile(path):
            continue  # a temporary file the run created and deleted
        size = os.path.getsize(path)
        if size > KEEP_WRITTEN_LIMIT:
            raise ValueError(
                f"it wrote {path} ({size >> 20} MiB), larger than hitnb keeps to put back on a "
                f"hit ({KEEP_WRITTEN_LIMIT >> 20} MiB)"
            )
        content = Path(path).read_bytes()
        writes.append(FileWrite(named_as, xxhash.xxh3_128_hexdigest(content), content))
    candidates = [*observed.read, *observed.listed, *named]
    opened = set(candidates)
    reads: dict[str, FileRead] = {}
    for name in [*candidates, *observed.missing]:
        path = absolute(name)
        if path in reads or path in written or not counting(path):
            continue
        try:
            stat = os.lstat(path)
        except FileNotFoundError:
            looked_for = name in observed.read or name in observed.missing
            if looked_for and name not in linecache.cache and path not in linecache.cache:
                # (not a cell's own name, which IPython keeps in linecache: tracebacks and
                # display errors look its source up as a file)
                reads[path] = FileRead(_as_named(name, path, absolute), -1, 0, ABSENT)
            continue
        except OSError:
            continue
        if name in observed.missing and name not in opened:
            continue  # not there when asked, there now: the run made it (`os.makedirs`)
        link = S_ISLNK(stat.st_mode)
        if link:  # the file it names counts, and which file that is
            target = os.path.realpath(path)
            reads[path] = FileRead(_as_named(name, path, absolute), 0, 0, LINK + target)
            path = target
            if path in reads or path in written or not counting(path):
                continue
        found = file_read(path, stat_only_above, None if link else stat)
        if found is not None and found.folder and name in given_to_readers:
            digest, inside = _tree(path)  # named as data: its files count, each
            found = replace(found, digest=digest)
            for full in inside:
                part = file_read(full, stat_only_above)
                inner = _as_named(os.path.join(name, os.path.relpath(full, path)), full, absolute)
                if part is not None and full not in written and counting(full):
                    reads.setdefault(full, replace(part, path=inner))
        if found is not None:
            reads[path] = replace(found, path=_as_named(name, path, absolute))
    return list(reads.values()), writes


def _as_named(name: str, path: str, absolute: _Resolver) -> str:
    """How a record names a file the run opened as ``name`` (found at ``path``): by the
    relative name the run gave, when it gave one, so that a hit checks the file that name
    opens from the working folder then. A project folder copied with its store (``cp -r
    exp1 exp2``, the store in ``exp2/.hitnb``) checked ``exp1/data.csv`` for a cell that
    reads ``data.csv`` in ``exp2``, and showed exp1's data. By its path otherwise (an
    absolute name, or a link whose target counts)."""
    if os.path.isabs(name) or name[:1] == "~" or absolute(name) != path:
        return path
    return os.path.normpath(name)


def _target(path: str) -> str:
    """The file ``path`` names, when its last part is a symbolic link."""
    return os.path.realpath(path) if os.path.islink(path) else path


def unmet(reads: Iterable[FileRead]) -> str | None:
    """Why the files differ from what a run read ("file data.csv changed"), or None."""
    for read in reads:
        if read.digest.startswith(LINK):
            if os.path.realpath(read.path) != read.digest.removeprefix(LINK):
                return f"link {shown(read.path)} names another file now"
            continue
        if read.digest == ABSENT:
            if os.path.lexists(read.path):
                return f"file {shown(read.path)} exists now (the run found none)"
            continue
        try:
            stat = os.stat(read.path)
        except OSError:
            return f"{'folder' if read.folder else 'file'} {shown(read.path)} is gone"
        if read.folder:
            if _folder_digest(read.path, read.digest) != read.digest:
                return f"folder {shown(read.path)} changed"
            continue
        ctime_ns = stat.st_ctime_ns if read.ctime_ns else 0
        if (stat.st_size, stat.st_mtime_ns, ctime_ns) == (read.size, read.mtime_ns, read.ctime_ns):
            continue
        if stat.st_size != read.size or read.digest == STAT_ONLY:
            return f"file {shown(read.path)} changed"
        now = file_read(read.path)  # touched or rewritten: the content decides
        if now is None or now.digest != read.digest:
            return f"file {shown(read.path)} changed"
    return None


def put_back(writes: Iterable[FileWrite]) -> None:
    """Leave each written file as the run left it (missing or changed ones are rewritten)."""
    for write in writes:
        now = file_read(write.path)
        if now is not None and now.digest == write.digest:
            continue
        target = Path(write.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.hitnb-{os.getpid()}")
        temporary.write_bytes(write.content)
        os.replace(temporary, target)


def shown(path: str) -> str:
    """A path as a user would write it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


PATHS_HELD_LIMIT = 1000
"""Items of a list, tuple or dict input looked at for paths (a list of 1e6 words is none)."""


def paths_held(values: Iterable[Any], literals: Iterable[str]) -> list[Any]:
    """The strings and paths the values hold, as candidates for files the run may read with
    a reader written in C, which no hook sees: a path kept in a variable (``SALES =
    "data/sales.parquet"`` in one cell, ``pd.read_parquet(SALES)`` in the next), the items
    of a list, tuple or dict of them (``glob`` results, a table of splits), and each of
    the cell's string literals under the folders among them (``DATA / "sales.parquet"``,
    ``f"{DATA}/sales.parquet"``). Not all name files; the caller keeps those that do."""
    found: list[Any] = []
    for value in values:
        if isinstance(value, dict) and len(value) <= PATHS_HELD_LIMIT:
            value = list(value.values())
        if isinstance(value, list | tuple) and len(value) <= PATHS_HELD_LIMIT:
            found += [item for item in value if isinstance(item, str | os.PathLike)]
        elif isinstance(value, str | os.PathLike):
            found.append(value)
    folders = [path for path in found if _is_folder(path)]
    tails = [text.lstrip("/" + os.sep) for text in literals]
    return found + [os.path.join(folder, tail) for folder in folders for tail in tails if tail]


def _is_folder(path: Any) -> bool:
    try:
        return os.path.isdir(path)
    except (OSError, TypeError, ValueError):
        return False


def named_paths(values: Iterable[Any], quoted: bool = False) -> list[str]:
    """The strings and path-likes among ``values`` that name existing files or folders;
    with ``quoted`` (strings of code: a cell's literals, a function's constants), also the
    files they name in quotes (see :func:`_quoted_paths`)."""
    found = []
    for value in values:
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str) or not 0 < len(value) < 100_000:
            continue
        if len(value) < 4096 and "\n" not in value and _exists(value):
            found.append(value)
        elif quoted and ("'" in value or '"' in value):
            found += _quoted_paths(value)
    return found


def _exists(path: str) -> bool:
    try:
        return os.path.exists(path)
    except (OSError, ValueError):
        return False


_QUOTED = re.compile(r"'([^'\s]{1,4095})'|\"([^\"\s]{1,4095})\"")
"""A quoted word without spaces: what a query names a file by."""
_GLOB_MAGIC = re.compile(r"[*?[]")
QUOTED_GLOB_LIMIT = 10_000
"""Files a quoted pattern in a query may name before hitnb stops listing them."""


def _quoted_paths(text: str) -> list[str]:
    """The files a string of code names in quotes (``"SELECT sum(v) FROM
    'data/sales.parquet'"``: DuckDB reads them in C, where no audit event tells). A
    pattern with a folder or a suffix (``read_csv('logs/*.csv')``) names the files it
    matches and their folder, whose listing tells when one more would match. A quoted
    folder (``'.'``, ``'data/'``) or a word that is not a path (``'*'``, ``'[INFO]'``) names
    nothing: its listing would change with every file saved there."""
    found = []
    for match in _QUOTED.finditer(text):
        quoted = match.group(1) or match.group(2)
        magic = _GLOB_MAGIC.search(quoted)
        if magic is None:
            if ("." in quoted or "/" in quoted) and os.path.isfile(quoted):
                found.append(quoted)
            continue
        head, tail = quoted[: magic.start()], quoted[magic.start() :]
        if "/" not in head and "." not in tail.lstrip("*?"):
            continue
        folder = os.path.dirname(head) or "."
        if os.path.isdir(folder):
            found.append(folder)
            found += itertools.islice(glob.iglob(quoted, recursive=True), QUOTED_GLOB_LIMIT)
    return found
