"""A call that returned one of its inputs itself, stored as where that input is found.

``dedupe(df)`` returns ``df`` when there is nothing to drop; ``settings()`` returns the
global ``CONFIG``. Plainly, the caller's change of the result (``out["flag"] = 1``) is a
change of ``df`` or ``CONFIG``. A hit that loaded a copy from the store left them as they
were. The key holds that input's digest, so on a hit the input is the value the run
returned: the store keeps a :class:`Returned` instead of a copy, and a hit gives the caller
the input itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Returned:
    """Stored in place of a result that was one of the call's inputs."""

    kind: str
    """``"argument"`` or ``"global"``."""
    name: str
    """Where the input is found: the argument's name, or the global's label in the
    function's fingerprint."""
    shown: str
    """The name the user knows it by."""

    def describe(self) -> str:
        return f"its {self.kind} `{self.shown}` itself"
