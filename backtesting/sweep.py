"""Sweeps: run a scenario over a grid of settings in parallel processes, or on a Dask cluster.

::

    rows = run_sweep(scenario, parse_grid(["num_slices=5,10,20", "style=market,passive"]))

Each grid point is one backtest (every variant of the scenario) in its own process; a point
carries the scenario's TOML text and folder, not Python objects, so any worker that can read the
scenario's data files can run it. With ``scheduler="tcp://host:8786"`` the points go to a Dask
distributed cluster instead (``pip install 'twap-engine[cluster]'``). Rows come back in grid
order whatever order the points finish in, so the table is the same however it was computed.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import structlog

from backtesting._toml import parse_value
from backtesting.runner import run
from backtesting.scenario import EXECUTION_KEYS, Scenario, parse_scenario
from engine.errors import InvalidInputError

__all__ = ["SWEEP_KEYS", "SweepJob", "apply_point", "grid_points", "parse_grid", "run_point", "run_sweep"]

#: What a grid may vary: any execution setting, ``sells_first``, the queue's rate and the seed.
SWEEP_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys((*EXECUTION_KEYS, "sells_first", "max_orders_per_minute", "seed"))
)
RESULT_COLUMNS = (
    "variant", "parents", "fully_filled", "completion_share", "shortfall_bps", "slippage_bps", "fees",
    "aggressive_share", "child_orders", "rate_limit_violations", "duration",
)


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["num_slices=5,10", "style=market,passive"]`` → ``{"num_slices": [5, 10], "style": [...]}``."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise InvalidInputError("--grid", item, "expected KEY=VALUE[,VALUE...]")
        if key not in SWEEP_KEYS:
            known = ", ".join(SWEEP_KEYS)
            raise InvalidInputError("--grid", item, f"unknown key {key!r}; expected one of {known}")
        if key in grid:
            raise InvalidInputError("--grid", item, f"{key!r} is given twice")
        grid[key] = [parse_value(value) for value in values.split(",")]
    return grid


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination, the last key varying fastest."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]


def apply_point(scenario: Scenario, point: Mapping[str, Any]) -> Scenario:
    """``scenario`` with one grid point's settings; raises ``InvalidInputError`` naming the key."""
    changes = dict(point)
    seed = changes.pop("seed", None)
    per_minute = changes.pop("max_orders_per_minute", scenario.max_orders_per_minute)
    try:
        result = scenario.with_execution(**changes).with_queue(per_minute)
        return result.with_seed(seed) if seed is not None else result
    except InvalidInputError as error:
        raise InvalidInputError(f"--grid {error.field}", error.value, error.reason) from None


@attrs.frozen
class SweepJob:
    """One grid point, self-contained: the scenario as text, where it lives, the point and seed."""

    text: str
    path: str
    base_dir: str
    point: Mapping[str, Any]
    seed: int | None = None


def run_point(job: SweepJob) -> list[dict[str, Any]]:
    """Run one grid point (in whatever process) and return its rows, one per variant."""
    scenario = parse_scenario(job.text, job.path, base_dir=Path(job.base_dir))
    if job.seed is not None:
        scenario = scenario.with_seed(job.seed)
    result = run(apply_point(scenario, job.point))
    rows = []
    for totals in result.comparison():
        values = attrs.asdict(totals)
        row = {key: _cell(value) for key, value in job.point.items()}
        row.update({column: _cell(values[column]) for column in RESULT_COLUMNS})
        rows.append(row)
    return rows


def _cell(value: Any) -> Any:
    return value if isinstance(value, int | float | str | bool) else str(value)


def run_sweep(
    scenario: Scenario,
    grid: Mapping[str, Sequence[Any]],
    *,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Run every grid point; return the columns and the rows (grid order).

    Every point is checked before anything runs, so a bad value fails at once. ``workers`` caps
    the local processes (default: one per CPU, at most one per point); ``scheduler`` sends the
    points to a Dask cluster. ``on_done(finished, total)`` reports progress.
    """
    points = grid_points(grid) if grid else [{}]
    for point in points:
        apply_point(scenario.with_seed(seed) if seed is not None else scenario, point)
    base_dir = str(Path(scenario.path).parent) if scenario.path else "."
    jobs = [SweepJob(scenario.source_text, scenario.path, base_dir, point, seed) for point in points]
    if scheduler is not None:
        results = _on_dask(jobs, scheduler, on_done)
    else:
        results = _on_processes(jobs, workers, on_done)
    columns = [*grid, *RESULT_COLUMNS]
    return columns, [row for rows in results for row in rows]


def _on_processes(
    jobs: Sequence[SweepJob], workers: int | None, on_done: Callable[[int, int], None] | None
) -> list[list[dict[str, Any]]]:
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise InvalidInputError("--workers", workers, "expected a whole number ≥ 1")
    count = min(workers or os.cpu_count() or 1, len(jobs))
    results: list[list[dict[str, Any]] | None] = [None] * len(jobs)
    # "spawn": a fresh interpreter per worker, the same on every OS, and safe with threads about.
    context = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=count, mp_context=context, initializer=_quiet_worker
    )
    with pool:
        futures = {pool.submit(run_point, job): index for index, job in enumerate(jobs)}
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if on_done is not None:
                on_done(done, len(jobs))
    return [rows for rows in results if rows is not None]


def _quiet_worker() -> None:
    """A local worker process is ours to configure: its engine logs go to stderr, warnings only."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def _on_dask(
    jobs: Sequence[SweepJob], scheduler: str, on_done: Callable[[int, int], None] | None
) -> list[list[dict[str, Any]]]:
    try:
        from distributed import Client
    except ImportError:
        raise InvalidInputError(
            "--scheduler", scheduler, "needs Dask distributed: pip install 'twap-engine[cluster]'"
        ) from None
    results: list[list[dict[str, Any]]] = []
    # Dask's Client is not annotated; the ignore says only that.
    with Client(scheduler, timeout=30, set_as_default=False) as client:  # type: ignore[no-untyped-call]
        futures = client.map(run_point, list(jobs), pure=False)
        # Collected in grid order; every point runs at once on the cluster meanwhile.
        for done, future in enumerate(futures, start=1):
            results.append(future.result())
            if on_done is not None:
                on_done(done, len(jobs))
    return results
