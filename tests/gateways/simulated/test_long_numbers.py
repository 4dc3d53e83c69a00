"""An order whose numbers are longer than Decimal's working precision never breaks the venue.

Checking such a number against the lot and tick grids must give an answer, not a bare
``decimal.InvalidOperation``: with latency that error would escape the venue's request task and end
the whole venue; without it, the caller would get the decimal error, and the request would be
counted but missing from the request log.
"""

from __future__ import annotations

import contextlib

import anyio
import pytest

from engine import GatewayError, Order, OrderSide, OrderType
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec


@pytest.mark.parametrize("latency", [LatencyModel.zero(), LatencyModel()])
@pytest.mark.parametrize(("quantity", "limit_price"), [("1e30", None), ("1", "1e26")])
async def test_an_order_with_very_long_numbers_is_answered_and_logged_and_the_venue_runs_on(
    latency: LatencyModel, quantity: str, limit_price: str | None
) -> None:
    venue = SimulatedVenue([SymbolSpec(symbol="AAPL", price=150)], seed=1, latency=latency, cash=1000)
    order_type = OrderType.LIMIT if limit_price else OrderType.MARKET
    huge = Order(
        symbol="AAPL", side=OrderSide.BUY, quantity=quantity, order_type=order_type, limit_price=limit_price
    )
    async with venue:
        with contextlib.suppress(GatewayError):  # a clean refusal is an answer too
            await venue.submit_order(huge)
        await anyio.sleep(1.0)
        ack = await venue.submit_order(Order(symbol="AAPL", side=OrderSide.BUY, quantity=1))
        assert ack.client_order_id != huge.client_order_id
        statistics = venue.statistics()
        log = venue.request_log
    assert statistics.requests == len(log) == 2
    assert log[0].client_order_id == huge.client_order_id
