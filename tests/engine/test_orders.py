"""Value types refuse bad numbers at construction, naming the field and the value."""

from __future__ import annotations

import math
import sys
import threading
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import (
    ClientOrderIdGenerator,
    Instrument,
    InvalidInputError,
    Order,
    OrderSide,
    OrderType,
    Quote,
    TimeInForce,
)
from engine.events import OrderAccepted, OrderFilled

BAD_NUMBERS: list[Any] = [
    float("nan"), float("inf"), -float("inf"), "nan", "Infinity", Decimal("NaN"), "abc", True, None,
]


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_order_quantity_refuses_non_finite_and_non_numbers(value: Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        Order(symbol="AAPL", side=OrderSide.BUY, quantity=value)
    assert info.value.field == "quantity"
    assert "quantity=" in str(info.value)


@given(st.one_of(st.integers(max_value=0), st.decimals(max_value=0, allow_nan=False, allow_infinity=False)))
def test_order_quantity_refuses_zero_and_negatives(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="quantity"):
        Order(symbol="AAPL", side=OrderSide.BUY, quantity=value)


@given(st.floats(min_value=1e-6, max_value=1e9, allow_nan=False))
def test_float_quantity_goes_through_str(value: float) -> None:
    order = Order(symbol="AAPL", side="buy", quantity=value)
    assert order.quantity == Decimal(str(value))


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers()))
def test_limit_price_is_positive_and_finite_or_refused(value: Any) -> None:
    ok = not (isinstance(value, float) and not math.isfinite(value)) and value > 0
    if ok:
        order = Order(symbol="X", side=OrderSide.SELL, quantity=1, order_type="limit", limit_price=value)
        assert order.limit_price == Decimal(str(value))
    else:
        with pytest.raises(InvalidInputError) as info:
            Order(symbol="X", side=OrderSide.SELL, quantity=1, order_type="limit", limit_price=value)
        assert info.value.field == "limit_price"


def test_limit_order_needs_a_price_and_market_order_refuses_one() -> None:
    with pytest.raises(InvalidInputError, match="limit_price"):
        Order(symbol="X", side=OrderSide.BUY, quantity=1, order_type=OrderType.LIMIT)
    with pytest.raises(InvalidInputError, match="limit_price"):
        Order(symbol="X", side=OrderSide.BUY, quantity=1, limit_price=10)


@pytest.mark.parametrize(("field", "value"), [("side", "hold"), ("order_type", "stop"),
                                              ("time_in_force", "day"), ("symbol", ""),
                                              ("symbol", " AAPL"), ("client_order_id", "x" * 33),
                                              ("client_order_id", "has space")])
def test_unknown_enums_and_bad_strings_are_refused(field: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"symbol": "AAPL", "side": "buy", "quantity": 1, field: value}
    with pytest.raises(InvalidInputError) as info:
        Order(**kwargs)
    assert info.value.field == field
    assert info.value.value == value


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


def test_seeded_id_generators_repeat_and_unseeded_differ() -> None:
    a, b = ClientOrderIdGenerator("bt", seed=7), ClientOrderIdGenerator("bt", seed=7)
    assert [a() for _ in range(5)] == [b() for _ in range(5)]
    assert ClientOrderIdGenerator().next_id() != ClientOrderIdGenerator().next_id()
    with pytest.raises(InvalidInputError, match="prefix"):
        ClientOrderIdGenerator("far-too-long-prefix")


def _from_base62(digits: str) -> int:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    number = 0
    for digit in digits:
        number = number * 62 + alphabet.index(digit)
    return number


def test_id_counter_reads_back_as_consecutive_numbers_past_each_digit_boundary() -> None:
    generator = ClientOrderIdGenerator("p", seed=1)
    prefix = generator.next_id()[:-1]  # "p", the 12-character token, then the counter: 1
    numbers = [_from_base62(generator.next_id()[len(prefix):]) for _ in range(62 * 62 * 62 + 100)]
    assert numbers == list(range(2, 62 * 62 * 62 + 102))


def test_threads_sharing_an_id_generator_each_get_their_own_numbers_across_digit_boundaries() -> None:
    generator = ClientOrderIdGenerator(seed=2)
    prefix = generator.next_id()[:-1]  # the token, then the counter: 1
    per_thread = 5_000  # 4 threads x 5,000 ids cross five 3,844-id blocks of the counter's last digits
    results: list[list[str]] = []

    def draw() -> None:
        results.append([generator.next_id() for _ in range(per_thread)])

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as the interpreter allows
    try:
        threads = [threading.Thread(target=draw) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    numbers = sorted(_from_base62(i[len(prefix):]) for ids in results for i in ids)
    assert numbers == list(range(2, 4 * per_thread + 2)), "every number once, none wrong or lost"


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


def test_quote_refuses_crossed_and_bad_prices() -> None:
    quote = Quote("X", bid=99, ask="101")
    assert quote.mid == 100
    assert quote.spread == 2
    with pytest.raises(InvalidInputError, match="bid"):
        Quote("X", bid=102, ask=101)
    with pytest.raises(InvalidInputError, match="ask"):
        Quote("X", bid=1, ask=float("nan"))


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
