"""Cache keys, and the parts they are made of so a miss can say why it missed.

``key = xxh3_128(scheme, identity, fingerprint, argument digests, extras)``, where the
*fingerprint* is that of the function's code and of every value it reads
(:mod:`hitnb.hashing.dependencies`), and each argument's value is hashed on its own,
in signature order. The parts are stored with every entry; comparing the parts of
two keys of one function names what changed (:mod:`hitnb.hashing.differences`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

import xxhash

SCHEME = "hitnb-key-3"
CODE = "code"
"""The label of the code of the function or cell itself among its dependencies."""
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def compose_key(
    identity: str, fingerprint: str, args: Mapping[str, str], extras: Mapping[str, str]
) -> str:
    """The key: 32 hex digits. The hit path calls this without building :class:`KeyParts`."""
    # Argument names are identifiers (a **kwargs dict is one argument) and digests are hex,
    # so only the identity and the extras' values need length prefixes to stay unambiguous.
    arg_text = "".join([f"{name}={digest};" for name, digest in args.items()])
    extra_text = "".join([f"{name}={len(v)}:{v};" for name, v in extras.items()])
    text = f"{SCHEME}|{len(identity)}:{identity}|{fingerprint}|{arg_text}|{extra_text}"
    return xxhash.xxh3_128_hexdigest(text.encode("utf-8", "surrogatepass"))


class Dependency(NamedTuple):
    """What a key depends on: its kind (``function``, ``class``, ``global``, ``closure``,
    ``package``, ``module``, ``missing``, ...) and its name (``utils.clean``, ``numpy``).

    Stored key parts name a dependency by its :attr:`label`, ``"<kind> <name>"`` (JSON keys);
    :meth:`from_label` is the one place that reads a label back.
    """

    kind: str
    name: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}" if self.name else self.kind

    @classmethod
    def from_label(cls, label: str) -> Dependency:
        kind, _, name = label.partition(" ")
        return cls(kind, name)


class KeyParts(NamedTuple):
    """Everything a key is made of, kept with the entry (as JSON) for explanations."""

    identity: str
    code: str
    """The code version: a digest over the function's code and the code it reaches."""
    fingerprint: str
    """The digest over code and the values of the globals and closures it reads."""
    args: dict[str, str]
    extras: dict[str, str]
    deps: dict[str, str]
    """Each dependency's label and digest (or version): what the state is made of."""
    shown: dict[str, str]
    """Short reprs of scalar dependency values, for explanations."""
    written: list[str]
    """Labels of values the function was seen to change: state, left out of the key."""

    @property
    def key(self) -> str:
        return compose_key(self.identity, self.fingerprint, self.args, self.extras)

    @property
    def args_fingerprint(self) -> str:
        text = "".join(f"{name}={digest};" for name, digest in self.args.items())
        return xxhash.xxh3_128_hexdigest(text.encode())

    def dependencies(self) -> dict[Dependency, str]:
        """Each dependency with its digest (or a package's version)."""
        return {Dependency.from_label(label): digest for label, digest in self.deps.items()}

    def packages(self) -> dict[str, str]:
        """Installed packages the code uses, by distribution name, with their versions."""
        return {d.name: v for d, v in self.dependencies().items() if d.kind == "package"}

    def to_json(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyParts:
        """Parts as an entry stored them; what an older entry lacks is empty."""
        empty: dict[str, Any] = {"identity": "", "code": "", "fingerprint": "", "written": []}
        return cls(**{name: data.get(name, empty.get(name, {})) for name in cls._fields})
