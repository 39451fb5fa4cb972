"""Auto mode: every code cell of a session is memoized without writing ``%%memo``.

``%hitnb auto`` (or the ``auto`` setting, ``HITNB_AUTO=1``) turns it on. An input
transformer, first among IPython's cleanup transforms, puts ``%%memo --auto`` on top of the
cell the kernel was asked to run, so the cell goes through the ``%%memo`` magic and the one
run engine like any memo cell: one cache, one set of rules. It leaves a cell as the user
wrote it when memoizing would change what it does or cannot help:

- a cell that is already a ``%%memo`` cell, or starts with another cell magic than the
  transparent ``%%time`` and ``%%capture`` (``%%bash``, ``%%html``, ``%%writefile``);
- a cell that only runs magics and shell commands (``%matplotlib inline``, ``!ls``), an
  empty cell, a cell that does not parse (IPython shows the error as usual);
- Python that hitnb cannot cache (``%hitnb why`` says why): these run normally and are
  counted; only the first of a session prints a line.

Only the cell of the kernel's execute request is transformed: code that a magic runs
inside the cell (``%%timeit``'s body, ``%%capture``'s ``run_cell``) and silent or
history-less executions (a frontend's own requests) run as they are.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hitnb import config

AUTO_LINE = "%%memo --auto"
BADGE_MIN_SAVED = 0.5
"""Seconds a hit must save (stored compute time minus the time the hit took) for auto mode
to show a badge: below that, a user does not notice the difference, and a notebook full of
badges on instant cells is noise."""


@dataclass(frozen=True)
class Decision:
    """What auto mode does with one cell."""

    memoize: bool
    reason: str = ""
    """Why Python code runs uncached; empty for cells auto mode leaves alone silently."""
    changes_nothing: bool = False
    """The cell only runs magics that change no value (``%matplotlib``, ``%hitnb why``)."""
    left: str = ""
    """Why auto mode leaves the cell to IPython (another cell magic, magics only): said by
    ``%hitnb why``, not counted as a cell run uncached."""


_LEAVE = Decision(False)


class AutoSession:
    """Auto mode in one shell: the switch, the transformer and the session's counts."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.switch: bool | None = None
        """``%hitnb auto on|off`` in this session; None follows the ``auto`` setting."""
        self.memoized = 0
        self.hits = 0
        self.uncached = 0
        self.noted = False
        self._decided: tuple[str, Decision] | None = None
        self._busy = False
        self._armed: str | None = None
        self._run_cell: Any = None
        """The ``run_cell`` put on the shell (removed by :meth:`stop` if still there)."""

        def transform(lines: list[str]) -> list[str]:
            return self.transform(lines)

        transform.has_side_effects = True  # type: ignore[attr-defined]  # not in check_complete
        self.transformer = transform

    # -- the switch ---------------------------------------------------------------------------
    @property
    def on(self) -> bool:
        return self.switch if self.switch is not None else config.settings().auto

    def status(self) -> str:
        state = "on" if self.on else "off"
        source = "this session" if self.switch is not None else "the auto setting"
        return (
            f"auto mode is {state} ({source}): {self.memoized} cells memoized "
            f"({self.hits} from the store), {self.uncached} run uncached"
        )

    # -- hooks --------------------------------------------------------------------------------
    def start(self) -> None:
        shell = self.shell
        shell.input_transformers_cleanup.insert(0, self.transformer)
        shell.events.register("pre_run_cell", self.pre_run_cell)
        run_cell = shell.run_cell

        def run_user_cell(raw_cell: str, store_history: bool = False, **kw: Any) -> Any:
            """A terminal transforms a cell before any event: remember the user's cell."""
            if not (store_history and not kw.get("silent")):
                return run_cell(raw_cell, store_history, **kw)
            armed, self._armed = self._armed, raw_cell
            try:
                return run_cell(raw_cell, store_history, **kw)
            finally:
                self._armed = armed

        shell.run_cell = self._run_cell = run_user_cell

    def stop(self) -> None:
        shell = self.shell
        cleanup = shell.input_transformers_cleanup
        if self.transformer in cleanup:
            cleanup.remove(self.transformer)
        shell.events.unregister("pre_run_cell", self.pre_run_cell)
        if self._run_cell is not None and shell.__dict__.get("run_cell") is self._run_cell:
            del shell.run_cell  # back to the class's method
        self._run_cell = None

    def transform(self, lines: list[str]) -> list[str]:
        """Put ``%%memo --auto`` on top of the requested cell when auto mode memoizes it."""
        if self._busy or not self.on:
            return lines
        text = "".join(lines)
        if not self._is_request(text) or not self.decide(text).memoize:
            return lines
        return [AUTO_LINE + "\n", *_without_leading_blank_lines(lines)]

    def pre_run_cell(self, info: Any = None) -> None:
        """Before a user's cell: for Python that auto mode cannot cache, count it and say so
        once a session."""
        if info is None or getattr(info, "silent", False):
            return
        if not getattr(info, "store_history", True):
            return
        raw = getattr(info, "raw_cell", "") or ""
        if not self.on:
            return
        decision = self.decide(raw)
        if not decision.memoize and decision.reason:
            self.ran_uncached(decision.reason)
        elif decision.left:
            from hitnb.ipython.memo_cell import CellRun

            _set_last_run(self.shell, CellRun(hit=False, note=decision.left, auto=True))

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """While a cell of auto mode runs: the code ``%%memo`` transforms and runs is left
        as it is (it is the very text of the request, without the ``%%memo`` line)."""
        busy, self._busy = self._busy, True
        try:
            yield
        finally:
            self._busy = busy

    def keeps_values(self, info: Any) -> bool:
        """Whether the cell of this ``pre_run_cell`` leaves every value as it is, or as the
        ``%%memo`` machinery watches it: auto mode memoizes it, or it only runs magics that
        change no value."""
        if not self.on or getattr(info, "silent", False):
            return False
        if not getattr(info, "store_history", True):
            return False
        decision = self.decide(getattr(info, "raw_cell", "") or "")
        return decision.memoize or decision.changes_nothing

    # -- counting -----------------------------------------------------------------------------
    def ran_uncached(self, reason: str) -> None:
        """A cell ran uncached: count it, and say so if it is the first of the session."""
        from hitnb.ipython.memo_cell import CellRun

        self.uncached += 1
        _set_last_run(self.shell, CellRun(hit=False, note=reason))
        if not self.noted and not config.settings().quiet:
            self.noted = True
            print(
                f"hitnb: auto mode runs this cell uncached ({_clause(reason)}); later ones say "
                "nothing: %hitnb auto status counts them, %hitnb why says why for the last"
            )

    def ran_memoized(self, hit: bool) -> None:
        self.memoized += 1
        self.hits += hit

    # -- deciding -----------------------------------------------------------------------------
    def decide(self, text: str) -> Decision:
        """What auto mode does with a cell (kept for the last cell: the kernel, the events
        and the transformer all ask about the same one, the transformer with a newline
        after its last line, which changes nothing)."""
        text = text.rstrip("\n")
        if self._decided is not None and self._decided[0] == text:
            return self._decided[1]
        decision = self._decide(text)
        self._decided = (text, decision)
        return decision

    def _decide(self, text: str) -> Decision:
        from hitnb.core.cells import analyze_cell
        from hitnb.ipython.memo_cell import split_wrappers

        cell = "".join(_without_leading_blank_lines(text.splitlines(keepends=True)))
        wrappers, body = split_wrappers(cell)
        if not body.strip() or body.startswith(("%%memo", "%%hitnb")):
            return _LEAVE
        if body.startswith("%%"):
            name = body[2:].split(None, 1)[0] if body[2:].strip() else ""
            return Decision(False, left=f"the last cell ran as IPython runs it: auto mode "
                            f"leaves %%{name} cells to IPython")  # fmt: skip
        try:
            with self.suspended():
                source = self.shell.transform_cell(body)
        except Exception:  # IPython will report it when it runs the cell
            return _LEAVE
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return _LEAVE  # the user sees their error as usual
        magics = [_ipython_call(statement) for statement in tree.body]
        if all(magic is not None for magic in magics):  # magics and shell commands only
            pure = all(m in _PURE_MAGICS for m in magics)
            if "hitnb" in magics:  # %hitnb why speaks of the cell before it
                return Decision(False, changes_nothing=pure)
            named = ", ".join(dict.fromkeys(f"%{m}" if m else "!" for m in magics))
            left = f"the last cell ran as IPython runs it: it only runs magics ({named})"
            return Decision(False, changes_nothing=pure, left=left)
        analysis = analyze_cell(
            source, extra_outputs=[name for w in wrappers for name in w.binds()]
        )
        if not analysis.cacheable:
            return Decision(False, f"this cell is not cached: {analysis.reason}")
        return Decision(True)

    def _is_request(self, text: str) -> bool:
        """Whether ``text`` is the cell the user asked to run (not code a magic runs)."""
        header = getattr(self.shell, "parent_header", None)
        if isinstance(header, dict) and header.get("header", {}).get("msg_type"):
            if header["header"]["msg_type"] != "execute_request":
                return False
            content = header.get("content", {})
            if content.get("silent") or not content.get("store_history", True):
                return False
            code = content.get("code")
        else:
            code = self._armed  # a terminal: the cell given to run_cell
        return isinstance(code, str) and text in (code, code + "\n")


