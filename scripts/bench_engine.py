"""Benchmark the engine's main loop. ``.venv/bin/python scripts/bench_engine.py [--quick]``.

Prints progress lines and, on its last line, one JSON object:

- ``child_orders_per_s``: 1,000 concurrent TWAP parents × 100 market slices on virtual time
  through the whole path (queue, simulated venue, fills, monitor, reports), child orders per
  second of wall time;
- ``child_orders_per_s_gc_tuned``: the same run with ``gc.set_threshold(10_000, 10, 10)``, as an
  application running big backtests may set it (the default collector's full passes over the
  books the venue and the engine keep grow with the run);
- ``virtual_ratio``: that rate ÷ the rate of a bare virtual-time loop doing the same number of
  sleeps (1,000 tasks × 100 sleeps) in the same run; ``venue_only_orders_per_s`` is the simulated
  venue alone taking the same orders from 1,000 tasks (the floor under the whole path);
- ``lateness_p50_ms`` / ``lateness_p99_ms``: on the real clock with 1,000 concurrent parents whose
  starts are spread over one interval, the time each slice's child left the queue for the venue
  minus the slice's scheduled time; ``aligned_burst_lateness_*`` is the same with every parent on
  one slice clock (1,000 children due at the same instant, so it measures the burst's queueing);
  ``*_gc_frozen`` repeats the staggered run with ``gc.freeze()`` after set-up (full collections
  over a large heap otherwise pause the loop for tens of milliseconds);
- ``peak_rss_mb_10k_parents``: peak resident memory of a fresh process running 10,000 concurrent
  parents × 10 slices on virtual time; ``venue_only_peak_rss_mb`` is a fresh process where 10,000
  tasks send the same orders straight to the venue (its share of the figure). The two processes
  run side by side: each reports only its own peak, so sharing the cores does not change them.

Every run uses a venue without latency. On virtual time each distinct timer instant is one clock
jump (a pass of the loop with an I/O poll), so random latencies would give every order its own
jump and measure that, not the engine.
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402  # after the path set-up above, so the script runs from a checkout
import structlog  # noqa: E402  # idem

from engine import ExecutionEngine, Order, OrderSide, run_virtual  # noqa: E402  # idem
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec  # noqa: E402  # idem

SYMBOLS = ("AAPL", "MSFT", "GOOGL", "AMZN", "NVDA")
GC_TUNED = (10_000, 10, 10)  # gen-0 collections 14 times rarer than CPython's default 700


def quiet_logs() -> None:
    """The benchmark is an application: it keeps only warnings, like a production setup."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def make_venue(latency: LatencyModel | None = None) -> SimulatedVenue:
    specs = [
        SymbolSpec(symbol=s, price=100 + 10 * i, volatility=0.02, displayed_size=1_000_000)
        for i, s in enumerate(SYMBOLS)
    ]
    return SimulatedVenue(
        specs,
        seed=11,
        latency=latency,
        cash=10**12,
        positions=dict.fromkeys(SYMBOLS, 10**9),
        step=60.0,
    )


async def run_parents(
    parents: int,
    slices: int,
    interval: float,
    latency: LatencyModel | None,
    stagger: bool = False,
    freeze_gc: bool = False,
) -> dict[str, Any]:
    """Run ``parents`` concurrent TWAPs; return child count and slice lateness samples.

    All parents share one slice clock, or with ``stagger`` their starts spread evenly over one
    interval (as parents submitted at different moments would be). ``freeze_gc`` moves everything
    built during set-up out of the collector's way (``gc.freeze()``), as latency-minded services do.
    """
    venue = make_venue(latency)
    async with venue, ExecutionEngine(venue, seed=5, num_slices=slices, interval_seconds=interval) as engine:
        # Room for the set-up of every parent before the first slice is due.
        start = anyio.current_time() + 1.0 + parents * 0.002
        handles = [
            await engine.start_twap(
                SYMBOLS[i % len(SYMBOLS)],
                slices * 10,
                OrderSide.BUY if i % 2 else OrderSide.SELL,
                start_time=start + (interval * i / parents if stagger else 0.0),
            )
            for i in range(parents)
        ]
        if freeze_gc:
            gc.freeze()
        reports = [await h.wait() for h in handles]
        if freeze_gc:
            gc.unfreeze()
    lateness = [s.sent_at - s.scheduled_at for r in reports for s in r.slices if s.sent_at is not None]
    return {
        "children": sum(r.child_orders for r in reports),
        "filled": all(r.filled_quantity == r.quantity for r in reports),
        "lateness": lateness,
    }


async def bare_venue(parents: int, slices: int, interval: float) -> int:
    """The venue alone: the same number of market orders, straight to ``submit_order``."""
    venue = make_venue(LatencyModel.zero())
    async with venue:

        async def one(i: int) -> None:
            for _ in range(slices):
                await anyio.sleep(interval)
                await venue.submit_order(Order(SYMBOLS[i % len(SYMBOLS)], "buy", 10))

        async with anyio.create_task_group() as task_group:
            for i in range(parents):
                task_group.start_soon(one, i)
    return parents * slices


