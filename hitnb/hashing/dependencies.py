"""The dependency graph of a function or class, and its fingerprint at call time.

A *plan* is built once per function (or class) by walking what its code reaches:

* functions and classes of the notebook or the user's modules, transitively: their
  normalized code; a class also through its bases, methods, properties,
  static/class methods and nested classes; decorators through ``__wrapped__``;
  ``functools.partial`` objects and bound methods through their function;
* modules: a user module through the attributes the code reads from it
  (``utils.clean`` makes ``clean`` a dependency), or its whole source when the module
  itself is passed around; a library module, function or class by its distribution
  and version;
* *values*: the globals, closure cells, helper defaults and class attributes the code
  reads that are not code. They are hashed at every call, because mutating a list or
  an array in place rebinds nothing.

Cycles (recursion, mutual recursion) are fine: each object is visited once.

The plan also records every binding it resolved (namespace, name, object). A plan is
reused while all of them still hold, which costs one identity check each; rebinding a
name it depends on (re-running a cell that redefines a helper, reloading a module)
makes the next call rebuild it. Rebuilding reads no source twice: the analysis of
each code object is memoized (:mod:`hitnb.hashing.analysis`).
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import sys
import threading
import types
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import xxhash

from hitnb import config
from hitnb.config import Sensitivity
from hitnb.hashing.analysis import analyze
from hitnb.hashing.code import is_user_code, module_source_digest, package_version
from hitnb.hashing.keys import CODE, Dependency
from hitnb.hashing.values import UnhashableValue, hash_value, qualified_name

_MISSING: Any = object()


def user_accessors() -> dict[str, type]:
    """The pandas accessors the user registered (``register_dataframe_accessor("feat")``),
    by name: ``df.feat.total()`` runs their code, which no name of the caller reaches."""
    pd = sys.modules.get("pandas")
    found: dict[str, type] = {}
    for owner in (getattr(pd, "DataFrame", None), getattr(pd, "Series", None)):
        for name in getattr(owner, "_accessors", ()):
            accessor = getattr(vars(owner).get(name), "_accessor", None)
            if isinstance(accessor, type) and is_user_code(accessor):
                found[name] = accessor
    return found


def _names_used(code: types.CodeType) -> set[str]:
    """Every name a code object and those nested in it use (attributes among them)."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_used(const)
    return names


def user_class_of(value: Any) -> type | None:
    """The class of ``value`` when the user wrote it (in the notebook or a user module) and
    ``value`` is an instance, not code: its hash covers its state and its class's name and
    source, not the globals its methods read (``STOPWORDS`` in ``tokenize``), which a key
    holding the instance must cover too (:func:`instance_code`)."""
    cls = type(value)
    if cls is type or is_code(value) or isinstance(value, types.ModuleType):
        return None
    return cls if is_user_code(cls) else None


def instance_code(
    value: Any, ignore: frozenset[str] = frozenset(), written: frozenset[str] = frozenset()
) -> str | None:
    """The fingerprint of :func:`user_class_of` ``value``, in hex (its methods' code and
    what they read now, but the state labelled ``written``, which a memoized method of the
    class writes), or None for any other value. When a value its methods read cannot be
    hashed (a lock, a log file), the class's code alone: a call needing none of those
    methods keeps its key."""
    if type(value) in _NOT_INSTANCES:
        return None
    cls = user_class_of(value)
    if cls is None:
        return None
    sensitivity = config.settings().version_sensitivity
    try:
        return fingerprint(cls, sensitivity, ignore, written).digest.hex()
    except UnhashableValue:  # a method reads a lock, a file, or names through globals():
        plan = plan_for(cls, sensitivity, ignore)  # its code counts, as the class did
        return _code_only(plan).digest.hex()


_NOT_INSTANCES = frozenset({int, float, str, bytes, bool, type(None), tuple, list, dict})
"""Types no user class is: their values skip the look-up (every argument of every call)."""


def command_line() -> list[str]:
    """The arguments the program was started with, which ``sys.argv`` and ``argparse``
    read: a script run with other ones computes another result. A kernel's own (``-f`` and
    its connection file, another every session: Jupyter's, VS Code's ``--f=...``, Colab's)
    are left out."""
    arguments = sys.argv[1:]
    if "kernel" not in (sys.argv[0] if sys.argv else ""):  # (`python -m ipykernel`, too)
        return arguments
    kept, skip = [], False
    for argument in arguments:
        if skip or argument.startswith(("--f=", "-f=")) or argument.endswith(".json"):
            skip = False
            continue
        skip = argument in ("-f", "--f")
        if not skip:
            kept.append(argument)
    return kept


