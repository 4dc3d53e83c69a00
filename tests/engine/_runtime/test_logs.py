"""Structured logs follow each child order's life, bound with its parent's and its own id."""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import structlog
from structlog.testing import LogCapture

from engine import ExecutionEngine, ExecutionReport, OrderSide, run_virtual
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec

CHILD_STEPS = ("send child", "child accepted", "child final")


@pytest.fixture
def captured() -> Iterator[LogCapture]:
    """Every line the engine writes, captured; structlog's configuration restored afterwards."""
    was_configured, saved = structlog.is_configured(), structlog.get_config()
    capture = LogCapture()
    structlog.configure(processors=[capture])
    yield capture
    if was_configured:
        structlog.configure(**saved)
    else:
        structlog.reset_defaults()


def use_level(level: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(level))


async def run_twap() -> ExecutionReport:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0)
    venue = SimulatedVenue([spec], seed=1, latency=LatencyModel.zero(), cash=10_000_000)
    async with venue, ExecutionEngine(venue, seed=1, reproducible_ids=True) as engine:
        return await engine.twap("AAPL", 400, OrderSide.BUY, num_slices=4, interval_seconds=10)


def lines(capture: LogCapture, event: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in capture.entries if entry["event"] == event]


async def test_each_child_is_logged_when_sent_accepted_and_final_with_its_parent_id(
    captured: LogCapture,
) -> None:
    use_level(logging.DEBUG)
    report = await run_twap()
    children = [cid for line in report.slices for cid in line.child_ids]
    assert len(children) == 4
    for event in CHILD_STEPS:
        logged = lines(captured, event)
        assert [entry["child_id"] for entry in logged] == children, event
        assert {entry["parent_id"] for entry in logged} == {report.parent_id}, event
    assert all(entry["state"] == "filled" for entry in lines(captured, "child final"))
    assert [entry["quantity"] for entry in lines(captured, "send child")] == [100, 100, 100, 100]


def test_a_logger_filtered_above_debug_gets_no_child_lines_and_the_run_is_the_same(
    captured: LogCapture,
) -> None:
    use_level(logging.DEBUG)
    logged_run = run_virtual(run_twap)
    captured.entries.clear()
    use_level(logging.INFO)
    quiet_run = run_virtual(run_twap)
    events = {entry["event"] for entry in captured.entries}
    assert not events & set(CHILD_STEPS)
    assert "parent state" in events, "info lines still come"
    assert quiet_run.to_json() == logged_run.to_json()


async def test_a_stdlib_logger_raised_to_debug_after_the_engine_is_made_gets_the_child_lines(
    captured: LogCapture,
) -> None:
    # structlog's stdlib logger follows the logging module's level as it is at each line.
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, captured],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
    )
    engine_logger = logging.getLogger("engine")
    saved_level = engine_logger.level
    engine_logger.setLevel(logging.INFO)
    try:
        spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0)
        venue = SimulatedVenue([spec], seed=1, latency=LatencyModel.zero(), cash=10_000_000)
        async with venue, ExecutionEngine(venue, seed=1, reproducible_ids=True) as engine:
            engine_logger.setLevel(logging.DEBUG)  # turned on while the engine runs
            report = await engine.twap("AAPL", 200, OrderSide.BUY, num_slices=2, interval_seconds=10)
    finally:
        engine_logger.setLevel(saved_level)
    children = [cid for line in report.slices for cid in line.child_ids]
    for event in CHILD_STEPS:
        assert [entry["child_id"] for entry in lines(captured, event)] == children, event
