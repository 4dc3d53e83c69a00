"""Fault-injection sweep: every report against the venue's own fills, over many randomised runs.

    python3 scripts/sweep_reports.py [runs] [first]

Each run draws a scenario from its number: a venue with every fault kind of ``FaultPlan`` at a
random rate, random latency, a rate limit tight enough that cancels wait for room, a tight
``settle_timeout``, one to three TWAP parents of random styles, sometimes cancelled by the user,
sometimes cut off by leaving the engine early. After the engine is left and late events have had
time to arrive, every report must equal the venue's fills of its children (quantity, notional,
fees), no order may be left open at the venue, and the venue must have filled nothing the reports
do not name. The last line printed is one JSON object: runs, mismatches, and the first few.
"""

from __future__ import annotations

import sys

from _bootstrap import ensure_venv

if __name__ == "__main__":
    ensure_venv()  # (imported by the tests, it stays in the interpreter that imports it)

import json
import logging
import random
from decimal import Decimal
from typing import Any

import anyio
import attrs
import structlog

from engine import (
    EngineError,
    ExecutionEngine,
    ExecutionReport,
    OrderFilled,
    OrderSide,
    run_virtual,
)
from gateways.simulated import FaultPlan, LatencyModel, SimulatedVenue, SymbolSpec

ZERO = Decimal(0)
SYMBOLS = (
    SymbolSpec(symbol="AAPL", price=150, volatility=0.05, volume_per_second=50),
    SymbolSpec(symbol="MSFT", price=300, volatility=0.05, volume_per_second=20, displayed_size=200),
)


@attrs.frozen
class Scenario:
    """One randomised run."""

    seed: int
    faults: FaultPlan
    latency: LatencyModel
    max_orders_per_minute: int
    settle_timeout: float
    parents: tuple[tuple[tuple[str, Any], ...], ...]
    cancel_after: float | None
    leave_after: float | None


def draw_scenario(number: int) -> Scenario:
    """The scenario of run ``number`` (the same number, the same scenario)."""
    rng = random.Random(number)
    faults = FaultPlan(
        drop_ack=rng.choice([0.05, 0.1, 0.3]),
        reject=rng.choice([0.02, 0.1]),
        reject_after_accept=rng.choice([0.02, 0.1]),
        duplicate_fill=rng.choice([0.1, 0.5]),
        reorder_events=rng.choice([0.1, 0.5]),
        drop_stream=rng.choice([0.005, 0.02, 0.05]),
        unavailable=rng.choice([0.05, 0.15, 0.3]),
    )
    latency = LatencyModel(
        request=rng.choice([0.0, 0.02, 0.2]),
        request_jitter=rng.choice([0.0, 0.05, 0.5]),
        event=rng.choice([0.005, 0.3, 2.0]),
        event_jitter=rng.choice([0.0, 0.01, 0.5]),
    )
    parents = tuple(
        (
            ("symbol", rng.choice(["AAPL", "MSFT"])),
            ("side", rng.choice([OrderSide.BUY, OrderSide.SELL])),
            ("quantity", rng.randint(1, 3000)),
            ("num_slices", rng.randint(1, 5)),
            ("interval_seconds", rng.choice([1.0, 5.0, 30.0])),
            ("style", rng.choice(["market", "passive", "mid", "touch"])),
            ("rest_fraction", rng.choice([0.2, 0.5, 1.0])),
            ("complete_at_deadline", rng.random() < 0.7),
            ("completion_policy", rng.choice(["finish", "leave_unfilled"])),
            ("max_slippage_bps", rng.choice([None, 1, 50])),
        )
        for _ in range(rng.randint(1, 3))
    )
    return Scenario(
        seed=rng.randint(0, 10_000),
        faults=faults,
        latency=latency,
        max_orders_per_minute=rng.choice([3, 6, 12, 30]),
        settle_timeout=rng.choice([0.2, 0.5, 1.0]),
        parents=parents,
        cancel_after=rng.choice([None, None, rng.uniform(0.0, 60.0)]),
        leave_after=rng.choice([None, None, None, rng.uniform(0.0, 60.0)]),
    )


