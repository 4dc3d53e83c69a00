"""``queue.send``: the caller sends its own order, with the same lanes, limits and retries."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import anyio
import pytest

from engine import (
    DeadlineExceededError,
    InvalidInputError,
    Lane,
    Order,
    OrderResult,
    OrderResultStatus,
    OrderStateUnknownError,
    QueueClosedError,
    RateLimit,
    RateLimitedOrderQueue,
)
from engine.clock import now
from engine.events import OrderAck
from gateways.simulated import FaultPlan, LatencyModel, RequestOutcome, SimulatedVenue, SymbolSpec

LATENCY = LatencyModel(request=0.02, request_jitter=0.01, event=0.005, event_jitter=0.002)


def make_venue(**overrides: Any) -> SimulatedVenue:
    options: dict[str, Any] = {"seed": 7, "latency": LATENCY, "cash": 10**9, **overrides}
    return SimulatedVenue([SymbolSpec(symbol="AAPL", price=150, volatility=0)], **options)


def resting_order() -> Order:
    """An IOC buy far below the market: it expires at once, so the test stays about sending."""
    return Order("AAPL", "buy", 1, order_type="limit", limit_price=100, time_in_force="ioc")


def submits_at_venue(venue: SimulatedVenue) -> list[str]:
    return [
        r.client_order_id or ""
        for r in venue.request_log
        if r.kind == "submit" and r.outcome is not RequestOutcome.RATE_LIMITED
    ]


async def test_with_empty_lanes_a_send_leaves_at_once_and_resolves_accepted() -> None:
    async with make_venue() as venue, RateLimitedOrderQueue(venue, max_orders_per_minute=60) as queue:
        order = resting_order()
        started = now()
        result = await queue.send(order)
        statistics = queue.statistics()
    assert result.status is OrderResultStatus.ACCEPTED
    assert result.sent_at == result.enqueued_at == started
    assert submits_at_venue(venue) == [order.client_order_id]
    assert statistics.sent == statistics.accepted == 1
    assert statistics.in_flight == 0


async def test_a_send_waits_behind_orders_already_in_its_lane_and_behind_higher_lanes() -> None:
    async with make_venue() as venue, RateLimitedOrderQueue(venue, max_orders_per_minute=6) as queue:
        first = [resting_order() for _ in range(6)]  # the whole minute's capacity
        waiting = [queue.submit(order) for order in first]
        late, urgent = resting_order(), resting_order()
        async with anyio.create_task_group() as group:
            group.start_soon(queue.send, late)
            await anyio.sleep(1.0)
            group.start_soon(partial(queue.send, urgent, lane=Lane.COMPLETION))
        assert all([(await handle).ok for handle in waiting])
    expected = [o.client_order_id for o in first] + [urgent.client_order_id, late.client_order_id]
    assert submits_at_venue(venue) == expected


async def test_a_send_cancelled_before_its_order_left_withdraws_it() -> None:
    async with make_venue() as venue, RateLimitedOrderQueue(venue, max_orders_per_minute=1) as queue:
        await queue.send(resting_order())  # uses the minute
        order = resting_order()
        with anyio.move_on_after(5.0):
            await queue.send(order)
        statistics = queue.statistics()
        assert statistics.cancelled == 1
        assert statistics.queued == 0
        await anyio.sleep(120)
    assert order.client_order_id not in submits_at_venue(venue)


async def test_a_send_cancelled_after_its_order_left_still_settles_it() -> None:
    slow = LatencyModel(request=1.0, request_jitter=0.0, event=0.0, event_jitter=0.0)
    async with (
        make_venue(latency=slow) as venue,
        RateLimitedOrderQueue(venue, max_orders_per_minute=60) as queue,
    ):
        order = resting_order()
        with anyio.move_on_after(0.5):
            await queue.send(order)
        await anyio.sleep(5.0)
        statistics = queue.statistics()
    assert submits_at_venue(venue) == [order.client_order_id]
    assert statistics.accepted == 1
    assert statistics.in_flight == 0


async def test_send_refuses_bad_input_naming_the_field_and_a_queue_that_never_ran() -> None:
    venue = make_venue()
    queue = RateLimitedOrderQueue(venue, max_orders_per_minute=60)
    with pytest.raises(QueueClosedError):
        await queue.send(resting_order())
    async with venue, queue:
        with pytest.raises(InvalidInputError) as caught:
            await queue.send("AAPL buy 1")  # type: ignore[arg-type]  # the wrong type is the point
        assert caught.value.field == "order"
        with pytest.raises(InvalidInputError) as caught:
            await queue.send(resting_order(), weight=0)
        assert caught.value.field == "weight"
        assert queue.statistics().sent == 0


async def test_a_send_cancelled_as_its_turn_comes_is_withdrawn_and_frees_its_slot() -> None:
    slow = LatencyModel(request=1.0, request_jitter=0.0, event=0.0, event_jitter=0.0)
    async with (
        make_venue(latency=slow) as venue,
        RateLimitedOrderQueue(venue, max_in_flight=1) as queue,
        anyio.create_task_group() as group,
    ):
        first, second = resting_order(), resting_order()
        second_scope = anyio.CancelScope()

        async def send_second() -> None:
            with second_scope:
                await queue.send(second)

        async def send_first_then_cancel_second() -> None:
            await queue.send(first)
            # The dispatcher was just woken to grant the second its turn; cancel it before it runs.
            second_scope.cancel()

        group.start_soon(send_first_then_cancel_second)
        await anyio.sleep(0.5)  # the first is out; the second waits for the only slot
        group.start_soon(send_second)
    statistics = queue.statistics()
    assert submits_at_venue(venue) == [first.client_order_id]
    assert (statistics.sent, statistics.cancelled, statistics.in_flight) == (1, 1, 0)


async def test_a_send_cancelled_mid_request_is_looked_up_and_a_rejected_order_is_never_resent() -> None:
    always_reject = FaultPlan(reject=1.0)
    async with (
        make_venue(latency=LatencyModel.zero(), faults=always_reject) as venue,
        RateLimitedOrderQueue(venue) as queue,
    ):
        order = resting_order()
        # A task that asked the venue just before passes a checkpoint after its next answer (a
        # zero-latency venue's guard against a loop of requests): the send is cut off there.
        await venue.get_quote("AAPL")
        with anyio.move_on_after(0):
            await queue.send(order)
        await anyio.sleep(30)
        statistics = queue.statistics()
    kinds = [(r.kind, r.outcome) for r in venue.request_log][1:]
    assert kinds == [("submit", RequestOutcome.REJECTED), ("get_order", RequestOutcome.UNKNOWN_ORDER)]
    assert statistics.in_flight == statistics.queued == 0


async def test_a_send_whose_deadline_has_passed_never_leaves() -> None:
    async with make_venue() as venue, RateLimitedOrderQueue(venue) as queue:
        result = await queue.send(resting_order(), deadline=now() - 1.0)
        whole_seconds = await queue.send(resting_order(), deadline=math.floor(now()) - 1)
        on_time = await queue.send(resting_order(), deadline=math.floor(now()) + 1)
    assert result.status is whole_seconds.status is OrderResultStatus.FAILED
    assert isinstance(result.error, DeadlineExceededError)
    assert isinstance(whole_seconds.error, DeadlineExceededError)
    assert on_time.status is OrderResultStatus.ACCEPTED
    assert submits_at_venue(venue) == [on_time.client_order_id]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("deadline", math.nan),
        ("deadline", math.inf),
        ("deadline", -math.inf),
        ("deadline", True),
        ("deadline", "10"),
        ("lane", 2),
        ("lane", None),
        ("weight", True),
        ("weight", 1.0),
        ("weight", -1),
    ],
)
async def test_a_send_with_a_bad_lane_deadline_or_weight_is_refused_and_changes_nothing(
    field: str, value: Any
) -> None:
    async with make_venue() as venue, RateLimitedOrderQueue(venue) as queue:
        before = queue.statistics()
        order = resting_order()
        with pytest.raises(InvalidInputError) as caught:
            await queue.send(order, **{field: value})
        assert caught.value.field == field
        assert queue.statistics() == before
        assert (await queue.send(order)).ok  # its id was never taken
    assert submits_at_venue(venue) == [order.client_order_id]


async def test_a_send_that_outlives_its_queue_still_resolves() -> None:
    lost_acks = FaultPlan(drop_ack=1.0)
    async with make_venue(latency=LatencyModel.zero(), faults=lost_acks, request_timeout=5.0) as venue:
        queue = RateLimitedOrderQueue(venue, shutdown_timeout=1.0)
        results: list[OrderResult] = []

        async def caller() -> None:
            results.append(await queue.send(resting_order()))

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group, queue:
                group.start_soon(caller)
                await anyio.sleep(0.1)
                # the queue closed at 1.1 s; the venue's answer is lost and times out at 5 s
    (result,) = results
    assert result.status is OrderResultStatus.FAILED
    assert isinstance(result.error, OrderStateUnknownError)
    assert queue.statistics().in_flight == 0


class SubmitsLostOnTheWay(SimulatedVenue):
    """A venue whose first ``lost`` submits never arrive (their callers learn only that the
    outcome is unknown); later submits arrive as usual."""

    def __init__(self, lost: int) -> None:
        super().__init__([SymbolSpec(symbol="AAPL", price=150, volatility=0)], seed=7, cash=10**9)
        self.lost = lost
        self.submits = 0

    async def submit_order(self, order: Order) -> OrderAck:
        self.submits += 1
        if self.submits <= self.lost:
            await anyio.sleep(1.0)
            raise OrderStateUnknownError("no answer", client_order_id=order.client_order_id)
        return await super().submit_order(order)


async def test_a_send_given_up_while_its_unknown_outcome_waits_for_a_look_up_is_never_resent() -> None:
    venue = SubmitsLostOnTheWay(lost=100)  # every submit is lost
    one_per_window = RateLimit(1, 10.0, lookup_weight=1)  # the look-up waits for the next window
    async with venue, RateLimitedOrderQueue(venue, limits=[one_per_window]) as queue:
        with anyio.move_on_after(5.0):  # the caller gives up while its look-up waits
            await queue.send(resting_order())
        await anyio.sleep(60)
        statistics = queue.statistics()
    assert venue.submits == 1, "the venue never had it, but its caller gave up: no resend"
    assert (statistics.cancelled, statistics.in_flight, statistics.queued) == (1, 0, 0)


async def test_a_send_given_up_before_its_resend_is_not_resent_and_the_venue_is_asked_to_cancel() -> None:
    # The look-up says the first send never arrived; the resend waits for the next window, and
    # the caller gives up just then. A late arrival of the first send stays possible, so the
    # queue asks the venue to cancel that id instead of sending the order again.
    venue = SubmitsLostOnTheWay(lost=1)
    async with venue, RateLimitedOrderQueue(venue, limits=[RateLimit(1, 10.0)]) as queue:
        order = resting_order()
        with anyio.move_on_after(10.0):
            await queue.send(order)
        await anyio.sleep(30)
        statistics = queue.statistics()
    at_venue = [(r.kind, r.client_order_id) for r in venue.request_log]
    assert ("submit", order.client_order_id) not in at_venue
    assert ("get_order", order.client_order_id) in at_venue
    assert ("cancel", order.client_order_id) in at_venue
    assert (statistics.in_flight, statistics.queued) == (0, 0)
