"""Objects of libraries that never change in place, which code may hold anywhere.

Two names holding one of them share nothing a change could reach, and a copy of one is
told from it only by ``is``.
"""

from __future__ import annotations

import sys
from typing import Any


def library_scalar(value: Any) -> bool:
    """numpy's scalars (a structured array's record aside, a view into it), pandas'
    timestamps, intervals, periods, date offsets and missing values, and compiled Cython
    functions: none changes in place. Counted, any two names holding one (a model and the
    results appended to it, holding its ``QuarterEnd`` and a ``np.True_``) were taken for
    sharing what a cell changed (statespace_forecasting cell 33 ran again on every hit)."""
    kind = type(value)
    top = kind.__module__.partition(".")[0]
    if top == "numpy":
        np = sys.modules["numpy"]
        return isinstance(value, np.generic) and not isinstance(value, np.void)
    if kind.__name__ == "cython_function_or_method":
        return True
    pd = sys.modules.get("pandas") if top == "pandas" else None
    if pd is None:
        return False
    scalars = (pd.Timestamp, pd.Timedelta, pd.Period, pd.Interval, pd.tseries.offsets.BaseOffset)
    return isinstance(value, scalars) or kind.__name__ in ("NAType", "NaTType")
