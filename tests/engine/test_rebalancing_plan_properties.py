"""Properties of every plan, tried on random portfolios, venue rules and planner settings."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

import attrs
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine import FeeModel, Instrument, OrderSide, RebalancingPlan, RebalancingPlanner, TradeReason


@attrs.frozen
class Scenario:
    """One random planning problem."""

    planner: RebalancingPlanner
    positions: dict[str, int]
    weights: dict[str, Decimal]
    prices: dict[str, Decimal]
    cash: Decimal
    instruments: tuple[Instrument, ...]

    def plan(self, positions: dict[str, Any] | None = None, cash: Decimal | None = None) -> RebalancingPlan:
        return self.planner.create_plan(
            current_positions=self.positions if positions is None else positions,
            target_weights=self.weights, prices=self.prices,
            cash=self.cash if cash is None else cash,
        )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    n = draw(st.integers(1, 6))
    symbols = [f"S{i}" for i in range(n)]
    prices = {s: Decimal(draw(st.integers(100, 200_000))) / 100 for s in symbols}
    held = {s: draw(st.integers(0, 400)) for s in symbols}
    targeted = [s for s in symbols if draw(st.integers(0, 4))]  # now and then held but untargeted
    raw = {s: draw(st.integers(0, 100)) for s in targeted}
    invested = draw(st.sampled_from([Decimal(1), Decimal("0.97"), Decimal("0.6")]))
    total = sum(raw.values()) or 1
    weights = {s: (raw[s] * invested / total).quantize(Decimal("0.0001"), ROUND_DOWN) for s in targeted}
    instruments = tuple(
        Instrument(s, lot_size=draw(st.sampled_from(["1", "1", "5", "0.001"])),
                   min_notional=draw(st.sampled_from([0, 0, 25, 300])))
        for s in symbols
    )
    planner = RebalancingPlanner(
        instruments=instruments,  # a venue table: it may list symbols this plan does not touch
        fees=draw(st.sampled_from([FeeModel(), FeeModel(bps=5, minimum=1), FeeModel(per_share="0.01")])),
        slippage_bps=draw(st.sampled_from([0, 0, 10])),
        cash_reserve=draw(st.sampled_from([0, 0, 500])),
        min_trade_notional=draw(st.sampled_from([0, 0, 100])),
        absolute_band=draw(st.sampled_from([None, None, "0.03"])),
        relative_band=draw(st.sampled_from([None, None, "0.25"])),
        mode=draw(st.sampled_from(["full", "full", "full", "invest_cash", "raise_cash"])),
        turnover_cap=draw(st.sampled_from([None, None, None, "0.2"])),
    )
    cash = Decimal(draw(st.integers(500, 200_000)))
    return Scenario(planner, {s: q for s, q in held.items() if q}, weights, prices, cash, instruments)


def lot_of(scenario: Scenario, symbol: str) -> Decimal:
    return next(i.lot_size for i in scenario.instruments if i.symbol == symbol)


@settings(max_examples=80, deadline=None)
@given(scenarios())
def test_cash_never_ends_below_the_reserve_after_fees_and_slippage(scenario: Scenario) -> None:
    plan = scenario.plan()
    cap = scenario.planner.turnover_cap
    if cap is not None:
        assert plan.traded_notional <= cap * plan.portfolio_value_before
    assert plan.cash_after >= scenario.planner.cash_reserve or (
        not plan.buys and scenario.cash < scenario.planner.cash_reserve
    )
    spent = sum((t.cash_effect for t in plan.trades), Decimal(0))
    assert plan.cash_after == scenario.cash + spent


@settings(max_examples=80, deadline=None)
@given(scenarios())
def test_each_position_ends_within_one_lot_of_its_ideal_unless_a_reason_says_why(scenario: Scenario) -> None:
    plan = scenario.plan()
    tolerance = scenario.planner.hold_tolerance
    for row in plan.allocations:
        lot = lot_of(scenario, row.symbol)
        slack = lot + tolerance * abs(row.ideal_quantity) + Decimal("1e-6")
        if abs(row.quantity_after - row.ideal_quantity) >= slack:
            assert row.reason.is_adjustment, row
            assert row.note


@settings(max_examples=80, deadline=None)
@given(scenarios())
def test_no_trade_breaks_a_venue_rule_or_the_minimum_trade(scenario: Scenario) -> None:
    plan = scenario.plan()
    side = {"invest_cash": OrderSide.BUY, "raise_cash": OrderSide.SELL}.get(scenario.planner.mode.value)
    for trade in plan.trades:
        assert side is None or trade.side is side
        instrument = next(i for i in scenario.instruments if i.symbol == trade.symbol)
        instrument.check_quantity(trade.quantity)
        minimum = max(instrument.min_notional, scenario.planner.min_trade_notional)
        assert trade.quantity * trade.reference_price >= minimum


# Found by the search: S0 is inside its 3% band before the plan (drift 2.98%) and outside it
# after the plan's fee (3.01%), so a band judged only before the costs left it for a re-plan.
_PUSHED_OUT_BY_THE_FEE = Scenario(
    planner=RebalancingPlanner(instruments=[Instrument("S0"), Instrument("S1")],
                               fees=FeeModel(bps=5, minimum=1), absolute_band="0.03"),
    positions={"S0": 214, "S1": 72},
    weights={"S0": Decimal("0.2155"), "S1": Decimal("0.7544")},
    prices={"S0": Decimal("1.01"), "S1": Decimal("2.29")},
    cash=Decimal(500),
    instruments=(Instrument("S0"), Instrument("S1")),
)


@settings(max_examples=80, deadline=None)
@given(scenarios())
@example(_PUSHED_OUT_BY_THE_FEE)
def test_replanning_right_after_execution_plans_nothing(scenario: Scenario) -> None:
    # A capped or one-sided plan leaves work for the next one by design; a full one does not.
    scenario = attrs.evolve(scenario, planner=attrs.evolve(scenario.planner, mode="full", turnover_cap=None))
    first = scenario.plan()
    positions = {row.symbol: row.quantity_after for row in first.allocations}
    second = scenario.plan(positions=positions, cash=first.cash_after)
    assert second.trades == (), (first, second)


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_sells_come_before_buys_and_every_row_has_a_reason(scenario: Scenario) -> None:
    plan = scenario.plan()
    sides = [trade.side.sign for trade in plan.trades]
    assert sides == sorted(sides)
    assert {row.symbol for row in plan.allocations} == set(scenario.weights) | set(scenario.positions)
    for row in plan.allocations:
        assert isinstance(row.reason, TradeReason)
        traded = any(t.symbol == row.symbol for t in plan.trades)
        assert traded == (row.quantity_after != row.quantity_before)
