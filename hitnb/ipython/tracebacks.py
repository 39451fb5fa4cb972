"""Tracebacks of memoized cells read like a plain cell's: they start at the user's code.

A memoized cell's code runs inside ``%%memo``, so an error in it would be shown below a
first frame ``get_ipython().run_cell_magic('memo', ...)`` and a line saying hitnb's own
frames were hidden (in auto mode, in every failing cell of the notebook). The shell's
``showtraceback`` is wrapped so that a traceback passing through :func:`execute` is shown
(and kept for ``%debug``) from the frame after it: the cell's own code, numbered as the cell
is (``Cell In[7]``). A traceback that does not pass through it is shown as before.
"""

from __future__ import annotations

import sys
from typing import Any

from hitnb.ipython.memo_cell import execute

_WRAPPED = "__hitnb_wrapped__"


def _from_the_cell(tb: Any) -> Any:
    """The part of ``tb`` from a memoized cell's own code on, or None if ``tb`` does not pass
    through :func:`execute`."""
    while tb is not None:
        if tb.tb_frame.f_code is execute.__code__:
            return tb.tb_next
        tb = tb.tb_next
    return None


def start_at_user_code(shell: Any) -> None:
    """Wrap ``shell.showtraceback`` (once) as the module's docstring says."""
    original = shell.showtraceback
    if getattr(original, _WRAPPED, False):
        return

    def showtraceback(*args: Any, **kwargs: Any) -> Any:
        if not args and kwargs.get("exc_tuple") is None:
            etype, value, tb = sys.exc_info()
            cell = _from_the_cell(tb)
            if cell is not None and value is not None:
                value.__traceback__ = cell  # IPython keeps it for the history, formatted again
                kwargs["exc_tuple"] = (etype, value, cell)
        return original(*args, **kwargs)

    setattr(showtraceback, _WRAPPED, True)
    showtraceback.__wrapped__ = original  # type: ignore[attr-defined]
    shell.showtraceback = showtraceback


def restore(shell: Any) -> None:
    """Undo :func:`start_at_user_code`."""
    current = shell.showtraceback
    if getattr(current, _WRAPPED, False):
        shell.showtraceback = current.__wrapped__
