"""Plain data encoded by pickle's C encoder: the fast way to hash what notebooks hold.

Lists, tuples and dicts of None, bools, ints, floats, str and bytes (nested as deep as
they like) are most of the Python data a notebook passes around: JSON records, lookup
tables, object columns of tuples. Walking them one Python call per element costs about a
microsecond each; pickle's C encoder writes them at tens of nanoseconds each.

Its bytes are a sound encoding only under three rules, all enforced here:

* **Only those types.** ``reducer_override`` is called for every object pickle does not
  write natively, and refuses it; with protocol 3, sets and bytearrays are written through
  their class, so they are refused as well (a set's order is not part of its value, and
  this encoding would keep it). A subclass of any of the types (a numpy float, an
  ``IntEnum``) is refused too.
* **No memo** (``fast`` mode): a value shared twice is written twice, so the bytes depend
  on the value, never on which objects happen to be the same object (strings and numbers
  are, by chance). Which lists and dicts are one does matter to code that changes them:
  the caller walks a value holding one twice instead (:mod:`hitnb.hashing.shared`).
* **No cycles**: fast mode refuses them; the caller's encoding handles them.

Two values with the same bytes unpickle to equal values of the same types, so the bytes
never collide; dicts are written in their insertion order, which is part of their value
(iteration, and every DataFrame built from them, follows it).
"""

from __future__ import annotations

import io
import pickle
from typing import Any

PROTOCOL = 3
"""Protocol 4 and later write sets natively, past ``reducer_override``."""


class _NotPlain(Exception):
    """Raised from inside the encoder to abandon a value that is not plain data."""


class _PlainPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        raise _NotPlain


def plain_encoding(value: Any) -> memoryview | None:
    """The pickle of ``value`` when it is plain data (see the module's docstring), else None."""
    buffer = io.BytesIO()
    pickler = _PlainPickler(buffer, protocol=PROTOCOL)
    pickler.fast = True
    try:
        pickler.dump(value)
    except (_NotPlain, ValueError, RecursionError, pickle.PicklingError):
        return None
    return buffer.getbuffer()
