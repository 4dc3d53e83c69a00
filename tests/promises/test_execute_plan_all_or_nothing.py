"""``execute_plan`` checks every trade before the first parent starts: when it raises, nothing ran
and nothing was sent."""

from __future__ import annotations

import anyio
import pytest

from engine import ExecutionEngine, Instrument, InvalidInputError, RebalancingPlanner, UnknownSymbolError
from gateways.simulated import SimulatedVenue, SymbolSpec


def plan_with(symbol: str, instrument: Instrument | None = None) -> object:
    return RebalancingPlanner().create_plan(
        current_positions={},
        target_weights={"AAPL": 0.5, symbol: 0.5},
        portfolio_value=100_000,
        prices={"AAPL": 150, symbol: 300},
        instruments=[instrument] if instrument is not None else None,
    )


async def _nothing_ran(venue: SimulatedVenue, engine: ExecutionEngine) -> None:
    assert engine.statistics().running_parents == 0
    assert engine.statistics().finished_parents == 0
    await anyio.sleep(60)
    assert [r.kind for r in venue.request_log if r.kind in ("submit", "cancel")] == []
    assert dict(venue.positions) == {}


async def test_a_symbol_the_venue_does_not_list_refuses_the_whole_plan() -> None:
    venue = SimulatedVenue.demo(seed=1)
    async with venue, ExecutionEngine(venue) as engine:
        plan = plan_with("ZZZZ")
        with pytest.raises(UnknownSymbolError):
            await engine.execute_plan(plan)  # type: ignore[arg-type]
        await _nothing_ran(venue, engine)


async def test_a_quantity_off_the_venues_lot_grid_refuses_the_whole_plan() -> None:
    # The plan was made with a finer lot than the venue trades.
    fine = Instrument(symbol="MSFT", lot_size="0.001")
    venue = SimulatedVenue.demo(seed=1)
    async with venue, ExecutionEngine(venue) as engine:
        plan = plan_with("MSFT", fine)
        with pytest.raises(InvalidInputError):
            await engine.execute_plan(plan)  # type: ignore[arg-type]
        await _nothing_ran(venue, engine)


async def test_a_bad_parameter_refuses_the_whole_plan() -> None:
    venue = SimulatedVenue.demo(seed=1)
    async with venue, ExecutionEngine(venue) as engine:
        plan = plan_with("MSFT")
        with pytest.raises(InvalidInputError) as caught:
            await engine.execute_plan(plan, num_slices=0)  # type: ignore[arg-type]
        assert caught.value.field == "num_slices"
        await _nothing_ran(venue, engine)


async def test_a_sells_first_that_is_not_a_bool_refuses_the_plan() -> None:
    venue = SimulatedVenue.demo(seed=1)
    async with venue, ExecutionEngine(venue) as engine:
        with pytest.raises(InvalidInputError) as caught:
            await engine.execute_plan(plan_with("MSFT"), sells_first="no")  # type: ignore[arg-type]
        assert caught.value.field == "sells_first"
        await _nothing_ran(venue, engine)


async def test_a_plan_cut_short_by_a_timeout_leaves_no_parent_trading() -> None:
    venue = SimulatedVenue.demo(seed=1)
    async with venue, ExecutionEngine(venue) as engine:
        with pytest.raises(TimeoutError):
            with anyio.fail_after(30):
                await engine.execute_plan(plan_with("MSFT"), num_slices=10, interval_seconds=60)  # type: ignore[arg-type]
        assert engine.statistics().running_parents == 0
        submitted = [r for r in venue.request_log if r.kind == "submit"]
        assert submitted  # the plan had started
        await anyio.sleep(600)
        assert [r for r in venue.request_log if r.kind == "submit"] == submitted  # and stopped
        assert venue.statistics().open_orders == 0


async def test_a_trade_below_the_minimum_notional_at_its_arrival_price_refuses_the_plan() -> None:
    # The minimum notional depends on the price met at arrival: every trade is planned (and so
    # priced) before the first one starts, so the sell before it does not trade either.
    symbols = [
        SymbolSpec(symbol="AAPL", price=150, volume_per_second=200),
        SymbolSpec(symbol="MSFT", price=300, volume_per_second=100, min_notional=1000),
    ]
    venue = SimulatedVenue.demo(seed=1, symbols=symbols, positions={"AAPL": 600})
    plan = RebalancingPlanner().create_plan(
        current_positions={"AAPL": 600}, target_weights={"AAPL": 0.0, "MSFT": 0.009},
        portfolio_value=100_000, prices={"AAPL": 150, "MSFT": 300},
    )
    trades = [(t.symbol, t.side.value, int(t.quantity)) for t in plan.trades]
    assert trades == [("AAPL", "sell", 600), ("MSFT", "buy", 3)]
    async with venue, ExecutionEngine(venue) as engine:
        with pytest.raises(InvalidInputError) as refused:
            await engine.execute_plan(plan, num_slices=5, interval_seconds=60, sells_first=False)
        assert refused.value.field == "plan.trades[1].quantity"
        assert engine.statistics().running_parents == 0
        await anyio.sleep(60)
        assert [r.kind for r in venue.request_log if r.kind in ("submit", "cancel")] == []
        assert dict(venue.positions) == {"AAPL": 600}
