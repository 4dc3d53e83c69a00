"""The engine takes a schedule per parent, checks it by name before anything is sent."""

from __future__ import annotations

import pytest

from engine import ExecutionEngine, InvalidInputError
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec


def still_venue() -> SimulatedVenue:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0, volume_per_second=50)
    return SimulatedVenue([spec], seed=1, latency=LatencyModel.zero(), cash=10_000_000)


async def test_start_twap_works_a_parent_by_the_schedule_it_names() -> None:
    venue = still_venue()
    async with venue, ExecutionEngine(venue, seed=2) as engine:
        handle = await engine.start_twap(
            "AAPL", 1_000, "buy", num_slices=4, interval_seconds=60, schedule="vwap",
            volume_profile=[4, 3, 2, 1],
        )
        report = await handle.wait()
    assert [line.quantity for line in report.slices] == [400, 300, 200, 100]
    assert report.filled_quantity == 1_000


@pytest.mark.parametrize(("field", "value"), [("schedule", "fastest"), ("risk_aversion", float("nan"))])
async def test_a_bad_schedule_setting_is_refused_by_name_before_anything_is_sent(
    field: str, value: object
) -> None:
    venue = still_venue()
    async with venue, ExecutionEngine(venue, seed=2) as engine:
        with pytest.raises(InvalidInputError) as caught:
            await engine.start_twap("AAPL", 1_000, "buy", **{field: value})
    assert caught.value.field == field
    assert venue.statistics().orders == 0
