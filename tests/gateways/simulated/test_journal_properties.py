"""The venue's journal and stream keep their promises on any seeded run with faults.

Each example drives a venue on a moving market (orders that rest and fill later, partial fills,
cancels racing fills) with latency, rate limits and every stream fault, while subscribers (one
from the start, one late, one after a given sequence) resubscribe after each drop. Whatever the
seed: each subscriber, deduplicating by sequence, ends with exactly the event log; every event it
got equals the log's; ids count up from one; each look-up agrees with the log; and the same seed
gives the same run.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence
from decimal import Decimal

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    EventStreamDroppedError,
    ExecutionEvent,
    GatewayError,
    GatewayUnavailableError,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSide,
    OrderSnapshot,
    OrderStatus,
    OrderType,
    RateLimitedError,
    TimeInForce,
    UnknownOrderError,
    run_virtual,
)
from gateways.simulated import FaultPlan, LatencyModel, SimulatedVenue, SymbolSpec, VenueRateLimit

CASH = Decimal(1_000_000)


def _venue(seed: int, faults: bool, latency: bool) -> SimulatedVenue:
    plan = FaultPlan(
        drop_ack=0.1, reject=0.05, reject_after_accept=0.1, duplicate_fill=0.3, reorder_events=0.3,
        drop_stream=0.05, unavailable=0.05,
    ) if faults else None
    return SimulatedVenue(
        [
            SymbolSpec(symbol="AAPL", price=150, volatility=0.5, displayed_size=40, volume_per_second=20),
            SymbolSpec(symbol="MSFT", price=300, volatility=1.0, displayed_size=50, lot_size=5),
        ],
        seed=seed,
        latency=LatencyModel(request=0.02, request_jitter=0.02, event=0.05, event_jitter=0.1)
        if latency else LatencyModel.zero(),
        faults=plan,
        rate_limits=[VenueRateLimit(limit=20, period=1.0)],
        cash=CASH,
        request_timeout=2.0,
    )


class _Subscriber:
    """Follows the stream from ``after``, resubscribing after each drop at its watermark."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.events: dict[int, ExecutionEvent] = {}
        self.watermarks: list[int] = []

    async def follow(self, venue: SimulatedVenue) -> None:
        after = self.after
        while True:
            try:
                async for event in venue.events(after_sequence=after):
                    assert event.sequence > self.after
                    known = self.events.setdefault(event.sequence, event)
                    assert known == event  # a duplicate or a replay is the same event
            except EventStreamDroppedError as error:
                dropped_at = error.last_sequence
            else:
                return
            assert dropped_at >= after  # the watermark never goes back
            self.watermarks.append(dropped_at)
            after = dropped_at


async def _run(seed: int, faults: bool, latency: bool, late_after: int) -> tuple[str, ...]:
    rng = random.Random(seed)
    venue = _venue(seed, faults, latency)
    sent: list[Order] = []
    first, late, after = _Subscriber(0), _Subscriber(0), _Subscriber(late_after)
    answers: list[str] = []

    async def actor(name: str) -> None:
        for number in range(rng.randint(4, 12)):
            try:
                if rng.random() < 0.55 or not sent:
                    symbol = rng.choice(["AAPL", "MSFT"])
                    quote = venue.quote_nowait(symbol)
                    side = rng.choice([OrderSide.BUY, OrderSide.SELL])
                    quantity = rng.choice([5, 10, 30, 60]) * (5 if symbol == "MSFT" else 1)
                    cid = f"{name}-{number}"
                    if rng.random() < 0.3:
                        order = Order(symbol=symbol, side=side, quantity=quantity, client_order_id=cid)
                    else:
                        touch = quote.bid if side is OrderSide.BUY else quote.ask
                        price = touch + side.sign * Decimal(rng.randint(-30, 10)) / 100
                        tif = TimeInForce.IOC if rng.random() < 0.2 else TimeInForce.GTC
                        order = Order(
                            symbol=symbol, side=side, quantity=quantity, order_type=OrderType.LIMIT,
                            limit_price=price, time_in_force=tif, client_order_id=cid,
                        )
                    sent.append(order)
                    answers.append(repr(await venue.submit_order(order)))
                elif rng.random() < 0.6:
                    await venue.cancel_order(rng.choice(sent).client_order_id)
                else:
                    answers.append(repr(await venue.get_order(rng.choice(sent).client_order_id)))
            except GatewayError as error:
                answers.append(f"{type(error).__name__}: {error}")
            await anyio.sleep(rng.choice([0.0, 0.0, 0.01, 0.5, 2.0]))

    async with venue, anyio.create_task_group() as followers:
        followers.start_soon(first.follow, venue)
        followers.start_soon(after.follow, venue)
        async with anyio.create_task_group() as actors:
            for name in ("a", "b", "c"):
                actors.start_soon(actor, name)
        followers.start_soon(late.follow, venue)
        await anyio.sleep(30.0)  # resting orders meet the moving market; everything is delivered
        snapshots: list[OrderSnapshot] = []
        for order in sent:
            with contextlib.suppress(GatewayError):  # rejected before acceptance, or the look-up failed
                snapshots.append(await venue.get_order(order.client_order_id))
        for order in sent:  # then nothing fills any more: the stream can catch up with the log
            await _cancel(venue, order.client_order_id)
        await anyio.sleep(5.0)  # past the event latency and the reorder window
        log = venue.event_log
        statistics = venue.statistics()
        followers.cancel_scope.cancel()
    _check_log(log)
    _check_account(venue, log)
    assert statistics.events_published == len(log)
    assert statistics.orders == sum(isinstance(event, OrderAccepted) for event in log)
    assert statistics.fills == sum(isinstance(event, OrderFilled) for event in log)
    assert statistics.requests == len(venue.request_log)
    for subscriber in (first, late, after):
        expected = {event.sequence: event for event in log if event.sequence > subscriber.after}
        assert subscriber.events == expected
    for snapshot in snapshots:
        _check_snapshot(snapshot, log)
    return (
        repr(log), repr(venue.request_log), repr(statistics), repr(snapshots), repr(answers),
        repr(venue.cash), repr(dict(venue.positions)),
    )


