"""A parent with a ``limit_price`` never trades beyond it: a "market" slice is a marketable limit
order (IOC) at the limit, and so is every deadline-completion order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import Order, OrderAck, OrderFilled, OrderSide, OrderType, TimeInForce, TWAPExecutor
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec


def thin_venue() -> SimulatedVenue:
    # A still price and 200 shares a level: 1,500 shares at market walk several levels.
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0, displayed_size=200, volume_per_second=100)
    return SimulatedVenue(
        [spec], seed=4, latency=LatencyModel.zero(), cash=10_000_000, positions={"AAPL": 100_000}
    )


def fill_prices(venue: SimulatedVenue) -> list[Decimal]:
    return [event.price for event in venue.event_log if isinstance(event, OrderFilled)]


@pytest.mark.parametrize("complete_at_deadline", [True, False])
async def test_market_slices_of_a_buy_never_fill_above_its_limit(complete_at_deadline: bool) -> None:
    venue = thin_venue()
    async with venue:
        limit = venue.quote_nowait("AAPL").ask
        executor = TWAPExecutor(
            venue, num_slices=2, interval_seconds=10, complete_at_deadline=complete_at_deadline
        )
        report = await executor.execute("AAPL", 3000, OrderSide.BUY, limit_price=limit)
    prices = fill_prices(venue)
    assert prices, "something filled at the limit"
    assert max(prices) <= limit
    assert report.filled_quantity == sum(
        (e.quantity for e in venue.event_log if isinstance(e, OrderFilled)), Decimal(0)
    )


@pytest.mark.parametrize("complete_at_deadline", [True, False])
async def test_market_slices_of_a_sell_never_fill_below_its_limit(complete_at_deadline: bool) -> None:
    venue = thin_venue()
    async with venue:
        limit = venue.quote_nowait("AAPL").bid
        executor = TWAPExecutor(
            venue, num_slices=2, interval_seconds=10, complete_at_deadline=complete_at_deadline
        )
        await executor.execute("AAPL", 3000, OrderSide.SELL, limit_price=limit)
    prices = fill_prices(venue)
    assert prices
    assert min(prices) >= limit


class RecordingVenue(SimulatedVenue):
    """The simulated venue, keeping every order it is sent."""

    sent: list[Order]

    async def submit_order(self, order: Order) -> OrderAck:
        self.sent.append(order)
        return await super().submit_order(order)


async def test_a_market_slice_with_a_limit_goes_out_as_an_immediate_or_cancel_limit_order() -> None:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0, displayed_size=200, volume_per_second=100)
    venue = RecordingVenue([spec], seed=4, latency=LatencyModel.zero(), cash=10_000_000)
    venue.sent = []
    async with venue:
        limit = venue.quote_nowait("AAPL").ask
        await TWAPExecutor(venue, num_slices=2, interval_seconds=10).execute(
            "AAPL", 3000, OrderSide.BUY, limit_price=limit
        )
    assert venue.sent
    for order in venue.sent:
        assert order.order_type is OrderType.LIMIT
        assert order.limit_price is not None
        assert order.limit_price <= limit
        assert order.time_in_force is TimeInForce.IOC
