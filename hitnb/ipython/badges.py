"""A badge under a cell's result when that result came from the store.

``@memo`` functions announce their hits (core events); if the value a cell ends with is
one of them, the badge says so, how much time it saved and when it was computed.
Values used along the way are not badged, so a loop of hits shows nothing extra.
"""

from __future__ import annotations

from typing import Any

from hitnb import config
from hitnb.core import events
from hitnb.names import display_name
from hitnb.store.local import LocalStore
from hitnb.widgets.badge import BADGE_METADATA, badge_bundle


class ResultBadges:
    """Watches one shell's cells for results that were hits."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.hits: dict[int, tuple[Any, str, LocalStore]] = {}

    def start(self) -> None:
        events.subscribe("hit", self.on_hit)
        self.shell.events.register("pre_run_cell", self.forget)
        self.shell.events.register("post_run_cell", self.after_cell)

    def stop(self) -> None:
        events.unsubscribe("hit", self.on_hit)
        self.shell.events.unregister("pre_run_cell", self.forget)
        self.shell.events.unregister("post_run_cell", self.after_cell)

    def on_hit(self, value: Any, key: str, store: LocalStore) -> None:
        self.hits[id(value)] = (value, key, store)  # the value is kept so its id stays its own

    def forget(self, *_: Any) -> None:
        self.hits.clear()

    def after_cell(self, result: Any) -> None:
        shown = getattr(result, "result", None)
        hit = self.hits.get(id(shown)) if shown is not None else None
        self.hits.clear()
        if hit is None or hit[0] is not shown or config.settings().quiet:
            return
        _, key, store = hit
        entry = store.get(key)
        if entry is not None:
            name = display_name(entry.function)
            bundle = badge_bundle(saved=entry.duration, created=entry.created, key=key, label=name)
            self.shell.display_pub.publish(bundle, BADGE_METADATA)