def _is_argument_parser(obj: Any) -> bool:
    argparse = sys.modules.get("argparse")
    return argparse is not None and isinstance(obj, argparse.ArgumentParser)


_BUILTINS = vars(builtins)
NAMES_UNSEEN = frozenset({"globals", "eval", "exec"})
"""Builtins through which a function reads names of its module that its code does not
show (``globals()[f"df_{split}"]``): its key would miss them, so it has none."""
_LIBRARY_CALLABLES = (
    types.BuiltinFunctionType,
    types.BuiltinMethodType,
    types.WrapperDescriptorType,
    types.MethodDescriptorType,
    types.MethodWrapperType,
    types.ClassMethodDescriptorType,
)
_CODE_TYPES = (
    types.FunctionType,
    type,
    types.ModuleType,
    functools.partial,
    types.MethodType,
    *_LIBRARY_CALLABLES,
)
_SKIPPED_MEMBERS = frozenset(
    {"__dict__", "__weakref__", "__module__", "__doc__", "__qualname__", "__slotnames__"}
)
"""Members a class's digest leaves out: bookkeeping, not behaviour. ``__slotnames__`` is the
list pickle caches in a class the first time it pickles an instance, so a class whose
instance was stored differed from the same class in a session that had pickled none."""


def _item_reader(namespace: Any, name: str) -> Callable[[], Any]:
    """Reads ``namespace[name]`` at call time (the value may have been mutated in place)."""
    return lambda: namespace.get(name)


def _constant(obj: Any) -> Callable[[], Any]:
    return lambda: obj


def _cell_reader(cell: types.CellType) -> Callable[[], Any]:
    return lambda: cell.cell_contents


def _member_code(member: Any) -> list[Any]:
    """The code a class member runs: a function itself, or the functions inside a static or
    class method, a property, a ``cached_property`` or a ``partialmethod``, and decorated
    callables such as ``functools.lru_cache`` wrappers (by their ``__wrapped__`` code)."""
    if isinstance(member, types.FunctionType):
        return [member]
    inner = [
        f
        for attr in ("fget", "fset", "fdel", "func", "__func__")
        if (f := getattr(member, attr, None)) is not None and is_code(f)
    ]
    if inner:
        return inner
    return [member] if callable(member) and hasattr(member, "__wrapped__") else []


def is_code(obj: Any) -> bool:
    """Whether ``obj`` counts by its code (or version) rather than by its value."""
    return isinstance(obj, _CODE_TYPES) or (callable(obj) and hasattr(obj, "__wrapped__"))


class Fingerprint(NamedTuple):
    """What a function's code and the values it reads look like now."""

    digest: bytes
    """16 bytes over all of the below: what keys are made of."""
    code: str
    """Hex digest over the code dependencies only: the function's *code version*."""
    deps: dict[str, str]
    """Each dependency's label and digest (or version), code and values alike."""
    shown: dict[str, str]
    """Short reprs of scalar global values, so an explanation can say ``0.5 -> 0.7``."""
    values: tuple[str, ...]
    """The labels in ``deps`` that are values (hashed at every call) rather than code."""

    def without(self, labels: frozenset[str]) -> Fingerprint:
        """The same fingerprint with the values under ``labels`` left out."""
        kept = tuple(label for label in self.values if label not in labels)
        deps = {k: v for k, v in self.deps.items() if k not in labels}
        shown = {k: v for k, v in self.shown.items() if k not in labels}
        return Fingerprint(_compose(self.code, deps, kept), self.code, deps, shown, kept)


def _compose(code_digest: str, deps: dict[str, str], values: tuple[str, ...]) -> bytes:
    text = code_digest + "".join(deps[label] for label in values)
    return xxhash.xxh3_128_digest(text.encode())


def _function_state(fn: types.FunctionType) -> tuple[Any, ...]:
    """What a function runs: its code, defaults and closure objects (held, so compared by
    identity they cannot be mistaken for new objects that reuse a freed address)."""
    return (fn.__code__, fn.__defaults__, fn.__kwdefaults__, fn.__closure__)


