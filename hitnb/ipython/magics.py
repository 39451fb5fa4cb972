"""The ``%%memo`` cell magic and the ``%hitnb`` line magic."""

from __future__ import annotations

import re
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

import hitnb
from hitnb.core.memo import current_store
from hitnb.ipython.memo_cell import CellOptions, CellRun, run_memo_cell
from hitnb.store import maintenance

_NAME = re.compile(r"[\w.\-]{1,200}")
VERBS = {
    "ls": "list stored entries: %hitnb ls [FUNCTION] [--experiments]",
    "why": "say why the last %%memo cell ran again (or that it came from the cache)",
    "clear": "remove entries: %hitnb clear FUNCTION | KEY | --all",
    "gc": "remove temp files of interrupted writes and blobs no entry uses",
    "verify": "check every entry against its checksum and report",
    "store": "show the store, or use another: %hitnb store [PATH]",
    "help": "this list",
}


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise UsageError(
            f"expected comma-separated Python names, got {', '.join(map(repr, bad))} "
            "(e.g. --in df,threshold)"
        )
    return names


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


@magics_class
class HitnbMagics(Magics):
    """hitnb's magics; loaded by ``%load_ext hitnb``."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.last_run: CellRun | None = None

    @magic_arguments()
    @argument("-n", "--name", help="a name for this cell's entries (default: keyed by content)")
    @argument("-f", "--force", action="store_true", help="run the cell and store over the old run")
    @argument("--experiment", action="store_true", help="keep this run forever, as an experiment")
    @argument("--in", dest="inputs", type=_names, default=[], help="extra inputs, declared pure")
    @argument("--out", dest="outputs", type=_names, default=[], help="extra outputs to restore")
    @argument("--ignore", type=_names, default=[], help="inputs left out of the key")
    @argument("-q", "--quiet", action="store_true", help="no badge and no notes")
    @argument("--why", action="store_true", help="say why the cell hits or runs")
    @cell_magic
    def memo(self, line: str, cell: str) -> Any:
        """Run a cell once for each version of its code and inputs; replay it otherwise.

        On a hit, the names the cell binds come back from the store and what it printed or
        displayed is shown again. See docs/memo-cell.md.
        """
        __tracebackhide__ = True
        args = parse_argstring(self.memo, line)
        if args.name is not None and not _NAME.fullmatch(args.name):
            raise UsageError(
                f"-n/--name needs a non-empty name of letters, digits, '_', '.' or '-', "
                f"got {args.name!r} (e.g. %%memo -n load_data)"
            )
        options = CellOptions(
            name=args.name,
            force=args.force,
            experiment=args.experiment,
            inputs=args.inputs,
            outputs=args.outputs,
            ignore=args.ignore,
            quiet=args.quiet,
            why=args.why,
        )
        value, self.last_run = run_memo_cell(self.shell, cell, options)
        return value

    @line_magic
    def hitnb(self, line: str) -> None:
        """hitnb's store from the notebook: %hitnb ls | why | clear | gc | verify | store | help"""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%hitnb: {exc}") from None
        verb, rest = (words[0], words[1:]) if words else ("help", [])
        handler = getattr(self, f"_verb_{verb}", None)
        if handler is None:
            raise UsageError(f"%hitnb: unknown command {verb!r}; {self._usage()}")
        handler(rest)

    def _usage(self) -> str:
        return "commands: " + ", ".join(VERBS)

    def _verb_help(self, rest: list[str]) -> None:
        for verb, text in VERBS.items():
            print(f"%hitnb {verb:7s} {text}")

    def _verb_store(self, rest: list[str]) -> None:
        if len(rest) > 1:
            raise UsageError("%hitnb store takes at most one path")
        if rest:
            hitnb.configure(store=rest[0])
        store = current_store()
        print(f"store: {store.root} ({store.index.count()} entries)")

    def _verb_ls(self, rest: list[str]) -> None:
        experiments = "--experiments" in rest
        names = [w for w in rest if not w.startswith("--")]
        unknown = [w for w in rest if w.startswith("--") and w != "--experiments"]
        if unknown or len(names) > 1:
            raise UsageError("usage: %hitnb ls [FUNCTION] [--experiments]")
        runs = hitnb.runs(names[0] if names else None, experiments_only=experiments)
        if not runs:
            print("no entries")
            return
        print(f"{'key':12s}  {'function':32s}  {'created':16s}  {'size':>9s}  {'took':>8s}  hits")
        for run in runs:
            name = run.function.removeprefix("__main__.")
            flag = " *" if run.experiment else ""
            print(
                f"{run.key[:12]}  {name[:32]:32s}  {run.created:%Y-%m-%d %H:%M}  "
                f"{_size(run.size):>9s}  {run.duration:7.2f}s  {run.hits}{flag}"
            )

    def _verb_why(self, rest: list[str]) -> None:
        run = self.last_run
        if run is None:
            print("no %%memo cell has run in this session yet")
        elif run.hit:
            print("the last %%memo cell came from the cache")
        elif run.note:
            print(run.note)
        elif run.explanation is not None:
            print(run.explanation)
        else:
            print("the last %%memo cell ran: add -n NAME or --why to have it say why")

    def _verb_clear(self, rest: list[str]) -> None:
        store = current_store()
        if rest == ["--all"]:
            removed = store.delete(e.key for e in store.entries())
        elif len(rest) == 1:
            target = rest[0]
            keys = [e.key for e in store.entries() if target in (e.key, e.function)]
            keys += [
                e.key for e in store.entries() if e.function.removeprefix("__main__.") == target
            ]
            removed = store.delete(set(keys))
        else:
            raise UsageError("usage: %hitnb clear FUNCTION | KEY | --all")
        print(f"removed {len(removed)} entries")

    def _verb_gc(self, rest: list[str]) -> None:
        report = maintenance.collect_garbage(current_store())
        print(f"removed {len(report.removed)} items, freed {_size(report.freed_bytes)}")

    def _verb_verify(self, rest: list[str]) -> None:
        report = maintenance.verify(current_store())
        print(f"checked {report.checked} entries: " + ("all good" if report.ok else "problems:"))
        for problem in report.problems:
            print(f"  {problem}")
