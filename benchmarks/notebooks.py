"""The notebook corpus: real notebooks no one here wrote, run plainly and with every cell memoized.

For each notebook of statsmodels' examples (fetched by ``corpus_fetch``): two plain runs in
fresh kernels (cells whose outputs differ between them are nondeterministic), then two runs
with every code cell under ``%%memo`` in fresh kernels on one fresh store. Reported per
notebook: replay exact (second memoized run == first), same as plain (deterministic cells),
errors added, wall times, the cells where hitnb cost the most, and which criterion failed.

    python benchmarks/notebooks.py [--sample] [--only NAME ...] [--json OUT] [--jobs 1] [--auto]

With ``--auto`` the memoized runs use auto mode (``HITNB_AUTO=1``, cells as written) instead
of a ``%%memo`` line on every cell.

``run_corpus_notebook(name)`` is the Python API the slow test uses.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_compare import CellView, cell_view
from corpus_fetch import VERSION, notebook_paths, notebooks_dir
from corpus_run import Run, code_cells, run_notebook, starts_with_cell_magic

RESULTS = Path(__file__).resolve().parent / "results"

# Ten fast notebooks that need neither the network nor a package left out of the dev extra
# (1 to 3 s of cells plain on a 2-core machine): `--sample` and tests/notebooks/test_corpus.py.
SAMPLE = (
    "categorical_interaction_plot",
    "chi2_fitting",
    "copula",
    "count_hurdle",
    "distributed_estimation",
    "glm_formula",
    "glm_weights",
    "gls",
    "predict",
    "quasibinomial",
)

RUN_LABELS = ("plain run 1", "plain run 2", "memoized run 1", "memoized run 2")
CELL_TIMEOUT = 300.0
NOTEBOOK_TIMEOUT = 1200.0  # for all four runs of one notebook together

# The pass criteria of issue 18.
FIRST_RUN_FACTOR, FIRST_RUN_SLACK = 1.3, 1.0
HIT_FACTOR, HIT_FLOOR = 2.0, 0.020
LONG_CELL, LONG_CELL_SPEEDUP = 1.0, 10.0


@dataclass
class CellCost:
    """A cell's seconds plainly (mean of the two plain runs) and in the memoized runs."""

    cell: int
    plain: float
    first: float
    second: float
    source: str
    imports: bool = False
    """The cell imports modules at top level: a hit imports them again, so such a cell is
    never much faster than plainly; reported apart for the criterion on long cells."""
    times: bool = False
    """The cell times code (``%timeit``, ``%%timeit``): what it shows is a measurement,
    which no store can give, so auto mode leaves it to IPython; reported apart too."""
    second_collections: float = 0.0
    """Seconds of full garbage collections that started during the cell in the second
    memoized run: the collector pauses whichever cell is running when the heap crosses
    its threshold, and on a hit that is often a small cell (reported apart for the
    criterion on hit cost)."""

    @property
    def slow_without_collections(self) -> bool:
        """Over the hit-cost limit even without the full collections inside it."""
        return self.second - self.second_collections > max(HIT_FACTOR * self.plain, HIT_FLOOR)

    @property
    def cost(self) -> float:
        """What hitnb added to the cell in its worse memoized run."""
        return max(self.first, self.second) - self.plain


@dataclass
class Difference:
    """A cell whose outputs differ between two runs: where, what it runs, what changed."""

    cell: int
    source: str
    diff: str


