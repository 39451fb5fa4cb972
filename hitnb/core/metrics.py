"""Experiments: metrics from results and from ``hitnb.log``, and runs as a DataFrame.

An experiment is a memoized call whose entry is flagged and never evicted. Its
*metrics* are the scalar values of a returned dict or dataclass (or of such an item of
a returned tuple), plus the last value of every series logged with :func:`log` while
it ran. The series themselves are stored too, to plot as curves.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from hitnb.core.runs import Run

_recorder: ContextVar[Recorder | None] = ContextVar("hitnb_recorder", default=None)


class Recorder:
    """Collects the series an experiment logs while it runs."""

    def __init__(self) -> None:
        self.series: dict[str, list[list[float]]] = {}

    def add(self, name: str, value: float, step: float | None) -> None:
        points = self.series.setdefault(name, [])
        points.append([float(len(points) if step is None else step), float(value)])


@contextmanager
def recording() -> Iterator[Recorder]:
    """Record the series logged in the block (nested experiments record their own)."""
    recorder = Recorder()
    token = _recorder.set(recorder)
    try:
        yield recorder
    finally:
        _recorder.reset(token)


def log(name: str, value: float, step: float | None = None) -> None:
    """Record a metric's value (at ``step``, default: the next one) for the running experiment.

    >>> for epoch in range(3):
    ...     hitnb.log("accuracy", 0.5 + epoch / 10, step=epoch)

    Outside an experiment it does nothing, so the same code runs undecorated.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"hitnb.log needs a metric name (a non-empty str), got {name!r}")
    if not _is_scalar(value):
        raise TypeError(
            f"hitnb.log({name!r}, ...) needs a number, got {type(value).__qualname__}: {value!r}"
        )
    recorder = _recorder.get()
    if recorder is not None:
        recorder.add(name, float(value), step)


def _is_scalar(value: Any) -> bool:
    """A real number (numpy scalars included), but not a bool."""
    if type(value) is bool or type(value).__name__ == "bool_":
        return False
    return isinstance(value, numbers.Real) or (
        type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0
    )


def _scalars(mapping: Mapping[str, Any]) -> dict[str, float | str]:
    """Numeric items as floats; NaN and infinities as text, since JSON has no place for them."""
    out: dict[str, float | str] = {}
    for name, value in mapping.items():
        if isinstance(name, str) and _is_scalar(value):
            number = float(value)
            out[name] = number if math.isfinite(number) else repr(number)
    return out


def _as_mapping(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return None


def metrics_of(result: Any, series: Mapping[str, list[list[float]]]) -> dict[str, Any]:
    """Scalar metrics of a result: from a dict or dataclass (or one inside a returned tuple),
    then the last value of each logged series that the result does not already give."""
    metrics: dict[str, Any] = {}
    items = result if isinstance(result, tuple | list) else (result,)
    for item in items:
        mapping = _as_mapping(item)
        if mapping is not None:
            metrics.update(_scalars(mapping))
    for name, points in series.items():
        if points and name not in metrics:
            metrics[name] = points[-1][1]
    return metrics


def add_parameters_and_metrics(
    row: dict[str, Any], run: Run, describe: Callable[[Any], Any]
) -> dict[str, Any]:
    """Complete a run's row after its fixed columns: the parameters (a dict or list one
    as ``describe`` shows it), then the metrics, ``metric:``-prefixed if a name is taken."""
    for name, value in run.arguments.items():
        row[name] = value if not isinstance(value, dict | list) else describe(value)
    for name, value in run.metrics.items():
        row[name if name not in row else f"metric:{name}"] = value
    return row


def experiments_frame(runs: list[Run]) -> Any:
    """A pandas DataFrame of runs: one row each, parameters and scalar metrics as columns."""
    import pandas as pd

    rows = [
        add_parameters_and_metrics(
            {
                "key": run.key,
                "created": run.created,
                "duration": run.duration,
                "status": run.status,
            },
            run,
            str,
        )
        for run in runs
    ]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["key", "created", "duration", "status"])
    return frame.set_index("key")
