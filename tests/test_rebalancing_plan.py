from __future__ import annotations

from decimal import Decimal

from engine import OrderSide, RebalancingPlanner


def test_three_stock_example_buys_all_three_within_the_implied_cash() -> None:
    plan = RebalancingPlanner().create_plan(
        current_positions={"AAPL": 100, "MSFT": 50},
        target_weights={"AAPL": 0.4, "MSFT": 0.3, "GOOGL": 0.3},
        portfolio_value=100000,
        prices={"AAPL": 150, "MSFT": 300, "GOOGL": 140},
    )
    assert {t.symbol: t.side for t in plan.trades} == {
        "AAPL": OrderSide.BUY, "MSFT": OrderSide.BUY, "GOOGL": OrderSide.BUY,
    }
    spent = sum((t.notional + t.estimated_fee for t in plan.trades), Decimal(0))
    assert spent <= 70000
    assert plan.cash_before == 70000
    assert plan.cash_after == 70000 - spent
