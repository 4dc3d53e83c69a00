"""Orders: every number kind kept as a Decimal, a limit price only on a limit order, venue-sized ids.

Bad numbers and unknown enums are tried in ``tests/promises/test_clear_errors.py``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import InvalidInputError, Order, OrderSide, OrderType, TimeInForce


@given(st.floats(min_value=1e-6, max_value=1e9, allow_nan=False))
def test_float_quantity_goes_through_str(value: float) -> None:
    order = Order(symbol="AAPL", side="buy", quantity=value)
    assert order.quantity == Decimal(str(value))


def test_limit_order_needs_a_price_and_market_order_refuses_one() -> None:
    with pytest.raises(InvalidInputError, match="limit_price"):
        Order(symbol="X", side=OrderSide.BUY, quantity=1, order_type=OrderType.LIMIT)
    with pytest.raises(InvalidInputError, match="limit_price"):
        Order(symbol="X", side=OrderSide.BUY, quantity=1, limit_price=10)


def test_order_accepts_every_number_kind_and_keeps_decimal() -> None:
    for value in (3, "3", Decimal(3), 3.0):
        assert Order(symbol="A", side=OrderSide.BUY, quantity=value).quantity == Decimal(3)
    order = Order(symbol="A", side="SELL", quantity="1.5", order_type="limit", limit_price=0.1,
                  time_in_force="ioc")
    assert order.side is OrderSide.SELL
    assert order.limit_price == Decimal("0.1")
    assert order.time_in_force is TimeInForce.IOC


def test_orders_get_distinct_client_order_ids_that_fit_venues() -> None:
    ids = {Order(symbol="A", side="buy", quantity=1).client_order_id for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) <= 32 for i in ids)


@given(
    quantity=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**9), places=3),
    price=st.none() | st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**6), places=2),
    side=st.sampled_from(list(OrderSide)),
    parent_id=st.none() | st.just("P1"),
)
def test_an_order_made_from_checked_values_equals_the_order_made_with_every_check(
    quantity: Decimal, price: Decimal | None, side: OrderSide, parent_id: str | None
) -> None:
    kind = OrderType.MARKET if price is None else OrderType.LIMIT
    checked = Order(
        symbol="AAPL",
        side=side,
        quantity=quantity,
        order_type=kind,
        limit_price=price,
        client_order_id="C-1",
        parent_id=parent_id,
    )
    made = Order._checked("AAPL", side, quantity, price, "C-1", parent_id)
    assert made == checked
    assert repr(made) == repr(checked)
    assert hash(made) == hash(checked)
