"""The ``%%memo`` cell magic and the ``%hitnb`` line magic."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from hitnb import config
from hitnb.core.run_files import RunFiles
from hitnb.core.stores import current_store
from hitnb.frame_room import with_frame_room
from hitnb.ipython.memo_cell import CellOptions, CellRun, run_memo_cell

_NAME = re.compile(r"[\w.\-]{1,200}")


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise UsageError(
            f"expected comma-separated Python names, got {', '.join(map(repr, bad))} "
            "(e.g. --in df,threshold)"
        )
    return names


def _paths(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


@magics_class
class HitnbMagics(Magics):
    """hitnb's magics; loaded by ``%load_ext hitnb``."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.last_run: CellRun | None = None
        self._parsed: dict[str, CellOptions] = {}

    @magic_arguments()
    @argument("-n", "--name", help="a name for this cell's entries (default: keyed by content)")
    @argument("-f", "--force", action="store_true", help="run the cell and store over the old run")
    @argument("--experiment", action="store_true", help="keep this run forever, as an experiment")
    @argument("--in", dest="inputs", type=_names, default=[], help="extra inputs, declared pure")
    @argument("--out", dest="outputs", type=_names, default=[], help="extra outputs to restore")
    @argument("--ignore", type=_names, default=[], help="inputs left out of the key")
    @argument("-q", "--quiet", action="store_true", help="no badge and no notes")
    @argument("--why", action="store_true", help="say why the cell hits or runs")
    @argument("--files", type=_paths, default=[], help="extra files the cell reads (a.csv,b.csv)")
    @argument("--auto", action="store_true", help="put there by auto mode (%%hitnb auto)")
    @cell_magic
    def memo(self, line: str, cell: str) -> Any:
        """Run a cell once for each version of its code and inputs; replay it otherwise.

        On a hit, the names the cell binds come back from the store and what it printed or
        displayed is shown again. See docs/memo-cell.md.
        """
        __tracebackhide__ = True
        options = self._options(line)

        def run() -> tuple[Any, CellRun]:
            __tracebackhide__ = True
            return run_memo_cell(self.shell, cell, options)

        try:
            if not options.auto:
                value, self.last_run = with_frame_room(run)
                return value
            from hitnb.ipython.auto import auto_session

            with auto_session(self.shell).suspended():
                value, self.last_run = with_frame_room(run)
            return value
        except BaseException as exc:  # `why` must not answer for the cell before
            self.last_run = CellRun(hit=False, note=_raised(exc))
            raise

    def _options(self, line: str) -> CellOptions:
        """The options of a ``%%memo`` line, parsed once per line text (argparse takes 60 us,
        and auto mode puts the same line on every cell); each cell gets its own copy."""
        parsed = self._parsed.get(line)
        if parsed is None:
            args = parse_argstring(self.memo, line)
            if args.name is not None and not _NAME.fullmatch(args.name):
                raise UsageError(
                    f"-n/--name needs a non-empty name of letters, digits, '_', '.' or '-', "
                    f"got {args.name!r} (e.g. %%memo -n load_data)"
                )
            parsed = CellOptions(
                line=line,
                name=args.name,
                force=args.force,
                experiment=args.experiment,
                inputs=args.inputs,
                outputs=args.outputs,
                ignore=args.ignore,
                quiet=args.quiet,
                why=args.why,
                files=args.files,
                auto=args.auto,
            )
            if len(self._parsed) >= 256:
                self._parsed.clear()
            self._parsed[line] = parsed
        return dataclasses.replace(
            parsed,
            inputs=list(parsed.inputs),
            outputs=list(parsed.outputs),
            ignore=list(parsed.ignore),
            files=list(parsed.files),
        )

    @line_magic
    def experiments(self, line: str) -> Any:
        """``%experiments [NAME]``: the table of an experiment's runs (of all without NAME)."""
        from hitnb.widgets.table import open_table

        words = shlex.split(line)
        if len(words) > 1:
            raise UsageError("usage: %experiments [FUNCTION]")
        return open_table(words[0] if words else None)

    @line_magic
    def hitnb(self, line: str) -> None:
        """hitnb's store from the notebook: the ``hitnb`` command's verbs, plus ``why`` for the
        last %%memo cell and ``store [PATH]``. ``%hitnb help`` lists them."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%hitnb: {exc}") from None
        if not words or words[0] in ("help", "-h", "--help"):
            self._help()
        elif words[0] == "why" and len(words) == 1:
            self._why_last_cell()
        elif words[0] == "auto":
            self._auto(words[1:])
        elif words[0] == "store":
            self._store(words[1:])
        else:
            self._command(words)

    def _help(self) -> None:
        print("%hitnb why            why the last %%memo cell ran again (or came from the cache)")
        print("%hitnb store [PATH]   show the store, or use another one in this session")
        print("%hitnb auto [on|off|status]  memoize every code cell without %%memo (or stop)")
        from hitnb import cli  # the command line (click) loads with its first use

        with contextlib.suppress(SystemExit):
            cli.main.main(args=["--help"], prog_name="%hitnb", standalone_mode=False)

    def _command(self, words: list[str]) -> None:
        """Run a verb of the ``hitnb`` command in this kernel."""
        import click

        from hitnb import cli

        try:
            cli.main.main(args=words, prog_name="%hitnb", standalone_mode=False)
        except click.exceptions.Exit as exc:
            if exc.exit_code:
                raise UsageError(f"%hitnb {words[0]} exited with status {exc.exit_code}") from None
        except click.exceptions.Abort:
            print("aborted")
        except click.ClickException as exc:
            raise UsageError(f"%hitnb: {exc.format_message()}") from None

    def _auto(self, rest: list[str]) -> None:
        """``%hitnb auto`` or ``auto on`` turns auto mode on, ``auto off`` off; each, and
        ``auto status``, then says whether it is on and what it did in this session."""
        from hitnb.ipython.auto import auto_session

        if len(rest) > 1 or (rest and rest[0] not in ("on", "off", "status")):
            raise UsageError(
                f"%hitnb auto takes on, off or status, got {' '.join(rest)!r} "
                "(e.g. %hitnb auto off)"
            )
        session = auto_session(self.shell)
        word = rest[0] if rest else "on"
        if word != "status":
            session.switch = word == "on"
        print(session.status())

    def _store(self, rest: list[str]) -> None:
        if len(rest) > 1:
            raise UsageError("%hitnb store takes at most one path")
        if rest:
            config.configure(store=rest[0])
        store = current_store()
        print(f"store: {store.root} ({store.count()} entries)")

    def _why_last_cell(self) -> None:
        run = self.last_run
        if run is None:
            print("no %%memo cell (or cell of auto mode) has run in this session yet")
            return
        if run.hit:
            print(f"the last {'cell' if run.auto else '%%memo cell'} came from the cache")
        elif run.note:
            print(run.note)
        elif run.explanation is not None:
            print(run.explanation.summary)  # its files are another run's: this run's follow
        elif run.auto:
            print(
                "the last cell ran: no stored run had its code and inputs (start it with "
                "%%memo --why to see what changed)"
            )
        else:
            print("the last %%memo cell ran: add -n NAME or --why to have it say why")
        entry = current_store().get(run.key) if run.key else None
        if entry is not None:
            for line in RunFiles.from_parts(entry.parts).lines():
                print(f"  {line}")


def _raised(exc: BaseException) -> str:
    """What ``%hitnb why`` says after a memoized cell that raised ``exc``."""
    if isinstance(exc, KeyboardInterrupt):
        return "the last cell was interrupted: it runs again next time"
    return (
        f"the last cell raised {type(exc).__name__}: a run that raises is never served from "
        "the store, so the cell runs again next time"
    )
