"""Cache keys, and the parts they are made of so a miss can say why it missed.

``key = xxh3_128(scheme, identity, code fingerprint, argument fingerprint, extras)``,
where the argument fingerprint hashes each bound argument's name and value digest
in signature order. The parts are stored with every entry; comparing the parts of
two keys of one function names what changed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

import xxhash

from hitnb.hashing.values import ValueHasher, digest_value

SCHEME = "hitnb-key-1"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


class KeyParts(NamedTuple):
    """Everything a key is made of, kept with the entry (as JSON) for explanations."""

    identity: str
    code: str
    args: dict[str, str]
    extras: dict[str, str]

    @property
    def key(self) -> str:
        # Argument names are identifiers (a **kwargs dict is one argument) and digests are hex,
        # so only the identity and the extras' values need length prefixes to stay unambiguous.
        args = "".join([f"{name}={digest};" for name, digest in self.args.items()])
        extras = "".join([f"{name}={len(v)}:{v};" for name, v in self.extras.items()])
        text = f"{SCHEME}|{len(self.identity)}:{self.identity}|{self.code}|{args}|{extras}"
        return xxhash.xxh3_128_hexdigest(text.encode("utf-8", "surrogatepass"))

    @property
    def args_fingerprint(self) -> str:
        return xxhash.xxh3_128_hexdigest(_joined(self.args).encode("utf-8", "surrogatepass"))

    def to_json(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "code": self.code,
            "args": self.args,
            "extras": self.extras,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyParts:
        return cls(data["identity"], data["code"], dict(data["args"]), dict(data["extras"]))


def _joined(mapping: Mapping[str, str]) -> str:
    return "\x1f".join(f"{name}\x1e{value}" for name, value in mapping.items())


def argument_digests(arguments: Mapping[str, Any]) -> dict[str, str]:
    """Hex digest of each argument's value, in the order given (the signature's order).

    Raises :class:`~hitnb.hashing.values.UnhashableValue` naming nothing but the value;
    the caller knows the argument's name and wraps it into a user-facing error.
    """
    out: dict[str, str] = {}
    for name, value in arguments.items():
        out[name] = digest_value(value).hex()
    return out


def combined_digest(*values: Any) -> str:
    """One hex digest over several values, as one tuple."""
    h = ValueHasher()
    h.update(values)
    return h.hexdigest()
