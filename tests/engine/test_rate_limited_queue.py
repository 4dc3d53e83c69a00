"""RateLimitedOrderQueue: pacing shapes, priority lanes, retries, bad input and its lifetime.

Its promises (no window over a limit, nothing lost, nothing sent twice) are tried in
``tests/promises/test_limits_hold.py`` and ``tests/promises/test_no_lost_or_duplicate_order.py``.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    DeadlineExceededError,
    InvalidInputError,
    Lane,
    LimitShape,
    Order,
    OrderAccepted,
    OrderAck,
    OrderResultStatus,
    OrderStateUnknownError,
    QueueClosedError,
    QueueFullError,
    RateLimit,
    RateLimitedOrderQueue,
)
from engine._queue.handle import HandleState, OrderHandle
from engine.clock import now, run_virtual
from engine.events import OrderSnapshot, OrderStatus
from gateways.simulated import FaultPlan, LatencyModel, RequestOutcome, SimulatedVenue, VenueRateLimit
from tests.engine.queue_venues import make_venue, resting_order, submits_at_venue

# -- limits ------------------------------------------------------------------------------------


async def test_a_token_bucket_limit_sends_a_burst_then_one_per_drained_token() -> None:
    bucket = RateLimit(10, 10.0, shape=LimitShape.TOKEN_BUCKET)
    async with (
        make_venue(latency=LatencyModel.zero()) as venue,
        RateLimitedOrderQueue(venue, limits=[bucket]) as queue,
    ):
        handles = [queue.submit(resting_order()) for _ in range(15)]
        results = [await handle for handle in handles]
    sent = [result.sent_at for result in results]
    # the drained tokens come one safety margin (0.05 s) late: the venue drains between arrivals
    assert sent == pytest.approx([0.0] * 10 + [1.05, 2.05, 3.05, 4.05, 5.05])


# -- nothing lost, nothing twice ---------------------------------------------------------------


class LosingGateway:
    """The simulated venue behind a line that loses some submits before they leave, and says
    it does not know what happened (a timeout): the look-up must find nothing, then resend."""

    def __init__(self, venue: SimulatedVenue, lose_every: int) -> None:
        self._venue = venue
        self._lose_every = lose_every
        self._calls = 0
        self.instruments = venue.instruments
        self.instrument = venue.instrument
        self.get_quote = venue.get_quote
        self.events = venue.events

    async def __aenter__(self) -> LosingGateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def submit_order(self, order: Order) -> OrderAck:
        self._calls += 1
        if self._calls % self._lose_every == 0:
            await anyio.sleep(1.0)
            raise OrderStateUnknownError("timed out", client_order_id=order.client_order_id)
        return await self._venue.submit_order(order)

    async def cancel_order(self, client_order_id: str) -> None:
        await self._venue.cancel_order(client_order_id)

    async def get_order(self, client_order_id: str) -> OrderSnapshot:
        return await self._venue.get_order(client_order_id)


async def test_an_order_the_look_up_cannot_find_is_resent_once_with_the_same_id() -> None:
    async with make_venue() as venue:
        gateway = LosingGateway(venue, lose_every=3)
        async with RateLimitedOrderQueue(gateway, max_orders_per_minute=300) as queue:
            handles = [queue.submit(resting_order()) for _ in range(30)]
            results = [await handle for handle in handles]
    assert all(result.ok for result in results)
    assert set(submits_at_venue(venue).values()) == {1}
    assert {result.client_order_id for result in results} == set(submits_at_venue(venue))
    lookups = Counter(r.outcome for r in venue.request_log if r.kind == "get_order")
    assert lookups[RequestOutcome.UNKNOWN_ORDER] >= 10
    assert max(result.attempts for result in results) >= 2


# -- priority and starvation -------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.0, 0.1, 0.7, 2.0]),
            st.sampled_from([Lane.ROUTINE, Lane.ROUTINE, Lane.COMPLETION, Lane.CANCEL]),
            st.integers(min_value=1, max_value=10),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_lanes_go_in_priority_order_fifo_within_a_lane_and_heavy_orders_are_not_starved(
    steps: list[tuple[float, Lane, int]],
) -> None:
    async def scenario() -> tuple[list[tuple[Lane, set[int]]], list[int]]:
        # for each submit: its lane, and which earlier submits were still waiting at that moment
        submitted: list[tuple[Lane, set[int]]] = []
        async with make_venue(latency=LatencyModel.zero()) as venue:
            weight_budget = RateLimit(10, 1.0, per_request_weight=True)
            async with RateLimitedOrderQueue(venue, limits=[weight_budget], safety_margin=0.0) as queue:
                handles: list[OrderHandle] = []
                for delay, lane, weight in steps:
                    await anyio.sleep(delay)
                    waiting = {
                        index for index, handle in enumerate(handles) if handle.state is HandleState.QUEUED
                    }
                    handles.append(queue.submit(resting_order(), lane=lane, weight=weight))
                    submitted.append((lane, waiting))
                for handle in handles:
                    assert (await handle).ok
        arrival = {request.client_order_id: index for index, request in enumerate(venue.request_log)}
        return submitted, [arrival[handle.client_order_id] for handle in handles]

    submitted, rank = run_virtual(scenario)
    for later, (lane, waiting) in enumerate(submitted):
        for earlier in range(later):
            if submitted[earlier][0] == lane:
                assert rank[earlier] < rank[later], "first in, first out within a lane, whatever the weight"
            elif earlier in waiting and submitted[earlier][0] > lane:
                assert rank[later] < rank[earlier], "a better lane overtakes whatever is still waiting"


async def test_a_cancelled_waiting_submit_frees_its_place_and_its_capacity() -> None:
    async with (
        make_venue(latency=LatencyModel.zero()) as venue,
        RateLimitedOrderQueue(venue, limits=[RateLimit(1, 60.0)], max_queued=2, safety_margin=0.05) as queue,
    ):
        first = queue.submit(resting_order())
        await anyio.sleep(1)  # the first is out; the window is full until 60.05
        second, third = queue.submit(resting_order()), queue.submit(resting_order())
        fourth = queue.submit(resting_order())
        assert queue.statistics().waiting_for_room == 1
        assert third.cancel() is True
        assert queue.statistics().waiting_for_room == 0  # the fourth took the freed place
        assert second.cancel() is True
        assert (await third).status is OrderResultStatus.CANCELLED
        result = await fourth
        assert second.cancel() is False
    assert (await first).ok
    assert result.ok
    assert result.sent_at == pytest.approx(60.05)  # the slot the cancelled ones would have used
    assert set(submits_at_venue(venue)) == {first.client_order_id, fourth.client_order_id}


async def test_cancel_through_the_queue_withdraws_unsent_orders_and_sends_the_rest() -> None:
    async with (
        make_venue(limits=[VenueRateLimit(limit=2, period=10.0)]) as venue,
        RateLimitedOrderQueue(venue, limits=[RateLimit(2, 10.0)]) as queue,
    ):
        sent, waiting = queue.submit(resting_order()), queue.submit(resting_order())
        late = queue.submit(resting_order())
        await sent
        cancel_sent = queue.cancel(sent.client_order_id)
        cancel_late = queue.cancel(late.client_order_id)
        assert (await cancel_late).ok
        assert cancel_late.result().sent_at is None
        assert (await late).status is OrderResultStatus.CANCELLED
        assert (await cancel_sent).ok
        assert (await waiting).ok
    assert late.client_order_id not in submits_at_venue(venue)
    kinds = [(r.kind, r.client_order_id) for r in venue.request_log]
    assert ("cancel", sent.client_order_id) in kinds
    assert venue.statistics().rate_limit_violations == 0


# -- retries -----------------------------------------------------------------------------------


async def test_a_429_storm_pauses_lowers_the_rate_and_recovers() -> None:
    # the queue believes in twice the venue's real limit: the venue answers with 429s
    async with (
        make_venue(limits=[VenueRateLimit(limit=20, period=10.0)]) as venue,
        RateLimitedOrderQueue(venue, limits=[RateLimit(40, 10.0)], seed=5, max_attempts=10) as queue,
    ):
        handles = [queue.submit(resting_order()) for _ in range(300)]
        results = [await handle for handle in handles]
        storm = queue.statistics()
        await anyio.sleep(200)
        calm = queue.statistics()
    assert all(result.ok for result in results)
    assert storm.rate_limited > 0
    assert storm.rate_limited < len(results)
    assert storm.rate_factor < 1.0
    assert calm.rate_factor == 1.0
    assert max(submits_at_venue(venue).values()) == 1


async def test_unavailable_is_retried_with_backoff_and_rejections_are_final() -> None:
    async with (
        make_venue(faults=FaultPlan(unavailable=0.3), seed=3) as venue,
        RateLimitedOrderQueue(venue, max_attempts=20, seed=1) as queue,
    ):
        handles = [queue.submit(resting_order()) for _ in range(50)]
        bad = queue.submit(Order("AAPL", "buy", 1, order_type="limit", limit_price="100.001"))
        results = [await handle for handle in handles]
        rejected = await bad
        statistics = queue.statistics()
    assert all(result.ok for result in results)
    assert statistics.retries > 0
    # known not sent: resent as it is, never looked up first
    assert statistics.lookups == 0
    assert not [r for r in venue.request_log if r.kind == "get_order"]
    assert rejected.status is OrderResultStatus.REJECTED
    assert rejected.attempts == 1


async def test_an_order_past_its_deadline_is_not_sent() -> None:
    async with make_venue() as venue, RateLimitedOrderQueue(venue, limits=[RateLimit(1, 60.0)]) as queue:
        first = queue.submit(resting_order())
        late = queue.submit(resting_order(), deadline=now() + 30)
        result = await late
        assert now() == pytest.approx(30)
    assert (await first).ok
    assert result.status is OrderResultStatus.FAILED
    assert isinstance(result.error, DeadlineExceededError)
    assert late.client_order_id not in submits_at_venue(venue)


async def test_a_full_queue_refuses_when_told_to() -> None:
    async with (
        make_venue() as venue,
        RateLimitedOrderQueue(venue, limits=[RateLimit(1, 60.0)], max_queued=3, when_full="refuse") as queue,
    ):
        handles = [queue.submit(resting_order()) for _ in range(3)]
        with pytest.raises(QueueFullError, match="max_queued=3"):
            queue.submit(resting_order())
        assert queue.statistics().queued == 3
        cancel = queue.cancel(handles[0].client_order_id)  # never refused; withdraws the order
        assert (await cancel).ok
        assert handles[0].result().status is OrderResultStatus.CANCELLED
        assert "routine: 2" in repr(queue)
        assert all(handle.cancel() for handle in handles[1:])
        assert queue.statistics().queued == 0


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_orders_per_minute": 0}, "max_orders_per_minute"),
        ({"max_orders_per_minute": -5}, "max_orders_per_minute"),
        ({"max_orders_per_minute": 1.5}, "max_orders_per_minute"),
        ({"max_orders_per_minute": "100"}, "max_orders_per_minute"),
        ({"max_queued": 0}, "max_queued"),
        ({"when_full": "block"}, "when_full"),
        ({"max_in_flight": 0}, "max_in_flight"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"safety_margin": -0.1}, "safety_margin"),
        ({"safety_margin": math.nan}, "safety_margin"),
        ({"retry_backoff": 0}, "retry_backoff"),
        ({"retry_jitter": 2}, "retry_jitter"),
        ({"shutdown_timeout": math.inf}, "shutdown_timeout"),
        ({"limits": [object()]}, "limits[0]"),
    ],
)
def test_bad_settings_are_refused_naming_field_and_value(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        RateLimitedOrderQueue(make_venue(), **kwargs)
    assert caught.value.field == field
    assert str(caught.value).startswith(field)


def test_a_gateway_that_is_not_one_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="trading_gateway"):
        RateLimitedOrderQueue(object())  # type: ignore[arg-type]  # deliberately wrong


async def test_bad_submits_are_refused_and_change_nothing() -> None:
    async with (
        make_venue() as venue,
        RateLimitedOrderQueue(venue, limits=[RateLimit(10, 1.0, per_request_weight=True)]) as queue,
    ):
        order = resting_order()
        queue.submit(order)
        before = queue.statistics()
        cases: list[tuple[str, Any]] = [
            ("order", lambda: queue.submit("AAPL 100")),  # type: ignore[arg-type]  # deliberately wrong
            ("lane", lambda: queue.submit(resting_order(), lane=3)),  # type: ignore[arg-type]  # deliberately wrong
            ("deadline", lambda: queue.submit(resting_order(), deadline=math.nan)),
            ("weight", lambda: queue.submit(resting_order(), weight=0)),
            ("weight", lambda: queue.submit(resting_order(), weight=11)),
            ("order", lambda: queue.submit(order)),  # the same client order id twice
            ("client_order_id", lambda: queue.cancel("not an id!")),
            ("lane", lambda: queue.cancel(order.client_order_id, lane="fast")),  # type: ignore[arg-type]  # deliberately wrong
        ]
        for field, call in cases:
            with pytest.raises(InvalidInputError) as caught:
                call()
            assert caught.value.field == field
        assert queue.statistics() == before


# -- lifetime and cancellation safety ------------------------------------------------------------


async def test_awaiting_a_submit_to_a_queue_that_never_ran_raises_instead_of_hanging() -> None:
    async with make_venue() as venue:
        queue = RateLimitedOrderQueue(venue, max_orders_per_minute=10)
        handle = queue.submit(resting_order())
        with anyio.fail_after(60), pytest.raises(QueueClosedError, match="async with"):
            await handle
        assert not handle.done()
        async with queue:  # entered later, the queue sends what was submitted before
            assert (await handle).ok
    assert submits_at_venue(venue) == {handle.client_order_id: 1}


async def test_a_cancelled_surrounding_scope_still_waits_for_the_send_in_flight() -> None:
    slow = LatencyModel(request=1.0, request_jitter=0.0, event=0, event_jitter=0)
    async with make_venue(latency=slow) as venue:
        with anyio.move_on_after(0.5):
            async with RateLimitedOrderQueue(venue, shutdown_timeout=5.0) as queue:
                handle = queue.submit(resting_order())
                await anyio.sleep(10)
        result = handle.result()
    assert venue.statistics().orders == 1
    assert result.ok, result  # the venue holds it: the answer was awaited, not cut off
    assert result.acknowledged_at == pytest.approx(2.0)


async def test_a_cancelled_surrounding_scope_still_resolves_an_unknown_outcome_by_look_up() -> None:
    async with make_venue(faults=FaultPlan(drop_ack=1.0), request_timeout=1.0) as venue:
        with anyio.move_on_after(0.5):
            async with RateLimitedOrderQueue(venue, shutdown_timeout=5.0) as queue:
                handle = queue.submit(resting_order())
                await anyio.sleep(10)
    assert handle.result().ok
    assert [r.kind for r in venue.request_log] == ["submit", "get_order"]


class LateArrivalGateway:
    """A line on which the first submit times out and arrives at the venue only after the look-up
    that says "no such order": the resend then meets the venue's duplicate refusal."""

    def __init__(self, venue: SimulatedVenue) -> None:
        self._venue = venue
        self._late: Order | None = None
        self.instruments = venue.instruments
        self.instrument = venue.instrument
        self.get_quote = venue.get_quote
        self.events = venue.events
        self.cancel_order = venue.cancel_order

    async def __aenter__(self) -> LateArrivalGateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def submit_order(self, order: Order) -> OrderAck:
        if self._late is None:
            self._late = order
            await anyio.sleep(1.0)
            raise OrderStateUnknownError("timed out", client_order_id=order.client_order_id)
        return await self._venue.submit_order(order)

    async def get_order(self, client_order_id: str) -> OrderSnapshot:
        return await self._venue.get_order(client_order_id)  # "no such order" the first time

    async def deliver_late(self) -> None:
        assert self._late is not None
        await self._venue.submit_order(self._late)


