"""Thin, authenticated handlers over :mod:`hitnb.core.operations` and the store.

Every handler is an ``APIHandler`` that requires an authenticated user and checks
authorization for the ``hitnb`` resource. Errors are JSON ``{"code", "message"}``.
Paths from the client are resolved inside the server's root, and nothing outside the
store's own data is ever returned.

Routes (all under ``/hitnb/api``):

==========================  ======  ==========================================================
``/stats``                  GET     the store: folder, entries, experiments, bytes, per function
``/functions``              GET     functions with entry counts, experiments and bytes
``/entries``                GET     entries, newest first; ``?function=&experiments=``, paging
``/entries/<key>``          GET     one entry's metadata (arguments, metrics, dependencies)
``/entries/<key>``          DELETE  remove the entry
``/experiments``            GET     experiments (functions with experiment runs)
``/experiments/<function>`` GET     that experiment's runs as table rows; ``?offset=&limit=``
``/export``                 POST    ``{"keys": [...], "path": "exports/run.ipynb"}``: write a
                                    notebook inside the server's root; returns its path
==========================  ======  ==========================================================
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from hitnb.core import operations
from hitnb.core.memo import runs
from hitnb.core.stores import current_store
from hitnb.errors import HitnbError, UnknownKeyError
from hitnb.names import display_name
from hitnb.store import maintenance
from hitnb.store.local import LocalStore
from hitnb.widgets.model import row_of

AUTH_RESOURCE = "hitnb"
MAX_LIMIT = 1000


class BaseHandler(APIHandler):
    """JSON in and out, errors as ``{"code", "message"}``."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, root: str) -> None:
        self.root = Path(root).resolve()

    @property
    def store(self) -> LocalStore:
        return current_store()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "application/json")
        reason = self._reason
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, tornado.web.HTTPError) and exc.log_message:
            reason = exc.log_message
        self.finish(json.dumps({"code": status_code, "message": reason}))

    def fail(self, code: int, message: str) -> None:
        raise tornado.web.HTTPError(code, message)

    def page(self) -> tuple[int, int]:
        try:
            offset = int(self.get_argument("offset", "0"))
            limit = int(self.get_argument("limit", "100"))
        except ValueError:
            self.fail(400, "offset and limit must be whole numbers")
        if offset < 0 or not 0 < limit <= MAX_LIMIT:
            self.fail(400, f"offset must be >= 0 and limit between 1 and {MAX_LIMIT}")
        return offset, limit

    def key_of(self, key: str) -> str:
        try:
            return operations.resolve_key(self.store, key)
        except (UnknownKeyError, HitnbError) as exc:
            self.fail(404, str(exc))
            raise  # unreachable: fail raises


class StatsHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    def get(self) -> None:
        self.finish(json.dumps(maintenance.store_stats(self.store)))


class FunctionsHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    def get(self) -> None:
        rows = [
            {"function": f, "name": display_name(f), "entries": n, "experiments": e, "bytes": b}
            for f, n, e, b in self.store.index.by_function()
        ]
        self.finish(json.dumps({"functions": rows}))


class EntriesHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    def get(self) -> None:
        offset, limit = self.page()
        experiments = self.get_argument("experiments", "false").lower() in ("1", "true", "yes")
        rows = operations.list_entries(
            self.store, self.get_argument("function", None), experiments=experiments
        )
        page = [
            {
                **row._asdict(),
                "name": display_name(row.function),
                "experiment": bool(row.experiment),
            }
            for row in rows[offset : offset + limit]
        ]
        self.finish(json.dumps({"total": len(rows), "offset": offset, "entries": page}))


class EntryHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    def get(self, key: str) -> None:
        self.finish(json.dumps(operations.show(self.store, self.key_of(key)), default=str))

    @tornado.web.authenticated
    @authorized
    def delete(self, key: str) -> None:
        removed = self.store.delete([self.key_of(key)])
        self.finish(json.dumps({"removed": [e.key for e in removed]}))


class ExperimentsHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    def get(self) -> None:
        rows = [
            {"function": f, "name": display_name(f), "runs": e}
            for f, _, e, _ in self.store.index.by_function()
            if e
        ]
        self.finish(json.dumps({"experiments": rows}))


class RunsHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    def get(self, function: str) -> None:
        offset, limit = self.page()
        found = runs(function, experiments_only=True)
        if not found:
            self.fail(404, f"no experiment runs of {function!r}; see /hitnb/api/experiments")
        reply = {
            "function": found[0].function,
            "total": len(found),
            "metrics": sorted({m for r in found for m in r.metrics}),
            "runs": [row_of(r) for r in found[offset : offset + limit]],  # this page only
        }
        self.finish(json.dumps(reply, default=str))


class ExportHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    def post(self) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            self.fail(400, 'the body must be JSON: {"keys": [...], "path": "..."}')
        keys, path = body.get("keys"), body.get("path")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            self.fail(400, "keys must be a non-empty list of entry keys")
        if not isinstance(path, str) or not path.endswith(".ipynb"):
            self.fail(400, "path must be a notebook path ending in .ipynb, relative to the root")
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root):
            self.fail(403, f"{path!r} is outside the server's root; export inside it")
        from hitnb.exporting.notebook import export

        full = [self.key_of(k) for k in keys]
        try:
            written = export(full, target)
        except HitnbError as exc:
            self.fail(400, str(exc))
        relative = written.relative_to(self.root).as_posix()
        self.set_status(201)
        self.finish(json.dumps({"path": relative}))


def setup_handlers(web_app: Any, root: str) -> None:
    base = url_path_join(web_app.settings["base_url"], "hitnb", "api")
    options = {"root": root}
    key = r"(?P<key>[0-9a-f]{6,32})"
    routes = [
        ("stats", StatsHandler),
        ("functions", FunctionsHandler),
        ("entries", EntriesHandler),
        (f"entries/{key}", EntryHandler),
        ("experiments", ExperimentsHandler),
        (r"experiments/(?P<function>[^/]+)", RunsHandler),
        ("export", ExportHandler),
    ]
    web_app.add_handlers(".*$", [(url_path_join(base, p), h, options) for p, h in routes])
