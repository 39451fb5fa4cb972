"""What counts as the user's own code, and the identity of everything else.

User code is code whose source can change under the user's hands: the notebook
(``__main__``) and modules outside ``site-packages`` and the standard library (the
project's own modules, relative imports included, editable installs too). It is
fingerprinted by its source. Everything else is identified by the installed
distribution's name and version (or Python's version for the standard library),
at a configurable sensitivity.
"""

from __future__ import annotations

import ast
import contextvars
import functools
import importlib.util
import os
import sys
import sysconfig
import threading
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hitnb import config
from hitnb.config import Sensitivity
from hitnb.hashing.analysis import strip_docstrings, text_digest

_LIBRARY_DIRS = tuple(
    {
        os.path.realpath(p)
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (p := sysconfig.get_paths().get(key))
    }
)
_LIBRARY_MARKERS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")
_OWN_PACKAGES = frozenset({"hitnb"})


def _top(module_name: str) -> str:
    return module_name.partition(".")[0]


@functools.lru_cache(maxsize=4096)
def _module_is_user_code(module_name: str) -> bool:
    if module_name == "__main__" or module_name.startswith("__main__."):
        return True
    top = _top(module_name)
    if top in _OWN_PACKAGES or top in sys.stdlib_module_names or top == "builtins":
        return False
    module = sys.modules.get(module_name) or sys.modules.get(top)
    if module is None:
        return True  # code made at run time (exec with a namespace of its own): the user's
    path = getattr(module, "__file__", None)
    if not path:
        return False  # built into the interpreter, or a namespace package: not editable source
    real = os.path.realpath(path)
    if any(marker in real for marker in _LIBRARY_MARKERS):
        return False
    return not any(real.startswith(d + os.sep) for d in _LIBRARY_DIRS)


def is_user_code(obj: Any) -> bool:
    """Whether ``obj`` (a function, class or module) is the user's own, editable code."""
    if isinstance(obj, types.ModuleType):
        return _module_is_user_code(obj.__name__)
    module = getattr(obj, "__module__", None)
    if module is None:  # exec'd without a __name__: certainly not an installed library
        return isinstance(obj, types.FunctionType | type)
    return isinstance(module, str) and _module_is_user_code(module)


@functools.lru_cache(maxsize=1)
def _distributions() -> Mapping[str, list[str]]:
    """The installed distributions that provide each top-level module, as
    ``importlib.metadata.packages_distributions()`` finds them, read as text: that function
    makes a path object of every file of every distribution and parses each one's metadata
    as an e-mail message (0.25 to 0.8 s where scientific libraries are installed, paid by
    the first cell that imports a module named otherwise than its distribution, such as
    ``pylab``; this takes about a fifth of that). Python 3.12 infers a distribution's
    modules from all its files, not its ``.py`` files only: there importlib's own answer is
    taken, so that versions are found as Python finds them."""
    from importlib import metadata

    if sys.version_info >= (3, 12):
        return metadata.packages_distributions()
    found: dict[str, list[str]] = {}
    for dist in metadata.distributions():
        tops = _top_levels(dist)
        if tops:
            name = _name_and_version(dist)[0]
            for top in tops:
                found.setdefault(top, []).append(name)
    return found


def _top_levels(dist: Any) -> list[str]:
    """The top-level modules a distribution provides, as ``importlib.metadata`` of Python
    3.10 and 3.11 tells them: those its ``top_level.txt`` declares, else the first part of
    each ``.py`` file its ``RECORD`` lists (without one: the files ``importlib.metadata``
    finds)."""
    import csv
    import io

    declared = _declared_tops(dist)
    if declared:
        return declared
    record = dist.read_text("RECORD")
    if not record:
        paths = [str(f) for f in dist.files or ()]
    else:
        paths = [row[0] for row in csv.reader(io.StringIO(record)) if row]
    tops = set()
    for path in paths:
        if path.endswith(".py") and not path.endswith("/.py"):
            first, slash, _ = path.partition("/")
            tops.add(first if slash else path[:-3])
    return sorted(tops)


def _declared_tops(dist: Any) -> list[str]:
    """The top-level modules a distribution declares in its ``top_level.txt`` (none when
    it has no such file, as wheels built by most tools other than setuptools)."""
    return (dist.read_text("top_level.txt") or "").split()


def _trim(version: str, sensitivity: Sensitivity) -> str:
    parts = version.split(".")
    keep = {"major": 1, "minor": 2, "patch": len(parts)}[sensitivity]
    return ".".join(parts[:keep])


