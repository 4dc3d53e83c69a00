"""Instruments: a venue's lot, tick and minimums, checked and rounded to, naming the field refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import Instrument, InvalidInputError, Order, OrderSide


@given(st.integers(min_value=1, max_value=10_000), st.integers(min_value=1, max_value=7))
def test_instrument_refuses_fractional_lots_and_off_tick_prices(ticks: int, extra: int) -> None:
    instrument = Instrument("AAPL", tick_size="0.05", lot_size=10)
    good = Order(symbol="AAPL", side="buy", quantity=10 * ticks, order_type="limit",
                 limit_price=Decimal("0.05") * ticks)
    instrument.check_order(good)
    with pytest.raises(InvalidInputError) as info:
        instrument.check_order(Order(symbol="AAPL", side="buy", quantity=10 * ticks + extra))
    assert info.value.field == "quantity"
    off_tick = Order(symbol="AAPL", side="buy", quantity=10, order_type="limit",
                     limit_price=Decimal("0.05") * ticks + Decimal("0.01"))
    with pytest.raises(InvalidInputError) as info:
        instrument.check_order(off_tick)
    assert info.value.field == "limit_price"


def test_instrument_minimums_and_rounding() -> None:
    instrument = Instrument("X", tick_size="0.01", lot_size="0.5", min_quantity=1, min_notional=100)
    assert instrument.round_quantity(Decimal("7.9")) == Decimal("7.5")
    assert instrument.round_price(Decimal("10.005"), OrderSide.BUY) == Decimal("10.00")
    assert instrument.round_price(Decimal("10.001"), OrderSide.SELL) == Decimal("10.01")
    with pytest.raises(InvalidInputError, match="minimum quantity"):
        instrument.check_quantity(Decimal("0.5"))
    with pytest.raises(InvalidInputError, match="notional"):
        instrument.check_notional(Decimal(2), Decimal(10))
    for field, value in [("tick_size", 0), ("lot_size", -1), ("min_notional", "nan")]:
        kwargs: dict[str, Any] = {field: value}
        with pytest.raises(InvalidInputError) as info:
            Instrument("X", **kwargs)
        assert info.value.field == field


def test_an_instrument_refuses_a_long_quantity_off_the_lot_grid_with_a_named_error() -> None:
    instrument = Instrument(symbol="AAPL", lot_size=10)
    instrument.check_quantity(Decimal("1e30"))  # on the grid: no error
    with pytest.raises(InvalidInputError) as caught:
        instrument.check_quantity(Decimal("1000000000000000000000000000005"))
    assert caught.value.field == "quantity"