def _child_ids(report: ExecutionReport) -> set[str]:
    return {cid for line in report.slices for cid in line.child_ids} | set(report.completion_child_ids)


def _venue_fills(venue: SimulatedVenue, ids: set[str]) -> tuple[Decimal, Decimal, Decimal]:
    seen: set[str] = set()
    quantity = notional = fees = ZERO
    for event in venue.event_log:
        if isinstance(event, OrderFilled) and event.client_order_id in ids and event.trade_id not in seen:
            seen.add(event.trade_id)
            quantity += event.quantity
            notional += event.quantity * event.price
            fees += event.fee
    return quantity, notional, fees


def compare(reports: list[ExecutionReport], venue: SimulatedVenue) -> list[str]:
    """Every way the reports differ from the venue's records (empty when they agree)."""
    problems = []
    named: set[str] = set()
    for report in reports:
        ids = _child_ids(report)
        named |= ids
        quantity, notional, fees = _venue_fills(venue, ids)
        average = notional / quantity if quantity else None
        if report.filled_quantity != quantity:
            problems.append(f"{report.parent_id}: filled {report.filled_quantity}, venue {quantity}")
        elif report.avg_price != average:
            problems.append(f"{report.parent_id}: average {report.avg_price}, venue {average}")
        elif report.fees != fees:
            problems.append(f"{report.parent_id}: fees {report.fees}, venue {fees}")
    unnamed = {
        e.client_order_id
        for e in venue.event_log
        if isinstance(e, OrderFilled) and e.client_order_id not in named
    }
    if unnamed:
        problems.append(f"fills of orders no report names: {sorted(unnamed)}")
    if venue.statistics().open_orders:
        problems.append(f"{venue.statistics().open_orders} order(s) left open at the venue")
    if venue.statistics().rate_limit_violations:
        problems.append(f"{venue.statistics().rate_limit_violations} rate-limit violation(s)")
    return problems


async def run_scenario(scenario: Scenario) -> list[str]:
    """Run one scenario; return its problems (empty when every report equals the venue)."""
    venue = SimulatedVenue(
        list(SYMBOLS),
        seed=scenario.seed,
        latency=scenario.latency,
        faults=scenario.faults,
        cash=10_000_000,
        positions={"AAPL": 100_000, "MSFT": 100_000},
        request_timeout=1.0,
    )
    reports: list[ExecutionReport] = []
    problems: list[str] = []
    async with venue:
        try:
            async with ExecutionEngine(
                venue,
                max_orders_per_minute=scenario.max_orders_per_minute,
                seed=scenario.seed,
                settle_timeout=scenario.settle_timeout,
            ) as engine:
                handles = []
                for parent in scenario.parents:
                    params = dict(parent)
                    handles.append(
                        engine.submit_twap(
                            params.pop("symbol"), params.pop("quantity"), params.pop("side"), **params
                        )
                    )
                with anyio.move_on_after(scenario.leave_after if scenario.leave_after is not None else 1e9):
                    if scenario.cancel_after is not None:
                        await anyio.sleep(scenario.cancel_after)
                        for handle in handles[::2]:
                            handle.cancel()
                    for handle in handles:
                        await handle.wait()
        except EngineError as error:
            problems.append(f"leaving the engine: {error!r}")
        for handle in handles:
            try:
                reports.append(await handle.wait())
            except EngineError as error:
                problems.append(f"{handle.parent_id}: no report: {error!r}")
        await anyio.sleep(30.0)  # late events reach the venue's journal (nothing may fill now)
    return problems + compare(reports, venue)


def main(runs: int = 1000, first: int = 0) -> dict[str, Any]:
    """Run ``runs`` scenarios numbered from ``first``; count the runs with a problem."""
    failures: list[dict[str, Any]] = []
    for number in range(first, first + runs):
        problems = run_virtual(run_scenario, draw_scenario(number))
        if problems:
            failures.append({"run": number, "problems": problems[:3]})
    return {"runs": runs, "first": first, "mismatches": len(failures), "examples": failures[:5]}


if __name__ == "__main__":
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    arguments = [int(argument) for argument in sys.argv[1:3]]
    print(json.dumps(main(*arguments)))
