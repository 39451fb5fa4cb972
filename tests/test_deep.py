"""Work past the recursion limit runs on a deep stack, and work nested in it runs there."""

from __future__ import annotations

import sys
import threading

from hitnb.deep import on_a_deep_stack


def test_deep_work_runs_nested_deep_work_on_its_own_stack_and_restores_the_limit():
    limit = sys.getrecursionlimit()

    def depth(n: int) -> int:
        return 0 if n == 0 else 1 + depth(n - 1)

    outcome: list[int] = []
    worker = threading.Thread(
        target=lambda: outcome.append(
            on_a_deep_stack(lambda: on_a_deep_stack(lambda: depth(20_000), "inner"), "outer")
        ),
        daemon=True,
    )
    worker.start()
    worker.join(60)  # before, the inner call waited for the outer one's lock for ever
    assert not worker.is_alive() and outcome == [20_000]
    assert sys.getrecursionlimit() == limit