@dataclass
class NotebookResult:
    """Everything measured for one notebook."""

    name: str
    cells: int = 0
    cell_magic_cells: int = 0
    status: str = "ran"  # ran | fails plainly | timeout | broken
    plain_error: str = ""
    timeout: str = ""
    replay_exact: int = 0
    deterministic: int = 0
    same_as_plain: int = 0
    errors_added: list[Difference] = field(default_factory=list)
    replay_diffs: list[Difference] = field(default_factory=list)
    plain_diffs: list[Difference] = field(default_factory=list)
    hitnb_notes: int = 0  # every `hitnb:` note of both memoized runs
    not_cached: int = 0  # cells the first memoized run ran uncached ("it runs normally")
    not_cached_notes: list[str] = field(default_factory=list)
    plain_seconds: float = 0.0
    plain_runs: list[float] = field(default_factory=list)
    first_seconds: float = 0.0
    second_seconds: float = 0.0
    wall_seconds: list[float] = field(default_factory=list)  # plain, plain, first, second
    collection_seconds: list[float] = field(default_factory=list)  # full GCs, the same runs
    top_costs: list[CellCost] = field(default_factory=list)
    slow_hits: list[CellCost] = field(default_factory=list)
    long_cells_not_10x: list[CellCost] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """All four runs went to the end (no timeout, no runner error)."""
        return self.status in ("ran", "fails plainly")

    @property
    def passed(self) -> bool:
        return self.finished and not self.failures

    @property
    def is_replay_exact(self) -> bool:
        return self.finished and self.replay_exact == self.cells

    @property
    def is_same_as_plain(self) -> bool:
        return self.finished and self.same_as_plain == self.deterministic

    @property
    def is_too_slow(self) -> bool:
        return any(
            f.startswith(("first run", "second run", "hit cost", "long cells"))
            for f in self.failures
        )


def _uncached(note: str) -> bool:
    """True for hitnb's note that a cell ran without the cache: ``%%memo``'s "it runs
    normally" or auto mode's "runs this cell uncached" (said once a session)."""
    return "runs normally" in note or "runs this cell uncached" in note


def _snippet(source: str, width: int = 70) -> str:
    lines = [line for line in source.splitlines() if line.strip()]
    text = " ⏎ ".join(lines[:2])
    return text if len(text) <= width else text[:width] + "…"


