"""Data files as inputs: what a hit and a miss cost when a run read files, against anchors
measured in the same run.

- A hit of a ``@memo`` function whose run read a 300 MB file: the hit compares the file by
  ``stat`` (size and modification time), not by reading it. Anchors: reading the file
  (``open().read()``, from the page cache) and a hit of the same function whose run read no
  file.
- A miss of a function that reads 1,000 small files: observing them (the audit hook while
  it runs; then each file's path resolved, ``stat`` and content digest; the record stored
  with them) against the same miss with observation switched off, and the same reading
  without hitnb. Three readers: ``pandas.read_csv`` of each file (a folder of small
  tables), ``json.load`` of each (small records), and the bytes alone (the worst case:
  nothing done with a file but reading it). A first miss digests every file (none known in
  the interpreter); a later miss finds the digests of files whose size and modification
  time did not move. The four take turns in one interpreter.

Every measure runs in a fresh interpreter, repeated; the table gives medians with
(min .. max) and the ratios, which are the figures that count on a shared machine.

    python benchmarks/files.py                # prints the table
    python benchmarks/files.py --write-docs   # ... and rewrites its section of docs/benchmarks.md
    python benchmarks/files.py --smoke        # tiny sizes, seconds (the test suite runs it)
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

START, END = "<!-- files-benchmarks:start -->", "<!-- files-benchmarks:end -->"
HIT_TARGET = 0.050
MISS_TARGET = 0.05

PRELUDE = """
import json, os, sys, time
FOLDER, SCALE = sys.argv[1], float(sys.argv[2])
os.chdir(FOLDER)

def best_of(fn, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)

def memo(fn):
    import hitnb
    hitnb.configure(store=os.path.join(FOLDER, "store"))
    return hitnb.memo(fn)

BIG = "big.bin"
FILES = 1000 if SCALE >= 1 else 20  # --smoke: a few files, to check that it runs

def write_big():
    size = max(int(300_000_000 * SCALE), 1000)
    block = os.urandom(1 << 20)
    with open(BIG, "wb") as fh:
        for start in range(0, size, len(block)):
            fh.write(block[: size - start])

def small_files():
    os.makedirs("records", exist_ok=True)
    for i in range(FILES):
        with open(os.path.join("records", f"{i:04d}.json"), "w") as fh:
            json.dump({"id": i, "name": f"item {i}", "values": list(range(i % 17))}, fh)
        with open(os.path.join("records", f"{i:04d}.csv"), "w") as fh:
            fh.write("id,value\\n" + "".join(f"{i},{v}\\n" for v in range(i % 17 + 1)))

def read_json(salt):
    total = salt
    for i in range(FILES):
        with open(f"records/{i:04d}.json") as fh:
            total += len(json.load(fh)["values"])
    return total

def read_csv(salt):
    import pandas as pd
    total = salt
    for i in range(FILES):
        total += int(pd.read_csv(f"records/{i:04d}.csv")["value"].sum())
    return total

def read_bytes(salt):
    total = salt
    for i in range(FILES):
        with open(f"records/{i:04d}.json", "rb") as fh:
            total += len(fh.read())
    return total

def miss_times(work, rounds=5):
    # A warm-up miss unobserved (the function's fingerprint, the store, pandas imported),
    # then rounds that take turns: a miss observed that digests every file (none known in
    # this interpreter, as on a first miss), a miss observed that finds the digests (a later
    # miss), a miss unobserved, the plain function. Each call has a new salt, so a new key;
    # taking turns keeps the machine's drift out of the ratios.
    from hitnb.core import files
    fn = memo(work)
    files.enabled = False
    fn(-1)
    work(-1)
    salts = iter(range(1_000_000))
    def timed(call):
        start = time.perf_counter()
        call(next(salts))
        return time.perf_counter() - start
    def hooked(salt):  # the plain function under the audit hook, nothing recorded after
        with files.observing():
            work(salt)
    times = {"first_on": [], "on": [], "off": [], "plain": [], "hooked": []}
    for _ in range(rounds):
        for how in times:
            files.enabled = how in ("first_on", "on", "hooked")
            if how == "first_on":
                files._known.clear()
            call = {"plain": work, "hooked": hooked}.get(how, fn)
            times[how].append(timed(call))
    return {how: min(values) for how, values in times.items()}