async def test_a_duplicate_refusal_after_a_lost_send_is_looked_up_not_called_rejected() -> None:
    async with make_venue(latency=LatencyModel.zero()) as venue:
        gateway = LateArrivalGateway(venue)
        async with RateLimitedOrderQueue(gateway, retry_backoff=1.0) as queue:
            original_get_order = gateway.get_order
            looked_up = 0

            async def get_order_then_arrive(client_order_id: str) -> OrderSnapshot:
                nonlocal looked_up
                looked_up += 1
                try:
                    return await original_get_order(client_order_id)
                finally:
                    if looked_up == 1:
                        await gateway.deliver_late()  # the lost send lands right after the look-up

            gateway.get_order = get_order_then_arrive  # type: ignore[method-assign]  # the race, staged
            handle = queue.submit(resting_order(time_in_force="gtc"))
            result = await handle
    assert looked_up == 2
    assert result.ok, result  # the venue holds it: "rejected" would lose a live order
    accepted = venue.event_log[0]
    assert isinstance(accepted, OrderAccepted)
    assert result.venue_order_id == accepted.venue_order_id


async def test_a_look_up_costs_its_own_weight_not_the_order_weight() -> None:
    weights = RateLimit(10, 60.0, per_request_weight=True, lookup_weight=1)
    async with make_venue(latency=LatencyModel.zero()) as venue:
        gateway = LosingGateway(venue, lose_every=1)
        async with RateLimitedOrderQueue(gateway, limits=[weights], max_attempts=1) as queue:
            result = await queue.submit(resting_order(), weight=8)
    lookups = [r.timestamp for r in venue.request_log if r.kind == "get_order"]
    assert lookups == [pytest.approx(1.0)]  # 8 + 1 fits the minute: no wait for the window
    assert result.status is OrderResultStatus.FAILED


