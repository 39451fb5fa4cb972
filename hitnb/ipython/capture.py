"""Recording what a cell shows while it runs, and showing it again on a hit.

Output goes on to the notebook as usual while it is recorded: stdout and stderr through
a tee on ``sys.stdout``/``sys.stderr``, rich output through the shell's display
publisher, and matplotlib's inline figures, which IPython would otherwise show only
after the cell, are flushed inside the recording (:func:`flush_inline_figures`), after the
cell's result is shown, as IPython orders them. In a kernel, the recording also notes when
the kernel sends each stream's text, which decides the order the text is recorded in.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from hitnb.core.cells import Event, as_shown
from hitnb.notes import is_speaking

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class _Tee:
    """A stream that records what is written to it, and when, and passes it on."""

    def __init__(self, stream: Any, name: str, events: list[Event]) -> None:
        self._stream = stream
        self._name = name
        self._events = events

    def record(self, text: str) -> None:
        if text and not is_speaking() and not _into_output_widget():
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


_SENDS: dict[int, list[tuple[str, float]]] = {}
"""The kernel's sends of text seen by each recording running, by ``id`` of its events."""


@contextmanager
def recording(shell: Any) -> Iterator[list[Event]]:
    """Record stdout, stderr and display output of the block, in order, and the tracebacks
    IPython shows without failing the cell (a value whose ``__repr__`` raises: its display
    formatter shows the error, and the cell goes on)."""
    events: list[Event] = []
    publisher = shell.display_pub
    original_publish = publisher.publish
    original_clear = publisher.clear_output
    original_traceback = shell._showtraceback
    own_traceback = shell.__dict__.get("_showtraceback")  # set by a library (rich's install)

    def show_traceback(kind: type[BaseException], value: BaseException, stb: list[str]) -> None:
        if not _into_output_widget():
            send_as_settled(events, {"stdout": out, "stderr": err})
            shown = {"ename": kind.__name__, "evalue": str(value), "traceback": list(stb)}
            events.append(("error", shown, None))
        original_traceback(kind, value, stb)

    def publish(data: dict[str, Any], metadata: dict[str, Any] | None = None, **kw: Any) -> None:
        if not _into_output_widget():
            send_as_settled(events, {"stdout": out, "stderr": err})
            events.append(("display", dict(data), dict(metadata or {})))
        original_publish(data, metadata, **kw)

    def clear_output(wait: bool = False) -> None:
        if not _into_output_widget():
            events.clear()  # what the cell cleared is not part of what it finally shows
        original_clear(wait)

    out, err = sys.stdout, sys.stderr
    undo = [_record_writes(out, "stdout", events), _record_writes(err, "stderr", events)]
    sends: list[tuple[str, float]] = []
    unseen = [_note_sends(out, "stdout", sends), _note_sends(err, "stderr", sends)]
    if None not in unseen:
        _SENDS[id(events)] = sends
    swapped = None in undo  # a stream that takes no attribute: swap it for a tee instead
    if swapped:
        for restore in undo:
            if restore is not None:
                restore()
        sys.stdout, sys.stderr = _Tee(out, "stdout", events), _Tee(err, "stderr", events)
    publisher.publish = publish
    publisher.clear_output = clear_output
    shell._showtraceback = show_traceback
    try:
        yield events
    finally:
        if own_traceback is None:
            del shell._showtraceback  # back to the class's method
        else:
            shell._showtraceback = own_traceback
        send_as_settled(events, {"stdout": out, "stderr": err})
        _SENDS.pop(id(events), None)
        for stop in unseen:
            if stop is not None:
                stop()
        if swapped:
            sys.stdout, sys.stderr = out, err
        else:
            for restore in undo:
                restore()  # type: ignore[misc]
        del publisher.publish, publisher.clear_output  # back to the class's methods


@contextmanager
def showing_nothing(shell: Any) -> Iterator[None]:
    """Show nothing of what the block displays, prints or warns: a hit loading a stored
    run, or making again what the run did (its settings magics, its imports).

    What a hit shows is what the run showed, replayed from its record; anything else is
    more than the run showed. A matplotlib figure pickled while pyplot still managed it (an
    interactive backend such as ``%matplotlib notebook`` keeps figures open) is managed
    again when it is unpickled, and that backend shows every new figure at once; a module
    imported again may warn where the run imported it inside a library's own
    ``catch_warnings`` (``tqdm.auto``).

    The streams stay the session's own, their writes dropped for the block: a logging
    handler a module imported here makes holds ``sys.stderr``, and must write to the
    notebook afterwards. Warnings are dropped where they would be shown, not filtered (a
    change of the filters makes Python forget which warnings it has shown). What the block
    set itself (``logging.captureWarnings``) is left as it set it."""
    publisher = shell.display_pub
    quiet = _drop_everything
    undo = [_wrap_method(publisher, name, lambda _: quiet) for name in ("publish", "clear_output")]
    undo += [
        _wrap_method(stream, "write", lambda _: _drop_text) for stream in (sys.stdout, sys.stderr)
    ]
    showwarning = warnings.showwarning
    warnings.showwarning = quiet
    try:
        yield
    finally:
        if warnings.showwarning is quiet:
            warnings.showwarning = showwarning
        logging = sys.modules.get("logging")
        if getattr(logging, "_warnings_showwarning", None) is quiet:  # captureWarnings(True)
            logging._warnings_showwarning = showwarning  # type: ignore[union-attr]  # to undo
        for restore in undo:
            if restore is not None:
                restore()


