"""Shared quotes: one request serves every parent of a symbol while it is fresh."""

from __future__ import annotations

import anyio
import anyio.lowlevel

from engine._twap.quote_cache import QuoteCache
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec


def venue() -> SimulatedVenue:
    return SimulatedVenue([SymbolSpec(symbol="AAPL", price=150)], seed=1, latency=LatencyModel())


async def test_concurrent_askers_share_one_request_and_a_stale_quote_is_fetched_again() -> None:
    gateway = venue()
    async with gateway:
        cache = QuoteCache(gateway, max_age=1.0)
        async with anyio.create_task_group() as task_group:
            for _ in range(50):
                task_group.start_soon(cache.get_quote, "AAPL")
        assert cache.statistics().requests == 1
        await anyio.sleep(2)
        await cache.get_quote("AAPL")
        assert cache.statistics().requests == 2
    assert [r.kind for r in gateway.request_log].count("get_quote") == 2


async def test_a_waiter_asks_again_when_the_fetching_task_is_cancelled() -> None:
    gateway = venue()
    async with gateway:
        cache = QuoteCache(gateway)
        got = []

        async def fetcher() -> None:
            with anyio.move_on_after(0.001):
                await cache.get_quote("AAPL")  # cancelled before the answer comes

        async def waiter() -> None:
            got.append(await cache.get_quote("AAPL"))

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(fetcher)
            await anyio.lowlevel.checkpoint()
            task_group.start_soon(waiter)
        assert [q.symbol for q in got] == ["AAPL"]
        assert cache.statistics().requests == 2


async def test_the_nowait_read_gives_only_a_fresh_quote_and_never_asks_the_venue() -> None:
    gateway = venue()
    async with gateway:
        cache = QuoteCache(gateway, max_age=1.0)
        assert cache.get_quote_nowait("AAPL") is None
        fetched = await cache.get_quote("AAPL")
        assert cache.get_quote_nowait("AAPL") is fetched
        await anyio.sleep(2)
        assert cache.get_quote_nowait("AAPL") is None
        assert cache.statistics().requests == 1
        assert cache.statistics().hits == 1
    assert [r.kind for r in gateway.request_log].count("get_quote") == 1


async def test_a_listener_gets_the_answer_of_the_request_in_flight_without_waiting_for_it() -> None:
    gateway = venue()
    async with gateway:
        cache = QuoteCache(gateway)
        assert cache.listen("AAPL", print) is None  # nothing in flight: the caller must ask
        heard: list[object] = []
        fetched: list[object] = []
        async def fetcher() -> None:
            fetched.append(await cache.get_quote("AAPL"))

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(fetcher)
            await anyio.lowlevel.checkpoint()
            done = cache.listen("AAPL", heard.append)
            assert done is not None
            assert not done.is_set()
            assert heard == []  # the listener went on; the answer has not come yet
            await done.wait()
        assert heard == fetched
        assert len(heard) == 1
        assert cache.statistics().requests == 1


async def test_a_listener_hears_nothing_when_the_request_fails() -> None:
    gateway = venue()
    async with gateway:
        cache = QuoteCache(gateway)
        heard: list[object] = []

        async def fetcher() -> None:
            with anyio.move_on_after(0.001):
                await cache.get_quote("AAPL")  # cancelled before the answer comes

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(fetcher)
            await anyio.lowlevel.checkpoint()
            done = cache.listen("AAPL", heard.append)
        assert done is not None
        assert done.is_set()
        assert heard == []
