"""A report equals the venue's fills of its children (quantity, notional, fees), also when
look-ups meet retryable errors, events are slow and settling is given little time.

The sweep draws whole scenarios (every fault kind of ``FaultPlan``, a rate limit tight enough that
cancels wait, a tight ``settle_timeout``) from ``scripts/sweep_reports.py``; ``PROMISE_EXAMPLES``
multiplies its example count (``python3 scripts/sweep_reports.py 1000`` runs a thousand).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import ExecutionEngine, ExecutionReport, OrderSide, TWAPExecutor, run_virtual
from gateways.simulated import FaultPlan, LatencyModel, SimulatedVenue, SymbolSpec
from tests.promises.venue_truth import mismatch

# The scripts folder is not a package: it goes on the path, as when the script runs itself.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import sweep_reports

SCALE = max(1, int(os.environ.get("PROMISE_EXAMPLES", "150")) // 150)


def flaky_venue(seed: int) -> SimulatedVenue:
    # Three requests in ten fail before sending; events take two seconds to arrive.
    return SimulatedVenue(
        [SymbolSpec(symbol="AAPL", price=150, volume_per_second=50)],
        seed=seed,
        cash=10_000_000,
        positions={"AAPL": 100_000},
        faults=FaultPlan(unavailable=0.3),
        latency=LatencyModel(event=2.0),
    )


async def _executor_report(seed: int, style: str, interval: float) -> tuple[ExecutionReport, SimulatedVenue]:
    venue = flaky_venue(seed)
    async with venue:
        executor = TWAPExecutor(
            venue, num_slices=3, interval_seconds=interval, settle_timeout=0.5, style=style
        )
        report = await executor.execute("AAPL", 1000, OrderSide.BUY)
        await anyio.sleep(60)  # late events: nothing may fill now that the report is final
    return report, venue


@pytest.mark.parametrize(
    ("seed", "style", "interval"), [(22, "passive", 1.0), (8, "passive", 60.0), (29, "passive", 1.0)]
)
async def test_a_report_equals_the_venue_when_look_ups_meet_unavailable_errors(
    seed: int, style: str, interval: float
) -> None:
    report, venue = await _executor_report(seed, style, interval)
    assert mismatch(report, venue) is None
    assert venue.statistics().open_orders == 0


@pytest.mark.parametrize("seed", [12, 24, 33])
async def test_an_engine_report_equals_the_venue_when_look_ups_meet_unavailable_errors(seed: int) -> None:
    venue = flaky_venue(seed)
    async with venue:
        async with ExecutionEngine(venue, settle_timeout=0.5) as engine:
            report = await engine.twap("AAPL", 1000, OrderSide.BUY, num_slices=3, interval_seconds=1)
        await anyio.sleep(60)
    assert mismatch(report, venue) is None


@settings(max_examples=100 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=st.integers(min_value=0, max_value=2**32))
def test_every_report_equals_the_venue_under_every_fault_with_tight_limits_and_timeouts(number: int) -> None:
    problems = run_virtual(sweep_reports.run_scenario, sweep_reports.draw_scenario(number))
    assert problems == [], (number, problems)
