"""What a cell showed, in a form two runs can be compared by: normalized, hitnb's own left out.

Only what is truly volatile is normalized: memory addresses, timing lines (``Wall time``,
``CPU times``, ``%timeit`` results and its "slowest run" warning), the clock in statsmodels
summaries (``Date:``, ``Time:``), the random table ids of pandas ``Styler`` tables and the
file names ipykernel gives cells (its process id and a hash).
Images compare by their bytes. hitnb's badge (display metadata) and its ``hitnb:`` lines are
left out of the comparison and counted apart.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}")
TIMING_LINE = re.compile(r"^[ \t]*(?:Wall time|CPU times):.*$", re.M)
TIMEIT = re.compile(
    r"[\d.]+ ?(?:ns|us|µs|μs|ms|s) ± [\d.]+ ?(?:ns|us|µs|μs|ms|s) per loop "  # micro, mu
    r"\(mean ± std\. dev\. of \d+ runs?, [\d,]+ loops? each\)"
)
TIMEIT_SPREAD = re.compile(
    r"^The slowest run took [\d.]+ times longer than the fastest\..*\n?", re.M
)
"""What ``%timeit`` adds when its runs differ 4x or more: present or not by chance."""
KERNEL_FILE = re.compile(r"\bipykernel_\d+([/\\])\d+\.py\b")
"""``/tmp/ipykernel_<pid>/<hash>.py``, the file a warning names for a cell: the kernel's
process id, and a hash of the code compiled (``%%memo`` compiles the cell without its
first line, so it can never be the plain cell's)."""
_LABEL_GAP = r"(?:[^A-Za-z0-9\n]|th>|td>){0,60}?"
_DAY = r"[A-Z][a-z]{2}, (?:\d{1,2} [A-Z][a-z]{2}|[A-Z][a-z]{2} \d{1,2}) \d{4}"
SUMMARY_DATE = re.compile(r"(Date:" + _LABEL_GAP + r")" + _DAY)
"""The day a results summary was printed: statsmodels writes ``Thu, 03 Dec 2026``,
linearmodels ``Thu, Dec 03 2026`` (a run that passes midnight prints two days)."""
SUMMARY_TIME = re.compile(r"(Time:" + _LABEL_GAP + r")\d{2}:\d{2}:\d{2}")
STYLER_ID = re.compile(r"\bT_[0-9a-f]{5}(?![0-9a-f])")
"""The table id a pandas ``Styler`` draws at random for each rendering (and its CSS)."""
NOTE_MAX_LINES = 40


def split_hitnb_notes(text: str) -> tuple[str, list[str]]:
    """The text without hitnb's notes, and the notes.

    A note starts with a line ``hitnb: ...``; when it quotes an error that spans lines, its
    parenthesis stays open and the note goes on until it closes.
    """
    kept: list[str] = []
    notes: list[str] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        if not lines[i].startswith("hitnb:"):
            kept.append(lines[i])
            i += 1
            continue
        note = [lines[i]]
        depth = lines[i].count("(") - lines[i].count(")")
        i += 1
        while depth > 0 and i < len(lines) and len(note) < NOTE_MAX_LINES:
            depth += lines[i].count("(") - lines[i].count(")")
            note.append(lines[i])
            i += 1
        notes.append("".join(note).rstrip("\n"))
    return "".join(kept), notes


def normalize_text(text: str) -> str:
    """The text with addresses, timings, summary clocks, Styler ids and cell file names
    replaced by placeholders (``%timeit``'s "slowest run" warning left out)."""
    text = ADDRESS.sub("0x…", text)
    text = TIMING_LINE.sub("<timing>", text)
    text = TIMEIT.sub("<timeit>", text)
    text = TIMEIT_SPREAD.sub("", text)
    text = KERNEL_FILE.sub(r"ipykernel_<pid>\1<cell>.py", text)
    text = SUMMARY_DATE.sub(r"\1<date>", text)
    text = STYLER_ID.sub("T_<styler>", text)
    return SUMMARY_TIME.sub(r"\1<time>", text)


def is_badge(output: dict[str, Any]) -> bool:
    """True for hitnb's "from cache" badge (marked by its display metadata)."""
    hitnb_meta = (output.get("metadata") or {}).get("hitnb")
    return isinstance(hitnb_meta, dict) and bool(hitnb_meta.get("badge"))


@dataclass
class CellView:
    """One cell's outputs, normalized, plus what hitnb printed in it."""

    items: list[tuple[str, ...]] = field(default_factory=list)
    hitnb_lines: list[str] = field(default_factory=list)
    error: tuple[str, str] | None = None

    def compared(self) -> tuple[tuple[str, ...], ...]:
        """The items as runs are compared: the stdout and stderr text between two other
        outputs in either order. ipykernel sends each stream from its own buffer, flushed
        on a timer, so which of them comes first is not the order the code wrote them in
        (metaanalysis1 cell 31 showed its warning before its printout in one plain run of
        two)."""
        compared: list[tuple[str, ...]] = []
        streams: list[tuple[str, ...]] = []
        for item in [*self.items, ("end",)]:
            if item[0] == "stream":
                streams.append(item)
                continue
            compared.extend(sorted(streams))
            streams = []
            if item != ("end",):
                compared.append(item)
        return tuple(compared)

    def diff(self, other: CellView) -> str:
        """A short description of the first difference from ``other``, for reports."""
        if sorted(self.items) == sorted(other.items):
            order = [describe(item, 40) for item in self.items]
            return f"same outputs in another order: {' | '.join(order)}"
        for index, (mine, theirs) in enumerate(zip(self.items, other.items, strict=False)):
            if mine != theirs:
                return f"output {index}: {describe_change(theirs, mine)}"
        if len(self.items) != len(other.items):
            longer = self.items if len(self.items) > len(other.items) else other.items
            extra = longer[min(len(self.items), len(other.items))]
            return (
                f"{len(other.items)} outputs -> {len(self.items)} outputs "
                f"(first extra: {describe(extra)})"
            )
        return ""


def _png_size(encoded: str) -> str:
    try:
        head = base64.b64decode(encoded[:64])
    except (ValueError, binascii.Error):
        return "?"
    if head[:8] != b"\x89PNG\r\n\x1a\n" or len(head) < 24:
        return "?"
    return f"{int.from_bytes(head[16:20], 'big')}x{int.from_bytes(head[20:24], 'big')}"


def describe(item: tuple[str, ...], width: int = 120) -> str:
    """One output in a line: its kind, mime type and the start of its text (images: size)."""
    kind, name, value = item[0], item[1], item[-1]
    if name.startswith("image/"):
        size = _png_size(value) if name == "image/png" else ""
        return f"{kind} {name} {size} ({len(value)} chars base64)"
    text = value.replace("\n", "⏎")
    return f"{kind} {name} {text[:width]}{'…' if len(text) > width else ''}"


def describe_change(before: tuple[str, ...], after: tuple[str, ...]) -> str:
    """What changed between two outputs: the first differing line of a text, else both outputs."""
    if before[:2] != after[:2] or before[1].startswith("image/"):
        return f"{describe(before)} -> {describe(after)}"
    old, new = before[-1].splitlines(), after[-1].splitlines()
    for number, (line_before, line_after) in enumerate(zip(old, new, strict=False)):
        if line_before != line_after:
            return (
                f"{before[0]} {before[1]} line {number}: "
                f"{line_before.strip()[:100]!r} -> {line_after.strip()[:100]!r}"
            )
    return f"{before[0]} {before[1]}: {len(old)} lines -> {len(new)} lines"


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def cell_view(cell: dict[str, Any]) -> CellView:
    """Normalize a code cell's outputs; consecutive stream outputs of one name are joined."""
    view = CellView()
    streams: dict[str, str] = {}
    last_stream: str | None = None

    def flush() -> None:
        nonlocal last_stream
        if last_stream is not None:
            text = streams.pop(last_stream)
            text, notes = split_hitnb_notes(text)
            view.hitnb_lines.extend(notes)
            if text:
                view.items.append(("stream", last_stream, normalize_text(text)))
            last_stream = None

    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            name = output.get("name", "stdout")
            if last_stream != name:
                flush()
                last_stream = name
                streams[name] = ""
            streams[name] += _text(output.get("text", ""))
            continue
        flush()
        if kind in ("execute_result", "display_data"):
            if is_badge(output):
                continue
            for mime, value in sorted((output.get("data") or {}).items()):
                text = _text(value)
                if mime.startswith("text/") or mime.endswith("json"):
                    text = normalize_text(text)
                view.items.append((kind, mime, text))
        elif kind == "error":
            ename = output.get("ename", "")
            evalue = normalize_text(output.get("evalue", ""))
            view.error = (ename, evalue)
            view.items.append(("error", ename, evalue))
    flush()
    return view
