"""Structured logs follow each child order's life, bound with its parent's and its own id."""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import structlog
from structlog.testing import LogCapture

from engine import ExecutionEngine, OrderSide
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec


@pytest.fixture
def captured() -> Iterator[LogCapture]:
    saved = structlog.get_config()
    capture = LogCapture()
    structlog.configure(processors=[capture])
    yield capture
    structlog.configure(**saved)


def use_level(level: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(level))


def venue() -> SimulatedVenue:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0)
    return SimulatedVenue([spec], seed=1, latency=LatencyModel.zero(), cash=10_000_000)


def lines(capture: LogCapture, event: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in capture.entries if entry["event"] == event]


async def test_each_child_is_logged_when_sent_accepted_and_final_with_its_parent_id(
    captured: LogCapture,
) -> None:
    use_level(logging.DEBUG)
    async with venue() as gateway, ExecutionEngine(gateway, seed=1) as engine:
        report = await engine.twap("AAPL", 400, OrderSide.BUY, num_slices=4, interval_seconds=10)
    children = [cid for line in report.slices for cid in line.child_ids]
    assert len(children) == 4
    for event in ("send child", "child accepted", "child final"):
        logged = lines(captured, event)
        assert [entry["child_id"] for entry in logged] == children, event
        assert {entry["parent_id"] for entry in logged} == {report.parent_id}, event
    assert all(entry["state"] == "filled" for entry in lines(captured, "child final"))
    assert [entry["quantity"] for entry in lines(captured, "send child")] == [100, 100, 100, 100]


async def test_a_logger_filtered_above_debug_gets_no_child_lines_and_the_run_is_the_same(
    captured: LogCapture,
) -> None:
    use_level(logging.INFO)
    async with venue() as gateway, ExecutionEngine(gateway, seed=1) as engine:
        report = await engine.twap("AAPL", 400, OrderSide.BUY, num_slices=4, interval_seconds=10)
    assert report.filled_quantity == 400
    events = {entry["event"] for entry in captured.entries}
    assert not events & {"send child", "child accepted", "child final"}
    assert "parent state" in events, "info lines still come"
