"""Hashing Python data and storing big results, each against its anchor in the same run.

Anchors: hashing a value is compared with pickling it once and hashing the pickle
(``pickle.dumps`` + xxh3, the cost of reading the value with the fastest general
serializer) and with ``joblib.hash``; storing and loading an array with ``np.save`` +
fsync and ``np.load``; storing and loading a DataFrame with pyarrow's own Parquet write
and read. Every measure runs in a fresh interpreter, repeated; the table gives medians
with (min .. max) and the ratios, which are the figures that count on a shared machine.

    python benchmarks/values.py                # prints the table
    python benchmarks/values.py --write-docs   # ... and rewrites its section of docs/benchmarks.md
    python benchmarks/values.py --smoke        # tiny sizes, seconds (the test suite runs it)

To compare with another checkout of hitnb (say, before a change), put it first on the path:
``PYTHONPATH=/path/to/old/checkout python benchmarks/values.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import textwrap
from collections.abc import Callable

from docs_section import write_section
from fresh import run_fresh

START, END = "<!-- values-benchmarks:start -->", "<!-- values-benchmarks:end -->"

PRELUDE = """
import json, pickle, sys, time
from pathlib import Path
STORE, SCALE = sys.argv[1], float(sys.argv[2])

def n(count):
    return max(int(count * SCALE), 100)

def best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)

def value(case):
    if case == "ints":
        return list(range(n(1_000_000)))
    if case == "dict":
        return {f"key{i}": i for i in range(n(1_000_000))}
    if case == "records":
        return [{"id": i, "name": f"user{i}", "score": i * 0.5, "tags": ["a", "b"],
                 "active": i % 2 == 0, "parent": None if i % 3 else i - 1}
                for i in range(n(400_000))]
    import pandas as pd
    if case == "wide_frame":
        import numpy as np
        return pd.DataFrame(np.random.default_rng(0).random((n(1000), 1000)))
    strings = [f"item-{i}" for i in range(n(1_000_000))]
    if case == "object_column":
        return pd.Series(strings, dtype=object)
    if case == "arrow_column":
        return pd.Series(strings, dtype="string[pyarrow]")
    raise SystemExit(f"no case {case}")

def hasher(tool):
    if tool == "hitnb":
        from hitnb.hashing.values import digest_value
        return digest_value
    if tool == "pickle":
        import xxhash
        return lambda v: xxhash.xxh3_128_digest(pickle.dumps(v, protocol=5))
    if tool == "joblib":
        import joblib
        return joblib.hash
    raise SystemExit(f"no tool {tool}")