class Plan:
    """The dependencies of one function or class, found by walking its code once."""

    def __init__(self, sensitivity: Sensitivity, ignore: frozenset[str]) -> None:
        self.sensitivity = sensitivity
        self.ignore = ignore
        self.code: dict[str, str] = {}
        self.values: list[tuple[str, Callable[[], Any]]] = []
        self._value_labels: set[str] = set()
        self.bindings: list[tuple[Any, str, Any]] = []
        self.cells: list[tuple[types.CellType, Any]] = []
        self.functions: list[tuple[types.FunctionType, tuple[Any, ...]]] = []
        """Each user function walked, with its code, defaults and closure as they were."""
        self._seen: dict[int, Any] = {}
        self.names: set[str] = set()
        """Every name ``ignore=`` can leave out: globals and closure variables the walked
        functions read, and class members (``helper`` and ``Class.helper``)."""
        self.code_digest = ""
        self.unfollowed: dict[str, str] = {}
        """Names read where no name in the code shows them (a function calling
        ``globals()``, ``eval`` or ``exec``), by label, with why: such a function has no
        fingerprint (see :data:`NAMES_UNSEEN`)."""
        self.constant: dict[frozenset[str], Fingerprint] = {}
        """Fingerprints of this plan when no value is left to hash, by written labels."""
        self._quoted: list[str] | None = None

    def quoted_strings(self) -> list[str]:
        """The strings in the walked functions' code (nested functions' too) that hold
        quotes: a query naming a file (``"SELECT sum(v) FROM 'sales.parquet'"``), which a
        reader in C opens where no audit event tells (see
        :func:`hitnb.core.files.named_paths`)."""
        if self._quoted is None:
            found = []
            todo = [fn.__code__ for fn, _ in self.functions]
            while todo:
                for constant in todo.pop().co_consts:
                    if isinstance(constant, types.CodeType):
                        todo.append(constant)
                    elif isinstance(constant, str) and ("'" in constant or '"' in constant):
                        found.append(constant)
            self._quoted = found
        return self._quoted

    def still_valid(self) -> bool:
        """Whether every name the plan resolved is still bound to the same object, and every
        function still has the code, defaults and closure it had (``%autoreload`` and other
        patching replace ``__code__`` on the same function object)."""
        for fn, was in self.functions:
            now = _function_state(fn)
            if any(a is not b for a, b in zip(now, was, strict=True)):
                return False
        for namespace, name, expected in self.bindings:
            if namespace.get(name, _MISSING) is not expected:
                return False
        for cell, expected in self.cells:
            try:
                if cell.cell_contents is not expected:
                    return False
            except ValueError:
                return False
        return True

    def add_value(self, label: str, read: Callable[[], Any]) -> None:
        """A value to hash at every call (once per label)."""
        if label not in self._value_labels:
            self._value_labels.add(label)
            self.values.append((label, read))

    # -- walking ----------------------------------------------------------------------------
    def _first_visit(self, obj: Any) -> bool:
        if id(obj) in self._seen:
            return False
        self._seen[id(obj)] = obj  # keeps it alive, so its id is not reused meanwhile
        return True

    def add(
        self, obj: Any, label: str, read: Callable[[], Any], chains: Iterable[tuple[str, ...]] = ()
    ) -> None:
        """Add what ``obj`` contributes: code for code, a value read at call time otherwise."""
        if isinstance(obj, types.FunctionType):
            self.add_function(obj)
        elif isinstance(obj, type):
            self.add_class(obj)
        elif isinstance(obj, types.ModuleType):
            self.add_module(obj, frozenset(chains))
        elif isinstance(obj, functools.partial):
            self.add(obj.func, label, lambda: obj.func)
            self.add_value(Dependency("partial", label).label, lambda: (obj.args, obj.keywords))
        elif isinstance(obj, types.MethodType):
            self.add(obj.__func__, label, lambda: obj.__func__)
            self.add_value(Dependency("instance", label).label, lambda: obj.__self__)
        elif isinstance(obj, _LIBRARY_CALLABLES):
            self.add_package(obj)
        elif callable(obj) and hasattr(obj, "__wrapped__"):  # decorator objects, @memo
            self.add_class(type(obj))
            self.add(obj.__wrapped__, label, lambda: obj.__wrapped__)
        else:
            self.add_value(label, read)
            if _is_argument_parser(obj):  # `parser.parse_args()` reads the command line
                self.add_value(Dependency("ambient", "sys.argv").label, command_line)
            cls = user_class_of(obj)
            if cls is not None:  # `tok.tokenize(d)`: its methods read globals of their own
                self.add_class(cls)

    def add_package(self, obj: Any) -> None:
        dist, version = package_version(obj, self.sensitivity)
        if dist != "python":  # Python's own version is part of every key already
            self.code[Dependency("package", dist).label] = version

    def add_function(self, fn: types.FunctionType, *, root: bool = False) -> None:
        if not self._first_visit(fn):
            return
        wrapped = getattr(fn, "__wrapped__", None)
        if wrapped is not None:
            self.add(wrapped, Dependency("wrapped", qualified_name(fn)).label, lambda: wrapped)
        registry = getattr(fn, "registry", None)
        if wrapped is not None and isinstance(registry, Mapping):  # functools.singledispatch
            self.add_value(Dependency("dispatch", qualified_name(fn)).label, lambda: dict(registry))
        if not is_user_code(fn):
            self.add_package(fn)
            return
        self.functions.append((fn, _function_state(fn)))
        accessors = user_accessors()
        if accessors:  # `df.feat.total()`: code no name of the function's shows
            for attribute in sorted(_names_used(fn.__code__) & accessors.keys()):
                self.add_class(accessors[attribute])
        info = analyze(fn)
        name = f"{fn.__module__}.{fn.__code__.co_qualname}"  # functools.wraps copies __qualname__
        self.code[CODE if root else Dependency("function", name).label] = info.digest
        for var, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=True):
            try:
                content = cell.cell_contents
            except ValueError:  # not assigned yet (a recursive inner function)
                continue
            self.cells.append((cell, content))
            self.names.add(var)
            if var not in self.ignore:
                self.add(content, Dependency("closure", f"{name}.{var}").label, _cell_reader(cell))
        if fn.__defaults__ or fn.__kwdefaults__:
            label = Dependency("defaults", name).label
            if not root:
                self.add_value(label, lambda: (fn.__defaults__, fn.__kwdefaults__))
            else:  # bound with the call's arguments; what is left is which defaults they are
                with contextlib.suppress(UnhashableValue):
                    self.code[label] = hash_value((fn.__defaults__, fn.__kwdefaults__))
        namespace = fn.__globals__
        for var in info.reads:
            self.names.add(var)
            if var in self.ignore:
                continue
            obj = namespace.get(var, _MISSING)
            self.bindings.append((namespace, var, obj))
            if obj is _MISSING:
                if var in NAMES_UNSEEN:
                    label = Dependency("global", f"{fn.__module__}.{var}").label
                    self.unfollowed[label] = (
                        f"`{fn.__qualname__}` reads its module's names through `{var}()`, "
                        "which hitnb cannot follow"
                    )
                elif var not in _BUILTINS:
                    self.code[Dependency("missing", f"{fn.__module__}.{var}").label] = "undefined"
                continue
            self.add(
                obj,
                Dependency("global", f"{fn.__module__}.{var}").label,
                _item_reader(namespace, var),
                info.attributes.get(var, ()),
            )

    def add_class(self, cls: type) -> None:
        if not self._first_visit(cls):
            return
        if not is_user_code(cls):
            self.add_package(cls)
            return
        name = qualified_name(cls)
        shape = xxhash.xxh3_128()
        shape.update(f"{name}({', '.join(qualified_name(b) for b in cls.__bases__)})".encode())
        for base in cls.__bases__:
            self.add_class(base)
        members = vars(cls)
        for member_name, member in sorted(members.items()):
            if member_name in _SKIPPED_MEMBERS or member_name.startswith("_abc_"):
                continue
            self.bindings.append((members, member_name, member))
            shape.update(f"|{member_name}:{type(member).__qualname__}".encode())
            self.names.update((member_name, f"{cls.__name__}.{member_name}"))
            if member_name in self.ignore or f"{cls.__name__}.{member_name}" in self.ignore:
                continue
            label = Dependency("attribute", f"{name}.{member_name}").label
            code = _member_code(member)
            if isinstance(member, type):
                self.add_class(member)
            elif code:
                for fn in code:
                    self.add(fn, label, _constant(fn))
            elif not member_name.startswith("__"):
                self.add_value(label, _item_reader(members, member_name))
        self.code[Dependency("class", name).label] = shape.hexdigest()

    def add_module(self, module: types.ModuleType, chains: frozenset[tuple[str, ...]]) -> None:
        if not is_user_code(module):
            self.add_package(module)
            name = module.__name__
            if name == "argparse" or (name == "sys" and any(c[:1] == ("argv",) for c in chains)):
                self.add_value(Dependency("ambient", "sys.argv").label, command_line)
            return
        if not chains or () in chains:  # the module itself is used, not just attributes of it
            if self._first_visit(module):
                self.code[Dependency("module", module.__name__).label] = module_source_digest(
                    module
                )
            return
        namespace = module.__dict__
        for first in sorted({chain[0] for chain in chains}):
            obj = namespace.get(first, _MISSING)
            self.bindings.append((namespace, first, obj))
            if obj is _MISSING:
                self.code[Dependency("missing", f"{module.__name__}.{first}").label] = "undefined"
                continue
            rest = frozenset(chain[1:] for chain in chains if chain[0] == first)
            self.add(
                obj,
                Dependency("global", f"{module.__name__}.{first}").label,
                _item_reader(namespace, first),
                rest,
            )

    def finish(self) -> Plan:
        text = "".join(f"{label}={digest};" for label, digest in sorted(self.code.items()))
        self.code_digest = xxhash.xxh3_128_hexdigest(text.encode("utf-8", "surrogatepass"))
        self._seen.clear()
        return self


