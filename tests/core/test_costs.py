"""When caching would cost more than it saves (the rule, functions always restored), and
runs whose outputs cannot be stored.

Cells that are re-executed on a hit are tested in real kernels
(tests/notebooks/test_cheap_cells_rerun.py)."""

from __future__ import annotations

import numpy as np

from hitnb import memo
from hitnb.core import costs


def test_the_rule():
    assert costs.worth_rerunning(0.001, 400_000_000)
    assert not costs.worth_rerunning(1.0, 400_000_000)  # slower than restoring: restore
    assert not costs.worth_rerunning(0.0, costs.MIN_BYTES - 1)  # small: always stored
    assert costs.nbytes_of([np.zeros(10), b"abc", "de", object()]) == 85
    # encoded and timed: loading objects costs what encoding them took, not their bytes' worth
    assert costs.restore_seconds(8_000_000, 0.5) == costs.FIXED_SECONDS + 1.0
    assert costs.worth_rerunning(0.2, 8_000_000, costs.restore_seconds(8_000_000, 0.5))
    assert not costs.worth_rerunning(0.2, 8_000_000)


def test_a_function_is_restored_however_cheap_its_big_result(counter):
    calls = counter()

    @memo
    def zeros(n):
        calls.hit("zeros")  # a hit never runs the body: code relies on it
        return np.zeros(n)

    first = zeros(10_000_000)
    second = zeros(10_000_000)
    assert calls["zeros"] == 1
    assert np.array_equal(first, second)


def test_an_unstorable_run_is_tried_again_when_a_library_behind_it_changes():
    from hitnb.core.unstorable import Unstorable

    marker = Unstorable.of("output `m` (a Model) cannot be stored", ["numpy.random._generator"])
    assert marker.versions == {"numpy": np.__version__}
    assert marker.holds()
    upgraded = Unstorable(marker.note, marker.modules, {"numpy": "0.0.1"})
    assert not upgraded.holds()


def test_an_unstorable_run_loaded_by_key_says_why_it_has_no_outputs():
    import pytest

    from hitnb.core.record import RunRecord, result_of
    from hitnb.core.unstorable import Unstorable
    from hitnb.errors import HitnbError

    marker = Unstorable("output `h` (a Handle) cannot be stored")
    for stored in (marker, RunRecord(marker)):
        with pytest.raises(HitnbError, match=r"not stored: output `h` \(a Handle\) cannot be"):
            result_of(stored)