"""

HASH_CASES = {
    "ints": "list of 1e6 ints",
    "dict": "dict of 1e6 str -> int",
    "records": "400k JSON-like records",
    "object_column": "object column of 1e6 str",
    "arrow_column": "string[pyarrow] column of 1e6",
    "wide_frame": "DataFrame of 1000 rows x 1000 float columns",
}

PROBES: dict[str, str] = {
    f"hash_{case}_{tool}": f"""
        v = value({case!r})
        print(json.dumps(best_of(lambda: hasher({tool!r})(v))))
    """
    for case in HASH_CASES
    for tool in ("hitnb", "pickle", "joblib")
}
PROBES |= {
    "store_array_hitnb": """
        import numpy as np, itertools
        from hitnb.store.local import LocalStore
        store = LocalStore(Path(STORE) / "hitnb")
        a = np.random.default_rng(0).random(n(2**27))
        keys = (f"{i:032x}" for i in itertools.count())
        def put():
            a[0] += 1  # a new blob each time, as a new result would be
            store.put(next(keys), a, function="f", code="c", args="a", duration=0.0)
        print(json.dumps(a.nbytes / best_of(put)))
    """,
    "store_array_npsave_fsync": """
        import numpy as np, os
        a = np.random.default_rng(0).random(n(2**27))
        def save():
            a[0] += 1
            with open(Path(STORE) / "a.npy", "wb") as fh:
                np.save(fh, a)
                fh.flush()
                os.fsync(fh.fileno())
        print(json.dumps(a.nbytes / best_of(save)))
    """,
    "load_array_hitnb": """
        import numpy as np
        from hitnb.store.local import LocalStore
        store = LocalStore(Path(STORE) / "hitnb")
        a = np.random.default_rng(0).random(n(2**27))
        entry = store.put("e" * 32, a, function="f", code="c", args="a", duration=0.0)
        print(json.dumps(a.nbytes / best_of(lambda: store.load(entry))))
    """,
    "load_array_npload": """
        import numpy as np
        a = np.random.default_rng(0).random(n(2**27))
        np.save(Path(STORE) / "a.npy", a)
        print(json.dumps(a.nbytes / best_of(lambda: np.load(Path(STORE) / "a.npy"))))
    """,
    "load_records_hitnb": """
        from hitnb.store.local import LocalStore
        store = LocalStore(Path(STORE) / "hitnb")
        entry = store.put("d" * 32, value("records"), function="f", code="c", args="a",
                          duration=0.0)
        print(json.dumps(best_of(lambda: store.load(entry))))
    """,
    "load_records_pickle": """
        blob = pickle.dumps(value("records"), protocol=5)
        print(json.dumps(best_of(lambda: pickle.loads(blob))))
    """,
    "store_frame_hitnb": """
        import itertools
        from hitnb.store.local import LocalStore
        store = LocalStore(Path(STORE) / "hitnb")
        df = frame()
        keys = (f"{i:032x}" for i in itertools.count())
        def put():
            df.iloc[0, 0] += 1
            store.put(next(keys), df, function="f", code="c", args="a", duration=0.0)
        print(json.dumps(best_of(put)))
    """,
    "store_frame_pyarrow": """
        import os, pyarrow.parquet as pq, pyarrow as pa
        df = frame()
        def write():
            df.iloc[0, 0] += 1
            pq.write_table(pa.Table.from_pandas(df), Path(STORE) / "f.parquet")
            fd = os.open(Path(STORE) / "f.parquet", os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        print(json.dumps(best_of(write)))
    """,
    "load_frame_hitnb": """
        from hitnb.store.local import LocalStore
        store = LocalStore(Path(STORE) / "hitnb")
        entry = store.put("f" * 32, frame(), function="f", code="c", args="a", duration=0.0)
        assert entry.codec == "parquet", entry.codec
        print(json.dumps(best_of(lambda: store.load(entry))))
    """,
    "load_frame_pyarrow": """
        import pyarrow.parquet as pq, pyarrow as pa
        pq.write_table(pa.Table.from_pandas(frame()), Path(STORE) / "f.parquet")
        print(json.dumps(best_of(lambda: pq.read_table(Path(STORE) / "f.parquet").to_pandas())))
    """,
}

FRAME = """
def frame():
    import numpy as np, pandas as pd
    rows = n(10_000_000)
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "id": np.arange(rows),
        "x": rng.random(rows),
        "y": rng.standard_normal(rows).astype("float32"),
        "group": pd.Categorical(rng.choice(["a", "b", "c", "d"], rows)),
        "when": pd.date_range("2026-01-01", periods=rows, freq="s"),
    })