_NAMED_OTHERWISE = {
    "sklearn": "scikit-learn", "skimage": "scikit-image", "yaml": "PyYAML", "PIL": "Pillow",
    "dateutil": "python-dateutil", "bs4": "beautifulsoup4", "attr": "attrs",
    "dotenv": "python-dotenv", "jwt": "PyJWT", "git": "GitPython", "serial": "pyserial",
    "zmq": "pyzmq", "fitz": "PyMuPDF", "docx": "python-docx", "pptx": "python-pptx",
    "Crypto": "pycryptodome", "OpenSSL": "pyOpenSSL", "cv2": "opencv-python",
    "pylab": "matplotlib", "mpl_toolkits": "matplotlib", "pywt": "PyWavelets",
}  # fmt: skip
"""Libraries whose distribution is named otherwise than their module: found by this name
(when it provides the module) without the scan of every installed distribution."""


def _distribution_named(top: str) -> tuple[str, str] | None:
    """(name, version) of the distribution named like module ``top`` (or as
    :data:`_NAMED_OTHERWISE` says) when it provides it: the common case (numpy, pandas,
    scikit-learn), found without the scan of every installed distribution that
    :func:`_distributions` makes (0.2 to 0.5 s in a data-science environment, paid by the
    first cell of every kernel that imports such a library)."""
    from importlib import metadata

    for name, usual in ((top, True), (_NAMED_OTHERWISE.get(top), False)):
        if name is None:
            continue
        try:
            dist = metadata.distribution(name)
        except (metadata.PackageNotFoundError, ValueError):
            continue
        provides = _declared_tops(dist)
        if provides:
            if top in provides:
                return _name_and_version(dist)
            continue
        if usual or _record_names(dist.read_text("RECORD") or "", top):
            return _name_and_version(dist)
    return None


def _record_names(record: str, top: str) -> bool:
    """Whether a distribution's ``RECORD`` lists module ``top`` (a package or a file)."""
    return any(
        line.startswith((f"{top}/", f"{top}.py,", f"{top}.")) for line in record.splitlines()
    )


