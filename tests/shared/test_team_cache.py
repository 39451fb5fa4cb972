"""Two laptops share one bucket; tampering is caught; an outage degrades to local work."""

from __future__ import annotations

import json
import warnings

import pytest
from conftest import BUCKET, laptop

import hitnb
from hitnb.errors import HitnbWarning
from hitnb.store import maintenance

pytestmark = pytest.mark.slow

PROGRAM = """
    import numpy as np, hitnb

    @hitnb.memo
    def features(n):
        print("COMPUTE features", n)
        return np.arange(n) * 2.0        # large: a blob

    @hitnb.memo
    def summary(n):
        print("COMPUTE summary", n)
        return {"n": n, "total": float(features(n).sum())}   # small: inline

    for n in (10, 50_000):
        print("RESULT", summary(n))
    print("RESULT", float(features(50_000)[-1]))
"""


def test_the_second_laptop_computes_nothing(s3, tmp_path):
    first = laptop(s3, tmp_path / "laptop-a", PROGRAM)
    second = laptop(s3, tmp_path / "laptop-b", PROGRAM)
    assert first.count("COMPUTE") == 4
    assert "COMPUTE" not in second
    results = [line for line in first.splitlines() if line.startswith("RESULT")]
    assert results == [line for line in second.splitlines() if line.startswith("RESULT")]
    fs = s3.fs()
    listing = fs.find(f"{BUCKET}/hitnb")
    functions = [json.loads(fs.cat_file(p))["function"] for p in listing if "/entries/" in p]
    assert sorted(f for f in functions if f != "hitnb.input") == [
        "__main__.features",
        "__main__.features",
        "__main__.summary",
        "__main__.summary",
    ]
    assert sum("/objects/" in p for p in listing) >= 1  # the large features array
    again = laptop(s3, tmp_path / "laptop-b", PROGRAM)  # now from laptop b's own cache
    assert "COMPUTE" not in again


def test_a_tampered_remote_blob_is_detected_and_recomputed(s3, tmp_path):
    laptop(s3, tmp_path / "laptop-a", PROGRAM)
    fs = s3.fs()
    blob = next(p for p in fs.find(f"{BUCKET}/hitnb") if "/objects/" in p)
    data = bytearray(fs.cat_file(blob))
    data[len(data) // 2] ^= 0xFF
    fs.pipe_file(blob, bytes(data))
    out = laptop(s3, tmp_path / "laptop-c", PROGRAM)
    assert "does not match its name" in out and "CorruptEntryWarning" in out
    assert out.count("COMPUTE features") >= 1  # computed instead of trusted
    assert fs.cat_file(blob) != bytes(data)  # and the good blob uploaded over the bad one
    clean = laptop(s3, tmp_path / "laptop-d", PROGRAM)
    assert "COMPUTE" not in clean and "Warning" not in clean


def test_signed_entries_refuse_unsigned_and_changed_ones(s3, tmp_path):
    key_env = {"HITNB_SIGNING_KEY": "team-secret"}
    laptop(s3, tmp_path / "unsigned", PROGRAM)  # written without a key
    refused = laptop(s3, tmp_path / "signed-a", PROGRAM, env=key_env)
    assert "unsigned or was changed; refused" in refused
    assert refused.count("COMPUTE") == 4  # so computed, and uploaded signed
    trusted = laptop(s3, tmp_path / "signed-b", PROGRAM, env=key_env)
    assert "COMPUTE" not in trusted
    fs = s3.fs()
    for manifest in (p for p in fs.find(f"{BUCKET}/hitnb") if p.endswith(".json")):
        record = json.loads(fs.cat_file(manifest))
        if record["function"].endswith("summary"):
            record["duration"] = 123.0  # a change the signature covers, signature kept
            fs.pipe_file(manifest, json.dumps(record).encode())
    changed = laptop(s3, tmp_path / "signed-c", PROGRAM, env=key_env)
    assert changed.count("signed with another key or was changed; refused") == 2
    assert changed.count("COMPUTE summary") == 2


def test_an_outage_degrades_to_local_work_and_push_uploads_later(s3, tmp_path):
    hitnb.configure(store=s3.url, cache=tmp_path / "cache")

    @hitnb.memo
    def square(x):
        return x * x

    assert square(2) == 4
    s3.stop()
    with pytest.warns(HitnbWarning, match="cannot be reached.*hitnb push") as caught:
        assert square(3) == 9
        assert square(4) == 16
    assert len([w for w in caught if "cannot be reached" in str(w.message)]) == 1  # once
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert square(3) == 9  # served locally, silently
    s3.restart()  # an empty bucket: everything must be pushed
    report = maintenance.push(square._store())
    assert report.ok and len(report.fixed) == 3
    keys = {
        p.rsplit("/", 1)[1][:-5] for p in s3.fs().find(f"{BUCKET}/hitnb") if p.endswith(".json")
    }
    assert keys == {r.key for r in square.runs()}


def test_pull_for_offline_work(s3, tmp_path, monkeypatch):
    laptop(s3, tmp_path / "laptop-a", PROGRAM)
    hitnb.configure(store=s3.url, cache=tmp_path / "offline")
    store = hitnb.core.memo.current_store()
    fetched: list[str] = []
    manifest = type(store.remote).manifest
    monkeypatch.setattr(
        type(store.remote), "manifest", lambda self, key: fetched.append(key) or manifest(self, key)
    )
    report = maintenance.pull(store, "summary")
    assert len(report.fixed) == 2
    assert len(fetched) == len(set(fetched)), "a manifest was fetched twice"
    assert {e.function.rsplit(".", 1)[1] for e in store.entries()} == {"summary"}
    report = maintenance.pull(store)
    assert len(report.fixed) >= 2  # the features, and inputs kept for export
    assert {"features", "summary"} <= {e.function.rsplit(".", 1)[1] for e in store.entries()}