def _without_leading_blank_lines(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if line.strip():
            return lines[index:]
    return []


def _ipython_call(statement: ast.stmt) -> str | None:
    """For ``get_ipython().run_line_magic('time', ...)`` or ``.system(...)`` as a statement
    of its own: the magic's name ("" for a shell command); None for anything else."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return None
    call = statement.value
    owner = call.func
    if not (
        isinstance(owner, ast.Attribute)
        and isinstance(owner.value, ast.Call)
        and isinstance(owner.value.func, ast.Name)
        and owner.value.func.id == "get_ipython"
    ):
        return None
    first = call.args[0] if call.args else None
    if owner.attr == "run_line_magic" and isinstance(first, ast.Constant):
        return str(first.value)
    return ""


_PURE_MAGICS = frozenset({"matplotlib", "config", "hitnb", "experiments"})
"""Line magics that change no value of the namespace: the values hitnb knows the digests of
stay known across a cell of only these."""


def _clause(reason: str) -> str:
    return reason.removeprefix("this cell is not cached: ")


def _set_last_run(shell: Any, run: Any) -> None:
    from hitnb.ipython import _loaded

    loaded = _loaded.get(id(shell))
    if loaded is not None:
        loaded[0].last_run = run


_sessions: dict[int, AutoSession] = {}


def auto_session(shell: Any) -> AutoSession:
    """The auto mode of ``shell`` (made on first use)."""
    found = _sessions.get(id(shell))
    if found is None:
        found = _sessions[id(shell)] = AutoSession(shell)
    return found


def forget_session(shell: Any) -> None:
    found = _sessions.pop(id(shell), None)
    if found is not None:
        found.stop()
