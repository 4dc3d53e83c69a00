"""Each fault injector does what it says, is counted, and with probability 0 never fires."""

from __future__ import annotations

import anyio
import pytest

from engine import OrderStateUnknownError, OrderStatus, now
from gateways.simulated import FaultPlan
from tests.gateways.venues import limit, market, quiet_venue


async def test_a_dropped_ack_times_out_as_state_unknown_and_the_order_lives() -> None:
    async with quiet_venue(faults=FaultPlan(drop_ack=1.0), request_timeout=3.0) as venue:
        order = market("AAPL", "buy", 10)
        sent = now()
        with pytest.raises(OrderStateUnknownError) as caught:
            await venue.submit_order(order)
        assert now() - sent == pytest.approx(3.0)
        assert caught.value.client_order_id == order.client_order_id
        snapshot = await venue.get_order(order.client_order_id)
        assert snapshot.status is OrderStatus.FILLED
        assert venue.positions == {"AAPL": 10}
        assert venue.statistics().faults_injected["drop_ack"] == 1


async def test_with_every_probability_zero_no_fault_ever_fires() -> None:
    async with quiet_venue(faults=FaultPlan()) as venue:
        for index in range(50):
            await venue.submit_order(limit("AAPL", "buy" if index % 2 else "sell", 1, "150.00"))
        await anyio.sleep(30)
    assert set(venue.statistics().faults_injected.values()) == {0}
