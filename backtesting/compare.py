"""Compare: every variant of a scenario over many market paths, paired, with honest statistics.

::

    result = run_compare(load_scenario("examples/thin_name_impact.toml"), paths=300)
    for row in result.statistics():
        print(row.variant, row.shortfall_bps.mean, row.shortfall_bps.p95)

Path ``k`` is the scenario under seed ``first_seed + k``, and every variant meets it: the same
market (a random walk's path, or a replay's bootstrap draw when ``bootstrap_block`` is set),
latency and queue draws. One path's result hardly tells two styles apart (it mostly tells the
path's drift), so the study reports, per variant, the distribution of the implementation
shortfall in bps of the ordered notional (fees included, and quantity left unfilled valued at
what sweeping it through the book would cost when the variant ended, not at the mid), the
completion, the share completed at the deadline and the fees; and for each variant its paired
difference from a baseline (paired.py). The paths run in local processes or on a Dask cluster,
as ``sweep``'s points do; results come back in path order, so the figures do not depend on how
they were computed.
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import structlog

from backtesting.paired import PairedDifference, Summary, paired_difference, summary
from backtesting.result import BacktestResult, VariantResult
from backtesting.runner import run
from backtesting.scenario import Scenario, parse_scenario
from engine.errors import InvalidInputError

__all__ = [
    "METRICS", "CompareJob", "CompareResult", "VariantStatistics", "replays_one_path", "run_compare",
    "run_paths", "variant_metrics",
]

#: What each path gives per variant.
METRICS = ("shortfall_bps", "completion", "deadline_share", "fees")
PathMetrics = dict[str, dict[str, float]]  # variant name -> metric -> value
_BPS = Decimal(10_000)


def variant_metrics(variant: VariantResult) -> dict[str, float]:
    """One variant's figures on one path (see the module docstring); shares weigh the parents by
    notional at their arrival price."""
    ordered = cost = filled = aggressive = fees = Decimal(0)
    for report in variant.reports:
        reference = report.arrival_price or report.avg_price
        if reference is None:
            continue
        sign = report.side.sign
        ordered += report.quantity * reference
        filled += report.filled_quantity * reference
        aggressive += report.aggressive_quantity * reference
        fees += report.fees
        cost += report.fees
        if report.avg_price is not None:
            cost += sign * (report.avg_price - reference) * report.filled_quantity
        if report.unfilled_quantity > 0:
            sweep = variant.sweep_prices.get(report.parent_id) or report.end_price or reference
            cost += sign * (sweep - reference) * report.unfilled_quantity
    if not ordered:
        return {"shortfall_bps": 0.0, "completion": 1.0, "deadline_share": 0.0, "fees": float(fees)}
    return {
        "shortfall_bps": float(cost / ordered * _BPS), "completion": float(filled / ordered),
        "deadline_share": float(aggressive / ordered), "fees": float(fees),
    }


def path_metrics(result: BacktestResult) -> PathMetrics:
    """Every variant's figures on the path ``result`` ran."""
    return {variant.name: variant_metrics(variant) for variant in result.variants}


@attrs.frozen
class CompareJob:
    """Some paths of one study, self-contained: the scenario as text, where it lives, the seeds."""

    text: str
    path: str
    base_dir: str
    seeds: tuple[int, ...]


def run_paths(job: CompareJob) -> list[PathMetrics]:
    """Run the job's paths (in whatever process), in seed order."""
    scenario = parse_scenario(job.text, job.path, base_dir=Path(job.base_dir))
    return [path_metrics(run(scenario.with_seed(seed))) for seed in job.seeds]


@attrs.frozen
class VariantStatistics:
    """One variant over every path: shortfall (bps) summarised, mean completion, the share of
    paths that ended complete, mean share completed at the deadline, mean fees, how many paths."""

    variant: str
    paths: int
    shortfall_bps: Summary
    completion: float
    complete_paths: float
    deadline_share: float
    fees: float


@attrs.frozen
class CompareResult:
    """A whole study: the per-path figures of every variant, the baseline and the seeds."""

    scenario: Scenario
    baseline: str
    first_seed: int
    per_path: tuple[PathMetrics, ...]

    @property
    def variants(self) -> tuple[str, ...]:
        """The variant names, in the scenario's order."""
        return tuple(variant.name for variant in self.scenario.variants)

    def values(self, variant: str, metric: str) -> list[float]:
        """One metric of one variant, path by path."""
        return [path[variant][metric] for path in self.per_path]

    def statistics(self) -> tuple[VariantStatistics, ...]:
        """One row per variant."""
        rows = []
        for name in self.variants:
            completion = self.values(name, "completion")
            rows.append(VariantStatistics(
                variant=name, paths=len(self.per_path),
                shortfall_bps=summary(self.values(name, "shortfall_bps")), completion=_mean(completion),
                complete_paths=_mean([float(c >= 1.0) for c in completion]),
                deadline_share=_mean(self.values(name, "deadline_share")),
                fees=_mean(self.values(name, "fees")),
            ))
        return tuple(rows)

    def differences(self) -> dict[str, PairedDifference]:
        """Per variant, its shortfall minus the baseline's, paired path by path (the baseline's own
        difference is zero)."""
        baseline = self.values(self.baseline, "shortfall_bps")
        return {
            name: paired_difference(self.values(name, "shortfall_bps"), baseline) for name in self.variants
        }

    def to_dict(self) -> dict[str, Any]:
        """``compare.json``: the baseline, per variant its statistics, per variant its difference."""
        variants = {}
        for row in self.statistics():
            shortfall = attrs.asdict(row.shortfall_bps)
            variants[row.variant] = {
                "paths": row.paths,
                "shortfall_bps": {name: _round(value) for name, value in shortfall.items()},
                "completion": _round(row.completion, 6), "complete_paths": _round(row.complete_paths, 6),
                "deadline_share": _round(row.deadline_share, 6),
                "fees": _round(row.fees),
            }
        differences = {
            name: {"mean_bps": _round(diff.mean), "ci95_bps": [_round(diff.low), _round(diff.high)],
                   "p_value": _round(diff.p_value, 6)}
            for name, diff in self.differences().items()
        }
        return {"baseline": self.baseline, "variants": variants, "differences": differences}


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _round(value: float, places: int = 4) -> float | None:
    """Rounded for the file; an infinite bound (one path) is written as null."""
    return round(value, places) if math.isfinite(value) else None