def _name_and_version(dist: Any) -> tuple[str, str]:
    """The ``Name`` and ``Version`` fields of a distribution's metadata, read from the file's
    header: ``dist.metadata`` parses the whole file as an e-mail message (numpy's holds its
    README) and ``dist.version`` parses it again, 1 to 2 ms a library in an import cell."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line:  # the header ends at the first empty line
            break
        key, colon, value = line.partition(":")
        if colon and key in ("Name", "Version"):
            fields.setdefault(key, value.strip())
    if "Name" in fields and "Version" in fields:
        return fields["Name"], fields["Version"]
    return str(dist.metadata["Name"]), str(dist.version)


@functools.lru_cache(maxsize=2048)
def _version_of_top(top: str, sensitivity: Sensitivity) -> tuple[str, str]:
    """(distribution name, version) that provides top-level module ``top``."""
    if top in sys.stdlib_module_names or top in ("builtins", "__main__"):
        return "python", f"{sys.version_info.major}.{sys.version_info.minor}"
    from importlib import metadata

    named = _distribution_named(top)
    if named is not None:
        return named[0], _trim(named[1], sensitivity)
    for dist in _distributions().get(top, []):
        try:
            return dist, _trim(metadata.version(dist), sensitivity)
        except metadata.PackageNotFoundError:
            continue
    module = sys.modules.get(top)
    version = getattr(module, "__version__", None)
    return top, (_trim(str(version), sensitivity) if version else "unversioned")


def library_versions(modules: Iterable[str], sensitivity: Sensitivity) -> dict[str, str]:
    """Version of the installed distribution behind each library among ``modules`` (module
    names, imported or not: nothing is imported to find out), by distribution name. The
    user's own modules and the standard library are left out: a user module counts by its
    source file, Python by its version."""
    versions = {}
    for top in dict.fromkeys(_top(name) for name in modules):
        if top in sys.stdlib_module_names or top in _OWN_PACKAGES or not _is_library(top):
            continue
        dist, version = _version_of_top(top, sensitivity)
        versions[dist] = version
    return versions


def _is_library(top: str) -> bool:
    """Whether top-level module ``top`` is installed code, without importing it."""
    if top in sys.modules:
        return not _module_is_user_code(top)
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False  # the import will fail the same way in the cell
    if spec is None:
        return False
    origin = spec.origin or next(iter(spec.submodule_search_locations or ()), None)
    if origin is None or origin in ("built-in", "frozen"):
        return origin is not None
    real = os.path.realpath(origin)
    return any(marker in real for marker in _LIBRARY_MARKERS) or any(
        real.startswith(d + os.sep) for d in _LIBRARY_DIRS
    )


def user_module_files(modules: Iterable[str]) -> list[str]:
    """Source files of the imported user modules among ``modules`` (names not imported,
    or not modules, are skipped)."""
    found = []
    for name in modules:
        module = sys.modules.get(name)
        if isinstance(module, types.ModuleType) and _module_is_user_code(name):
            path = getattr(module, "__file__", None)
            if path:
                found.append(path)
    return found


_GENERATOR_TYPES = frozenset({"Random", "SystemRandom", "RandomState", "Generator"})
_named_instances: dict[type, dict[int, str]] = {}
"""Per library type: the ids of its instances that its module binds, with their names."""


def library_attribute(obj: Any) -> tuple[str, str] | None:
    """``(module, name)`` when ``obj`` is an object a library defines at module level next to
    its class (``scipy.stats.norm``, an instance of ``norm_gen`` in the module that defines
    it): such an object counts, and is stored, as that name of that library version, not by
    its state. Random generators never do: their state is what a run consumes.

    The module's names are read once per class (in a notebook's ``__main__``, never), so
    asking about every object a value holds costs a dictionary look-up each."""
    kind = type(obj)
    module_name = kind.__module__
    if module_name == "__main__":
        return None
    names = _named_instances.get(kind)
    if names is None:
        names = _named_instances[kind] = _instances_named_by_module(kind)
    name = names.get(id(obj)) if names else None
    if name is None or getattr(sys.modules.get(module_name), name, None) is not obj:
        return None
    return module_name, name


def library_method(obj: Any) -> tuple[str, str] | None:
    """``(module, name)`` when ``obj`` is a method bound to a library's object that the
    library's module binds by that name: ``numpy.random.randn`` and ``random.random``, bound
    to the global random generators. Imported by name (``from numpy.random import randn``),
    it counts and is stored as that name, like a library function: a pickled copy would be
    bound to a copy of the generator, which ``np.random.seed`` no longer reaches. The global
    generators' state is ambient state (:mod:`hitnb.core.ambient`)."""
    if not isinstance(obj, types.MethodType | types.BuiltinMethodType):
        return None
    owner = getattr(obj, "__self__", None)
    if owner is None or isinstance(owner, types.ModuleType):
        return None
    module_name = type(owner).__module__
    name = getattr(obj, "__name__", None)
    if not isinstance(module_name, str) or not isinstance(name, str):
        return None
    module = sys.modules.get(module_name)
    if module is None or getattr(module, name, None) is not obj:
        return None
    return None if _module_is_user_code(module_name) else (module_name, name)


def importable_name(obj: Any) -> tuple[str, str] | None:
    """``(module, name)`` of a class or function that its module binds at top level under
    its own name, outside the notebook: importing that name again gives the same object."""
    if not isinstance(obj, type | types.FunctionType | types.BuiltinFunctionType):
        return None
    module_name = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(name, str) or module_name == "__main__":
        return None
    module = sys.modules.get(module_name)
    if module is None or getattr(module, name, None) is not obj:
        return None
    return module_name, name


def _instances_named_by_module(kind: type) -> dict[int, str]:
    module_name = getattr(kind, "__module__", None)
    if not isinstance(module_name, str) or module_name == "builtins":
        return {}
    if kind.__name__ in _GENERATOR_TYPES:
        return {}
    module = sys.modules.get(module_name)
    if module is None or _module_is_user_code(module_name):
        return {}
    return {id(value): name for name, value in vars(module).items() if type(value) is kind}


def package_version(obj: Any, sensitivity: Sensitivity = "minor") -> tuple[str, str]:
    """(distribution, version) of the installed package that provides ``obj``."""
    name = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
    return _version_of_top(_top(name or "builtins"), sensitivity)


def clear_version_cache() -> None:
    """Forget package versions read so far (after installing or upgrading in a session)."""
    _distributions.cache_clear()
    _version_of_top.cache_clear()


_module_digests: dict[str, tuple[tuple[int, int, int], str]] = {}
_values_known: contextvars.ContextVar[
    tuple[Callable[[Any], str | None], Callable[[Any, str], None]] | None
] = contextvars.ContextVar("hitnb_module_values_known", default=None)


@contextmanager
def module_values_known(
    get: Callable[[Any], str | None], put: Callable[[Any, str], None]
) -> Iterator[None]:
    """Within the block, :func:`module_data_digest` takes the digest of each value a user
    module holds from ``get`` when it has one, and gives ``put`` those it hashes: a session's
    cache of digests (emptied whenever a value may have changed), so that a module holding a
    table is not hashed whole by every cell reading the module."""
    token = _values_known.set((get, put))
    try:
        yield
    finally:
        _values_known.reset(token)