async def bare_sleeps(tasks: int, sleeps: int, interval: float) -> None:
    async def one() -> None:
        for _ in range(sleeps):
            await anyio.sleep(interval)

    async with anyio.create_task_group() as task_group:
        for _ in range(tasks):
            task_group.start_soon(one)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def memory_child(parents: int, slices: int, venue_only: int = 0) -> None:
    quiet_logs()
    if venue_only:
        run_virtual(bare_venue, parents, slices, 60.0)
    else:
        run_virtual(run_parents, parents, slices, 60.0, LatencyModel.zero())
    print(json.dumps({"peak_rss_mb": peak_rss_kb() / 1024}))


def peak_rss_kb() -> int:
    """This process's peak resident memory in KiB.

    Linux keeps ``ru_maxrss`` across ``exec``: a child started by a big parent reports at least
    the parent's size at the fork. ``VmHWM`` belongs to the process's own memory map, so it
    starts afresh at ``exec``; ``ru_maxrss`` is the fallback where there is no ``/proc``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def timed(func: Any, *args: Any) -> tuple[Any, float]:
    began = time.perf_counter()
    result = run_virtual(func, *args)
    return result, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller run (100 parents) for a smoke test")
    parser.add_argument("--memory-child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    quiet_logs()
    parents = 100 if args.quick else 1000
    slices = 100
    zero = LatencyModel.zero()

    _, elapsed = timed(bare_sleeps, parents, slices, 60.0)
    bare_rate = parents * slices / elapsed
    print(f"bare virtual loop: {bare_rate:,.0f} sleeps/s", flush=True)

    orders, elapsed = timed(bare_venue, parents, slices, 60.0)
    venue_rate = orders / elapsed
    print(f"venue alone: {venue_rate:,.0f} orders/s", flush=True)

    virtual, elapsed = timed(run_parents, parents, slices, 60.0, zero)
    rate = virtual["children"] / elapsed
    print(
        f"engine on virtual time: {virtual['children']:,} children in {elapsed:.2f}s = {rate:,.0f}/s",
        flush=True,
    )
    # The same run with the collector tuned as a big backtest may tune it: its full passes over
    # the growing books (every order, fill and event is kept) cost more as the run grows.
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_TUNED)
    try:
        tuned, tuned_elapsed = timed(run_parents, parents, slices, 60.0, zero)
    finally:
        gc.set_threshold(*thresholds)
    tuned_rate = tuned["children"] / tuned_elapsed
    print(f"same, collector thresholds {GC_TUNED}: {tuned_rate:,.0f}/s", flush=True)

    real_interval = 2.0
    staggered = anyio.run(run_parents, parents, 3, real_interval, zero, True, backend="asyncio")
    lateness_ms = [1000 * x for x in staggered["lateness"]]
    frozen = anyio.run(run_parents, parents, 3, real_interval, zero, True, True, backend="asyncio")
    frozen_ms = [1000 * x for x in frozen["lateness"]]
    aligned = anyio.run(run_parents, parents, 3, real_interval, zero, False, backend="asyncio")
    burst_ms = [1000 * x for x in aligned["lateness"]]
    print(f"real clock: {len(lateness_ms)} staggered slices, {len(burst_ms)} aligned", flush=True)

    memory_parents = 1000 if args.quick else 10_000

    def start_memory_child(venue_only: int) -> subprocess.Popen[str]:
        command = [sys.executable, __file__, "--memory-child", str(memory_parents), "10", str(venue_only)]
        return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)

    def peak_rss(child: subprocess.Popen[str]) -> float:
        out, _ = child.communicate()
        if child.returncode:
            raise subprocess.CalledProcessError(child.returncode, child.args, out)
        return float(json.loads(out.strip().splitlines()[-1])["peak_rss_mb"])

    # Started after every timed run, so they never share the cores with a measurement of speed.
    engine_child, venue_child = start_memory_child(0), start_memory_child(1)
    peak, venue_peak = peak_rss(engine_child), peak_rss(venue_child)
    print(f"{memory_parents:,} parents × 10 slices: peak RSS {peak:.0f} MB (venue alone {venue_peak:.0f} MB)")

    result = {
        "parents": parents,
        "slices": slices,
        "venue_latency": "zero",
        "child_orders": virtual["children"],
        "all_filled": virtual["filled"] and staggered["filled"] and aligned["filled"],
        "child_orders_per_s": round(rate),
        "child_orders_per_s_gc_tuned": round(tuned_rate),
        "bare_sleeps_per_s": round(bare_rate),
        "virtual_ratio": round(rate / bare_rate, 4),
        "venue_only_orders_per_s": round(venue_rate),
        "engine_vs_venue_only": round(rate / venue_rate, 3),
        "real_clock_slices": f"{parents} parents x 3 slices at {real_interval:g} s",
        "lateness_samples": len(lateness_ms),
        "lateness_p50_ms": round(percentile(lateness_ms, 0.5), 3),
        "lateness_p99_ms": round(percentile(lateness_ms, 0.99), 3),
        "lateness_p50_ms_gc_frozen": round(percentile(frozen_ms, 0.5), 3),
        "lateness_p99_ms_gc_frozen": round(percentile(frozen_ms, 0.99), 3),
        "aligned_burst_lateness_p50_ms": round(percentile(burst_ms, 0.5), 3),
        "aligned_burst_lateness_p99_ms": round(percentile(burst_ms, 0.99), 3),
        "peak_rss_mb_10k_parents": round(peak, 1) if not args.quick else None,
        "venue_only_peak_rss_mb": round(venue_peak, 1),
        "memory_parents": memory_parents,
        "memory_slices": 10,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
