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
``/export``                 POST    ``{"keys": [...], "path": "exports/run.ipynb",
                                    "force": false}``: write a notebook inside the server's
                                    root (409 if it exists and ``force`` is not true; at most
                                    ``MAX_EXPORT_KEYS`` runs); returns its path
==========================  ======  ==========================================================

Store work (SQLite queries, reading blobs, writing notebooks) runs on a small thread pool,
never on the server's event loop: a large request delays its own answer, not every other
Jupyter request. Every malformed request body is answered 400 with what is expected.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

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
from hitnb.store.failures import IndexUnavailable
from hitnb.store.local import LocalStore
from hitnb.widgets.model import row_of

AUTH_RESOURCE = "hitnb"
MAX_LIMIT = 1000
MAX_EXPORT_KEYS = 200
"""Runs one exported notebook may hold (each is a cell; more is not a notebook to read)."""
MAX_PATH = 1024
_KEY = re.compile(r"[0-9a-f]{6,32}")
_T = TypeVar("_T")
_store_work = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hitnb-store")


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

    async def off_loop(self, work: Callable[..., _T], *args: Any) -> _T:
        """Run store work on the store's threads; the event loop serves others meanwhile."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(_store_work, functools.partial(work, *args))
        except IndexUnavailable as exc:
            raise tornado.web.HTTPError(503, str(exc)) from exc

    def key_of(self, key: str) -> str:
        try:
            return operations.resolve_key(self.store, key)
        except (UnknownKeyError, HitnbError) as exc:
            self.fail(404, str(exc))
            raise  # unreachable: fail raises


class StatsHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        stats = await self.off_loop(lambda: maintenance.store_stats(self.store))
        self.finish(json.dumps(stats))


class FunctionsHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        found = await self.off_loop(lambda: self.store.by_function())
        rows = [
            {"function": f, "name": display_name(f), "entries": n, "experiments": e, "bytes": b}
            for f, n, e, b in found
        ]
        self.finish(json.dumps({"functions": rows}))


class EntriesHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        offset, limit = self.page()
        experiments = self.get_argument("experiments", "false").lower() in ("1", "true", "yes")
        function = self.get_argument("function", None)
        rows = await self.off_loop(
            lambda: operations.list_entries(self.store, function, experiments=experiments)
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
    async def get(self, key: str) -> None:
        shown = await self.off_loop(lambda: operations.show(self.store, self.key_of(key)))
        self.finish(json.dumps(shown, default=str))

    @tornado.web.authenticated
    @authorized
    async def delete(self, key: str) -> None:
        removed = await self.off_loop(lambda: self.store.delete([self.key_of(key)]))
        self.finish(json.dumps({"removed": [e.key for e in removed]}))


class ExperimentsHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        found = await self.off_loop(lambda: self.store.by_function())
        rows = [{"function": f, "name": display_name(f), "runs": e} for f, _, e, _ in found if e]
        self.finish(json.dumps({"experiments": rows}))


class RunsHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    async def get(self, function: str) -> None:
        offset, limit = self.page()

        def work() -> dict[str, Any]:
            found = runs(function, experiments_only=True)
            if not found:
                self.fail(404, f"no experiment runs of {function!r}; see /hitnb/api/experiments")
            return {
                "function": found[0].function,
                "total": len(found),
                "metrics": sorted({m for r in found for m in r.metrics}),
                "runs": [row_of(r) for r in found[offset : offset + limit]],  # this page only
            }

        self.finish(json.dumps(await self.off_loop(work), default=str))


_EXPORT_BODY = '{"keys": ["<key>", ...], "path": "<folder>/<name>.ipynb", "force": false}'


class ExportHandler(BaseHandler):
    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        keys, target, force = self.export_request()

        def work() -> Path:
            from hitnb.exporting.notebook import NotebookExistsError, export

            full = [self.key_of(k) for k in keys]
            try:
                return export(full, target, force=force, max_keys=MAX_EXPORT_KEYS)
            except NotebookExistsError as exc:
                self.fail(409, f"{exc.path.relative_to(self.root).as_posix()} exists already; "
                          'send "force": true to replace it')  # fmt: skip
            except HitnbError as exc:
                self.fail(400, str(exc))
            raise AssertionError("unreachable")  # fail raises

        written = await self.off_loop(work)
        relative = written.relative_to(self.root).as_posix()
        self.set_status(201)
        self.finish(json.dumps({"path": relative}))

    def export_request(self) -> tuple[list[str], Path, bool]:
        """The keys, target and force flag of the body, or a 400 saying what is expected."""
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self.fail(400, f"the body must be JSON, an object: {_EXPORT_BODY}")
        keys, path, force = body.get("keys"), body.get("path"), body.get("force", False)
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            self.fail(400, f"keys must be a non-empty list of entry keys: {_EXPORT_BODY}")
        if len(keys) > MAX_EXPORT_KEYS:
            self.fail(400, f"{len(keys)} keys: one notebook holds at most {MAX_EXPORT_KEYS} runs")
        bad = next((k for k in keys if not _KEY.fullmatch(k)), None)
        if bad is not None:
            self.fail(400, f"{bad[:40]!r} is not an entry key (6 to 32 lowercase hex digits)")
        if not isinstance(path, str) or not path.endswith(".ipynb"):
            self.fail(400, f"path must be a notebook path ending in .ipynb: {_EXPORT_BODY}")
        if "\x00" in path or len(path) > MAX_PATH:
            self.fail(400, f"path must hold no NUL character and at most {MAX_PATH} characters")
        if not isinstance(force, bool):
            self.fail(400, "force must be true or false")
        try:
            target = (self.root / path).resolve()
        except (OSError, ValueError) as exc:
            self.fail(400, f"path {path[:80]!r} cannot be used: {exc}")
        if not target.is_relative_to(self.root):
            self.fail(403, f"{path!r} is outside the server's root; export inside it")
        return keys, target, force


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
