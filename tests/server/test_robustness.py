"""The server under bad requests and slow store work: 400 for every malformed body, 409
rather than replacing a notebook, a bound on export size, and store work off the event loop.

Before: a JSON list, string or null body and a NUL in the path answered 500, an export
overwrote an existing notebook (201), and a 20,000-key export blocked every Jupyter request
for 8.4 s (store work ran on the event loop).
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import tornado.httpclient

pytestmark = pytest.mark.slow


async def export_error(jp_fetch, body: bytes | str) -> tuple[int, dict]:
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("hitnb", "api", "export", method="POST", body=body)
    return info.value.code, json.loads(info.value.response.body)


MALFORMED = [
    "[]",
    '"a string"',
    "null",
    "42",
    b"\xff\xfe not utf-8",
    '{"keys": "abcdef", "path": "a.ipynb"}',
    '{"keys": [1, 2], "path": "a.ipynb"}',
    '{"keys": ["not-hex!"], "path": "a.ipynb"}',
    '{"keys": ["abcdef"], "path": 7}',
    '{"keys": ["abcdef"], "path": "a\\u0000b.ipynb"}',
    '{"keys": ["abcdef"], "path": "' + "x" * 5000 + '.ipynb"}',
    '{"keys": ["abcdef"], "path": "a.ipynb", "force": "yes"}',
]


@pytest.mark.parametrize("body", MALFORMED)
async def test_every_malformed_export_body_is_a_400(jp_fetch, filled, body):
    code, error = await export_error(jp_fetch, body)
    assert code == 400, error
    assert error["code"] == 400 and error["message"]


async def test_too_many_keys_are_refused_at_once(jp_fetch, filled):
    body = json.dumps({"keys": [f"{i:032x}" for i in range(20_000)], "path": "big.ipynb"})
    start = time.monotonic()
    code, error = await export_error(jp_fetch, body)
    assert code == 400 and "at most" in error["message"]
    assert time.monotonic() - start < 2.0


@pytest.mark.filterwarnings("ignore:exported to .* was defined inside")  # fixture-made
async def test_an_existing_notebook_is_replaced_only_when_forced(jp_fetch, jp_root_dir, filled):
    key = filled["clean"].runs()[0].key
    mine = jp_root_dir / "mine.ipynb"
    mine.write_text("my own notebook")
    code, error = await export_error(jp_fetch, json.dumps({"keys": [key], "path": "mine.ipynb"}))
    assert code == 409 and "exists already" in error["message"]
    assert mine.read_text() == "my own notebook"
    body = json.dumps({"keys": [key], "path": "mine.ipynb", "force": True})
    reply = await jp_fetch("hitnb", "api", "export", method="POST", body=body)
    assert reply.code == 201 and mine.read_text() != "my own notebook"


async def test_slow_store_work_does_not_block_other_requests(jp_fetch, filled, monkeypatch):
    """Store work made slow (2 s per stats query): Jupyter's own status route still answers
    at once while it runs."""
    from hitnb.store import maintenance

    real = maintenance.store_stats

    def slow(store):
        time.sleep(2.0)
        return real(store)

    monkeypatch.setattr(maintenance, "store_stats", slow)

    start = time.monotonic()

    async def finished(*path):
        await jp_fetch(*path)
        return time.monotonic() - start

    stats = asyncio.ensure_future(finished("hitnb", "api", "stats"))
    await asyncio.sleep(0.2)  # the slow query has started
    status = await finished("api", "status")
    assert status < 1.5, f"the status route answered after {status:.1f} s: it waited for the store"
    assert await stats >= 2.0