def run_compare(
    scenario: Scenario,
    paths: int,
    *,
    baseline: str | None = None,
    first_seed: int = 1,
    workers: int | None = None,
    scheduler: str | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> CompareResult:
    """Run every variant of ``scenario`` on ``paths`` paths (seeds ``first_seed`` onward).

    ``baseline`` names the variant the others are measured against (default: the first).
    ``workers`` caps the local processes (default: one per CPU); ``scheduler`` sends the work to
    a Dask cluster instead. ``on_done(paths finished, paths)`` reports progress.
    """
    if isinstance(paths, bool) or not isinstance(paths, int) or paths < 1:
        raise InvalidInputError("--paths", paths, "expected a whole number ≥ 1")
    names = [variant.name for variant in scenario.variants]
    chosen = baseline if baseline is not None else names[0]
    if chosen not in names:
        known = ", ".join(names)
        raise InvalidInputError("--baseline", baseline, f"not a variant of the scenario; it has {known}")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise InvalidInputError("--workers", workers, "expected a whole number ≥ 1")
    seeds = list(range(first_seed, first_seed + paths))
    base_dir = str(Path(scenario.path).parent) if scenario.path else "."
    count = min(workers or os.cpu_count() or 1, paths)
    # A few jobs per worker: balanced, and each worker parses the scenario only a few times.
    size = max(1, math.ceil(paths / (count * 4))) if scheduler is None else max(1, math.ceil(paths / 64))
    jobs = [CompareJob(scenario.source_text, scenario.path, base_dir, tuple(seeds[i:i + size]))
            for i in range(0, paths, size)]
    if scheduler is not None:
        results = _on_dask(jobs, scheduler, on_done, paths)
    else:
        results = _on_processes(jobs, count, on_done, paths)
    per_path = tuple(metrics for chunk in results for metrics in chunk)
    return CompareResult(scenario=scenario, baseline=chosen, first_seed=first_seed, per_path=per_path)


def _on_processes(
    jobs: Sequence[CompareJob], count: int, on_done: Callable[[int, int], None] | None, paths: int
) -> list[list[PathMetrics]]:
    if count == 1:  # no pool to start: the paths run here, one after another
        results = []
        for job in jobs:
            results.append(run_paths(job))
            if on_done is not None:
                on_done(sum(len(chunk) for chunk in results), paths)
        return results
    done = 0
    ordered: list[list[PathMetrics] | None] = [None] * len(jobs)
    # "spawn": a fresh interpreter per worker, the same on every OS, and safe with threads about.
    context = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_quiet)
    with pool:
        futures = {pool.submit(run_paths, job): index for index, job in enumerate(jobs)}
        for future in concurrent.futures.as_completed(futures):
            ordered[futures[future]] = future.result()
            done += len(jobs[futures[future]].seeds)
            if on_done is not None:
                on_done(done, paths)
    return [chunk for chunk in ordered if chunk is not None]


def _quiet() -> None:
    """A local worker process is ours to configure: its engine logs go to stderr, warnings only."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def _on_dask(
    jobs: Sequence[CompareJob], scheduler: str, on_done: Callable[[int, int], None] | None, paths: int
) -> list[list[PathMetrics]]:
    try:
        from distributed import Client
    except ImportError:
        raise InvalidInputError(
            "--scheduler", scheduler, "needs Dask distributed: pip install 'twap-engine[cluster]'"
        ) from None
    results: list[list[PathMetrics]] = []
    # Dask's Client is not annotated; the ignore says only that.
    with Client(scheduler, timeout=30, set_as_default=False) as client:  # type: ignore[no-untyped-call]
        futures = client.map(run_paths, list(jobs), pure=False)
        done = 0
        for job, future in zip(jobs, futures, strict=True):  # in path order; all run at once meanwhile
            results.append(future.result())
            done += len(job.seeds)
            if on_done is not None:
                on_done(done, paths)
    return results


def replays_one_path(scenario: Scenario) -> bool:
    """True when the scenario replays its data as it is: its paths then differ only in latency
    and queue draws, not in prices (set ``bootstrap_block`` in ``[venue]``)."""
    return scenario.venue.replay is not None and scenario.venue.bootstrap_block == 0

