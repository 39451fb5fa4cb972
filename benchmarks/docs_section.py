"""Each benchmark keeps its own marked section of docs/benchmarks.md up to date."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(start: str, end: str, section: str) -> None:
    """Replace the text from ``start`` to ``end`` (markers included) with ``section``, which
    begins and ends with them; append it when the file has no such section yet. The rest of
    the file is left as it is."""
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOCS.write_text(text)
