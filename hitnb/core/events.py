"""Who wants to know when a result is stored or served from the store.

Views and hosts subscribe (the experiment table refreshes while a sweep runs; the
IPython extension puts a badge on a cached result the notebook shows). Core only
announces, so it knows nothing of them. A listener that raises is dropped from that
announcement with a warning, never breaking the call.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from hitnb.errors import HitnbWarning

Listener = Callable[..., None]
_listeners: dict[str, list[Listener]] = {"stored": [], "hit": []}


def subscribe(event: str, listener: Listener) -> None:
    """Call ``listener`` on ``event``: ``"stored"`` (entry) or ``"hit"`` (value, entry key,
    store)."""
    if event not in _listeners:
        raise ValueError(f"unknown event {event!r}; events: {', '.join(_listeners)}")
    if listener not in _listeners[event]:
        _listeners[event].append(listener)


def unsubscribe(event: str, listener: Listener) -> None:
    if listener in _listeners.get(event, []):
        _listeners[event].remove(listener)


def announce(event: str, *args: Any) -> None:
    for listener in list(_listeners[event]):
        try:
            listener(*args)
        except Exception as exc:
            warnings.warn(f"a hitnb {event} listener failed: {exc!r}", HitnbWarning, stacklevel=2)


def has_listeners(event: str) -> bool:
    return bool(_listeners[event])
