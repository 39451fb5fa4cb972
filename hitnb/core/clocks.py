"""Readings of a clock that a cell binds: such a cell is not cached.

A cell binding ``t0 = time.perf_counter()`` or ``run_id = int(time.time())`` and restored
from the store brings back the time of the run that was stored: a later
``time.perf_counter() - t0`` counts the hours since that run, where a plain run counts
seconds. Moving the reading to the time of the hit would not do: what the cell made from it
(a path naming ``run_id``, a seed, a dict keyed by ``t0``) comes back as stored and no longer
agrees with it. So a cell that binds a reading runs every time, as a plain cell, and says so
(it is cached once it deletes the name, when no later cell reads it).

The reading is found for what it is: after a run, an output that lies between the readings
of a clock taken just before and just after the run is a reading of that clock. Another
value falls in such a window only by chance (a file's modification time the cell wrote, a
date literal equal to today, a statistic near the seconds since boot during a long cell),
and then the cost is a cell run again, never a wrong value. Only cells whose code names a
clock (``time``, ``perf_counter``, ``now``, ``today``, ...) or calls one under another name
(``pc()`` after ``from time import perf_counter as pc``, ``timeit.default_timer()``) are
looked at; a reading taken by a function the cell calls, a value computed from a reading
(``deadline = time.time() + 60``) and a reading held inside another value are not found.
Integers count for the ``_ns`` clocks and for whole seconds of the wall clock
(``int(time.time())``), not for whole seconds of the monotonic clocks, which small counts of
a notebook meet too often.
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass
from typing import Any

_CLOCK_WORDS = re.compile(
    r"\b(time|time_ns|perf_counter|perf_counter_ns|monotonic|monotonic_ns|now|utcnow|today)\b"
)


def may_read_a_clock(source: str) -> bool:
    """Whether code names a clock (it may bind a reading of one)."""
    return _CLOCK_WORDS.search(source) is not None


_CLOCKS = (
    time.time,
    time.time_ns,
    time.perf_counter,
    time.perf_counter_ns,
    time.monotonic,
    time.monotonic_ns,
    datetime.datetime.now,
    datetime.datetime.utcnow,
    datetime.datetime.today,
    datetime.date.today,
)


def is_clock(value: Any) -> bool:
    """Whether ``value`` is one of the clocks, under whatever name the notebook gave it
    (``from time import perf_counter as pc``; ``timeit.default_timer`` is one)."""
    try:
        return callable(value) and any(value == clock for clock in _CLOCKS)
    except Exception:  # a callable whose == raises
        return False


@dataclass(frozen=True)
class Readings:
    """Every clock read at one moment (within a microsecond or so)."""

    time: float
    time_ns: int
    perf_counter: float
    perf_counter_ns: int
    monotonic: float
    monotonic_ns: int
    now: datetime.datetime
    """The local time, naive, as ``datetime.now()`` gives it."""
    utcnow: datetime.datetime
    """UTC, naive, as ``datetime.utcnow()`` gives it."""
    aware: datetime.datetime
    """UTC, aware: compares with an aware reading of any time zone."""


def read_clocks() -> Readings:
    """The clocks now."""
    aware = datetime.datetime.now(datetime.timezone.utc)
    return Readings(
        time=time.time(),
        time_ns=time.time_ns(),
        perf_counter=time.perf_counter(),
        perf_counter_ns=time.perf_counter_ns(),
        monotonic=time.monotonic(),
        monotonic_ns=time.monotonic_ns(),
        now=datetime.datetime.now(),
        utcnow=aware.replace(tzinfo=None),
        aware=aware,
    )


_FLOAT_CLOCKS = ("time", "perf_counter", "monotonic")
_INT_CLOCKS = ("time_ns", "perf_counter_ns", "monotonic_ns")


def clock_of(value: Any, before: Readings, after: Readings) -> str | None:
    """The clock ``value`` is a reading of, taken between ``before`` and ``after`` (as
    ``time.perf_counter``); None when it is none. Python's own floats and ints count (not
    bools, nor numpy scalars), and datetimes and dates, pandas Timestamps among them."""
    kind = type(value)
    if kind is float:
        for clock in _FLOAT_CLOCKS:
            if getattr(before, clock) <= value <= getattr(after, clock):
                return f"time.{clock}"
    elif kind is int:
        for clock in _INT_CLOCKS:
            if getattr(before, clock) <= value <= getattr(after, clock):
                return f"time.{clock}"
        if int(before.time) <= value <= int(after.time):
            return "time.time"
    elif isinstance(value, datetime.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            if before.aware <= value <= after.aware:
                return "datetime.now"
        elif before.now <= value <= after.now or before.utcnow <= value <= after.utcnow:
            return "datetime.now"
    elif isinstance(value, datetime.date) and before.now.date() <= value <= after.now.date():
        return "date.today"
    return None


def readings_in(outputs: dict[str, Any], before: Readings, after: Readings) -> dict[str, str]:
    """The outputs that are readings of a clock taken while the run ran: name -> clock."""
    found = {}
    for name, value in outputs.items():
        clock = clock_of(value, before, after)
        if clock is not None:
            found[name] = clock
    return found
