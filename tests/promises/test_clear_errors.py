"""Promise 5: bad input gets a clear error that names the field and the value, and changes nothing.

Tried on the planner (prices, weights, positions, cash and settings; its inputs are left as they
were) and on orders (non-finite and non-numeric quantities and prices, unknown sides, order types
and times in force, malformed symbols and client order ids). Each public module's own tests also
refuse its bad settings by name.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import FeeModel, Instrument, InvalidInputError, Order, OrderSide, RebalancingPlanner

# -- the planner -----------------------------------------------------------------------------------


def plan(planner: RebalancingPlanner | None = None, **changes: Any) -> Any:
    arguments: dict[str, Any] = {
        "current_positions": {"AAPL": 100, "MSFT": 50},
        "target_weights": {"AAPL": 0.4, "MSFT": 0.3, "GOOGL": 0.3},
        "portfolio_value": 100000,
        "prices": {"AAPL": 150, "MSFT": 300, "GOOGL": 140},
    }
    arguments.update(changes)
    return (planner or RebalancingPlanner()).create_plan(**arguments)


def test_every_bad_price_is_listed_in_one_error() -> None:
    prices = {"AAPL": 0, "MSFT": float("nan"), "XOM": 5}  # GOOGL missing, AAPL zero, MSFT NaN
    with pytest.raises(InvalidInputError) as caught:
        plan(prices=prices)
    error = caught.value
    assert error.field == "prices"
    assert set(error.value) == {"AAPL", "MSFT", "GOOGL"}
    message = str(error)
    for fragment in ("AAPL=0", "MSFT=nan", "GOOGL=missing", "3 symbol(s)"):
        assert fragment in message


def test_negative_and_non_numeric_prices_are_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"AAPL=-1.*GOOGL='abc'") as caught:
        plan(prices={"AAPL": -1, "MSFT": 300, "GOOGL": "abc"})
    assert caught.value.field == "prices"


def test_weights_above_one_need_leverage() -> None:
    with pytest.raises(InvalidInputError, match=r"add up to 1\.2") as caught:
        plan(target_weights={"AAPL": 0.6, "MSFT": 0.6})
    assert caught.value.field == "target_weights"
    levered = plan(RebalancingPlanner(max_leverage=2), target_weights={"AAPL": 0.6, "MSFT": 0.6})
    assert levered.cash_after < 0


def test_negative_weights_and_positions_need_shorting() -> None:
    with pytest.raises(InvalidInputError) as weight:
        plan(target_weights={"AAPL": -0.1, "MSFT": 0.3})
    assert weight.value.field == "target_weights['AAPL']"
    with pytest.raises(InvalidInputError) as position:
        plan(current_positions={"AAPL": -5})
    assert position.value.field == "current_positions['AAPL']"
    assert position.value.value == -5


def test_rules_for_unknown_symbols_are_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        plan(instruments=[Instrument("TSLA"), Instrument("AAPL")])
    assert caught.value.field == "instruments"
    assert caught.value.value == ["TSLA"]


def test_rules_keyed_under_another_symbol_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="AAPL"):
        plan(instruments={"AAPL": Instrument("MSFT")})


def test_cash_must_agree_with_portfolio_value() -> None:
    with pytest.raises(InvalidInputError, match="do not match") as caught:
        plan(cash=50000)
    assert caught.value.field == "cash"
    assert plan(cash=70000).cash_before == 70000  # consistent: accepted
    assert plan(cash="69999.995").cash_before == Decimal("69999.995")  # within a cent: accepted


def test_portfolio_value_below_the_positions_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="negative cash") as caught:
        plan(portfolio_value=20000)
    assert caught.value.field == "portfolio_value"


def test_neither_portfolio_value_nor_cash_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        plan(portfolio_value=None)
    assert caught.value.field == "portfolio_value"


def test_cash_weight_must_complete_the_weights_to_one() -> None:
    with pytest.raises(InvalidInputError, match="add up to 1") as caught:
        plan(target_weights={"AAPL": 0.5}, cash_weight=0.3)
    assert caught.value.field == "cash_weight"
    kept = plan(target_weights={"AAPL": 0.5}, cash_weight=0.5)
    assert kept.target_cash_weight == Decimal("0.5")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("current_positions", {"AAPL": True}),
        ("current_positions", {"": 5}),
        ("current_positions", [("AAPL", 5)]),
        ("target_weights", {"AAPL": float("inf")}),
        ("portfolio_value", 0),
        ("portfolio_value", "lots"),
    ],
)
def test_malformed_values_name_their_field(field: str, value: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        plan(**{field: value})
    assert caught.value.field.startswith(field)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("mode", "sideways"),
        ("untargeted", "keep"),
        ("rounding", "fancy"),
        ("slippage_bps", -1),
        ("cash_reserve", float("nan")),
        ("absolute_band", -0.1),
        ("turnover_cap", -1),
        ("max_leverage", "0.5"),
        ("fees", 0.001),
        ("allow_short", "yes"),
        ("exact_time_limit", 0),
    ],
)
def test_bad_settings_are_refused_when_the_planner_is_made(setting: str, value: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        RebalancingPlanner(**{setting: value})
    assert caught.value.field == setting


def test_fee_model_refuses_negative_parts() -> None:
    with pytest.raises(InvalidInputError) as caught:
        FeeModel(bps=-1)
    assert caught.value.field == "bps"


def test_inputs_are_not_changed_by_planning() -> None:
    positions = {"AAPL": 100, "MSFT": 50}
    weights = {"AAPL": 0.4, "MSFT": 0.3, "GOOGL": 0.3}
    plan(current_positions=positions, target_weights=weights)
    assert positions == {"AAPL": 100, "MSFT": 50}
    assert weights == {"AAPL": 0.4, "MSFT": 0.3, "GOOGL": 0.3}


# -- orders ----------------------------------------------------------------------------------------


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
