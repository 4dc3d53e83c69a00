"""Execution events: those built from a venue's checked values equal those built by keyword."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import OrderSide
from engine.events import OrderAccepted, OrderFilled


@given(
    quantity=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**9), places=3),
    price=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**6), places=2),
    side=st.sampled_from(list(OrderSide)),
    maker=st.booleans(),
)
def test_events_made_from_a_venue_s_values_equal_the_events_made_by_keyword(
    quantity: Decimal, price: Decimal, side: OrderSide, maker: bool
) -> None:
    accepted = OrderAccepted(
        client_order_id="C-1", symbol="AAPL", timestamp=2.5, sequence=7, venue_order_id="V1"
    )
    filled = OrderFilled(
        client_order_id="C-1", symbol="AAPL", timestamp=3.5, sequence=8, trade_id="T1", side=side,
        quantity=quantity, price=price, fee=Decimal("0.1"), is_maker=maker,
    )
    made_accepted = OrderAccepted._checked("C-1", "AAPL", 2.5, 7, "V1")
    made_filled = OrderFilled._checked(
        "C-1", "AAPL", 3.5, 8, "T1", side, quantity, price, Decimal("0.1"), maker
    )
    for made, keyword in ((made_accepted, accepted), (made_filled, filled)):
        assert made == keyword
        assert repr(made) == repr(keyword)
        assert hash(made) == hash(keyword)
        assert attrs.asdict(made) == attrs.asdict(keyword)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            made.sequence = 9  # type: ignore[misc]  # the test: frozen like any other
