"""Which store a run uses: a function's own folder, or the one the settings select."""

from __future__ import annotations

import os
from pathlib import Path

from hitnb import config
from hitnb.store.local import LocalStore, open_store


def folder_of(store: str | os.PathLike[str] | None) -> Path | None:
    """A ``store=`` option as an absolute folder (None: use the settings)."""
    return None if store is None else Path(store).expanduser().resolve()


def store_for(resolved: config.Resolved, folder: Path | None) -> LocalStore:
    """The store in ``folder``, else the settings' store with the shared store behind it."""
    if folder is not None:
        return open_store(folder)
    return open_store(
        resolved.store_path, remote=resolved.remote, signing_key=resolved.settings.signing_key
    )


def current_store(store: str | os.PathLike[str] | None = None) -> LocalStore:
    """The store for ``store`` (a folder), or the one the settings select now."""
    return store_for(config.resolved(), folder_of(store))