async def test_cancelling_a_resend_whose_first_send_may_still_arrive_also_cancels_at_the_venue() -> None:
    async with make_venue(latency=LatencyModel.zero()) as venue:
        gateway = LateArrivalGateway(venue)
        async with RateLimitedOrderQueue(gateway, limits=[RateLimit(1, 60.0)]) as queue:
            handle = queue.submit(resting_order(time_in_force="gtc"))
            await anyio.sleep(5)  # timed out, looked up ("no such order"), waiting to go out again
            assert handle.state is HandleState.QUEUED
            cancel = queue.cancel(handle.client_order_id)
            await gateway.deliver_late()  # the first send lands after all
            assert (await handle).status is OrderResultStatus.CANCELLED
            assert (await cancel).ok
        snapshot = await venue.get_order(handle.client_order_id)
    assert cancel.result().sent_at is not None  # the venue was asked, not just the queue
    assert snapshot.status is OrderStatus.CANCELLED  # no order left working that nobody tracks


async def test_waiting_for_room_in_a_queue_that_never_ran_raises_instead_of_hanging() -> None:
    queue = RateLimitedOrderQueue(make_venue(), max_queued=1)
    queue.submit(resting_order())
    with anyio.fail_after(60), pytest.raises(QueueClosedError, match="async with"):
        await queue.wait_for_room()


