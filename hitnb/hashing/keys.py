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

    def to_json(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyParts:
        defaults: dict[str, Any] = {"written": []}
        return cls(**{name: data.get(name, defaults.get(name, {})) for name in cls._fields})
