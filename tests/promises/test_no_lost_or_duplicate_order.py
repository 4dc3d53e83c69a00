"""Promise 3: no lost order, no duplicate order, whatever acks and requests are lost.

Every submit and send resolves to an ``OrderResult``, also on shutdown, and no client order id
reaches the venue twice.

The engine's own runs under faults are tried in ``test_no_overfill`` and ``test_quantity_conserved``
(every child's fills, counted once at the venue).
"""

from __future__ import annotations

from collections import Counter

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Order, OrderResultStatus, OrderStateUnknownError, QueueClosedError, RateLimitedOrderQueue
from engine.clock import run_virtual
from engine.rate_limits import max_window_count
from gateways.simulated import FaultPlan, LatencyModel, RequestOutcome, SimulatedVenue
from tests.engine.queue_venues import make_venue, resting_order, submits_at_venue


async def test_every_handle_resolves_when_the_queue_closes_with_work_pending() -> None:
    async with make_venue() as venue:
        queue = RateLimitedOrderQueue(venue, max_orders_per_minute=10)
        async with queue:
            handles = [queue.submit(resting_order()) for _ in range(100)]
            await anyio.sleep(30)
        assert all(handle.done() for handle in handles)
        statuses = Counter(handle.result().status for handle in handles)
        assert statuses == {OrderResultStatus.ACCEPTED: 10, OrderResultStatus.CANCELLED: 90}
        assert all(handle.result().sent_at is None for handle in handles[10:])
        with pytest.raises(QueueClosedError):
            queue.submit(resting_order())
    assert sum(submits_at_venue(venue).values()) == 10


async def test_in_flight_orders_are_awaited_on_close_and_unknown_ones_are_never_called_cancelled() -> None:
    slow = LatencyModel(request=1.0, request_jitter=0.0, event=0, event_jitter=0)
    async with (
        make_venue(latency=slow, faults=FaultPlan(drop_ack=1.0), request_timeout=20.0) as venue,
        RateLimitedOrderQueue(venue, shutdown_timeout=2.0) as queue,
    ):
        handles = [queue.submit(resting_order()) for _ in range(5)]
        await anyio.sleep(0.5)
    results = [handle.result() for handle in handles]
    assert venue.statistics().orders == 5  # they did reach the venue: "cancelled" would be a lie
    assert {result.status for result in results} == {OrderResultStatus.FAILED}
    assert all(isinstance(result.error, OrderStateUnknownError) for result in results)


async def test_dropped_acks_and_timeouts_never_send_a_client_order_id_twice() -> None:
    faults = FaultPlan(drop_ack=0.3, unavailable=0.1, reject=0.05)
    async with (
        make_venue(faults=faults, request_timeout=1.0, seed=11) as venue,
        RateLimitedOrderQueue(venue, max_orders_per_minute=600, seed=3) as queue,
    ):
        handles = [queue.submit(resting_order()) for _ in range(600)]
        results = [await handle for handle in handles]
        statistics = queue.statistics()
    arrived = submits_at_venue(venue)
    assert max(arrived.values()) == 1
    assert venue.statistics().faults_injected["drop_ack"] > 50
    assert statistics.lookups >= venue.statistics().faults_injected["drop_ack"]
    by_id = {request.client_order_id: request for request in venue.request_log if request.kind == "submit"}
    for result in results:
        assert result.status in (
            OrderResultStatus.ACCEPTED,
            OrderResultStatus.REJECTED,
            OrderResultStatus.FAILED,
        )
        if result.ok:
            assert result.venue_order_id is not None
            assert by_id[result.client_order_id].outcome in (RequestOutcome.OK, RequestOutcome.ACK_DROPPED)
    assert Counter(result.status for result in results)[OrderResultStatus.ACCEPTED] > 500


def submit_ids_at_venue(venue: SimulatedVenue) -> list[str]:
    """The client order id of every submit that reached the venue, in arrival order."""
    return [
        r.client_order_id or ""
        for r in venue.request_log
        if r.kind == "submit" and r.outcome is not RequestOutcome.RATE_LIMITED
    ]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    drop_ack=st.sampled_from([0.0, 0.2]),
    unavailable=st.sampled_from([0.0, 0.1]),
    senders=st.integers(1, 40),
    submitters=st.integers(0, 40),
    cancel_after=st.sampled_from([None, 0.5, 3.0]),
)
def test_sends_and_submits_mixed_under_faults_reach_the_venue_at_most_once_within_the_limit(
    seed: int, drop_ack: float, unavailable: float, senders: int, submitters: int, cancel_after: float | None
) -> None:
    faults = FaultPlan(drop_ack=drop_ack, unavailable=unavailable)

    async def scenario() -> tuple[list[str], list[float], dict[str, OrderResultStatus], int]:
        results: dict[str, OrderResultStatus] = {}
        async with (
            make_venue(seed=seed, faults=faults, request_timeout=1.0) as venue,
            RateLimitedOrderQueue(venue, max_orders_per_minute=30, seed=seed) as queue,
        ):

            async def one_send(order: Order) -> None:
                if cancel_after is None:
                    results[order.client_order_id] = (await queue.send(order)).status
                    return
                with anyio.move_on_after(cancel_after):
                    results[order.client_order_id] = (await queue.send(order)).status

            async with anyio.create_task_group() as group:
                handles = [queue.submit(resting_order()) for _ in range(submitters)]
                for _ in range(senders):
                    group.start_soon(one_send, resting_order())
            for handle in handles:
                results[handle.client_order_id] = (await handle).status
            await anyio.sleep(30)  # whatever was cut off settles
            statistics = queue.statistics()
            open_requests = statistics.in_flight + statistics.queued + statistics.delayed
        times = [r.timestamp for r in venue.request_log if r.kind == "submit"]
        return submit_ids_at_venue(venue), times, results, open_requests

    arrived, times, results, open_requests = run_virtual(scenario)
    assert len(arrived) == len(set(arrived))  # never twice at the venue
    assert max_window_count(times, 60.0) <= 30
    assert open_requests == 0
    for client_order_id, status in results.items():
        if status is OrderResultStatus.CANCELLED:
            assert client_order_id not in arrived
