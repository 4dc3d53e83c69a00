"""The monitor: sole event consumer, dedupes by sequence and trade id, resubscribes after drops."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import cast

import anyio
import anyio.lowlevel
import pytest

from engine._twap.child import ChildOrder, ChildState
from engine._twap.parent import ParentOrder, ParentState
from engine.errors import EventStreamDroppedError, InvalidInputError, UnknownOrderError
from engine.events import (
    ExecutionEvent,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderSnapshot,
    OrderStatus,
)
from engine.execution_monitor import ExecutionMonitor
from engine.gateway import TradingGateway
from engine.instruments import Instrument
from engine.orders import Order, OrderSide


class ScriptedStream:
    """Plays one list of events per subscription; a list ending in ``None`` drops the stream."""

    def __init__(self, subscriptions: list[list[ExecutionEvent | None]]) -> None:
        self.subscriptions = subscriptions
        self.after_sequences: list[int] = []
        self.snapshots: dict[str, OrderSnapshot] = {}

    async def events(self, *, after_sequence: int = 0) -> AsyncIterator[ExecutionEvent]:
        self.after_sequences.append(after_sequence)
        script = self.subscriptions.pop(0) if self.subscriptions else []
        last = after_sequence
        for event in script:
            await anyio.sleep(0.01)
            if event is None:
                raise EventStreamDroppedError(last)
            last = max(last, event.sequence)
            yield event
        await anyio.sleep_forever()

    async def get_order(self, client_order_id: str) -> OrderSnapshot:
        try:
            return self.snapshots[client_order_id]
        except KeyError:
            raise UnknownOrderError(client_order_id) from None


def fill(seq: int, cid: str, trade: str, quantity: int) -> OrderFilled:
    return OrderFilled(
        client_order_id=cid,
        symbol="AAPL",
        timestamp=0.0,
        sequence=seq,
        trade_id=trade,
        side=OrderSide.BUY,
        quantity=Decimal(quantity),
        price=Decimal(150),
        fee=Decimal(0),
    )


def accepted(seq: int, cid: str) -> OrderAccepted:
    return OrderAccepted(
        client_order_id=cid, symbol="AAPL", timestamp=0.0, sequence=seq, venue_order_id="V" + cid
    )


def setup(
    stream: ScriptedStream,
    quantity: int = 300,
    lookup: Callable[[str], Awaitable[OrderSnapshot]] | None = None,
) -> tuple[ExecutionMonitor, ParentOrder]:
    monitor = ExecutionMonitor(cast(TradingGateway, stream), resubscribe_delay=0.0, lookup=lookup)
    parent = ParentOrder(
        parent_id="P",
        symbol="AAPL",
        side=OrderSide.BUY,
        quantity=Decimal(quantity),
        instrument=Instrument("AAPL"),
        created_at=0.0,
        deadline=100.0,
    )
    monitor.track(parent, started_at=0.0)
    monitor.transition("P", ParentState.WORKING)
    for cid in ("A", "B", "C"):
        monitor.add_child(
            "P", ChildOrder(order=Order("AAPL", "buy", 100, client_order_id=cid), slice_index=0)
        )
    return monitor, parent


async def test_a_replay_after_a_drop_resumes_from_the_last_complete_sequence_and_counts_nothing_twice() -> (
    None
):
    stream = ScriptedStream(
        [
            # 2 arrives before 1 is lost to the drop: the monitor has seen 1..1 completely, and 3.
            [accepted(1, "A"), fill(3, "A", "T3", 40), None],
            [fill(2, "A", "T2", 30), fill(3, "A", "T3", 40), fill(4, "B", "T4", 100)],
        ]
    )
    monitor, parent = setup(stream)
    async with monitor:
        await anyio.sleep(1)
    assert stream.after_sequences == [0, 1]
    assert parent.filled == 170
    statistics = monitor.statistics()
    assert statistics.stream_drops == 1
    assert statistics.duplicate_events == 1
    assert statistics.complete_through == 4


async def test_the_same_trade_under_a_new_sequence_is_still_counted_once() -> None:
    stream = ScriptedStream([[fill(1, "A", "T1", 60), fill(2, "A", "T1", 60)]])
    monitor, parent = setup(stream)
    async with monitor:
        await anyio.sleep(1)
    assert parent.filled == 60
    assert monitor.statistics().duplicate_fills == 1


async def test_events_of_unknown_orders_are_ignored() -> None:
    stream = ScriptedStream([[fill(1, "X", "T1", 60)]])
    monitor, parent = setup(stream)
    async with monitor:
        await anyio.sleep(1)
    assert parent.filled == 0
    assert monitor.statistics().unknown_events == 1


async def test_wait_complete_wakes_when_the_parent_fills_and_the_state_becomes_completed() -> None:
    events: list[ExecutionEvent | None] = [fill(i + 1, cid, f"T{cid}", 100) for i, cid in enumerate("ABC")]
    monitor, _ = setup(ScriptedStream([events]))
    async with monitor:
        status = await monitor.wait_complete("P")
    assert status.state is ParentState.COMPLETED
    assert status.filled == 300
    assert status.remaining == 0
    assert status.open_children == 0


async def test_a_cancelled_child_is_final_with_the_venue_cumulative_fill() -> None:
    cancelled = OrderCancelled(
        client_order_id="A", symbol="AAPL", timestamp=0.0, sequence=1, filled_quantity=Decimal(25)
    )
    monitor, parent = setup(ScriptedStream([[cancelled]]))
    async with monitor:
        assert await monitor.wait_child_final("A") is ChildState.CANCELLED
    assert parent.filled == 25
    assert parent.remaining == 75, "A's unfilled 75 is back; B and C still hold theirs"


async def test_reconcile_books_a_lost_order_from_the_venue_snapshot() -> None:
    stream = ScriptedStream([])
    order = Order("AAPL", "buy", 100, client_order_id="A")
    stream.snapshots["A"] = OrderSnapshot(
        order=order,
        venue_order_id="VA",
        status=OrderStatus.FILLED,
        filled_quantity=Decimal(100),
        average_price=Decimal(150),
        fees=Decimal(0),
        fills=(fill(7, "A", "T7", 100),),
        created_at=0.0,
        updated_at=1.0,
    )
    monitor, parent = setup(stream)
    monitor.record_unknown("A", "ack lost")
    assert await monitor.reconcile("A") is ChildState.FILLED
    assert parent.filled == 100
    assert await monitor.reconcile("B") is ChildState.REJECTED, "the venue never saw B"
    assert parent.remaining == 100


async def test_reconcile_asks_through_the_given_lookup_so_the_request_counts_against_the_limits() -> None:
    stream = ScriptedStream([])
    asked: list[str] = []

    async def counted_lookup(client_order_id: str) -> OrderSnapshot:
        asked.append(client_order_id)
        await anyio.sleep(2.0)  # waiting for capacity
        raise UnknownOrderError(client_order_id)

    monitor, parent = setup(stream, lookup=counted_lookup)
    monitor.record_unknown("A", "ack lost")
    assert await monitor.reconcile("A") is ChildState.REJECTED
    assert asked == ["A"]
    assert parent.remaining == 100, "A never reached the venue: its 100 are free again"


async def test_progress_subscription_yields_until_final() -> None:
    events: list[ExecutionEvent | None] = [fill(i + 1, cid, f"T{cid}", 100) for i, cid in enumerate("ABC")]
    monitor, _ = setup(ScriptedStream([events]))
    async with monitor:
        seen = [status.filled async for status in monitor.subscribe("P")]
    assert seen[0] == 0
    assert seen[-1] == 300
    assert seen == sorted(seen)


def test_bad_settings_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="lookup_timeout"):
        ExecutionMonitor(cast(TradingGateway, ScriptedStream([])), lookup_timeout=0)


async def test_a_waiter_that_gives_up_leaves_the_others_waiting_and_nothing_behind() -> None:
    monitor, _ = setup(ScriptedStream([[]]))
    woken: list[str] = []

    async def waiter(name: str) -> None:
        await monitor.wait_changed("P")
        woken.append(name)

    async with anyio.create_task_group() as group:
        group.start_soon(waiter, "stays")
        with anyio.move_on_after(1.0):
            await waiter("gives up")
        await anyio.sleep(1.0)
        assert woken == []  # one waiter's cancellation neither woke nor cancelled the other
        assert len(monitor._parents["P"].changed or []) == 1  # the one that gave up is gone
        monitor.handle_event(fill(1, "A", "TA", 100))
        await anyio.lowlevel.checkpoint()
    assert woken == ["stays"]


async def test_a_folded_child_is_no_longer_routed_and_a_late_event_of_it_changes_nothing() -> None:
    stream = ScriptedStream(
        [[fill(1, "A", "T1", 100), accepted(2, "B"), fill(3, "A", "T9", 50), accepted(4, "A")]]
    )
    monitor, parent = setup(stream)
    async with monitor:
        await anyio.sleep(0.015)  # the first fill is in: A is filled and priced
        assert not monitor.fold_children(parent, ("B",)), "B is open, and not the oldest"
        assert monitor.fold_children(parent, ("A",))
        await anyio.sleep(1)
    assert parent.child_count == 3
    assert [c.client_order_id for c in parent.children] == ["B", "C"]
    assert parent.filled == 100
    assert parent.committed == 300
    statistics = monitor.statistics()
    assert statistics.unknown_events == 2  # the late fill and the late acceptance of A
    assert parent.child("B").state is ChildState.WORKING
    # A folded child can no longer be looked up through the monitor: refused by name.
    for folded_or_unknown in ("A", "nobody"):
        with pytest.raises(InvalidInputError, match="client_order_id") as refused:
            await monitor.reconcile(folded_or_unknown)
        assert refused.value.value == folded_or_unknown


async def test_forgetting_a_parent_drops_the_waits_given_up_on_its_children() -> None:
    stream = ScriptedStream([[accepted(1, "A")]])
    monitor, parent = setup(stream)
    async with monitor:
        assert parent.child("A").state is ChildState.PENDING
        with anyio.move_on_after(1):
            await monitor.wait_child_final("A")  # A never ends: the wait is given up
        assert "A" in monitor._child_waiters
        monitor.transition("P", ParentState.CANCELLED)
        monitor.forget("P")
    assert monitor._child_waiters == {}
    assert monitor.statistics().parents == 0
