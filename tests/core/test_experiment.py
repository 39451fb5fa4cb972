"""Experiments: metrics, logged series, failed runs, sweeps and the DataFrame of runs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import hitnb


@hitnb.experiment
def train(lr, batch_size=32):
    accuracy = 0.5
    for epoch in range(4):
        accuracy += lr * (1 - accuracy)
        hitnb.log("accuracy", accuracy, step=epoch)
        hitnb.log("loss", 1 - accuracy)
    return {"accuracy": accuracy, "model": "weights", "flags": [1, 2]}


def test_metrics_come_from_the_result_and_from_logged_series():
    train(0.1)
    (run,) = train.runs()
    assert set(run.metrics) == {"accuracy", "loss"}
    assert run.metrics["accuracy"] == pytest.approx(1 - 0.5 * 0.9**4)
    assert run.metrics["loss"] == pytest.approx(0.5 * 0.9**4)  # the series' last value
    assert [step for step, _ in run.series["accuracy"]] == [0, 1, 2, 3]
    assert [step for step, _ in run.series["loss"]] == [0, 1, 2, 3]  # steps default to 0, 1, ...


@dataclasses.dataclass
class Score:
    f1: float
    label: str
    exact: np.float64


def test_dataclass_and_tuple_results_give_metrics():
    @hitnb.experiment
    def evaluate(threshold):
        return "a model", Score(f1=threshold * 2, label="x", exact=np.float64(0.25))

    evaluate(0.3)
    assert evaluate.runs()[0].metrics == {"f1": 0.6, "exact": 0.25}


def test_a_sweep_fills_the_table_once_and_a_rerun_adds_nothing():
    for lr in (0.01, 0.1, 0.3):
        for batch_size in (16, 32):
            train(lr, batch_size)
    frame = hitnb.experiments(train)
    assert len(frame) == 6
    assert {"lr", "batch_size", "accuracy", "loss", "status", "duration"} <= set(frame.columns)
    assert frame.index.name == "key"
    for lr in (0.01, 0.1, 0.3):
        for batch_size in (16, 32):
            train(lr, batch_size)
    again = hitnb.experiments("train")
    assert len(again) == 6
    assert sorted(again["lr"]) == sorted(frame["lr"])
    assert frame.sort_values("lr")["accuracy"].is_monotonic_increasing


def test_a_failed_run_is_kept_with_its_traceback_and_runs_again():
    attempts = []

    @hitnb.experiment(ignore=("attempts",))
    def fragile(x):
        attempts.append(x)
        if len(attempts) == 1:
            raise RuntimeError("out of memory")
        return {"value": x}

    with pytest.raises(RuntimeError, match="out of memory"):
        fragile(3)
    (failed,) = fragile.runs()
    assert failed.status == "failed"
    assert "RuntimeError: out of memory" in failed.error and "Traceback" in failed.error
    assert fragile(3) == {"value": 3}  # a failed run is not a hit
    (fixed,) = fragile.runs()
    assert fixed.status == "ok" and fixed.key == failed.key and len(attempts) == 2


def test_log_outside_an_experiment_does_nothing_and_bad_input_is_refused():
    hitnb.log("ignored", 1.0)

    @hitnb.memo
    def plain(x):
        hitnb.log("also_ignored", x)
        return x

    plain(2)
    assert plain.runs()[0].metrics == {} and plain.runs()[0].series == {}
    with pytest.raises(TypeError, match="needs a number"):
        hitnb.log("accuracy", "high")
    with pytest.raises(TypeError, match="metric name"):
        hitnb.log("", 1.0)


def test_experiments_frame_of_everything_and_of_nothing():
    assert hitnb.experiments().empty
    train(0.2)
    frame = hitnb.experiments()
    assert len(frame) == 1 and frame.iloc[0]["lr"] == 0.2