async def test_an_order_the_queue_already_sent_cannot_be_submitted_again() -> None:
    # some venues accept a client order id again once its first order is done: a resubmitted
    # order would trade twice
    async with make_venue() as venue, RateLimitedOrderQueue(venue) as queue:
        order = resting_order()
        assert (await queue.submit(order)).ok
        with pytest.raises(InvalidInputError, match="already sent") as caught:
            queue.submit(order)
        withdrawn = resting_order()
        queue.submit(withdrawn, deadline=now() - 1)  # never sent: its id stays free
        await anyio.sleep(1)
        again = await queue.submit(withdrawn)
    assert caught.value.field == "order"
    assert again.ok
    assert submits_at_venue(venue) == {order.client_order_id: 1, withdrawn.client_order_id: 1}


async def test_a_sent_id_the_owner_lets_go_is_no_longer_held_and_the_venue_refuses_it_instead() -> None:
    async with make_venue() as venue, RateLimitedOrderQueue(venue) as queue:
        order, other = resting_order(), resting_order()
        assert (await queue.submit(order)).ok
        assert (await queue.submit(other)).ok
        held = queue.statistics().sent_ids_held
        queue.forget_sent([order.client_order_id, "never-sent-id"])
        after = queue.statistics().sent_ids_held
        with pytest.raises(InvalidInputError, match="already sent"):
            queue.submit(other)  # still held
        again = await queue.submit(order)  # let go: the queue sends it, the venue knows the id
    assert (held, after) == (2, 1)
    assert again.status is OrderResultStatus.REJECTED