def _drop_everything(*args: Any, **kwargs: Any) -> None:
    """What :func:`showing_nothing` puts in place of showing."""


def _drop_text(text: str) -> int:
    return len(text)


def _into_output_widget() -> bool:
    """Whether what is shown now goes into an ipywidgets ``Output`` widget (``with out:``,
    as skore's progress bars do): the widget takes the output its ``msg_id`` names, and
    its ``clear_output`` clears the widget, not the cell. Not part of what the cell shows:
    the widget's view, replayed without its live model, shows its text instead.

    Such output was recorded as the cell's, and the widget's ``clear_output`` wiped what
    the cell had shown before: a hit showed the widget's last text in place of the cell's."""
    widgets = sys.modules.get("ipywidgets.widgets.widget_output")
    registry = sys.modules.get("ipywidgets.widgets.widget")
    output = getattr(widgets, "Output", None)
    instances = getattr(registry, "_instances", None)
    if output is None or not isinstance(instances, dict):
        return False
    return any(isinstance(w, output) and w.msg_id for w in list(instances.values()))


def _record_writes(stream: Any, name: str, events: list[Event]) -> Callable[[], None] | None:
    """Record what is written to ``stream`` itself, so writers holding it rather than
    ``sys.stdout`` (a logging handler made before the cell) are recorded too. Returns how to
    undo it, or None when the stream takes no instance attribute."""
    tee = _Tee(stream, name, events)

    def recording(write: Callable[[str], int]) -> Callable[[str], int]:
        def recorded(text: str) -> int:
            tee.record(text)
            return write(text)

        return recorded

    return _wrap_method(stream, "write", recording)


def _note_sends(
    stream: Any, name: str, sends: list[tuple[str, float]]
) -> Callable[[], None] | None:
    """Note in ``sends`` when an ipykernel stream sends text (its IO thread takes the
    buffered text in ``_rotate_buffers``). Returns how to stop, or None when ``stream`` is
    not such a stream, and the order the kernel sends text in is then worked out from the
    times of the writes (:func:`~hitnb.core.cells.as_shown`).

    The kernel's own timers decide that order otherwise: a timer set by an earlier write,
    whose text the kernel has sent since, still fires and sends what is written by then, so
    a warning can go out 50 ms after it was written, before a summary printed with it."""

    def noting(rotate: Callable[[], Any]) -> Callable[[], Any]:
        def rotated() -> Any:
            buffers = rotate()
            if any(buffer.tell() for buffer in buffers.values()):
                sends.append((name, time.monotonic()))
            return buffers

        return rotated

    return _wrap_method(stream, "_rotate_buffers", noting)


def _wrap_method(
    stream: Any, attribute: str, wrap: Callable[[Any], Any]
) -> Callable[[], None] | None:
    """Set the instance's ``attribute`` to ``wrap`` of its method (the class's, or a
    recording's already in place: nested runs). Returns how to undo it, or None when the
    stream has no such method or takes no instance attribute."""
    method = getattr(stream, attribute, None)
    if method is None:
        return None
    had_own = attribute in getattr(stream, "__dict__", {})
    try:
        setattr(stream, attribute, wrap(method))
    except (AttributeError, TypeError):
        return None

    def undo() -> None:
        if had_own:
            setattr(stream, attribute, method)
        else:
            delattr(stream, attribute)

    return undo


def flush_inline_figures() -> None:
    """Show pending matplotlib figures now, as IPython would after the cell: pyplot draws
    every figure first when it is interactive, then the inline backend shows them. A figure
    drawn once more lays out again (``layout="constrained"`` moves its axes a little), so
    showing it without that draw gave other image bytes than a plain run."""
    backend = sys.modules.get("matplotlib_inline.backend_inline")
    matplotlib = sys.modules.get("matplotlib")
    if backend is None or matplotlib is None or "inline" not in matplotlib.get_backend():
        return
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and matplotlib.is_interactive():
        with suppress(Exception):  # a figure that cannot be drawn: showing it
            pyplot.draw_all()  # says why, as it did before this draw was added
    backend.flush_figures()


