"""The small badge on a result that came from the cache.

It is a plain display bundle (HTML with a text fallback), so it renders in JupyterLab,
classic notebooks, VS Code and nbconvert output alike, and needs no widget state.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

BADGE_METADATA = {"hitnb": {"badge": True}}
"""Metadata that marks a display as hitnb's badge (tests and exports skip it)."""


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def _when(created: float) -> str:
    moment = dt.datetime.fromtimestamp(created).astimezone()
    today = dt.datetime.now().astimezone().date()
    return moment.strftime("%H:%M" if moment.date() == today else "%Y-%m-%d %H:%M")


def badge_bundle(*, saved: float, created: float, key: str, label: str = "") -> dict[str, Any]:
    """A display bundle: "from cache · saved 4.2 s · computed 14:03"."""
    what = f"{label} " if label else ""
    text = (
        f"hitnb: {what}from cache, saved {_duration(saved)}, computed {_when(created)} ({key[:12]})"
    )
    title = html.escape(f"hitnb key {key}")
    body = html.escape(f"{what}from cache · saved {_duration(saved)} · computed {_when(created)}")
    markup = (
        f'<span class="hitnb-badge" title="{title}" style="display:inline-block;'
        "font-size:11px;line-height:16px;padding:0 6px;border-radius:8px;"
        "color:var(--jp-ui-font-color2,#555);background:var(--jp-layout-color2,#eee);"
        f'border:1px solid var(--jp-border-color2,#ddd)">&#x26a1; {body}</span>'
    )
    return {"text/plain": text, "text/html": markup}
