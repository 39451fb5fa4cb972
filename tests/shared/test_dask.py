"""A sweep mapped over a dask LocalCluster (2 worker processes) fills one shared store."""

from __future__ import annotations

import sys
from collections import Counter

import pytest

import hitnb
from hitnb.store import maintenance

pytestmark = pytest.mark.slow

MODULE = """
import os
import hitnb

LOG = os.environ["SWEEP_LOG"]


@hitnb.experiment
def train(lr, epochs=3):
    with open(LOG, "a") as fh:
        fh.write(f"{lr}\\n")  # one short append per computation, counted by the test
    accuracy = 0.5
    for epoch in range(epochs):
        accuracy += lr * (1 - accuracy)
        hitnb.log("accuracy", accuracy, step=epoch)
    return {"accuracy": accuracy}
"""


def test_a_sweep_on_a_local_cluster_computes_each_call_once(s3, tmp_path, monkeypatch):
    from dask.distributed import Client, LocalCluster

    (tmp_path / "sweep_mod.py").write_text(MODULE)
    log = tmp_path / "computed.log"
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("SWEEP_LOG", str(log))
    monkeypatch.setenv("HITNB_STORE", s3.url)
    monkeypatch.setenv("HITNB_CACHE", str(tmp_path / "worker-cache"))
    monkeypatch.syspath_prepend(str(tmp_path))
    import sweep_mod

    lrs = [round(0.01 * i, 2) for i in range(1, 21)]
    with LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:  # fmt: skip
        futures = client.map(sweep_mod.train, lrs + lrs[::-1], pure=False)  # each call twice
        results = client.gather(futures)
    assert [r["accuracy"] for r in results[:20]] == [r["accuracy"] for r in results[20:][::-1]]
    computed = Counter(log.read_text().split())
    assert sorted(computed) == sorted(str(lr) for lr in lrs)
    assert set(computed.values()) == {1}, computed  # one computation per key
    hitnb.configure(store=s3.url, cache=tmp_path / "colleague")  # another machine's view
    maintenance.pull(hitnb.core.memo.current_store(), experiments=True)
    runs = hitnb.runs("train", experiments_only=True)
    assert len(runs) == 20
    assert sorted(r.arguments["lr"] for r in runs) == lrs
    assert all(len(r.series["accuracy"]) == 3 for r in runs)
    del sys.modules["sweep_mod"]


def test_a_process_pool_shares_the_store_too(s3, tmp_path, monkeypatch):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    (tmp_path / "pool_mod.py").write_text(MODULE)
    log = tmp_path / "pool.log"
    for name, value in {
        "PYTHONPATH": str(tmp_path),
        "SWEEP_LOG": str(log),
        "HITNB_STORE": s3.url,
        "HITNB_CACHE": str(tmp_path / "pool-cache"),
    }.items():
        monkeypatch.setenv(name, value)  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    import pool_mod

    lrs = [0.1, 0.2, 0.3, 0.4] * 3
    context = multiprocessing.get_context("spawn")  # fresh interpreters, like remote workers
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        results = list(pool.map(pool_mod.train, lrs))
    assert len({r["accuracy"] for r in results}) == 4
    assert sorted(log.read_text().split()) == ["0.1", "0.2", "0.3", "0.4"]
    del sys.modules["pool_mod"]
