"""Readings of a clock that a cell binds, moved to the time of a hit.

A cell binding ``t0 = time.perf_counter()`` or ``started = datetime.now()`` and restored as
stored brings back the time of the run that was stored: a later ``time.perf_counter() - t0``
then counts the hours since that run, where a plain run counts seconds. The value is found
for what it is: after a run, an output that lies between the readings of a clock taken just
before and just after the run is a reading of that clock (no other value of a notebook falls
in such a window but by a rare chance, and then the cost is a value moved, not a wrong run).
The record keeps how long before the run's end it was read, and a hit binds the clock's
reading at the hit less as much, as if the run had just ended: two readings of one run keep
their difference (``t1 - t0`` is what the run measured), none lies ahead of the clock, and a
later cell measuring from one counts what a plain run would (the rest of the run the reading
began, then the time that really passed since the hit).

Only a cell whose code names a clock (``time``, ``perf_counter``, ``now``, ``today``, ...)
is looked at: a statistic of any other cell that falls in the window by chance is left as
it is; a reading taken in a function the cell calls under another name is missed. Only
names bound to a reading are moved, not readings held inside other values, nor values
computed from one (``deadline = time.time() + 60``, a run id formatted from ``now``): those
come back as stored. Integers are taken for readings of the ``_ns`` clocks and for whole
seconds of the wall clock (``seed = int(time.time())``), not for whole seconds of the
monotonic clocks, which small counts of a notebook meet too often.
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

_CLOCK_WORDS = re.compile(
    r"\b(time|time_ns|perf_counter|perf_counter_ns|monotonic|monotonic_ns|now|utcnow|today)\b"
)


def may_read_a_clock(source: str) -> bool:
    """Whether code names a clock (it may bind a reading of one)."""
    return _CLOCK_WORDS.search(source) is not None


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


class Reading(NamedTuple):
    """An output that is a reading of ``clock``, taken ``before_end`` before the run ended
    (seconds, nanoseconds, a ``timedelta`` or days, as the clock counts)."""

    clock: str
    before_end: Any


_FLOAT_CLOCKS = ("time", "perf_counter", "monotonic")
_INT_CLOCKS = ("time_ns", "perf_counter_ns", "monotonic_ns")


def reading_of(value: Any, before: Readings, after: Readings) -> Reading | None:
    """The clock ``value`` is a reading of, taken between ``before`` and ``after``; None
    when it is none (only floats, ints, datetimes and dates of the standard types, and
    their subclasses such as ``pandas.Timestamp``, can be)."""
    kind = type(value)
    if kind is float:
        for clock in _FLOAT_CLOCKS:
            end = getattr(after, clock)
            if getattr(before, clock) <= value <= end:
                return Reading(clock, end - value)
    elif kind is int:
        for clock in _INT_CLOCKS:
            end = getattr(after, clock)
            if getattr(before, clock) <= value <= end:
                return Reading(clock, end - value)
        if int(before.time) <= value <= int(after.time):
            return Reading("whole_seconds", int(after.time) - value)
    elif isinstance(value, datetime.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            if before.aware <= value <= after.aware:
                return Reading("aware", after.aware - value)
        else:
            for clock in ("now", "utcnow"):
                end = getattr(after, clock)
                if getattr(before, clock) <= value <= end:
                    return Reading(clock, end - value)
    elif isinstance(value, datetime.date) and before.now.date() <= value <= after.now.date():
        return Reading("today", (after.now.date() - value).days)
    return None


def readings_in(outputs: dict[str, Any], before: Readings, after: Readings) -> dict[str, Reading]:
    """The outputs that are clock readings taken while the run ran, by name."""
    found = {}
    for name, value in outputs.items():
        reading = reading_of(value, before, after)
        if reading is not None:
            found[name] = reading
    return found


def moved(value: Any, reading: Reading, now: Readings) -> Any:
    """What a reading ``value`` stored as ``reading`` is at a hit whose clocks read ``now``:
    the clock now, less how long before its run's end the reading was taken; of the type
    of the stored value (a ``pandas.Timestamp`` stays one, in its time zone)."""
    clock, before_end = reading
    if clock == "whole_seconds":
        return int(now.time) - before_end
    if clock == "today":
        return value + (now.now.date() - datetime.timedelta(days=before_end) - value)
    if clock == "aware":
        return value + (now.aware - before_end - value)
    if clock in ("now", "utcnow"):
        return value + (getattr(now, clock) - before_end - value)
    return getattr(now, clock) - before_end