@pytest.mark.parametrize("ids", ["C-1", [1], [None]])
async def test_forget_sent_refuses_what_is_not_a_list_of_ids_and_changes_nothing(ids: Any) -> None:
    async with make_venue() as venue, RateLimitedOrderQueue(venue) as queue:
        order = resting_order()
        assert (await queue.submit(order)).ok
        with pytest.raises(InvalidInputError, match="client_order_ids"):
            queue.forget_sent([order.client_order_id, *ids] if isinstance(ids, list) else ids)
        assert queue.statistics().sent_ids_held == 1


class OvertakingGateway:
    """Submits travel slowly and cancels fast, on separate connections: a cancel can reach the
    venue before the order it cancels, as it can at a real venue."""

    def __init__(self, venue: SimulatedVenue) -> None:
        self._venue = venue
        self.instruments = venue.instruments
        self.instrument = venue.instrument
        self.get_quote = venue.get_quote
        self.events = venue.events
        self.get_order = venue.get_order
        self.cancel_order = venue.cancel_order

    async def __aenter__(self) -> OvertakingGateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def submit_order(self, order: Order) -> OrderAck:
        await anyio.sleep(1.0)
        return await self._venue.submit_order(order)


async def test_a_cancel_that_overtakes_its_order_in_flight_is_sent_again() -> None:
    async with make_venue(latency=LatencyModel.zero()) as venue:
        async with RateLimitedOrderQueue(OvertakingGateway(venue)) as queue:
            submit = queue.submit(resting_order(time_in_force="gtc"))
            await anyio.sleep(0.1)
            cancel = queue.cancel(submit.client_order_id)
            assert (await submit).ok
            result = await cancel
        snapshot = await venue.get_order(submit.client_order_id)
    assert result.ok, result
    assert result.attempts >= 2
    assert snapshot.status is OrderStatus.CANCELLED  # not left working after "cancel rejected"


async def test_a_cancel_for_an_order_the_venue_never_got_is_rejected_once() -> None:
    async with make_venue() as venue, RateLimitedOrderQueue(venue) as queue:
        result = await queue.cancel("NeverSent1")
    assert result.status is OrderResultStatus.REJECTED
    assert result.attempts == 1


async def test_requests_waiting_for_room_resolve_cancelled_when_the_queue_closes() -> None:
    async with make_venue() as venue:
        async with RateLimitedOrderQueue(venue, limits=[RateLimit(1, 60.0)], max_queued=2) as queue:
            handles = [queue.submit(resting_order()) for _ in range(5)]
            await anyio.sleep(1)
            assert queue.statistics().waiting_for_room == 2
        statuses = [handle.result().status for handle in handles]
    assert statuses == [OrderResultStatus.ACCEPTED] + [OrderResultStatus.CANCELLED] * 4
    assert queue.statistics().queued == queue.statistics().waiting_for_room == 0