_data_digests_open = threading.local()
"""``ids``: the modules whose data digest this thread is taking; one reached again through
its own values counts by its name there."""


def module_data_digest(module: types.ModuleType) -> str:
    """Digest of what a user module holds besides its code: what its import made of the
    world (``CONFIG = json.load(...)`` of a file since edited, a table it loaded, numbers it
    drew) and what was set on it since. Two sessions that import the same source can hold
    different values, and the cells reading them must tell.

    Every global counts but dunder names, modules, and the functions and classes the
    module's own source defines (their source is in its digest; so are their defaults,
    which are hashed too, since the import evaluated them). A value that cannot be hashed
    counts by its type, as it did before values counted at all."""
    from hitnb.hashing.values import UnhashableValue

    known = _values_known.get()
    open_here: set[int] = _data_digests_open.__dict__.setdefault("ids", set())
    if id(module) in open_here:
        return "reached again"
    open_here.add(id(module))
    parts = []
    try:
        for name, value in sorted(vars(module).items()):
            if (name.startswith("__") and name.endswith("__")) or isinstance(
                value, types.ModuleType
            ):
                continue
            if isinstance(value, types.FunctionType | type) and (
                getattr(value, "__module__", None) == module.__name__
            ):
                defaults = (
                    getattr(value, "__defaults__", None),
                    getattr(value, "__kwdefaults__", None),
                )
                if defaults == (None, None):
                    continue
                value = defaults
            try:
                parts.append(f"{name}={_digest_of(value, known)}")
            except UnhashableValue as exc:
                parts.append(f"{name}:{exc.type_name}")
    finally:
        open_here.discard(id(module))
    return text_digest(";".join(parts))


def _digest_of(
    value: Any,
    known: tuple[Callable[[Any], str | None], Callable[[Any, str], None]] | None,
) -> str:
    from hitnb.hashing.values import hash_value

    found = known[0](value) if known is not None else None
    if found is None:
        found = hash_value(value)
        if known is not None:
            known[1](value, found)
    return found


def module_source_digest(module: types.ModuleType) -> str:
    """Digest of a user module's whole source, normalized; cached by the file's size and
    times (mtime and ctime: a file replaced by one of the same size and mtime is read)."""
    path = getattr(module, "__file__", None)
    if not path:
        return "no-source"
    try:
        stat = Path(path).stat()
        cached = _module_digests.get(path)
        state = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        if cached and cached[0] == state:
            return cached[1]
        source = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
        tree = strip_docstrings(ast.parse(source))
        digest = text_digest(ast.dump(tree, annotate_fields=False))
    except (OSError, SyntaxError, ValueError):
        return "unreadable"
    _module_digests[path] = (state, digest)
    return digest


def function_fingerprint(fn: Any) -> bytes:
    """16-byte fingerprint of a function: its code, what it reaches, the globals it reads."""
    # Genuine recursion, not a layering slip: hashing a value that is a function needs the
    # function's dependency graph, whose global values are hashed in turn (values -> code ->
    # dependencies -> values). The import is deferred so the three modules load in any order.
    from hitnb.hashing.dependencies import fingerprint

    return fingerprint(fn, config.settings().version_sensitivity).digest


def class_fingerprint(cls: type) -> bytes:
    """16-byte fingerprint of a class: name and version for libraries, code for user classes."""
    from hitnb.hashing.dependencies import fingerprint

    return fingerprint(cls, config.settings().version_sensitivity).digest


def class_code_fingerprint(cls: type) -> bytes:
    """16-byte fingerprint of a user class's code alone: what identifies an instance's class.

    The instance's own state is hashed next to it; the values its methods read belong to
    the calls that use them, not to every instance.
    """
    from hitnb.hashing.dependencies import plan_for

    plan = plan_for(cls, config.settings().version_sensitivity, frozenset())
    return bytes.fromhex(plan.code_digest)


def module_fingerprint(module: types.ModuleType) -> bytes:
    """16-byte fingerprint of a module: for user modules their source and the values they
    hold (:func:`module_data_digest`), else their version."""
    if is_user_code(module):
        source = module_source_digest(module)
        identity = f"module|{module.__name__}|{source}|{module_data_digest(module)}"
    else:
        dist, version = package_version(module, config.settings().version_sensitivity)
        identity = f"module|{module.__name__}|{dist}|{version}"
    return bytes.fromhex(text_digest(identity))