def judge(name: str, notebook: nbformat.NotebookNode, runs: list[Run]) -> NotebookResult:
    """Compare the four runs (plain, plain, memo, memo) cell by cell and apply the criteria."""
    plain1, plain2, memo1, memo2 = runs
    indexes = code_cells(notebook)
    result = NotebookResult(name=name, cells=len(indexes))
    result.cell_magic_cells = sum(starts_with_cell_magic(notebook.cells[i].source) for i in indexes)
    result.wall_seconds = [r.wall for r in runs]
    result.collection_seconds = [sum(pause for _, pause in r.collections) for r in runs]
    result.plain_runs = [plain1.cell_total, plain2.cell_total]
    result.plain_seconds = sum(result.plain_runs) / 2
    result.first_seconds = memo1.cell_total
    result.second_seconds = memo2.cell_total
    cut = [(label, r) for label, r in zip(RUN_LABELS, runs, strict=True) if r.timed_out]
    if cut:
        label, run = cut[0]
        started = [i for i, c in run.cells.items() if c.get("metadata", {}).get("execution")]
        where = ""
        if started:
            i = max(started)
            plain = plain1.seconds.get(i, 0.0) if run is not plain1 else None
            where = f", in cell {i} `{_snippet(notebook.cells[i].source)}`" + (
                f" ({plain:.2f} s plain)" if plain is not None else ""
            )
        result.status = "timeout"
        result.timeout = f"{label}: {run.timed_out}{where}"
        result.failures.append(f"timeout: {result.timeout}")
        return result

    def views(run: Run, i: int) -> CellView:
        return cell_view(run.cells.get(i, {}))

    notes: set[str] = set()
    for i in indexes:
        source = notebook.cells[i].source
        p1, p2, m1, m2 = (views(r, i) for r in runs)
        for view in (m1, m2):
            result.hitnb_notes += len(view.hitnb_lines)
            notes.update(n.splitlines()[0][:240] for n in view.hitnb_lines if _uncached(n))
        result.not_cached += any(_uncached(n) for n in m1.hitnb_lines)
        if p1.error and not result.plain_error:
            result.plain_error = f"cell {i}: {p1.error[0]}: {p1.error[1][:100]}"
        c1, c2, d1, d2 = (view.compared() for view in (p1, p2, m1, m2))
        if d1 == d2:
            result.replay_exact += 1
        else:
            result.replay_diffs.append(Difference(i, _snippet(source), m2.diff(m1)))
        if c1 == c2:
            result.deterministic += 1
            if d1 == c1 and d2 == c1:
                result.same_as_plain += 1
            else:
                worse = m1 if d1 != c1 else m2
                result.plain_diffs.append(Difference(i, _snippet(source), worse.diff(p1)))
        memo_error = m1.error or m2.error
        if memo_error and not (p1.error or p2.error):
            result.errors_added.append(
                Difference(i, _snippet(source), f"{memo_error[0]}: {memo_error[1][:200]}")
            )
    result.not_cached_notes = sorted(notes)
    if memo1.auto_uncached is not None:  # auto mode notes once a session: use its count
        result.not_cached = memo1.auto_uncached
    if result.plain_error:
        result.status = "fails plainly"

    costs = [
        CellCost(
            i,
            (plain1.seconds.get(i, 0.0) + plain2.seconds.get(i, 0.0)) / 2,
            memo1.seconds.get(i, 0.0),
            memo2.seconds.get(i, 0.0),
            _snippet(notebook.cells[i].source),
            _imports(notebook.cells[i].source),
            _times(notebook.cells[i].source),
            memo2.collections_in(i),
        )
        for i in indexes
    ]
    result.top_costs = sorted(costs, key=lambda c: c.cost, reverse=True)[:3]
    result.slow_hits = [c for c in costs if c.second > max(HIT_FACTOR * c.plain, HIT_FLOOR)]
    result.long_cells_not_10x = [
        c for c in costs if c.plain >= LONG_CELL and c.second * LONG_CELL_SPEEDUP > c.plain
    ]

    if result.replay_exact < result.cells:
        result.failures.append(f"replay exact on {result.replay_exact} of {result.cells} cells")
    if result.same_as_plain < result.deterministic:
        result.failures.append(
            f"same as plain on {result.same_as_plain} of {result.deterministic} deterministic cells"
        )
    if result.errors_added:
        result.failures.append(f"errors added in {len(result.errors_added)} cells")
    first_limit = FIRST_RUN_FACTOR * result.plain_seconds + FIRST_RUN_SLACK
    if result.first_seconds > first_limit:
        result.failures.append(
            f"first run {result.first_seconds:.1f} s > {first_limit:.1f} s (1.3 x plain + 1 s)"
        )
    if result.second_seconds > result.plain_seconds:
        result.failures.append(
            f"second run {result.second_seconds:.1f} s > plain {result.plain_seconds:.1f} s"
        )
    if result.slow_hits:
        worst = max(result.slow_hits, key=lambda c: c.second - c.plain)
        result.failures.append(
            f"hit cost: {len(result.slow_hits)} cells over max(2 x plain, 20 ms), worst: cell "
            f"{worst.cell}, {worst.second * 1000:.0f} ms vs {worst.plain * 1000:.0f} ms plain"
            + (
                f" ({worst.second_collections * 1000:.0f} ms of it a full garbage collection)"
                if worst.second_collections
                else ""
            )
        )
    if result.long_cells_not_10x:
        result.failures.append(
            f"long cells: {len(result.long_cells_not_10x)} cells of >= 1 s not 10x faster on a hit"
        )
    return result


def _times(source: str) -> bool:
    """Whether a cell times code with ``%timeit`` or ``%%timeit``."""
    return any(line.lstrip().startswith(("%timeit", "%%timeit")) for line in source.splitlines())


