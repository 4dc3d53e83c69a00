"""The venue holds every order, fill and request for its whole life, so it holds each value once.

Sharing must never change what is written: equal values of another form (10 and 1E+1, 10 and
10.0) keep their own form in events, snapshots and fees.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import OrderFilled, OrderStatus, RateLimitedError
from gateways.simulated import FeeSchedule, VenueRateLimit
from gateways.simulated.limits import RequestOutcome
from tests.gateways.simulated.venues import market, quiet_venue, still_symbol


async def test_an_order_filled_once_shares_its_quantity_with_the_fill_and_the_snapshot() -> None:
    async with quiet_venue() as venue:
        order = market("AAPL", "buy", Decimal("25"))
        await venue.submit_order(order)
        snapshot = await venue.get_order(order.client_order_id)
    (fill,) = snapshot.fills
    assert snapshot.status is OrderStatus.FILLED
    assert fill.quantity is order.quantity
    assert snapshot.filled_quantity is order.quantity
    assert [event for event in venue.event_log if isinstance(event, OrderFilled)] == [fill]


async def test_a_quantity_with_a_positive_exponent_fills_in_the_form_a_running_sum_writes() -> None:
    async with quiet_venue() as venue:
        order = market("AAPL", "buy", Decimal("1E+1"))
        await venue.submit_order(order)
        snapshot = await venue.get_order(order.client_order_id)
    (fill,) = snapshot.fills
    # The remaining quantity is the quantity minus a zero fill: 10, not 1E+1.
    assert str(fill.quantity) == "10"
    assert str(snapshot.filled_quantity) == "10"
    assert snapshot.remaining_quantity == 0


async def test_equal_fills_share_one_fee_but_another_form_keeps_its_own() -> None:
    async with quiet_venue(still_symbol(displayed_size=10_000)) as venue:
        for quantity in ("10", "10", "10.00000"):
            await venue.submit_order(market("AAPL", "buy", Decimal(quantity)))
    fills = [event for event in venue.event_log if isinstance(event, OrderFilled)]
    fees = [fill.fee for fill in fills]
    assert fees[0] is fees[1]
    assert fees[0] == fees[2]
    assert str(fees[2]) != str(fees[0])  # 10.00000 × price keeps its places in the fee
    for fill in fills:
        assert str(fill.fee) == str(FeeSchedule().fee(fill.quantity * fill.price, is_maker=False))


async def test_the_request_log_is_rebuilt_with_weights_and_outcomes_as_they_happened() -> None:
    limit = VenueRateLimit(limit=2, period=60.0, weights={"submit": 1, "get_order": 1})
    async with quiet_venue(rate_limits=[limit]) as venue:
        first = market("AAPL", "buy", 5)
        await venue.submit_order(first)
        await venue.get_order(first.client_order_id)
        with pytest.raises(RateLimitedError):
            await venue.submit_order(market("AAPL", "buy", 5))
    log = venue.request_log
    assert [(r.kind, r.weight, r.weights, r.outcome) for r in log] == [
        ("submit", 1, (1,), RequestOutcome.OK),
        ("get_order", 1, (1,), RequestOutcome.OK),
        ("submit", 1, (1,), RequestOutcome.RATE_LIMITED),
    ]
    assert log[0].client_order_id == first.client_order_id
    assert log[0].timestamp <= log[1].timestamp <= log[2].timestamp
    assert venue.request_log == log  # built afresh on every access, always equal
