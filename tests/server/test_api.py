"""Every route of /hitnb/api, its errors, and who may call it."""

from __future__ import annotations

import json

import pytest
import tornado.httpclient

pytestmark = pytest.mark.slow


async def get(jp_fetch, *path, **params):
    reply = await jp_fetch("hitnb", "api", *path, params=params)
    return json.loads(reply.body)


async def error_of(jp_fetch, *path, method="GET", body=None, **params):
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("hitnb", "api", *path, method=method, body=body, params=params)
    return info.value.code, json.loads(info.value.response.body)


async def test_stats_functions_and_entries(jp_fetch, filled):
    stats = await get(jp_fetch, "stats")
    assert stats["entries"] >= 4 and stats["experiments"] == 3
    listed = (await get(jp_fetch, "functions"))["functions"]
    functions = {f["name"].rsplit(".", 1)[-1]: f for f in listed}
    assert functions["train"]["entries"] == 3 and functions["train"]["experiments"] == 3
    page = await get(jp_fetch, "entries", function="train", limit="2")
    assert page["total"] == 3 and len(page["entries"]) == 2
    assert all(e["experiment"] for e in page["entries"])
    rest = await get(jp_fetch, "entries", function="train", offset="2", limit="2")
    assert len(rest["entries"]) == 1


async def test_entry_detail_and_delete(jp_fetch, filled):
    key = filled["clean"].runs()[0].key
    detail = await get(jp_fetch, "entries", key[:10])
    assert detail["key"] == key and detail["arguments"] == {"n": 3}
    reply = await jp_fetch("hitnb", "api", "entries", key, method="DELETE")
    assert json.loads(reply.body) == {"removed": [key]}
    code, error = await error_of(jp_fetch, "entries", key)
    assert code == 404 and "no entry with key" in error["message"] and error["code"] == 404


async def test_experiments_and_runs(jp_fetch, filled):
    experiments = (await get(jp_fetch, "experiments"))["experiments"]
    assert [e["runs"] for e in experiments] == [3]
    runs = await get(jp_fetch, "experiments", "train")
    assert runs["total"] == 3 and runs["metrics"] == ["accuracy"]
    assert sorted(r["lr"] for r in runs["runs"]) == [0.1, 0.2, 0.3]
    code, error = await error_of(jp_fetch, "experiments", "nothing")
    assert code == 404 and "no experiment runs" in error["message"]


@pytest.mark.filterwarnings("ignore:exported to .* was defined inside")  # fixture-made
async def test_export_inside_the_root_only(jp_fetch, jp_root_dir, filled):
    keys = [r.key for r in filled["train"].runs()]
    body = json.dumps({"keys": keys[:1], "path": "exports/run.ipynb"})
    reply = await jp_fetch("hitnb", "api", "export", method="POST", body=body)
    assert reply.code == 201 and json.loads(reply.body) == {"path": "exports/run.ipynb"}
    assert (jp_root_dir / "exports" / "run.ipynb").exists()
    for hostile in ("../escape.ipynb", "/tmp/abs.ipynb", "a/../../b.ipynb"):
        code, error = await error_of(
            jp_fetch, "export", method="POST", body=json.dumps({"keys": keys[:1], "path": hostile})
        )
        assert code == 403 and "outside the server's root" in error["message"]
    code, error = await error_of(jp_fetch, "export", method="POST", body=json.dumps({"keys": []}))
    assert code == 400 and "keys must be" in error["message"]
    code, error = await error_of(jp_fetch, "export", method="POST", body="not json")
    assert code == 400 and "must be JSON" in error["message"]


async def test_bad_paging_is_a_json_error(jp_fetch, filled):
    code, error = await error_of(jp_fetch, "entries", limit="lots")
    assert code == 400
    assert error == {"code": 400, "message": "offset and limit must be whole numbers"}


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "stats", None),
        ("GET", "functions", None),
        ("GET", "entries", None),
        ("GET", "entries/0123456789ab", None),
        ("DELETE", "entries/0123456789ab", None),
        ("GET", "experiments", None),
        ("GET", "experiments/train", None),
        ("POST", "export", "{}"),
    ],
)
async def test_every_route_refuses_requests_without_a_token(jp_fetch, filled, method, path, body):
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch(
            "hitnb", "api", *path.split("/"), method=method, body=body,
            headers={"Authorization": ""}, allow_nonstandard_methods=True,
        )  # fmt: skip
    assert info.value.code == 403
    assert filled["train"].runs(), "a refused DELETE must not have removed anything"
