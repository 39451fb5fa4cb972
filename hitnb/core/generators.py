"""Random generators held as values: ``random.Random``, numpy's ``Generator`` and
``RandomState``, torch's ``Generator``.

A generator a function draws from, passed to it or read as a global, is an input by the
state it starts from (its digest is in the key like any other value) and an effect by the
state it ends in: a hit leaves it where an uncached call would have, so the draws after the
call are the same either way. It is never "state the function writes" that the key may
leave out: reseeding it must give a different result.

Nothing here imports numpy or torch; a value is recognised by its type's module.
"""

from __future__ import annotations

import random
from typing import Any


def is_generator(value: Any) -> bool:
    """Whether ``value`` is a random generator whose state :func:`state_of` can take."""
    if isinstance(value, random.Random):
        return True
    kind = type(value)
    module = kind.__module__ or ""
    if module.startswith("numpy.random"):
        return kind.__name__ in ("Generator", "RandomState")
    return module.startswith("torch") and kind.__name__ == "Generator"


def state_of(generator: Any) -> Any:
    """The generator's state now, as plain data that pickles."""
    if isinstance(generator, random.Random):
        return generator.getstate()
    name = type(generator).__name__
    if name == "RandomState":
        return generator.get_state(legacy=False)
    if hasattr(generator, "bit_generator"):  # numpy's Generator
        return generator.bit_generator.state
    return generator.get_state()  # torch's Generator


def set_state(generator: Any, state: Any) -> None:
    """Put ``generator`` in ``state`` (as :func:`state_of` took it)."""
    if isinstance(generator, random.Random):
        generator.setstate(state)
    elif type(generator).__name__ == "RandomState":
        generator.set_state(state)
    elif hasattr(generator, "bit_generator"):
        generator.bit_generator.state = state
    else:
        generator.set_state(state)
