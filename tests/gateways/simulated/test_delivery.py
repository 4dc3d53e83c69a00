"""Delivery without faults: every event once, in sequence order, at its time.

Without faults the venue's stream is the event log itself, delivered after the event latency
(none with ``LatencyModel.zero()``); a subscription may start at any sequence, even one not yet
published. The venue's counters agree with the log, and only an order that rests is ever in the
book.
"""

from __future__ import annotations

import random

import anyio
import pytest

from engine import (
    ExecutionEvent,
    OrderAccepted,
    OrderExpired,
    OrderFilled,
)
from engine.clock import now
from gateways.simulated import LatencyModel
from tests.gateways.simulated.venues import collect, limit, market, quiet_venue, still_symbol


async def test_a_subscription_ahead_of_the_log_starts_right_after_its_sequence() -> None:
    async with quiet_venue() as venue:
        await venue.submit_order(market("AAPL", "buy", 10))  # events 1 and 2
        seen: list[ExecutionEvent] = []

        async def watch() -> None:
            seen.extend(await collect(venue, 1.0, after_sequence=5))

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(watch)
            await anyio.sleep(0.1)
            for _ in range(3):  # events 3 to 8
                await venue.submit_order(market("AAPL", "buy", 10))
        log = list(venue.event_log)
    assert [event.sequence for event in seen] == [6, 7, 8]
    assert seen == log[5:]


async def test_events_of_one_instant_reach_every_subscriber_at_that_instant_in_sequence_order() -> None:
    received: dict[str, list[tuple[float, ExecutionEvent]]] = {"first": [], "second": []}
    async with quiet_venue() as venue:

        async def watch(name: str) -> None:
            with anyio.move_on_after(1.0):
                async for event in venue.events():
                    received[name].append((now(), event))

        async def send(count: int) -> None:
            for _ in range(count):
                await venue.submit_order(market("AAPL", "sell", 5))

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(watch, "first")
            task_group.start_soon(watch, "second")
            await anyio.sleep(0.5)
            sent_at = now()
            async with anyio.create_task_group() as senders:
                for count in (1, 2, 3):
                    senders.start_soon(send, count)
        log = list(venue.event_log)
        statistics = venue.statistics()
    for name in ("first", "second"):
        assert [event for _, event in received[name]] == log
        assert {time for time, _ in received[name]} == {sent_at}
    assert len(log) == 12  # six orders, each accepted and filled
    assert statistics.events_published == statistics.events_delivered == 12


async def test_with_latency_each_event_arrives_in_order_no_sooner_than_the_event_latency() -> None:
    latency = LatencyModel(request=0.01, request_jitter=0.0, event=0.005, event_jitter=0.003)
    arrivals: list[tuple[float, ExecutionEvent]] = []
    async with quiet_venue(latency=latency) as venue:

        async def watch() -> None:
            with anyio.move_on_after(2.0):
                async for event in venue.events():
                    arrivals.append((now(), event))  # noqa: PERF401 - keeps what came before the timeout

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(watch)
            for quantity in (10, 20, 30):
                await venue.submit_order(market("AAPL", "buy", quantity))
        log = list(venue.event_log)
    assert [event for _, event in arrivals] == log
    assert all(time >= event.timestamp + 0.005 for time, event in arrivals)
    assert [time for time, _ in arrivals] == sorted(time for time, _ in arrivals)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_order_and_fill_counts_are_those_of_the_event_log(seed: int) -> None:
    rng = random.Random(seed)
    async with quiet_venue(still_symbol(displayed_size=40), seed=seed) as venue:
        for _ in range(30):
            side = rng.choice(["buy", "sell"])
            quantity = rng.choice([1, 25, 60, 300])
            order = (
                market("AAPL", side, quantity)
                if rng.random() < 0.6
                else limit("AAPL", side, quantity, rng.choice(["149.00", "150.00", "151.00"]))
            )
            await venue.submit_order(order)
        log = list(venue.event_log)
        statistics = venue.statistics()
    assert statistics.orders == sum(isinstance(event, OrderAccepted) for event in log)
    assert statistics.fills == sum(isinstance(event, OrderFilled) for event in log)
    assert statistics.expired == sum(isinstance(event, OrderExpired) for event in log)
    assert statistics.requests == 30


async def test_a_cancelled_order_leaves_the_book_and_takes_no_share_of_the_traded_volume() -> None:
    async with quiet_venue(still_symbol(volume_per_second=100)) as venue:
        cancelled = limit("AAPL", "buy", 100_000, "149.50")  # first in price priority
        waiting = limit("AAPL", "buy", 5, "149.00")
        await venue.submit_order(cancelled)
        await venue.submit_order(waiting)
        await venue.cancel_order(cancelled.client_order_id)
        venue.set_quote("AAPL", bid="147.00", ask="147.10")  # trades through both prices
        await anyio.sleep(3.0)
        fills = [event for event in venue.event_log if isinstance(event, OrderFilled)]
        assert venue.statistics().open_orders == 0
    assert [fill.client_order_id for fill in fills] == [waiting.client_order_id]
    assert fills[0].quantity == 5


async def test_an_expired_market_remainder_leaves_the_book_as_it_was_for_the_next_order() -> None:
    async with quiet_venue(still_symbol(displayed_size=50, depth_levels=1)) as venue:
        await venue.submit_order(market("AAPL", "buy", 80))  # 50 fill, 30 expire
        resting = limit("AAPL", "buy", 5, "149.00")
        await venue.submit_order(resting)
        venue.set_quote("AAPL", bid="148.00", ask="148.10")
        await anyio.sleep(2.0)  # the next step trades through the resting buy
        snapshot = await venue.get_order(resting.client_order_id)
        statistics = venue.statistics()
    assert snapshot.filled_quantity == 5
    assert statistics.expired == 1
    assert statistics.open_orders == 0
