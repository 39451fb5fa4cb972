"""Seeding the global random generators for one call, funes' ``global_seed`` done politely.

``@memo(seed=True)`` seeds ``random``, numpy's legacy global generator and torch
(those already imported) before the call, makes the seed part of the key, and
restores the generators' previous states afterwards, so a hit and a miss leave
the caller's random streams the same.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed the global generators with ``seed`` inside the block, restore them after."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__qualname__}: {seed!r}")
    restore: list[Any] = []
    state = random.getstate()
    restore.append(lambda: random.setstate(state))
    random.seed(seed)
    np = sys.modules.get("numpy")
    if np is not None:
        np_state = np.random.get_state()
        restore.append(lambda: np.random.set_state(np_state))
        np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch_state = torch.random.get_rng_state()
        restore.append(lambda: torch.random.set_rng_state(torch_state))
        torch.manual_seed(seed)
    try:
        yield
    finally:
        for undo in reversed(restore):
            undo()
