"""A call that returned one of its inputs itself, stored as where that input is found.

``dedupe(df)`` returns ``df`` when there is nothing to drop; ``settings()`` returns the
global ``CONFIG``. Plainly, the caller's change of the result (``out["flag"] = 1``) is a
change of ``df`` or ``CONFIG``. A hit that loaded a copy from the store left them as they
were. The key holds that input's digest, so on a hit the input is the value the run
returned: the store keeps a :class:`Returned` around the value, and a hit gives the caller
the input itself (loading the entry by its key, or listing runs, gives the value as stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, eq=False)
class Returned:
    """Stored in place of a result that was one of the call's inputs."""

    kind: str
    """``"argument"`` or ``"global"``."""
    name: str
    """Where the input is found: the argument's name, or the global's label in the
    function's fingerprint."""
    shown: str
    """The name the user knows it by."""
    value: Any
    """The value as the run returned it, for loading by key and listing runs."""

    def describe(self) -> str:
        return f"its {self.kind} `{self.shown}` itself"
