"""A real jupyter_server (pytest-jupyter) with hitnb's extension, over a filled store."""

from __future__ import annotations

import pytest

# Imported rather than named in pytest_plugins (which pytest allows only at the root), so
# pytest-jupyter's autouse fixtures (an event loop, server cleanup) run for these tests only.
from pytest_jupyter.jupyter_server import *  # noqa: F403


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"hitnb.server": True}}}


@pytest.fixture
def filled(isolated_store):
    import hitnb

    @hitnb.experiment
    def train(lr, batch_size=32):
        hitnb.log("accuracy", 0.5 + lr, step=0)
        return {"accuracy": 0.5 + lr}

    @hitnb.memo
    def clean(n):
        return list(range(n))

    for lr in (0.1, 0.2, 0.3):
        train(lr)
    clean(3)
    return {"train": train, "clean": clean}
