"""When caching would cost more than it saves: running again instead of restoring.

Storing a run's outputs and loading them on a hit costs time in proportion to their size
(encode, checksum, write; read, checksum, decode). A run that makes big outputs quickly
(``x = np.zeros(50_000_000)``: under a millisecond, 400 MB) is served faster by running it
again than by restoring it. After such a miss the engine stores a :class:`Rerun` instead of
the outputs: what the run took, what restoring would have cost, and a digest of everything
it produced. A hit on it runs the code again (after the usual checks of what the run read)
and compares the digest: the same digest means the hit is exactly what a restore would have
given. A different digest means the code is not deterministic from what hitnb sees it read
(a clock, fresh entropy, a reader in C): that run is stored in full and restored from then on.

The rule, with sizes measured in memory before anything is encoded::

    rerun  when  outputs >= MIN_BYTES  and  run < (FIXED + bytes / RATE) / 2

where ``run`` is what running it again on a hit costs: the run itself, hitnb's measuring
of what it changed in place (a value it called a method on is hashed after it), and the
digest of what it produced, once taken.

checked first with the outputs' size in memory, then once they are encoded with the bytes
they encoded to and, instead of ``bytes / RATE`` when larger, twice the time encoding them
took: objects (a fitted model's results) count as small in memory, and loading them costs
what building them from the pickle does, not their bytes' worth of reading.

``RATE`` is one pass of storing and loading together; on the 2-core machine of the
benchmarks a 400 MB array took 2.1 s to store and 1.5 s to load through the store (110 MB/s
for both) and an 8 MB one 20 ms (400 MB/s), so 500 MB/s errs on the side of restoring.
Runs that wrote files, experiments, and lazy or memory-mapped results are always stored.

Only cells are re-executed (their hosts say how big their outputs are and digest what they
produced; see :class:`~hitnb.core.engine.Work`). A cell's whole visible behaviour is in its
digest, so a re-execution shows what a restore would. A ``@memo`` function is always
restored: a hit never runs its body, and code relies on that (a print, a counter, a log).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MIN_BYTES = 4 * 2**20
"""Outputs smaller than this are always stored: restoring them takes milliseconds."""
FIXED_SECONDS = 0.002
"""What any store and load costs besides the bytes (an index row, a manifest)."""
RATE = 500e6
"""Bytes a second for storing and loading together (see the module's docstring)."""


@dataclass(frozen=True)
class Rerun:
    """Stored instead of a run's outputs when running it again costs less than restoring."""

    duration: float
    """Seconds running it again costs: the run, hitnb's measuring of what it changed, and
    the digest of what it produced (all of which a hit on it repeats)."""
    restore: float
    """Estimated seconds to store and load its outputs."""
    nbytes: int
    """Bytes its outputs take in memory."""
    digest: str
    """Digest of everything it produced, to check a re-execution against."""

    def why(self) -> str:
        return (
            f"re-executed: running it again takes {_seconds(self.duration)}, storing and restoring "
            f"its {_size(self.nbytes)} of outputs about {_seconds(self.restore)}"
        )


def restore_seconds(nbytes: int, encoding: float = 0.0) -> float:
    """Estimated seconds to store and load ``nbytes`` of outputs; when encoding them was
    timed (``encoding`` seconds), at least twice that: loading objects costs about what
    encoding them did, and far more than their bytes' worth of reading."""
    return FIXED_SECONDS + max(nbytes / RATE, 2 * encoding)


def worth_rerunning(duration: float, nbytes: int, restore: float | None = None) -> bool:
    """Whether running again (``duration`` seconds) clearly beats restoring ``nbytes``
    (in ``restore`` seconds when measured, else as :func:`restore_seconds` estimates)."""
    if restore is None:
        restore = restore_seconds(nbytes)
    return nbytes >= MIN_BYTES and duration * 2 < restore


def nbytes_of(values: Iterable[Any]) -> int:
    """Bytes the values take in memory, counting only what is cheap to measure (arrays,
    frames, bytes and strings); anything else counts as small, which errs toward storing."""
    total = 0
    for value in values:
        if isinstance(value, bytes | bytearray | str):
            total += len(value)
            continue
        module = type(value).__module__.partition(".")[0]
        if module == "numpy" and isinstance(getattr(value, "nbytes", None), int):
            total += value.nbytes
        elif module == "pandas" and hasattr(value, "memory_usage"):
            try:
                used = value.memory_usage(index=True, deep=False)
                total += int(used.sum() if hasattr(used, "sum") else used)
            except Exception:
                continue
        elif module == "torch" and hasattr(value, "element_size"):
            total += int(value.element_size() * value.nelement())
    return total


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _size(value: int) -> str:
    return f"{value / 1e6:.0f} MB" if value >= 1e6 else f"{value / 1e3:.0f} kB"


__all__ = ["Rerun", "nbytes_of", "restore_seconds", "worth_rerunning"]
