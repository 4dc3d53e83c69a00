"""The planner plans every trade exactly, however many lots it takes, or refuses the input with an
``InvalidInputError`` that says why; it never caps a trade silently."""

from __future__ import annotations

from decimal import Decimal

from engine import Instrument, InvalidInputError, RebalancingPlanner


def test_a_token_of_a_cent_in_lots_of_a_hundred_millionth_is_bought_to_its_weight() -> None:
    token = Instrument(symbol="TOK", tick_size="0.0001", lot_size="0.00000001")
    try:
        plan = RebalancingPlanner().create_plan(
            current_positions={},
            target_weights={"TOK": 0.5},
            portfolio_value=1_000_000,
            prices={"TOK": "0.01"},
            instruments=[token],
        )
    except InvalidInputError as error:
        refusal = error
    else:
        (trade,) = plan.trades
        # Half the portfolio, less at most the fees the plan keeps back and one lot.
        assert trade.notional > Decimal(499_000)
        return
    assert "lots" in refusal.reason


def test_a_huge_portfolio_is_planned_within_rounding_or_refused() -> None:
    try:
        plan = RebalancingPlanner().create_plan(
            current_positions={"AAPL": 100, "MSFT": 50},
            target_weights={"AAPL": 0.4, "MSFT": 0.3, "GOOGL": 0.3},
            portfolio_value=1e20,
            prices={"AAPL": 150, "MSFT": 300, "GOOGL": 140},
        )
    except InvalidInputError as error:
        refusal = error
    else:
        assert plan.rounding_error < Decimal("0.01")
        assert {t.symbol for t in plan.trades} == {"AAPL", "MSFT", "GOOGL"}
        return
    assert refusal.field in ("portfolio_value", "current_positions", "prices")
    assert "lots" in refusal.reason