async def _cancel(venue: SimulatedVenue, client_order_id: str) -> None:
    """Cancel, trying again while the venue is unavailable or limits the rate."""
    for _ in range(100):
        try:
            await venue.cancel_order(client_order_id)
        except UnknownOrderError:
            return  # rejected before acceptance: nothing to cancel
        except (GatewayUnavailableError, RateLimitedError):
            await anyio.sleep(0.1)
        else:
            return
    raise AssertionError(f"could not cancel {client_order_id}")


def _check_log(log: Sequence[ExecutionEvent]) -> None:
    assert [event.sequence for event in log] == list(range(1, len(log) + 1))
    accepted = [event for event in log if isinstance(event, OrderAccepted)]
    assert [event.venue_order_id for event in accepted] == [f"V{n}" for n in range(1, len(accepted) + 1)]
    fills = [event for event in log if isinstance(event, OrderFilled)]
    assert [event.trade_id for event in fills] == [f"T{n}" for n in range(1, len(fills) + 1)]
    quantities = {event.client_order_id: Decimal(0) for event in accepted}
    ended: set[str] = set()
    for event in log:
        cid = event.client_order_id
        if isinstance(event, OrderFilled):
            assert cid in quantities
            assert cid not in ended
            quantities[cid] += event.quantity
        elif isinstance(event, OrderCancelled | OrderExpired):
            assert cid not in ended
            ended.add(cid)
            assert event.filled_quantity == quantities[cid]
        elif isinstance(event, OrderRejected):
            assert cid not in ended
            assert quantities[cid] == 0
            ended.add(cid)


def _check_account(venue: SimulatedVenue, log: Sequence[ExecutionEvent]) -> None:
    cash = CASH
    positions: dict[str, Decimal] = {}
    for event in log:
        if isinstance(event, OrderFilled):
            signed = event.side.sign * event.quantity
            positions[event.symbol] = positions.get(event.symbol, Decimal(0)) + signed
            cash -= signed * event.price + event.fee
    assert venue.cash == cash
    assert dict(venue.positions) == positions


def _check_snapshot(snapshot: OrderSnapshot, log: Sequence[ExecutionEvent]) -> None:
    cid = snapshot.order.client_order_id
    fills = tuple(event for event in log if isinstance(event, OrderFilled) and event.client_order_id == cid)
    # The look-up answered at its own time: the order's fills up to then, or all of a final order's.
    assert snapshot.fills == fills[: len(snapshot.fills)]
    if snapshot.status.is_final:
        assert snapshot.fills == fills
    filled = sum((fill.quantity for fill in snapshot.fills), Decimal(0))
    assert snapshot.filled_quantity == filled <= snapshot.order.quantity
    assert snapshot.fees == sum((fill.fee for fill in snapshot.fills), Decimal(0))
    if snapshot.status is OrderStatus.FILLED:
        assert filled == snapshot.order.quantity
    accepted = next(e for e in log if isinstance(e, OrderAccepted) and e.client_order_id == cid)
    assert snapshot.venue_order_id == accepted.venue_order_id
    assert snapshot.created_at == accepted.timestamp


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 100_000), st.booleans(), st.booleans(), st.integers(0, 40))
def test_every_subscriber_ends_with_exactly_the_event_log_and_lookups_agree_with_it(
    seed: int, faults: bool, latency: bool, late_after: int
) -> None:
    run_virtual(_run, seed, faults, latency, late_after)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 100_000), st.booleans())
def test_the_same_seed_gives_the_same_logs_answers_and_account(seed: int, faults: bool) -> None:
    assert run_virtual(_run, seed, faults, True, 5) == run_virtual(_run, seed, faults, True, 5)
