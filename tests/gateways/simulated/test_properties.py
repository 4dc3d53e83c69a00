"""Fill-price promises hold on any seeded path: takers never beat the touch, makers never their limit."""

from __future__ import annotations

from decimal import Decimal

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import OrderSide, OrderStatus, run_virtual
from tests.gateways.simulated.venues import limit, market, quiet_venue, still_symbol

WILD = still_symbol(volatility=0.5, displayed_size=200, impact_bps=3, volume_per_second=500)


async def _take(seed: int, steps: int, side: str, quantity: int) -> None:
    async with quiet_venue(WILD, seed=seed) as venue:
        # Between price steps (every whole second), so the quote read here is the one the order meets.
        await anyio.sleep(steps + 0.5)
        quote = venue.quote_nowait("AAPL")
        order = market("AAPL", side, quantity)
        await venue.submit_order(order)  # no latency: it arrives at this quote
        snapshot = await venue.get_order(order.client_order_id)
    touch = quote.ask if order.side is OrderSide.BUY else quote.bid
    prices = [fill.price for fill in snapshot.fills]
    assert prices[0] == touch
    if order.side is OrderSide.BUY:
        assert all(price >= quote.ask for price in prices)
    else:
        assert all(price <= quote.bid for price in prices)
    assert sum((fill.quantity for fill in snapshot.fills), Decimal(0)) == snapshot.filled_quantity


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 10_000), st.integers(0, 300), st.sampled_from(["buy", "sell"]), st.integers(1, 1500)
)
def test_a_market_order_never_pays_better_than_the_touch(
    seed: int, steps: int, side: str, quantity: int
) -> None:
    run_virtual(_take, seed, steps, side, quantity)


async def _rest(seed: int, side: str, offset_ticks: int) -> None:
    async with quiet_venue(WILD, seed=seed) as venue:
        quote = venue.quote_nowait("AAPL")
        sign = 1 if side == "buy" else -1
        price = (quote.bid if side == "buy" else quote.ask) - sign * offset_ticks * Decimal("0.01")
        order = limit("AAPL", side, 300, price)
        await venue.submit_order(order)
        await anyio.sleep(300)
        snapshot = await venue.get_order(order.client_order_id)
    assert snapshot.status in {OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED}
    for fill in snapshot.fills:
        assert fill.is_maker
        assert fill.price == price  # a buy never above its limit, a sell never below
    assert snapshot.filled_quantity == sum((fill.quantity for fill in snapshot.fills), Decimal(0))


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["buy", "sell"]), st.integers(0, 30))
def test_a_resting_limit_fills_only_at_its_price_as_maker(seed: int, side: str, offset_ticks: int) -> None:
    run_virtual(_rest, seed, side, offset_ticks)