def show_result(
    shell: Any, value: Any, events: list[Event], shown: Event | None = None, kind: str = "result"
) -> bool:
    """Show a cell's result now, as IPython's display hook would after the cell (``Out[n]``,
    ``_``), and record it in ``events`` as a ``kind`` event; whether it was shown (not None,
    nor hidden). The figures the cell drew are flushed after it, as IPython orders them, and
    the result reads as it did before they were drawn (drawing moves a label, which its repr
    shows). A hit passes the event it ``shown`` then: the restored value is bound, its
    recorded form shown."""
    hook = shell.displayhook
    hook.check_for_underscore()
    if value is None or hook.quiet():
        return False
    send_as_settled(events, {"stdout": sys.stdout, "stderr": sys.stderr})
    if shown is None:
        data, metadata = hook.compute_format_data(value)
        shown = (kind, data, metadata)
    events.append(shown)
    _, data, metadata = shown
    _write_result(hook, data, metadata, value)
    return True


def show_value(shell: Any, value: Any, events: list[Event], shown: list[Any]) -> None:
    """Show the value of an expression before the cell's result, as IPython's display hook
    does when its ``ast_node_interactivity`` shows more than the last one, and record it:
    a ``"shown"`` event in ``events``, the value in ``shown``."""
    if show_result(shell, value, events, kind="shown"):
        shown.append(value)


_NO_VALUE = object()


def _write_result(hook: Any, data: Any, metadata: Any, value: Any = _NO_VALUE) -> None:
    """Send a result through IPython's display hook (``Out[n]``); with its ``value``, also
    bound as IPython binds it (``_``, ``Out``)."""
    hook.start_displayhook()
    hook.write_output_prompt()
    if value is not _NO_VALUE:
        hook.update_user_ns(value)
        hook.fill_exec_result(value)
    if data:
        hook.write_format_data(data, metadata)
        hook.log_output(data)
    hook.finish_displayhook()


def settle(events: list[Event]) -> list[Event]:
    """Put the text not sent yet in the order the kernel sends it by now (before rich output,
    and when the run ends), as :func:`~hitnb.core.cells.as_shown` works it out from the
    kernel's sends when the recording sees them, else from the times of the writes; the
    pieces then carry None, and later output cannot move them. Returns those pieces, in
    that order."""
    first = _first_unsent(events)
    if first < len(events):
        sends = _SENDS.get(id(events))
        events[first:] = as_shown(events[first:], ended=time.monotonic(), sends=sends)
    return events[first:]


def _first_unsent(events: list[Event]) -> int:
    first = len(events)
    while first and isinstance(events[first - 1][2], float):  # only unsent text has a time
        first -= 1
    return first


def send_as_settled(events: list[Event], streams: dict[str, Any]) -> None:
    """Have the kernel send the text not sent yet, and settle its order: before rich output
    or a result, and when the run ends.

    When the recording sees the kernel's sends, the streams are flushed as the kernel
    flushes them itself, stdout first, and the order is the one they went out in: the
    kernel's timers may send first, one due but not fired yet (its thread waits for the
    interpreter) or one an earlier write set, which fires although that write's text was
    sent since (metaanalysis1's forest plot showed its warning first, although neither text
    was due by the times of the writes). Otherwise the order is worked out from the times
    of the writes and the text sent in it. At the end of a run this comes before hitnb
    stores the outputs, which can take longer than the kernel's timer."""
    if id(events) in _SENDS:  # the kernel decides, and its sends say what it did
        unsent = {event[0] for event in events[_first_unsent(events) :]}
        _flush(streams, [name for name in ("stdout", "stderr") if name in unsent])
        settle(events)
        return
    last = {event[0]: i for i, event in enumerate(settle(events))}  # a stream's end piece
    _flush(streams, sorted(last, key=last.__getitem__))


def _flush(streams: dict[str, Any], order: list[str]) -> None:
    for name in order:
        with suppress(Exception):  # a stream that cannot flush keeps its text
            streams[name].flush()


def replay(shell: Any, events: list[Event], result: Any = None, shown: Sequence[Any] = ()) -> None:
    """Show recorded output again, in the order it first appeared; a ``"result"`` event
    shows ``result`` (the restored value) as it was shown then, and the ``"shown"`` events
    (values shown before the result) the values of ``shown``, in order. Each piece of text
    is flushed at once, so the kernel's own buffering cannot reorder it."""
    values = iter(shown)
    for event in events:
        kind, payload, metadata = event
        if kind == "result":
            show_result(shell, result, [], event)
        elif kind == "shown":
            _write_result(shell.displayhook, payload, metadata, next(values, _NO_VALUE))
        elif kind == "error":  # a traceback IPython showed while the cell went on
            raised = type(payload["ename"], (Exception,), {})
            shell._showtraceback(raised, payload["evalue"], payload["traceback"])
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
