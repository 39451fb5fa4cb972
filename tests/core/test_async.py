"""``async def`` under ``@memo``: the awaited result is cached, concurrent awaits of one key
compute once; generator functions are refused when decorated."""

from __future__ import annotations

import asyncio
import warnings

import pytest

import hitnb
from hitnb import experiment, memo
from hitnb.errors import ConfigError


def test_the_awaited_result_is_cached(counter):
    calls = counter()

    @memo
    async def fetch(x):
        calls.hit("fetch")
        await asyncio.sleep(0)
        return {"x": x}

    async def main():
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "cannot store a coroutine" warning
            assert await fetch(1) == {"x": 1}
            assert await fetch(1) == {"x": 1}
            assert await fetch(2) == {"x": 2}

    asyncio.run(main())
    assert calls["fetch"] == 2
    assert [r.value for r in fetch.runs()] == [{"x": 2}, {"x": 1}]
    assert fetch.is_cached(1)
    asyncio.run(main())  # another event loop: still hits
    assert calls["fetch"] == 2


def test_concurrent_awaits_of_one_key_compute_once(counter):
    calls = counter()

    @memo(ignore=("calls",))  # the counter is written while others await: not an input
    async def slow(x):
        calls.hit("slow")
        await asyncio.sleep(0.05)
        return [x]

    async def main():
        return await asyncio.gather(*(slow(7) for _ in range(8)), slow(8))

    results = asyncio.run(main())
    assert results == [[7]] * 8 + [[8]]
    assert calls["slow"] == 2
    assert len({id(r) for r in results[:8]}) == 8  # each caller gets its own copy


def test_a_fresh_process_hits(run_python):
    code = """
        import asyncio
        from hitnb import memo

        @memo
        async def fetch(x):
            print("computing")
            return x + 1

        print(asyncio.run(fetch(41)))
    """
    assert run_python(code) == "computing\n42\n"
    assert run_python(code) == "42\n"


def test_exceptions_propagate_store_nothing_and_reach_waiters(counter):
    calls = counter()

    @memo(ignore=("calls",))
    async def broken(x):
        calls.hit("broken")
        await asyncio.sleep(0.01)
        raise ValueError(f"bad {x}")

    async def main():
        return await asyncio.gather(broken(1), broken(1), return_exceptions=True)

    errors = asyncio.run(main())
    assert [str(e) for e in errors] == ["bad 1", "bad 1"]
    assert calls["broken"] == 1
    assert broken.runs() == []


def test_failed_async_experiment_is_kept_as_a_failed_run():
    @experiment
    async def train(lr):
        raise RuntimeError("diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        asyncio.run(train(0.1))
    [run] = hitnb.runs(train, experiments_only=True)
    assert run.status == "failed"


def test_async_methods_modes_and_recompute(counter):
    calls = counter()

    class Client:
        def __init__(self, base):
            self.base = base

        @memo
        async def get(self, path):
            calls.hit("get")
            return self.base + path

    async def main():
        assert await Client("a/").get("b") == "a/b"
        assert await Client("a/").get("b") == "a/b"
        assert calls["get"] == 1
        assert await Client.get.with_mode("off")(Client("a/"), "b") == "a/b"
        assert calls["get"] == 2
        assert await Client.get.recompute(Client("a/"), "b") == "a/b"
        assert calls["get"] == 3

    asyncio.run(main())


def test_generator_functions_are_refused_with_what_to_do_instead():
    with pytest.raises(TypeError, match=r"generator function .*numbers\(\).*return list"):

        @memo
        def numbers(n):
            yield from range(n)

    with pytest.raises(TypeError, match=r"generator function .*stream\(\)"):

        @memo
        async def stream(n):
            yield n


def test_seed_is_refused_for_async_functions():
    with pytest.raises(ConfigError, match="seed= cannot seed"):

        @memo(seed=True)
        async def noisy(n):
            return n
