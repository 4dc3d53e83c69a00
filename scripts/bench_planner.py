"""Benchmark the rebalancing planner: speed, closeness to the exact optimum, cash safety.

``.venv/bin/python scripts/bench_planner.py [--quick]`` (after the README's set-up).
Random portfolios of 10, 30, 100, 500 and 5,000
names (seeded, so every run sees the same ones), half starting from cash and half from random
holdings. Prints a few human lines, then one JSON object on the last line:

- ``plan_ms_5000``: median milliseconds per plan at 5,000 names, trades read (goal ≤ 50);
  ``plan_cpu_ms_5000``: the same in CPU time of this process (steadier on a shared machine);
  ``plan_with_rows_ms_5000``: wall time with every per-symbol row built too;
  ``plan_vs_nearest_ratio``: ``plan_ms_5000`` over a naive nearest-share planner in Decimal;
  ``plan_banded_ms_5000``: the same plan with a 0.1% absolute drift band (each banded name is
  checked to stay inside its band, and held the same way, for a re-plan after the plan's costs);
- ``error_ratio_vs_optimum``: worst ratio of our L1 error to the exact MILP optimum over the
  sizes of 30+ names where the MILP solves (goal ≤ 1.03); ``error_ratio_vs_optimum_10``:
  the same at 10 names, where the exact method is worth asking for;
- ``greedy_error_ratio``: median ratio of our error to a greedy allocation that buys the
  largest-deficit affordable name one share at a time (goal < 1);
- ``nearest_overspend_share``: share of trials where rounding every target to the nearest share
  ends with negative cash; ``negative_cash_plans``: plans of ours that do (must be 0), over all
  trials, with and without fees and slippage.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import FeeModel, RebalancingPlanner, RoundingMethod


@dataclass
class Portfolio:
    """One random benchmark case."""

    positions: dict[str, int]
    weights: dict[str, float]
    prices: dict[str, Decimal]
    cash: Decimal

    @property
    def value(self) -> Decimal:
        return self.cash + sum((q * self.prices[s] for s, q in self.positions.items()), Decimal(0))


def make_portfolio(rng: random.Random, n: int, from_cash: bool) -> Portfolio:
    """Names with prices of 5 to 2,000, random weights leaving 0-5% cash, 300-3,000 per name."""
    symbols = [f"S{i:05d}" for i in range(n)]
    prices = {s: Decimal(str(round(math.exp(rng.uniform(math.log(5), math.log(2000))), 2))) for s in symbols}
    raw = [rng.expovariate(1.0) for _ in symbols]
    invested = 1 - rng.uniform(0, 0.05)
    weights = {s: round(r / sum(raw) * invested, 8) for s, r in zip(symbols, raw, strict=True)}
    value = n * rng.uniform(300, 3000)
    positions: dict[str, int] = {}
    if not from_cash:
        for s in symbols:
            if rng.random() < 0.7:
                positions[s] = int(value / n * rng.uniform(0, 2) / float(prices[s]))
    held = sum((q * prices[s] for s, q in positions.items()), Decimal(0))
    cash = max(Decimal(0), Decimal(str(round(value, 2))) - held) + Decimal(str(round(value * 0.02, 2)))
    return Portfolio(positions, weights, prices, cash)


def l1_error(p: Portfolio, quantities: dict[str, int], cash: Decimal) -> float:
    """L1 distance of weights (cash included) from the targets; untargeted names count at zero."""
    total = float(cash) + sum(q * float(p.prices[s]) for s, q in quantities.items())
    error = abs(float(cash) / total - (1 - sum(p.weights.values())))
    for s in set(quantities) | set(p.weights):
        error += abs(quantities.get(s, 0) * float(p.prices[s]) / total - p.weights.get(s, 0.0))
    return error


def greedy_allocation(p: Portfolio) -> tuple[dict[str, int], Decimal]:
    """Round every target down, then buy one share at a time of the largest affordable deficit."""
    value = float(p.value)
    price = {s: float(p.prices[s]) for s in p.weights}
    shares = {s: math.floor(w * value / price[s]) for s, w in p.weights.items()}
    left = value - sum(shares[s] * price[s] for s in shares)
    while True:
        best, best_deficit = None, 0.0
        for s, w in p.weights.items():
            deficit = w - shares[s] * price[s] / value
            if price[s] <= left and deficit > best_deficit:
                best, best_deficit = s, deficit
        if best is None:
            break
        shares[best] += 1
        left -= price[best]
    return shares, Decimal(str(left))


def nearest_cash(p: Portfolio) -> Decimal:
    """Cash left after rounding every target quantity to the nearest share."""
    value = p.value
    spent = sum((round(Decimal(str(w)) * value / p.prices[s]) * p.prices[s] for s, w in p.weights.items()),
                Decimal(0))
    return value - spent


def plan(planner: RebalancingPlanner, p: Portfolio) -> tuple[dict[str, int], Decimal, float]:
    """Plan, and read the positions after it from the trades, as a bot sending them would."""
    result = planner.create_plan(current_positions=p.positions, target_weights=p.weights,
                                 prices=p.prices, cash=p.cash)
    quantities = dict(p.positions)
    for trade in result.trades:
        quantities[trade.symbol] = quantities.get(trade.symbol, 0) + trade.side.sign * int(trade.quantity)
    return quantities, result.cash_after, float(result.rounding_error)


def plan_with_rows(planner: RebalancingPlanner, p: Portfolio) -> int:
    """Plan and also build every per-symbol row (weights before, target, after; reasons)."""
    result = planner.create_plan(current_positions=p.positions, target_weights=p.weights,
                                 prices=p.prices, cash=p.cash)
    return len(result.allocations)


def main() -> None:
    quick = "--quick" in sys.argv
    rng = random.Random(20261124)
    ours = RebalancingPlanner()
    exact = RebalancingPlanner(rounding=RoundingMethod.EXACT, exact_time_limit=10)
    costly = RebalancingPlanner(fees=FeeModel(bps=5, minimum=1), slippage_bps=5, min_trade_notional=20)
    trials = {10: 40, 30: 40, 100: 30, 500: 10, 5000: 3}
    if quick:
        trials = {10: 8, 30: 8, 100: 6, 500: 2, 5000: 1}
    ratios_optimum: list[float] = []
    ratios_optimum_10: list[float] = []
    ratios_greedy: list[float] = []
    overspend = negative = total = 0
    for n, count in trials.items():
        for t in range(count):
            p = make_portfolio(rng, n, from_cash=t % 2 == 0)
            total += 1
            _, cash, error = plan(ours, p)
            _, cash_costly, _ = plan(costly, p)
            negative += (cash < 0) + (cash_costly < 0)
            overspend += nearest_cash(p) < 0
            if n <= 500:
                _, _, best = plan(exact, p)
                ratio = error / best if best > 0 else 1.0
                (ratios_optimum if n >= 30 else ratios_optimum_10).append(ratio)
            if n <= 500 and not p.positions:
                shares, left = greedy_allocation(p)
                greedy = l1_error(p, shares, left)
                ratios_greedy.append(error / greedy if greedy > 0 else 1.0)
    p = make_portfolio(random.Random(5000), 5000, from_cash=False)
    banded_planner = RebalancingPlanner(absolute_band=Decimal("0.001"))
    timings, cpu, with_rows, naive, banded = [], [], [], [], []
    for _ in range(3 if quick else 9):
        start, start_cpu = time.perf_counter(), time.process_time()
        plan(ours, p)
        timings.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        start = time.perf_counter()
        plan_with_rows(ours, p)
        with_rows.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        nearest_cash(p)
        naive.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        plan(banded_planner, p)
        banded.append((time.perf_counter() - start) * 1000)
    result = {
        "plan_ms_5000": round(statistics.median(timings), 2),
        "plan_cpu_ms_5000": round(statistics.median(cpu), 2),
        "plan_with_rows_ms_5000": round(statistics.median(with_rows), 2),
        "plan_vs_nearest_ratio": round(statistics.median(timings) / statistics.median(naive), 2),
        "plan_banded_ms_5000": round(statistics.median(banded), 2),
        "error_ratio_vs_optimum": round(max(ratios_optimum), 4),
        "error_ratio_vs_optimum_10": round(max(ratios_optimum_10), 4),
        "median_error_ratio_vs_optimum": round(statistics.median(ratios_optimum), 4),
        "greedy_error_ratio": round(statistics.median(ratios_greedy), 4),
        "nearest_overspend_share": round(overspend / total, 4),
        "negative_cash_plans": negative,
        "trials": total,
    }
    print(f"plan at 5,000 names: {result['plan_ms_5000']} ms (median); trials: {total}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
