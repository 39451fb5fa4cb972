"""Recording what a cell shows while it runs, and showing it again on a hit.

Output goes on to the notebook as usual while it is recorded: stdout and stderr through
a tee on ``sys.stdout``/``sys.stderr``, rich output through the shell's display
publisher, and matplotlib's inline figures, which IPython would otherwise show only
after the cell, are flushed inside the recording (:func:`flush_inline_figures`), after the
cell's result is shown, as IPython orders them.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hitnb.core.cells import Event, as_shown

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class _Tee:
    """A stream that records what is written to it, and when, and passes it on."""

    def __init__(self, stream: Any, name: str, events: list[Event]) -> None:
        self._stream = stream
        self._name = name
        self._events = events

    def record(self, text: str) -> None:
        if text:
            events = self._events
            last = events[-1] if events else None
            if last is not None and last[0] == self._name and last[2] is not None:
                events[-1] = (self._name, last[1] + text, last[2])  # not sent yet: one piece
            else:
                events.append((self._name, text, time.monotonic()))

    def write(self, text: str) -> int:
        self.record(text)
        return self._stream.write(text)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def recording(shell: Any) -> Iterator[list[Event]]:
    """Record stdout, stderr and display output of the block, in order."""
    events: list[Event] = []
    publisher = shell.display_pub
    original_publish = publisher.publish
    original_clear = publisher.clear_output

    def publish(data: dict[str, Any], metadata: dict[str, Any] | None = None, **kw: Any) -> None:
        send_as_settled(events, {"stdout": out, "stderr": err})
        events.append(("display", dict(data), dict(metadata or {})))
        original_publish(data, metadata, **kw)

    def clear_output(wait: bool = False) -> None:
        events.clear()  # what the cell cleared is not part of what it finally shows
        original_clear(wait)

    out, err = sys.stdout, sys.stderr
    undo = [_record_writes(out, "stdout", events), _record_writes(err, "stderr", events)]
    swapped = None in undo  # a stream that takes no attribute: swap it for a tee instead
    if swapped:
        for restore in undo:
            if restore is not None:
                restore()
        sys.stdout, sys.stderr = _Tee(out, "stdout", events), _Tee(err, "stderr", events)
    publisher.publish = publish
    publisher.clear_output = clear_output
    try:
        yield events
    finally:
        send_as_settled(events, {"stdout": out, "stderr": err})
        if swapped:
            sys.stdout, sys.stderr = out, err
        else:
            for restore in undo:
                restore()  # type: ignore[misc]
        del publisher.publish, publisher.clear_output  # back to the class's methods


def _record_writes(stream: Any, name: str, events: list[Event]) -> Callable[[], None] | None:
    """Record what is written to ``stream`` itself, so writers holding it rather than
    ``sys.stdout`` (a logging handler made before the cell) are recorded too. Returns how to
    undo it, or None when the stream takes no instance attribute."""
    tee = _Tee(stream, name, events)
    had_own = "write" in getattr(stream, "__dict__", {})
    write = stream.write  # the class's, or a recording already in place (nested runs)

    def recorded(text: str) -> int:
        tee.record(text)
        return write(text)  # type: ignore[no-any-return]

    try:
        stream.write = recorded
    except (AttributeError, TypeError):
        return None

    def restore() -> None:
        if had_own:
            stream.write = write
        else:
            del stream.write

    return restore


def flush_inline_figures() -> None:
    """Show pending matplotlib figures now (the inline backend would do it after the cell)."""
    backend = sys.modules.get("matplotlib_inline.backend_inline")
    matplotlib = sys.modules.get("matplotlib")
    if backend is None or matplotlib is None or "inline" not in matplotlib.get_backend():
        return
    backend.flush_figures()


def show_result(shell: Any, value: Any, events: list[Event], shown: Event | None = None) -> None:
    """Show a cell's result now, as IPython's display hook would after the cell (``Out[n]``,
    ``_``), and record it in ``events`` as a ``"result"`` event. The figures the cell drew
    are flushed after it, as IPython orders them, and the result reads as it did before they
    were drawn (drawing moves a label, which its repr shows). A hit passes the event it
    ``shown`` then: the restored value is bound, its recorded form shown."""
    hook = shell.displayhook
    hook.check_for_underscore()
    if value is None or hook.quiet():
        return
    send_as_settled(events, {"stdout": sys.stdout, "stderr": sys.stderr})
    if shown is None:
        data, metadata = hook.compute_format_data(value)
        shown = ("result", data, metadata)
    events.append(shown)
    _, data, metadata = shown
    hook.start_displayhook()
    hook.write_output_prompt()
    hook.update_user_ns(value)
    hook.fill_exec_result(value)
    if data:
        hook.write_format_data(data, metadata)
        hook.log_output(data)
    hook.finish_displayhook()


def settle(events: list[Event]) -> list[Event]:
    """Put the text not sent yet in the order the kernel sends it by now (before rich output,
    and when the run ends), as :func:`~hitnb.core.cells.as_shown` works it out from the
    times of the writes; the pieces then carry None, and later output cannot move them.
    Returns those pieces, in that order."""
    first = len(events)
    while first and isinstance(events[first - 1][2], float):  # only unsent text has a time
        first -= 1
    if first < len(events):
        events[first:] = as_shown(events[first:], ended=time.monotonic())
    return events[first:]


def send_as_settled(events: list[Event], streams: dict[str, Any]) -> None:
    """Settle the text not sent yet and have the kernel send it now, in that order: before
    rich output or a result, and when the run ends (what is left goes out, stdout first).

    The kernel would flush both streams itself, stdout first, whatever the order settled:
    a warning whose 0.2 s timer is due but has not fired yet (its thread waits for the
    interpreter) went out after a summary printed with it, while the record, going by the
    times, had it first; the replay then showed another order than the run (a forest plot
    in metaanalysis1). At the end of a run, storing the outputs comes before the kernel's
    own flush and can take longer than its timer, which would send the text meanwhile, in
    the order of the first writes."""
    last = {event[0]: i for i, event in enumerate(settle(events))}  # a stream's end piece
    for name in sorted(last, key=last.__getitem__):
        with contextlib.suppress(Exception):  # a stream that cannot flush keeps its text
            streams[name].flush()


def replay(shell: Any, events: list[Event], result: Any = None) -> None:
    """Show recorded output again, in the order it first appeared; a ``"result"`` event
    shows ``result`` (the restored value) as it was shown then. Each piece of text is
    flushed at once, so the kernel's own buffering cannot reorder it."""
    for event in events:
        kind, payload, metadata = event
        if kind == "result":
            show_result(shell, result, [], event)
        elif kind in ("stdout", "stderr"):
            stream = sys.stdout if kind == "stdout" else sys.stderr
            stream.write(payload)
            stream.flush()
        elif kind == "display":
            shell.display_pub.publish(_without_dead_widgets(payload), metadata)


def _without_dead_widgets(data: dict[str, Any]) -> dict[str, Any]:
    """A widget's view cannot be shown without its live model; keep its text fallback."""
    if _WIDGET_VIEW not in data:
        return data
    rest = {k: v for k, v in data.items() if k != _WIDGET_VIEW}
    return rest or {"text/plain": "(an interactive widget: run the cell with -f to see it live)"}