"""

PROCESS = """
    import copy, importlib
    from hitnb.core import files
    kind = sys.argv[3]
    files.compiled_hook = kind == "compiled"
    names = ["numpy", "pandas", "matplotlib.pyplot", "statsmodels.api"] if SCALE >= 1 else ["json"]
    start = time.perf_counter()
    if kind == "none":
        for name in names:
            importlib.import_module(name)
    else:
        with files.observing():  # the import cell of a notebook, observed as a run
            for name in names:
                importlib.import_module(name)
        assert files.hook == kind, files.hook
    imported = time.perf_counter() - start
    records = [{"id": i, "tags": [i]} for i in range(20_000 if SCALE >= 1 else 100)]
    print(json.dumps({
        "import": imported,
        "deepcopy": best_of(lambda: copy.deepcopy(records)),
        "id": best_of(lambda: [id(r) for r in records]),
    }))
"""
HOOKS = ("none", "python", "compiled")

PROBES: dict[str, str] = {
    "hit_big_file": """
        write_big()

        @memo
        def load(path):
            if path is None:
                return 0
            with open(path, "rb") as fh:
                return len(fh.read())

        size = load(BIG)  # the miss: reads and digests the file
        assert size == os.path.getsize(BIG)
        from hitnb.core import files
        files._known.clear()  # nothing remembered in this process: the hit stats the file
        big = best_of(lambda: load(BIG))
        load(None)
        none = best_of(lambda: load(None))
        def read():
            with open(BIG, "rb") as fh:
                fh.read()
        print(json.dumps({"hit": big, "hit_no_file": none, "read": best_of(read, 3)}))
    """,
    **{
        f"miss_{kind}": f"""
        small_files()
        print(json.dumps(miss_times(read_{kind})))
    """
        for kind in ("csv", "json", "bytes")
    },
}


def run_probe(name: str, repeats: int, scale: float) -> list[dict[str, float]]:
    program = PRELUDE + textwrap.dedent(PROBES[name])
    return [run_fresh(name, program, str(scale)) for _ in range(repeats)]


def run_processes(repeats: int, scale: float) -> dict[str, list[dict[str, float]]]:
    """The rest of a process under each hook: a fresh interpreter per measure (a hook stays
    for the life of its process), the three kinds taking turns."""
    program = PRELUDE + textwrap.dedent(PROCESS)
    found: dict[str, list[dict[str, float]]] = {kind: [] for kind in HOOKS}
    for _ in range(repeats):
        for kind in HOOKS:
            found[kind].append(run_fresh(f"process_{kind}", program, str(scale), kind))
    return found


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    return f"{seconds * 1e3:.2f} ms" if seconds < 10 else f"{seconds:.1f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="", help="run only probes whose name starts so")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the docs section")
    args = parser.parse_args()
    repeats, scale = (1, 0.001) if args.smoke else (args.repeats, 1.0)

    load_before = os.getloadavg()[0]
    results: dict[str, list[dict[str, float]]] = {}
    for name in PROBES:
        if name.startswith(args.only):
            results[name] = run_probe(name, repeats, scale)
            print(f"  {name:24s} done", file=sys.stderr)

    if "process".startswith(args.only):
        results.update({f"process_{k}": v for k, v in run_processes(repeats, scale).items()})
        print(f"  {'process':24s} done", file=sys.stderr)

    def med(name: str, field: str) -> float:
        return statistics.median(r[field] for r in results[name])

    def span(name: str, field: str, fmt: Callable[[float], str] = fmt_time) -> str:
        values = [r[field] for r in results[name]]
        return f"{fmt(statistics.median(values))} ({fmt(min(values))} .. {fmt(max(values))})"

    rows = []
    if "hit_big_file" in results:
        hit = med("hit_big_file", "hit")
        rows.append((
            "hit whose run read a 300 MB file", span("hit_big_file", "hit"),
            f"read the file: {span('hit_big_file', 'read')}",
            f"{med('hit_big_file', 'read') / hit:,.0f}x faster than reading it; "
            f"{hit / med('hit_big_file', 'hit_no_file'):.2f}x a hit whose run read no file "
            f"({fmt_time(med('hit_big_file', 'hit_no_file'))}); target < 50 ms: "
            f"{'met' if hit < HIT_TARGET else 'missed'}",
        ))  # fmt: skip
    labels = {
        "csv": "pandas.read_csv of each",
        "json": "json.load of each",
        "bytes": "bytes only",
    }
    for kind, label in labels.items():
        name = f"miss_{kind}"
        if name not in results:
            continue
        for field, when in (("first_on", "first miss"), ("on", "later miss")):
            added = med(name, field) / med(name, "off") - 1
            rows.append((
                f"{when}, 1,000 small files read ({label})", span(name, field),
                f"observation off: {span(name, 'off')}",
                f"observing adds {added:+.1%} (target < 5%: "
                f"{'met' if added < MISS_TARGET else 'missed'}); plain reading without hitnb "
                f"{fmt_time(med(name, 'plain'))}",
            ))  # fmt: skip
        hook = med(name, "hooked") / med(name, "plain") - 1
        rows.append((
            f"the audit hook alone, 1,000 small files read ({label})", span(name, "hooked"),
            f"plain reading: {span(name, 'plain')}",
            f"the hook adds {hook:+.1%} while the run reads (target < 5%: "
            f"{'met' if hook < MISS_TARGET else 'missed'})",
        ))  # fmt: skip
    if "process_none" in results:
        for field, label in (
            ("import", "import numpy, pandas, matplotlib.pyplot, statsmodels.api in a run"),
            ("deepcopy", "later, copy.deepcopy of 20,000 small dicts"),
            ("id", "later, id() of 20,000 objects"),
        ):
            plain = med("process_none", field)
            rows.append((
                f"{label}, the hook filtered in C", span("process_compiled", field),
                f"no hook: {span('process_none', field)}",
                f"{med('process_compiled', field) / plain - 1:+.0%} (the hook in Python: "
                f"{fmt_time(med('process_python', field))}, "
                f"{med('process_python', field) / plain - 1:+.0%})",
            ))  # fmt: skip
    header = "| measure | hitnb | anchor | ratio |\n|---|---|---|---|\n"
    table = header + "".join(f"| {a} | {b} | {c} | {d} |\n" for a, b, c, d in rows)
    print(table)
    load = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    print(f"load average: {load}")
    if args.write_docs and not args.smoke:
        write_docs(table, repeats, load)
    return 0


SECTION_TEXT = """
## Files: hits and misses of runs that read data files

