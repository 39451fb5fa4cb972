"""Which pandas DataFrames Parquet returns unchanged, proven by dtype and structure.

Parquet (through pyarrow) is exact for a known set of column dtypes and label shapes and
changes the rest: an object column of lists comes back as numpy arrays, ints with ``None``
as floats with ``NaN``, ``string[python]`` as Arrow-backed strings, seconds-resolution
datetimes as milliseconds, tuples in ``attrs`` as lists. Rather than trying a round trip
(a second full write and read), :func:`parquet_refusal` admits a frame only when every
part of it is on the list below, which ``tests/store/test_codec_exactness.py`` proves
part by part; anything else is refused with the reason, and the store uses pickle.

Admitted:

* column and index dtypes: numpy bool, ints, unsigned ints and floats; datetime64 and
  timedelta64 in ms, us or ns (tz-aware too); pandas' nullable ``Int*``, ``UInt*``,
  ``Float*`` and ``boolean``; Arrow-backed strings (``str``, ``string[pyarrow]``);
  categoricals whose categories are Arrow-backed strings; periods; intervals of numbers
  or datetimes; Arrow-backed numbers, booleans and timestamps;
* column labels: unique strings (or a MultiIndex of them), ints or floats, or a RangeIndex
  (restored from the entry's metadata); index and column-axis names that are strings or
  None;
* a RangeIndex or an index of admitted dtypes (a datetime index's frequency is restored
  from the metadata);
* ``attrs`` made of JSON values only (str keys; str, int, float, bool, None, lists).
"""

from __future__ import annotations

import math
from typing import Any

_EXACT_UNITS = ("ms", "us", "ns")
_MASKED = {f"{p}{n}" for p in ("Int", "UInt") for n in (8, 16, 32, 64)} | {
    "Float32",
    "Float64",
    "boolean",
}


def parquet_refusal(value: Any) -> str | None:
    """Why Parquet would not return ``value`` unchanged, or None when it would."""
    import pandas as pd

    if type(value) is not pd.DataFrame:
        return f"{type(value).__qualname__} is not a plain DataFrame"
    if not value.flags.allows_duplicate_labels:
        return "the frame disallows duplicate labels (a flag Parquet does not keep)"
    if not _json_exact(value.attrs):
        return "attrs hold values JSON would change (only str keys, str, numbers, lists)"
    reason = _columns_refusal(value.columns)
    if reason is not None:
        return reason
    for i, dtype in enumerate(value.dtypes):
        reason = _dtype_refusal(dtype)
        if reason is not None:
            return f"column {value.columns[i]!r} {reason}"
    return _index_refusal(value.index, "index")


def restorable_parts(frame: Any) -> dict[str, Any]:
    """What Parquet drops but the metadata can put back: RangeIndex labels, index freq."""
    import pandas as pd

    meta: dict[str, Any] = {}
    columns = frame.columns
    if type(columns) is pd.RangeIndex:
        meta["columns_range"] = [columns.start, columns.stop, columns.step, columns.name]
    freq = getattr(frame.index, "freq", None)
    if freq is not None and not isinstance(frame.index, pd.PeriodIndex):
        meta["index_freq"] = freq.freqstr
    return meta


def restore_parts(frame: Any, meta: dict[str, Any]) -> Any:
    """Put back what :func:`restorable_parts` recorded."""
    import pandas as pd

    if "columns_range" in meta:
        start, stop, step, name = meta["columns_range"]
        frame.columns = pd.RangeIndex(start, stop, step, name=name)
    if "index_freq" in meta:
        frame.index.freq = meta["index_freq"]
    return frame


def _json_exact(value: Any) -> bool:
    kind = type(value)
    if value is None or kind in (str, bool, int):
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        return all(_json_exact(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _json_exact(v) for k, v in value.items())
    return False


def _columns_refusal(columns: Any) -> str | None:
    import pandas as pd

    if not columns.is_unique:
        return "duplicate column names (Parquet needs each column named once)"
    if type(columns) is pd.RangeIndex:
        return _name_refusal(columns.name, "column axis")
    if isinstance(columns, pd.MultiIndex):
        levels = [columns.get_level_values(i) for i in range(columns.nlevels)]
    else:
        levels = [columns]
    for level in levels:
        if not (
            _is_arrow_str(level.dtype) or (level.dtype.kind in "if" and level.dtype.itemsize == 8)
        ):
            return f"column names of dtype {level.dtype} (Parquet names columns with strings)"
        if level.dtype.kind == "f" and not level.notna().all():
            return "a column name that is NaN (pyarrow cannot read its name back)"
        reason = _name_refusal(level.name, "column axis")
        if reason is not None:
            return reason
    if any(str(c).startswith("__index_level_") for c in columns):
        return "a column name Parquet reserves for the index (__index_level_...)"
    return None


def _index_refusal(index: Any, where: str) -> str | None:
    import pandas as pd

    if type(index) is pd.RangeIndex:
        return _name_refusal(index.name, where)
    levels = (
        [index.get_level_values(i) for i in range(index.nlevels)]
        if isinstance(index, pd.MultiIndex)
        else [index]
    )
    for level in levels:
        reason = _name_refusal(level.name, where)
        if reason is not None:
            return reason
        reason = _dtype_refusal(level.dtype)
        if reason is not None:
            return f"{where} {reason}"
    return None


def _name_refusal(name: Any, where: str) -> str | None:
    if name is None or type(name) is str:
        return None
    return f"{where} name {name!r} is not a string (Parquet would return it as text)"


def _is_arrow_str(dtype: Any) -> bool:
    import pandas as pd

    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _dtype_refusal(dtype: Any) -> str | None:
    """None when a column of ``dtype`` round-trips exactly, else what goes wrong."""
    import numpy as np
    import pandas as pd

    if isinstance(dtype, np.dtype):
        if dtype.kind in "biuf":
            return None
        if dtype.kind in "mM" and np.datetime_data(dtype)[0] in _EXACT_UNITS:
            return None
        if dtype.hasobject:
            return "holds Python objects (Parquet would convert them, e.g. lists to arrays)"
        return f"has dtype {dtype} (Parquet would change it)"
    if _is_arrow_str(dtype) or dtype.name in _MASKED:
        return None
    if isinstance(dtype, pd.DatetimeTZDtype):
        return None if dtype.unit in _EXACT_UNITS else f"has dtype {dtype} (unit not kept)"
    if isinstance(dtype, pd.CategoricalDtype):
        if _is_arrow_str(dtype.categories.dtype):
            return None
        return f"is categorical with {dtype.categories.dtype} categories (Parquet changes them)"
    if isinstance(dtype, pd.PeriodDtype):
        return None
    if isinstance(dtype, pd.IntervalDtype):
        subtype = dtype.subtype
        if isinstance(subtype, np.dtype) and _dtype_refusal(subtype) is None:
            return None
        return f"has dtype {dtype} (Parquet would change it)"
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        kind = dtype.pyarrow_dtype
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
            return None
        if pa.types.is_timestamp(kind):
            return None
        return f"has dtype {dtype} (Parquet would change it)"
    if isinstance(dtype, pd.StringDtype):
        return f"has dtype string[{dtype.storage}] (Parquet returns Arrow-backed strings)"
    return f"has dtype {dtype} (Parquet cannot hold it exactly)"
