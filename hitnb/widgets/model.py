"""The state of an experiment table, apart from any widget: rows, filter, sort, page, selection.

Rows come from the store's index (parameters and metrics are stored with each entry), so
opening a table of 10,000 runs loads no result. The filter is a line of terms, all of
which a row must match: ``lr<0.01``, ``status=failed``, ``batch_size>=64``, or plain
words found anywhere in the row.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hitnb.core.metrics import add_parameters_and_metrics
from hitnb.core.runs import Run

FIXED_COLUMNS = ("key", "created", "status", "duration")
_AROUND_OPERATORS = re.compile(r"\s*(<=|>=|!=|=|<|>)\s*")
_TERM = re.compile(r"^([\w.:-]+)\s*(<=|>=|!=|=|<|>)\s*(.+)$")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "!=": operator.ne,
}


def row_of(run: Run) -> dict[str, Any]:
    """A run as a table row: fixed columns, then parameters, then metrics."""
    fixed = {
        "key": run.key,
        "created": run.created.strftime("%Y-%m-%d %H:%M:%S"),
        "status": run.status,
        "duration": run.duration,
    }
    return add_parameters_and_metrics(fixed, run, _short)


def _short(value: Any) -> str:
    if isinstance(value, dict) and "type" in value:
        shape = value.get("shape")
        return f"{value['type']}{tuple(shape) if shape is not None else ''}"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers before text, missing values last, whatever the mix in a column."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (2, 0)
    if isinstance(value, bool | int | float):
        return (0, value)
    return (1, str(value))


@dataclass
class RunTable:
    """Filter, sort, page and select rows of runs."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    metric_columns: list[str] = field(default_factory=list)
    page_size: int = 20
    filter_text: str = ""
    sort_column: str = "created"
    descending: bool = True
    page: int = 0
    selected: list[str] = field(default_factory=list)

    @classmethod
    def from_runs(cls, runs: Iterable[Run], **options: Any) -> RunTable:
        table = cls(**options)
        table.replace_runs(list(runs))
        return table

    # -- what is shown ----------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        names: dict[str, None] = dict.fromkeys(FIXED_COLUMNS)
        for row in self.rows:
            names.update(dict.fromkeys(row))
        return list(names)

    @property
    def parameter_columns(self) -> list[str]:
        hidden = {*FIXED_COLUMNS, *self.metric_columns}
        return [c for c in self.columns if c not in hidden]

    def visible(self) -> list[dict[str, Any]]:
        """Every row that passes the filter, in sort order."""
        tight = _AROUND_OPERATORS.sub(r"\1", self.filter_text.strip())  # "lr < 0.1" -> "lr<0.1"
        terms = [t for t in re.split(r"[,\s]+", tight) if t]
        rows = [r for r in self.rows if all(self._matches(r, t) for t in terms)]
        rows.sort(key=lambda r: _sort_key(r.get(self.sort_column)), reverse=self.descending)
        if self.descending:  # keep missing values last either way
            rows.sort(key=lambda r: _sort_key(r.get(self.sort_column))[0] == 2)
        return rows

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.visible()) / self.page_size))

    def page_rows(self) -> list[dict[str, Any]]:
        start = self.page * self.page_size
        return self.visible()[start : start + self.page_size]

    @staticmethod
    def _matches(row: dict[str, Any], term: str) -> bool:
        match = _TERM.match(term)
        if match:
            column, op, wanted = match.groups()
            if column not in row:
                return False
            value = row[column]
            number = _number(wanted)
            if (
                number is not None
                and isinstance(value, int | float)
                and not isinstance(value, bool)
            ):
                return _OPS[op](value, number)
            if op in ("=", "!="):
                return _OPS[op](str(value).lower(), wanted.lower())
            return False
        needle = term.lower()
        return any(needle in str(v).lower() for v in row.values())

    # -- what the user does -----------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self.page = 0

    def sort(self, column: str) -> None:
        """Sort by ``column``; sorting by the same column again flips the order."""
        if column not in self.columns:
            raise KeyError(f"no column {column!r}; columns: {', '.join(self.columns)}")
        if column == self.sort_column:
            self.descending = not self.descending
        else:
            self.sort_column, self.descending = column, False
        self.page = 0

    def go_to(self, page: int) -> None:
        self.page = min(max(page, 0), self.pages - 1)

    def toggle(self, key: str) -> None:
        """Select a run for comparison, or unselect it."""
        if key in self.selected:
            self.selected.remove(key)
        elif any(r["key"] == key for r in self.rows):
            self.selected.append(key)
        else:
            raise KeyError(f"no run with key {key!r} in this table")

    def replace_runs(self, runs: list[Run]) -> None:
        """New rows from the store (a sweep added runs); keeps filter, sort and selection."""
        self.rows = [row_of(r) for r in runs]
        names: dict[str, None] = {}
        for run in runs:
            names.update(dict.fromkeys(n if n not in run.arguments else f"metric:{n}"
                                       for n in run.metrics))  # fmt: skip
        self.metric_columns = list(names)
        keys = {r["key"] for r in self.rows}
        self.selected = [k for k in self.selected if k in keys]
        self.go_to(self.page)