def _root_identity(root: Any) -> str:
    """``module.qualname`` of the root; a partial by its function (its repr has an address)."""
    if isinstance(root, functools.partial):
        return f"functools.partial({_root_identity(root.func)})"
    return qualified_name(root)


def build_plan(root: Any, sensitivity: Sensitivity, ignore: frozenset[str] = frozenset()) -> Plan:
    """Walk everything ``root`` (a function or a class) reaches."""
    plan = Plan(sensitivity, ignore)
    plan.code["identity"] = _root_identity(root)  # library code is otherwise just a version
    if isinstance(root, types.FunctionType):
        plan.add_function(root, root=True)
    elif isinstance(root, type):
        plan.add_class(root)
    else:
        plan.add(root, "root", lambda: root)
    return plan.finish()


_plans: weakref.WeakKeyDictionary[Any, Plan] = weakref.WeakKeyDictionary()
_plans_lock = threading.Lock()
_in_progress = threading.local()
_SHOWN_TYPES = (int, float, str, bool, type(None))


def plan_for(root: Any, sensitivity: Sensitivity, ignore: frozenset[str]) -> Plan:
    """The plan of ``root``, reused while its bindings hold."""
    plan = _plans.get(root)
    if (
        plan is None
        or plan.sensitivity != sensitivity
        or plan.ignore != ignore
        or not plan.still_valid()
    ):
        plan = build_plan(root, sensitivity, ignore)
        with _plans_lock:
            _plans[root] = plan
    return plan