A hit of a function whose run read files compares them by `stat` and reads them only
when their size or modification time moved; a miss observes the files the run opens and
digests each. The hit row calls a `@memo` function whose run read a 300 MB file, against
reading that file (`open().read()`, from the page cache) and a hit of the same function
whose run read no file. The miss rows call a function that reads 1,000 small files, with
`pandas.read_csv`, with `json.load` or as bytes only, against the same miss with
observation switched off (`hitnb.core.files.enabled = False`, an internal switch for this
measure) and the same reading without hitnb, taking turns in one interpreter (the best of
5 turns each). A *first miss* digests every file, as the first miss in an interpreter
does. A *later miss* (new arguments, same files) finds the digests of files whose size and
modification time did not move. The *audit hook alone* row runs the plain function while
the hook records what it opens, and nothing after: what observing costs while the run
executes, apart from resolving, `stat`ing and digesting the files and storing the record.
"""


def write_docs(table: str, repeats: int, load: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md, leaving the rest alone."""
    python = f"{platform.python_implementation()} {platform.python_version()}"
    section = (
        f"{START}\n"
        + SECTION_TEXT.strip()
        + f"\n\nMedians of {repeats} fresh interpreters, with (min .. max). Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, {python}. Load average during the run:\n"
        f"{load} (other jobs share the machine; the ratios, measured in the same run, are the\n"
        "figures that count).\n\n"
        "Reproduce with:\n\n```\n.venv/bin/python benchmarks/files.py --write-docs\n```\n\n"
        + table
        + f"\n{END}"
    )
    write_section(START, END, section)


if __name__ == "__main__":
    sys.exit(main())
