"""Venues and small helpers shared by the order queue's tests and the promises they keep."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from engine import Order
from gateways.simulated import (
    FaultPlan,
    LatencyModel,
    RequestOutcome,
    SimulatedVenue,
    SymbolSpec,
    VenueRateLimit,
)

LATENCY = LatencyModel(request=0.02, request_jitter=0.01, event=0.005, event_jitter=0.002)


def make_venue(
    *,
    limits: Sequence[VenueRateLimit] = (),
    latency: LatencyModel = LATENCY,
    faults: FaultPlan | None = None,
    request_timeout: float = 5.0,
    seed: int = 7,
    step: float = 1.0,
) -> SimulatedVenue:
    return SimulatedVenue(
        [SymbolSpec(symbol="AAPL", price=150, volatility=0)],
        seed=seed,
        latency=latency,
        rate_limits=limits,
        faults=faults,
        cash=10**9,
        request_timeout=request_timeout,
        step=step,
    )


def resting_order(**overrides: Any) -> Order:
    """A buy far below the market: it rests, so nothing fills and the test stays about sending."""
    options: dict[str, Any] = {"order_type": "limit", "limit_price": 100, "time_in_force": "ioc", **overrides}
    return Order("AAPL", "buy", 1, **options)


def submits_at_venue(venue: SimulatedVenue) -> Counter[str]:
    """How often each client order id reached the venue as a submit (refusals for load excluded)."""
    return Counter(
        request.client_order_id
        for request in venue.request_log
        if request.kind == "submit"
        and request.client_order_id
        and request.outcome is not RequestOutcome.RATE_LIMITED
    )


def arrival_times(venue: SimulatedVenue, index: int = 0) -> tuple[list[float], list[int]]:
    counted = [request for request in venue.request_log if request.outcome.counted]
    return [request.timestamp for request in counted], [request.weights[index] for request in counted]
