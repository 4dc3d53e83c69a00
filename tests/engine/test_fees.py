"""The fee model: basis points, per share, and a minimum per order."""

from __future__ import annotations

from decimal import Decimal

from engine import FeeModel


def test_free_trading_costs_nothing() -> None:
    assert FeeModel().is_free
    assert FeeModel().estimate(Decimal(100), Decimal(50)) == 0


def test_fee_adds_basis_points_and_per_share_and_respects_the_minimum() -> None:
    model = FeeModel(bps=10, per_share="0.005", minimum=1)
    assert not model.is_free
    # 100 × 50 = 5,000 notional: 10 bps is 5.00, plus 100 × 0.005 = 0.50.
    assert model.estimate(Decimal(100), Decimal(50)) == Decimal("5.5")
    assert model.estimate(Decimal(1), Decimal(50)) == Decimal(1)  # 0.055 is below the minimum
    assert model.estimate(Decimal(-100), Decimal(50)) == Decimal("5.5")  # a sell pays the same


def test_no_order_no_fee_even_with_a_minimum() -> None:
    assert FeeModel(minimum=1).estimate(Decimal(0), Decimal(50)) == 0


def test_float_estimate_agrees_with_the_decimal_one() -> None:
    model = FeeModel(bps="2.5", per_share="0.01", minimum="0.35")
    for quantity, price in ((3, 17.5), (1000, 12.25), (1, 1.0)):
        exact = model.estimate(Decimal(quantity), Decimal(str(price)))
        assert abs(model.estimate_float(quantity, price) - float(exact)) < 1e-9