def _imports(source: str) -> bool:
    """Whether a cell imports modules when it runs: an ``import`` statement outside any
    function or class, in a ``with``, ``try`` or ``if`` block too (magic lines left out)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    statements = list(tree.body)
    while statements:
        node = statements.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            return True
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            statements += [
                child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)
            ]
    return False


def run_corpus_notebook(
    name: str,
    *,
    cell_timeout: float = CELL_TIMEOUT,
    notebook_timeout: float = NOTEBOOK_TIMEOUT,
    keep: Path | None = None,
    auto: bool = False,
    folder: Path | None = None,
) -> NotebookResult:
    """Run one corpus notebook four times (plain twice, memoized twice on one store) and judge it.

    With ``keep``, the four runs' cells and timings are saved there as ``<name>.runs.json``, so
    ``--rejudge`` can compare them again without running anything. ``folder``: where the
    notebook is, when not in the statsmodels corpus (it runs there, as a user's would).
    """
    folder = folder or notebooks_dir()
    path = folder / f"{name}.ipynb"
    if not path.exists():
        known = ", ".join(p.stem for p in sorted(folder.glob("*.ipynb")))
        raise SystemExit(f"no notebook named {name!r} in {folder}; it has: {known}")
    notebook = nbformat.read(path, as_version=4)
    deadline = time.monotonic() + notebook_timeout
    store = Path(tempfile.mkdtemp(prefix="hitnb-corpus-store-"))
    try:
        runs: list[Run] = []
        for memo in (False, False, True, True):
            run = run_notebook(
                notebook,
                folder,
                memo=memo,
                store=store if memo else None,
                cell_timeout=cell_timeout,
                deadline=deadline,
                auto=auto,
            )
            runs.append(run)
            if run.timed_out:
                runs.extend(Run(timed_out=run.timed_out) for _ in range(4 - len(runs)))
                break
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"{name}.runs.json").write_text(json.dumps([asdict(r) for r in runs]))
        return judge(name, notebook, runs)
    finally:
        shutil.rmtree(store, ignore_errors=True)


def rejudge(name: str, keep: Path, folder: Path | None = None) -> NotebookResult:
    """Judge a notebook again from the runs a previous ``--keep`` saved."""
    notebook = nbformat.read((folder or notebooks_dir()) / f"{name}.ipynb", as_version=4)
    saved = json.loads((keep / f"{name}.runs.json").read_text())
    runs = []
    for record in saved:
        record["cells"] = {int(k): v for k, v in record["cells"].items()}
        record["seconds"] = {int(k): v for k, v in record["seconds"].items()}
        runs.append(Run(**record))
    return judge(name, notebook, runs)


def _safe_run(
    name: str,
    cell_timeout: float,
    notebook_timeout: float,
    keep: Path | None,
    again: bool,
    auto: bool = False,
    folder: Path | None = None,
) -> NotebookResult:
    try:
        if again and keep is not None:
            return rejudge(name, keep, folder)
        return run_corpus_notebook(
            name,
            cell_timeout=cell_timeout,
            notebook_timeout=notebook_timeout,
            keep=keep,
            auto=auto,
            folder=folder,
        )
    except Exception as exc:
        return NotebookResult(name=name, status="broken", failures=[f"runner error: {exc!r}"[:300]])


def totals_line(results: list[NotebookResult]) -> str:
    """passed N of M (exact replay A, same as plain B, errors added C, too slow D)."""
    ran = [r for r in results if r.finished]
    timeouts = sum(r.status == "timeout" for r in results)
    broken = sum(r.status == "broken" for r in results)
    line = (
        f"passed {sum(r.passed for r in results)} of {len(results)} "
        f"(exact replay {sum(r.is_replay_exact for r in ran)}, "
        f"same as plain {sum(r.is_same_as_plain for r in ran)}, "
        f"errors added {sum(bool(r.errors_added) for r in ran)}, "
        f"too slow {sum(r.is_too_slow for r in ran)})"
    )
    if timeouts:
        line += f"; {timeouts} timed out"
    if broken:
        line += f"; {broken} could not be run"
    return line


def table(results: list[NotebookResult]) -> str:
    """A plain-text table, one notebook a row."""
    head = (
        f"{'notebook':<44} {'cells':>5} {'replay':>7} {'=plain':>7} {'err+':>4} "
        f"{'plain s':>7} {'first s':>7} {'second s':>8} {'uncached':>8}  result"
    )
    rows = [head, "-" * len(head)]
    for r in results:
        verdict = "PASS" if r.passed else "FAIL: " + "; ".join(r.failures)
        if r.status == "fails plainly":
            verdict = f"[fails plainly: {r.plain_error[:60]}] " + verdict
        rows.append(
            f"{r.name:<44} {r.cells:>5} {r.replay_exact:>3}/{r.cells:<3} "
            f"{r.same_as_plain:>3}/{r.deterministic:<3} {len(r.errors_added):>4} "
            f"{r.plain_seconds:>7.1f} {r.first_seconds:>7.1f} {r.second_seconds:>8.1f} "
            f"{r.not_cached:>8}  {verdict}"
        )
    plain = sum(r.plain_seconds for r in results)
    first = sum(r.first_seconds for r in results)
    second = sum(r.second_seconds for r in results)
    rows.append("-" * len(head))
    rows.append(f"{'total seconds in cells':<73} {plain:>7.1f} {first:>7.1f} {second:>8.1f}")
    rows.append(totals_line(results))
    return "\n".join(rows)


def markdown(results: list[NotebookResult], worst: int = 10) -> str:
    """The docs section's figures: totals, per-criterion counts and the worst notebooks."""
    finished = [r for r in results if r.finished]
    plain = sum(r.plain_seconds for r in finished)
    first = sum(r.first_seconds for r in finished)
    second = sum(r.second_seconds for r in finished)

    def count(test: object) -> int:
        return sum(bool(test(r)) for r in finished)  # type: ignore[operator]

    lines = [
        f"**{totals_line(results)}**",
        "",
        "| criterion | notebooks meeting it |",
        "|---|---|",
        f"| replay exact on every cell | {count(lambda r: r.is_replay_exact)} of {len(finished)} |",
        f"| same as plain on every deterministic cell | "
        f"{count(lambda r: r.is_same_as_plain)} of {len(finished)} |",
        f"| no error added | {count(lambda r: not r.errors_added)} of {len(finished)} |",
        f"| first run <= 1.3 x plain + 1 s | "
        f"{count(lambda r: not any(f.startswith('first run') for f in r.failures))} "
        f"of {len(finished)} |",
        f"| second run <= plain | "
        f"{count(lambda r: not any(f.startswith('second run') for f in r.failures))} "
        f"of {len(finished)} |",
        f"| no hit costs more than max(2 x plain, 20 ms) | "
        f"{count(lambda r: not r.slow_hits)} of {len(finished)} |",
        f"| the same, full garbage collections inside a hit aside | "
        f"{count(lambda r: not any(c.slow_without_collections for c in r.slow_hits))} "
        f"of {len(finished)} |",
        f"| cells of >= 1 s plain 10x faster on a hit | "
        f"{count(lambda r: not r.long_cells_not_10x)} of {len(finished)} |",
        f"| the same, cells that import modules at top level aside | "
        f"{count(lambda r: all(c.imports for c in r.long_cells_not_10x))} of {len(finished)} |",
        f"| the same, cells that import modules or time code (`%timeit`) aside | "
        f"{count(lambda r: all(c.imports or c.times for c in r.long_cells_not_10x))} "
        f"of {len(finished)} |",
        "",
        f"Seconds in cells, all {len(finished)} finished notebooks: plain {plain:.0f} s "
        f"(mean of two runs), first memoized run {first:.0f} s ({first / plain:.2f}x), "
        f"second {second:.0f} s ({second / plain:.2f}x).",
        "",
        f"The {worst} notebooks where hitnb cost the most time (first memoized run minus plain):",
        "",
        "| notebook | cells | plain s | first s | second s | replay exact | same as plain "
        "| costliest cell (plain -> first / second) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(finished, key=lambda r: r.first_seconds - r.plain_seconds, reverse=True)[
        :worst
    ]:
        top = r.top_costs[0] if r.top_costs else None
        where = (
            f"cell {top.cell} `{top.source[:40].replace('|', '/')}` "
            f"({top.plain:.2f} -> {top.first:.2f} / {top.second:.2f} s)"
            if top
            else ""
        )
        lines.append(
            f"| {r.name} | {r.cells} | {r.plain_seconds:.1f} | {r.first_seconds:.1f} "
            f"| {r.second_seconds:.1f} | {r.replay_exact}/{r.cells} "
            f"| {r.same_as_plain}/{r.deterministic} | {where} |"
        )
    return "\n".join(lines) + "\n"


def write_json(
    results: list[NotebookResult],
    out: Path,
    command: str,
    started: str,
    corpus: str = f"statsmodels {VERSION} examples/notebooks",
) -> None:
    import platform

    payload = {
        "corpus": corpus,
        "command": command,
        "started": started,
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "totals": totals_line(results),
        "notebooks": [
            {
                **asdict(r),
                "passed": r.passed,
                "is_replay_exact": r.is_replay_exact,
                "is_same_as_plain": r.is_same_as_plain,
                "is_too_slow": r.is_too_slow,
            }
            for r in results
        ],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=1, ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", action="store_true", help="run the fixed fast sample only")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these notebooks only")
    parser.add_argument("--json", type=Path, help="where to write the JSON results")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run side by side")
    parser.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT)
    parser.add_argument("--notebook-timeout", type=float, default=NOTEBOOK_TIMEOUT)
    parser.add_argument("--markdown", type=Path, help="also write the docs section's figures here")
    parser.add_argument("--keep", type=Path, help="save each notebook's four runs in this folder")
    parser.add_argument(
        "--rejudge", action="store_true", help="judge the runs saved by --keep again, run nothing"
    )
    parser.add_argument(
        "--auto", action="store_true", help="memoize by auto mode instead of %%%%memo lines"
    )
    parser.add_argument(
        "--folder",
        type=Path,
        help="judge the notebooks in this folder (another public corpus) instead of statsmodels'",
    )
    args = parser.parse_args(argv)
    if args.folder is not None and not args.folder.is_dir():
        parser.error(f"--folder {args.folder}: no such folder")
    if args.folder is not None and args.sample:
        parser.error("--sample is statsmodels' own sample; with --folder, pick notebooks by --only")
    if args.rejudge and args.keep is None:
        parser.error("--rejudge needs --keep FOLDER (where a previous run saved its runs)")

    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    paths = sorted(args.folder.glob("*.ipynb")) if args.folder else notebook_paths()
    every = [p.stem for p in paths]
    names = list(args.only or (SAMPLE if args.sample else every))
    unknown = sorted(set(names) - set(every))
    if unknown:
        parser.error(f"unknown notebooks {unknown}; the corpus has: {', '.join(every)}")
    out = args.json or RESULTS / f"corpus-{started.replace(':', '')}.json"
    command = " ".join(["python", "benchmarks/notebooks.py", *(argv or sys.argv[1:])])

    results: list[NotebookResult] = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [
            pool.submit(
                _safe_run,
                name,
                args.cell_timeout,
                args.notebook_timeout,
                args.keep,
                args.rejudge,
                args.auto,
                args.folder,
            )
            for name in names
        ]
        for future in futures:
            result = future.result()
            results.append(result)
            verdict = "PASS" if result.passed else "FAIL: " + "; ".join(result.failures)
            print(
                f"[{len(results)}/{len(names)}] {result.name}: plain {result.plain_seconds:.1f} s, "
                f"first {result.first_seconds:.1f} s, second {result.second_seconds:.1f} s; "
                f"{verdict}",
                flush=True,
            )
            write_json(results, out, command, started, *([str(args.folder)] if args.folder else []))
    print()
    print(table(results))
    print(f"\nJSON: {out}")
    if args.markdown:
        args.markdown.write_text(markdown(results))
        print(f"Markdown: {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
