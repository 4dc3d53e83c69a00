"""Each fault injector does what it says, is counted, and with probability 0 never fires."""

from __future__ import annotations

import anyio
import pytest

from engine import (
    EventStreamDroppedError,
    ExecutionEvent,
    GatewayUnavailableError,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    OrderRejectedError,
    OrderStateUnknownError,
    OrderStatus,
    UnknownOrderError,
    now,
)
from gateways.simulated import FaultPlan, SimulatedVenue
from tests.gateways.simulated.venues import collect, limit, market, quiet_venue, still_symbol


async def test_a_dropped_ack_times_out_as_state_unknown_and_the_order_lives() -> None:
    async with quiet_venue(faults=FaultPlan(drop_ack=1.0), request_timeout=3.0) as venue:
        order = market("AAPL", "buy", 10)
        sent = now()
        with pytest.raises(OrderStateUnknownError) as caught:
            await venue.submit_order(order)
        assert now() - sent == pytest.approx(3.0)
        assert caught.value.client_order_id == order.client_order_id
        snapshot = await venue.get_order(order.client_order_id)
        assert snapshot.status is OrderStatus.FILLED
        assert venue.positions == {"AAPL": 10}
        assert venue.statistics().faults_injected["drop_ack"] == 1


async def test_with_every_probability_zero_no_fault_ever_fires() -> None:
    async with quiet_venue(faults=FaultPlan()) as venue:
        for index in range(50):
            await venue.submit_order(limit("AAPL", "buy" if index % 2 else "sell", 1, "150.00"))
        await anyio.sleep(30)
    assert set(venue.statistics().faults_injected.values()) == {0}


async def test_a_simulated_reject_refuses_the_order_and_stores_nothing() -> None:
    async with quiet_venue(faults=FaultPlan(reject=1.0)) as venue:
        order = market("AAPL", "buy", 10)
        with pytest.raises(OrderRejectedError, match="simulated"):
            await venue.submit_order(order)
        with pytest.raises(UnknownOrderError):
            await venue.get_order(order.client_order_id)
    assert venue.positions == {}
    assert venue.event_log == ()
    assert venue.statistics().faults_injected["reject"] == 1


async def test_a_reject_after_accept_acks_then_rejects_without_fills() -> None:
    async with quiet_venue(faults=FaultPlan(reject_after_accept=1.0)) as venue:
        order = market("AAPL", "buy", 10)
        ack = await venue.submit_order(order)
        snapshot = await venue.get_order(order.client_order_id)
    assert ack.client_order_id == order.client_order_id
    assert snapshot.status is OrderStatus.REJECTED
    assert snapshot.filled_quantity == 0
    accepted, rejected = venue.event_log
    assert isinstance(accepted, OrderAccepted)
    assert isinstance(rejected, OrderRejected)
    assert venue.statistics().faults_injected["reject_after_accept"] == 1


async def test_an_unavailable_connection_fails_before_sending() -> None:
    async with quiet_venue(faults=FaultPlan(unavailable=1.0)) as venue:
        with pytest.raises(GatewayUnavailableError):
            await venue.submit_order(market("AAPL", "buy", 10))
    assert venue.request_log == ()
    assert venue.statistics().faults_injected["unavailable"] == 1


async def test_a_duplicated_fill_is_delivered_twice_with_the_same_trade_id() -> None:
    symbol = still_symbol(displayed_size=100)
    delivered: list[ExecutionEvent] = []
    faults = FaultPlan(duplicate_fill=1.0)
    async with quiet_venue(symbol, faults=faults) as venue, anyio.create_task_group() as group:

        async def listen() -> None:
            delivered.extend(await collect(venue, 5))

        group.start_soon(listen)
        await anyio.sleep(0.1)
        await venue.submit_order(market("AAPL", "buy", 250))
    fills = [e for e in delivered if isinstance(e, OrderFilled)]
    journal_fills = [e for e in venue.event_log if isinstance(e, OrderFilled)]
    assert len(journal_fills) == 3
    assert fills == [fill for fill in journal_fills for _ in range(2)]
    assert venue.statistics().faults_injected["duplicate_fill"] == 3


async def test_reordered_events_arrive_out_of_sequence_but_all_arrive() -> None:
    symbol = still_symbol(displayed_size=100)
    delivered: list[ExecutionEvent] = []
    faults = FaultPlan(reorder_events=1.0)
    async with quiet_venue(symbol, faults=faults) as venue, anyio.create_task_group() as group:

        async def listen() -> None:
            delivered.extend(await collect(venue, 10))

        group.start_soon(listen)
        await anyio.sleep(0.1)
        await venue.submit_order(market("AAPL", "buy", 350))
    sequences = [event.sequence for event in delivered]
    assert sequences != sorted(sequences)
    assert sorted(sequences) == [event.sequence for event in venue.event_log]
    assert venue.statistics().faults_injected["reorder_events"] >= 1


async def test_a_dropped_stream_loses_nothing_after_resubscribing_from_last_sequence() -> None:
    faults = FaultPlan(drop_stream=0.2, reorder_events=0.3, duplicate_fill=0.2)
    venue = SimulatedVenue.demo(seed=4, faults=faults)
    seen: dict[int, ExecutionEvent] = {}
    watermarks: list[tuple[int, int]] = []
    drops = 0
    async with venue, anyio.create_task_group() as group:

        async def consume() -> None:
            nonlocal drops
            after = 0
            while True:
                try:
                    async for event in venue.events(after_sequence=after):
                        seen.setdefault(event.sequence, event)
                except EventStreamDroppedError as error:
                    drops += 1
                    watermarks.append((after, error.last_sequence))
                    after = error.last_sequence
                    await anyio.sleep(0.5)  # reconnecting takes a while; events keep coming
                else:
                    return

        group.start_soon(consume)
        for index in range(30):
            await venue.submit_order(market("AAPL", "buy" if index % 2 else "sell", 1 + 300 * (index % 5)))
            await venue.submit_order(limit("MSFT", "buy" if index % 2 else "sell", 10, "300.00"))
            await anyio.sleep(0.3)
        await anyio.sleep(30)
        group.cancel_scope.cancel()
    assert drops == venue.statistics().faults_injected["drop_stream"] >= 2
    assert [seen[sequence] for sequence in sorted(seen)] == list(venue.event_log)
    assert all(before <= after for before, after in watermarks)
