"""Work run by ``with_frame_room`` starts at a fresh chunk of the frame stack: a loop of calls
at any common depth below it never maps and unmaps a chunk per call."""

from __future__ import annotations

import resource
import sys
from collections.abc import Callable

import pytest

from hitnb.frame_room import with_frame_room

CALLS = 5_000


def _at(depth: int, work: Callable[[], None]) -> None:
    return work() if depth == 0 else _at(depth - 1, work)


def _leaf() -> None:
    pass


def _calls() -> None:
    for _ in range(CALLS):
        _leaf()


def _faults(depth: int) -> int:
    """Page faults of :data:`CALLS` calls made ``depth`` frames down: one per call when
    each call maps a fresh chunk of the frame stack."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    _at(depth, _calls)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def _worst(depths: range) -> int:
    return max(_faults(depth) for depth in depths)


def test_calls_at_every_depth_below_the_room_map_no_chunk_per_call():
    """300 frames of ``_at`` (about 30 KiB) cross at least one chunk's end from wherever
    they start; within the room, none."""
    assert with_frame_room(lambda: _worst(range(300))) < CALLS // 10


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="3.13 and later keep a spare chunk")
def test_without_the_room_some_depth_maps_a_chunk_per_call():
    """The check above can fail: the same calls, from here, cross a chunk's end at some
    depth on every call."""
    assert _worst(range(300)) >= CALLS


def test_the_work_s_value_and_exceptions_come_through():
    assert with_frame_room(lambda: 42) == 42
    with pytest.raises(KeyError, match="missing"):
        with_frame_room(lambda: {}["missing"])
