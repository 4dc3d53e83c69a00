"""The journal keeps what each event is made of and writes the event when it is read.

Whoever reads an event (a subscription, a replay, a look-up or ``event_log``) gets the event as it
was published: equal every time, with the Decimals the venue booked.
"""

from __future__ import annotations

from decimal import Decimal

import anyio

from engine import (
    ExecutionEvent,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from gateways.simulated import FaultPlan
from tests.gateways.simulated.venues import collect, limit, market, quiet_venue, still_symbol


async def _mixed_orders() -> tuple[list[ExecutionEvent], list[ExecutionEvent], list[str]]:
    """A venue that fills, rests, cancels and expires orders; what a subscriber saw, the event log
    and the acks' venue order ids."""
    venue_order_ids: list[str] = []
    async with quiet_venue(still_symbol(displayed_size=50)) as venue:
        seen: list[ExecutionEvent] = []

        async def watch() -> None:
            seen.extend(await collect(venue, 10.0))

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(watch)
            await anyio.sleep(0.1)
            for order in (
                market("AAPL", "buy", 30),  # fills at one level
                market("AAPL", "buy", 40),  # fills over two levels
                limit("AAPL", "buy", 5, "140"),  # rests, then is cancelled
                market("AAPL", "sell", 400),  # more than the book shows: expires
            ):
                ack = await venue.submit_order(order)
                venue_order_ids.append(ack.venue_order_id)
            resting = [e for e in venue.event_log if isinstance(e, OrderAccepted)][2]
            await venue.cancel_order(resting.client_order_id)
        log = list(venue.event_log)
    return seen, log, venue_order_ids


async def test_a_subscriber_sees_exactly_the_event_log_and_reading_it_again_gives_equal_events() -> None:
    seen, log, _ = await _mixed_orders()
    assert seen == log
    assert [event.sequence for event in log] == list(range(1, len(log) + 1))
    kinds = {type(event) for event in log}
    assert kinds == {OrderAccepted, OrderFilled, OrderCancelled, OrderExpired}


async def test_venue_order_ids_and_trade_ids_count_up_from_one() -> None:
    _, log, acked = await _mixed_orders()
    accepted = [event.venue_order_id for event in log if isinstance(event, OrderAccepted)]
    assert accepted == acked == ["V1", "V2", "V3", "V4"]
    trade_ids = [event.trade_id for event in log if isinstance(event, OrderFilled)]
    assert trade_ids == [f"T{number}" for number in range(1, len(trade_ids) + 1)]
    assert len(trade_ids) > 4  # some order filled at more than one level


async def test_an_order_that_ends_reports_the_sum_of_its_fills() -> None:
    _, log, _ = await _mixed_orders()
    for event in log:
        if isinstance(event, OrderCancelled | OrderExpired):
            cid = event.client_order_id
            fills = [f for f in log if isinstance(f, OrderFilled) and f.client_order_id == cid]
            assert event.filled_quantity == sum((fill.quantity for fill in fills), Decimal(0))


async def test_a_look_up_gives_the_fills_of_the_log_with_the_booked_decimals() -> None:
    async with quiet_venue(still_symbol(displayed_size=50)) as venue:
        order = market("AAPL", "buy", 70)
        await venue.submit_order(order)
        snapshot = await venue.get_order(order.client_order_id)
        log = venue.event_log
    fills = [event for event in log if isinstance(event, OrderFilled)]
    assert snapshot.fills == tuple(fills)
    assert len(fills) == 2
    for theirs, ours in zip(snapshot.fills, venue.event_log[1:], strict=True):
        assert isinstance(ours, OrderFilled)
        assert theirs.quantity is ours.quantity
        assert theirs.price is ours.price
        assert theirs.fee is ours.fee
    assert snapshot.filled_quantity == 70
    assert snapshot.fees == fills[0].fee + fills[1].fee
    assert snapshot.average_price == (fills[0].notional + fills[1].notional) / 70
    assert snapshot.venue_order_id == "V1"
    assert snapshot.created_at == log[0].timestamp


async def test_a_duplicated_fill_arrives_twice_as_equal_events() -> None:
    plan = FaultPlan(duplicate_fill=1.0)
    async with quiet_venue(faults=plan) as venue:
        seen: list[ExecutionEvent] = []

        async def watch() -> None:
            seen.extend(await collect(venue, 1.0))

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(watch)
            await anyio.sleep(0.1)
            await venue.submit_order(market("AAPL", "buy", 10))
    fills = [event for event in seen if isinstance(event, OrderFilled)]
    assert len(fills) == 2
    assert fills[0] == fills[1]
    assert list(venue.event_log) == [seen[0], fills[0]]


async def test_a_reject_after_accept_is_journaled_after_the_acceptance() -> None:
    async with quiet_venue(faults=FaultPlan(reject_after_accept=1.0)) as venue:
        order = market("AAPL", "buy", 10)
        await venue.submit_order(order)
    accepted, rejected = venue.event_log
    assert isinstance(accepted, OrderAccepted)
    assert isinstance(rejected, OrderRejected)
    assert (accepted.sequence, rejected.sequence) == (1, 2)
    assert rejected.client_order_id == order.client_order_id


async def test_a_late_subscription_replays_what_was_delivered_above_its_sequence_then_goes_live() -> None:
    async with quiet_venue() as venue:
        for _ in range(3):
            await venue.submit_order(market("AAPL", "buy", 10))
        await anyio.sleep(0.1)  # everything published so far is delivered
        delivered = list(venue.event_log)
        seen: list[ExecutionEvent] = []

        async def watch() -> None:
            seen.extend(await collect(venue, 1.0, after_sequence=2))

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(watch)
            await anyio.sleep(0.1)
            await venue.submit_order(market("AAPL", "buy", 10))
        log = list(venue.event_log)
    assert len(delivered) == 6
    assert seen == log[2:]
    assert [event.sequence for event in seen] == list(range(3, 9))
