"""The jupyter_server extension: hitnb's store over a small REST API under ``/hitnb/api/``.

Enabled on install (``jupyter-config/server-config/hitnb.json``); ``jupyter server
extension list`` shows it. The JupyterLab panel is its client.
"""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "hitnb.server"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the handlers (imported here, so importing hitnb never imports the server)."""
    from hitnb.server.handlers import setup_handlers

    setup_handlers(server_app.web_app, root=server_app.root_dir)
    server_app.log.info("hitnb server extension loaded: /hitnb/api/")