"""


def run_probe(name: str, repeats: int, scale: float) -> list[float]:
    program = PRELUDE + FRAME + textwrap.dedent(PROBES[name])
    return [run_fresh(name, program, str(scale)) for _ in range(repeats)]


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def fmt_rate(bps: float) -> str:
    return f"{bps / 1e9:.2f} GB/s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="run only probes whose name starts so")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the docs section")
    args = parser.parse_args()
    repeats, scale = (1, 0.001) if args.smoke else (args.repeats, 1.0)

    load_before = os.getloadavg()[0]
    results: dict[str, list[float]] = {}
    for name in PROBES:
        if name.startswith(args.only):
            results[name] = run_probe(name, repeats, scale)
            print(f"  {name:32s} done", file=sys.stderr)

    def med(name: str) -> float:
        return statistics.median(results[name])

    def span(name: str, fmt: Callable[[float], str]) -> str:
        r = results[name]
        return f"{fmt(statistics.median(r))} ({fmt(min(r))} .. {fmt(max(r))})"

    rows = []
    for case, label in HASH_CASES.items():
        names = [f"hash_{case}_{tool}" for tool in ("hitnb", "pickle", "joblib")]
        if all(n in results for n in names):
            hitnb, pickled, joblib = names
            rows.append((
                f"hash a {label}", span(hitnb, fmt_time), span(pickled, fmt_time),
                f"{med(pickled) / med(hitnb):.2f}x the speed of pickle+xxh3; "
                f"{med(joblib) / med(hitnb):.1f}x joblib.hash ({fmt_time(med(joblib))})",
            ))  # fmt: skip
    if {"store_array_hitnb", "store_array_npsave_fsync"} <= results.keys():
        rows.append((
            "store a 1 GiB float64 array", span("store_array_hitnb", fmt_rate),
            span("store_array_npsave_fsync", fmt_rate),
            f"{med('store_array_hitnb') / med('store_array_npsave_fsync'):.0%} of np.save+fsync",
        ))  # fmt: skip
    if {"load_array_hitnb", "load_array_npload"} <= results.keys():
        rows.append((
            "load it (full read, checksum verified)", span("load_array_hitnb", fmt_rate),
            span("load_array_npload", fmt_rate),
            f"{med('load_array_hitnb') / med('load_array_npload'):.0%} of np.load",
        ))  # fmt: skip
    if {"load_records_hitnb", "load_records_pickle"} <= results.keys():
        rows.append((
            "load 400k JSON-like records (full read, verified)",
            span("load_records_hitnb", fmt_time), span("load_records_pickle", fmt_time),
            f"{med('load_records_pickle') / med('load_records_hitnb'):.2f}x the speed of "
            "pickle.loads",
        ))  # fmt: skip
    if {"store_frame_hitnb", "store_frame_pyarrow"} <= results.keys():
        rows.append((
            "store a 1e7-row DataFrame (5 columns)", span("store_frame_hitnb", fmt_time),
            span("store_frame_pyarrow", fmt_time),
            f"{med('store_frame_hitnb') / med('store_frame_pyarrow'):.2f}x pyarrow's "
            "Parquet write+fsync",
        ))  # fmt: skip
    if {"load_frame_hitnb", "load_frame_pyarrow"} <= results.keys():
        rows.append((
            "load it", span("load_frame_hitnb", fmt_time), span("load_frame_pyarrow", fmt_time),
            f"{med('load_frame_hitnb') / med('load_frame_pyarrow'):.2f}x pyarrow's Parquet read",
        ))  # fmt: skip
    header = "| measure | hitnb | anchor | ratio |\n|---|---|---|---|\n"
    table = header + "".join(f"| {a} | {b} | {c} | {d} |\n" for a, b, c, d in rows)
    print(table)
    load = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    print(f"load average: {load}")
    if args.write_docs and not args.smoke:
        write_docs(table, repeats, load)
    return 0


def write_docs(table: str, repeats: int, load: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md, leaving the rest alone."""
    python = f"{platform.python_implementation()} {platform.python_version()}"
    import numpy
    import pandas
    import pyarrow

    section = (
        f"{START}\n## Values: hashing Python data, storing big results\n\n"
        "Each hashing row hashes one value with hitnb, against pickling it once and hashing\n"
        "the pickle (`pickle.dumps` + xxh3: the anchor) and `joblib.hash`. The anchor of the\n"
        "array rows is `np.save` + fsync and `np.load` of the same array; of the DataFrame\n"
        "rows, pyarrow writing (+ fsync) and reading the same frame as Parquet itself.\n"
        f"Medians of {repeats} fresh interpreters, with (min .. max). Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, {python}, numpy {numpy.__version__}, "
        f"pandas {pandas.__version__}, pyarrow {pyarrow.__version__}. Load average during the\n"
        f"run: {load} (other jobs share the machine; the ratios, measured in the same run,\n"
        "are the figures that count, and the array rows move most with load).\n\n"
        "Reproduce with:\n\n```\n.venv/bin/python benchmarks/values.py --write-docs\n```\n\n"
        + table
        + f"\n{END}"
    )
    write_section(START, END, section)


if __name__ == "__main__":
    sys.exit(main())