def fingerprint(
    root: Any,
    sensitivity: Sensitivity = "minor",
    ignore: frozenset[str] = frozenset(),
    written: frozenset[str] = frozenset(),
    plan: Plan | None = None,
) -> Fingerprint:
    """The fingerprint of ``root`` now: its plan's code, and the values it reads hashed.

    ``written`` names values known to be state the function writes (see
    :func:`written_during`); they are left out. ``plan`` is ``root``'s plan when the caller
    holds it already. Raises :class:`UnhashableValue` whose ``path`` is the label of a
    global or closure value that cannot be hashed.
    """
    if plan is None:
        plan = plan_for(root, sensitivity, ignore)
    for label, reason in plan.unfollowed.items():
        raise UnhashableValue("names", reason, "", label)
    constant = plan.constant.get(written)
    if constant is not None:
        return constant
    values = [(label, read) for label, read in plan.values if label not in written]
    if not values:
        constant = plan.constant[written] = _code_only(plan)
        return constant
    active: set[int] = getattr(_in_progress, "ids", None) or set()
    if id(root) in active:
        # A value that reaches back to ``root`` (a dict of functions read by one of them)
        # counts by its code only, which ends the cycle.
        return _code_only(plan)
    active.add(id(root))
    _in_progress.ids = active
    try:
        deps = dict(plan.code)
        shown: dict[str, str] = {}
        for label, read in values:
            value = read()
            try:
                deps[label] = hash_value(value)
            except UnhashableValue as exc:
                raise UnhashableValue(exc.type_name, exc.reason, exc.path, label) from None
            if isinstance(value, _SHOWN_TYPES) and len(text := repr(value)) <= 80:
                shown[label] = text
    finally:
        active.discard(id(root))
    labels = tuple(label for label, _ in values)
    return Fingerprint(
        _compose(plan.code_digest, deps, labels), plan.code_digest, deps, shown, labels
    )


def _code_only(plan: Plan) -> Fingerprint:
    return Fingerprint(
        _compose(plan.code_digest, {}, ()), plan.code_digest, dict(plan.code), {}, ()
    )


def written_during(before: Fingerprint, after: Fingerprint) -> frozenset[str]:
    """Values that changed between two fingerprints taken around one call of the function.

    Such a value is state the function writes (a counter, a log, a tracker object), not an
    input: keeping it in the key would make every call miss.
    """
    return frozenset(
        label for label in before.values if after.deps.get(label) != before.deps[label]
    )
