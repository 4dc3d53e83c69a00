"""Promises 1 and 4 under the schedules and the completion window: no overfill, every fill
counted once, under injected faults.

The completion window ends the schedule early and works the remainder in clips sized to the
touch; each clip is sized from confirmed final states only, like the one marketable remainder.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.clock import run_virtual
from gateways.simulated import FaultPlan, LatencyModel
from tests.promises.engine_runs import (
    SCALE,
    check_no_overfill_and_conservation,
    faults,
    latency,
    parent_params,
    run_scenario,
)


@settings(max_examples=60 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    fault_plan=faults,
    latency_model=latency,
    parents=st.lists(parent_params, min_size=1, max_size=3),
    cancel_after=st.one_of(st.none(), st.floats(min_value=0.0, max_value=60.0)),
    policy=st.sampled_from(["finish", "leave_unfilled"]),
    cap=st.sampled_from([None, 1, 50]),
    schedule=st.sampled_from(["twap", "vwap", "pov", "implementation_shortfall", "adaptive"]),
    window=st.sampled_from([5.0, 60.0, 600.0]),
)
def test_a_completion_window_never_overfills_and_counts_every_fill_once_under_faults(
    seed: int,
    fault_plan: FaultPlan,
    latency_model: LatencyModel,
    parents: list[dict[str, Any]],
    cancel_after: float | None,
    policy: str,
    cap: int | None,
    schedule: str,
    window: float,
) -> None:
    extra = {
        "completion_policy": policy, "max_slippage_bps": cap, "schedule": schedule,
        "completion_window": window, "participation": 0.2, "max_rate": 0.5,
    }
    reports, fills = run_virtual(run_scenario, seed, fault_plan, latency_model, parents, cancel_after, extra)
    check_no_overfill_and_conservation(reports, fills)
