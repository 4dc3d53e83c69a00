"""Benchmark the daemon's core. ``.venv/bin/python scripts/bench_daemon.py [--quick]``.

Prints progress lines and, on its last line, one JSON object:

- ``child_orders_per_s_journal_off``: parents × market slices through the ``TradingService`` on
  virtual time against a simulated venue without latency (queue, venue, fills, monitor, reports,
  the service's own counting), with no journal; child orders per second of wall time;
- ``child_orders_per_s_journal_normal`` / ``_full``: the same with the SQLite journal on, each
  commit left to the operating system (``synchronous = "normal"``, the default: it survives the
  daemon's crash, ``kill -9`` included) or flushed to the disk (``"full"``: the machine's crash too);
- ``journal_overhead_ratio``: journal-off rate ÷ journal-on rate (``normal``): the median over
  five pairs of runs made back to back; ``journal_overhead_ratio_cpu`` the same by this process's
  CPU time (steadier on a shared machine); ``journal_overhead_ratio_full`` for ``full`` (one run);
- ``journal_write_p50_us`` / ``journal_write_p99_us`` (``normal``): the bucket bound under which
  half (99%) of the journal's transactions took;
- ``journal_write_us``: one journal write alone (a child, its ack and its fill written 2,000
  times in a row, ``normal``), in microseconds;
- ``recovery_seconds_1000_parents``: wall time of a start that finds 1,000 open parents, each
  with one child the journal never saw answered (half of them resting at the venue: looked up,
  cancelled and waited for; half never sent: looked up, unknown), until every parent is resumed;
  ``recovery_lookups`` and ``recovery_cancels`` count the look-ups and cancels it made.

The venue has no latency and the run is on virtual time: what is measured is the daemon's own
work (and the disk's), not waiting.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402  # after the path set-up above, so the script runs from a checkout
import structlog  # noqa: E402  # idem

from daemon.journal import Journal  # noqa: E402  # idem
from daemon.service import TradingService  # noqa: E402  # idem
from daemon.views import TwapRequest  # noqa: E402  # idem
from engine import Order, OrderFilled, OrderSide, run_virtual  # noqa: E402  # idem
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec  # noqa: E402  # idem

SYMBOLS = ("AAPL", "MSFT", "GOOGL", "AMZN", "NVDA")


def quiet_logs() -> None:
    """The benchmark is an application: it keeps only warnings."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def make_venue() -> SimulatedVenue:
    specs = [
        SymbolSpec(symbol=s, price=100 + 10 * i, volatility=0.02, displayed_size=1_000_000)
        for i, s in enumerate(SYMBOLS)
    ]
    return SimulatedVenue(
        specs,
        seed=11,
        latency=LatencyModel.zero(),
        cash=10**12,
        positions=dict.fromkeys(SYMBOLS, 10**9),
        step=60.0,
    )


async def _orders_run(
    parents: int, slices: int, journal_path: Path | None, synchronous: str
) -> tuple[int, float, float, Any]:
    journal = (
        Journal.open(journal_path, venue="bench", account="a", synchronous=synchronous)
        if journal_path is not None
        else None
    )
    try:
        async with (
            make_venue() as venue,
            TradingService(venue, journal=journal, venue="bench", account="a") as service,
        ):
            started, cpu_started = time.perf_counter(), time.process_time()
            views = [
                await service.submit_twap(
                    TwapRequest(
                        symbol=SYMBOLS[n % len(SYMBOLS)],
                        side="buy" if n % 2 == 0 else "sell",
                        quantity=slices * 10,
                        num_slices=slices,
                        interval_seconds=60,
                    )
                )
                for n in range(parents)
            ]
            for view in views:
                while not (await service.get_parent(view.parent_id)).is_final:  # noqa: ASYNC110 - polls as a client would
                    await anyio.sleep(60)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            sent = (await service.statistics()).orders_sent
            latency = journal.latency.summary() if journal is not None else None
    finally:
        if journal is not None:
            journal.close()
    return sent, elapsed, cpu, latency


def orders_per_second(parents: int, slices: int, journal: str | None) -> tuple[float, float, Any]:
    """Child orders per second of wall time and per second of this process's CPU time."""
    with tempfile.TemporaryDirectory() as folder:
        path = None if journal is None else Path(folder) / "bench.sqlite3"
        sent, elapsed, cpu, latency = run_virtual(_orders_run, parents, slices, path, journal or "full")
    return float(sent / elapsed), float(sent / cpu), latency


def journal_write_us(children: int = 2000) -> float:
    """Microseconds per journal write, with nothing else running."""
    with tempfile.TemporaryDirectory() as folder, Journal.open(
        Path(folder) / "bench.sqlite3", venue="bench", account="a"
    ) as journal:
        orders = [Order("AAPL", "buy", 10, client_order_id=f"c{n}") for n in range(children)]
        started = time.perf_counter()
        for n, order in enumerate(orders):
            journal.record_child(order)
            journal.record_ack(order.client_order_id, f"v{n}")
            journal.record_fill(
                OrderFilled(
                    client_order_id=order.client_order_id,
                    symbol="AAPL",
                    timestamp=1.0,
                    trade_id=f"t{n}",
                    side=OrderSide.BUY,
                    quantity=Decimal(10),
                    price=Decimal(100),
                    fee=Decimal(0),
                )
            )
        return (time.perf_counter() - started) / (3 * children) * 1e6


def _percentile_us(summary: Any, share: float) -> float:
    """The bucket bound under which ``share`` of the journal writes fell, in microseconds."""
    wanted = share * summary.count
    for bound, count in summary.buckets:
        if count >= wanted:
            return float(bound) * 1e6
    return float(summary.max_seconds) * 1e6


async def _recovery_run(path: Path, parents: int) -> tuple[float, int, int]:
    async with make_venue() as venue:
        with Journal.open(path, venue="bench", account="a", synchronous="normal") as journal:
            for n in range(parents):
                symbol = SYMBOLS[n % len(SYMBOLS)]
                request = TwapRequest(
                    symbol=symbol, side="buy", quantity=100, num_slices=10, interval_seconds=60
                )
                now = time.time()
                journal.record_parent(f"P{n}", request, created_at=now, deadline_at=now + request.duration)
                journal.record_segment(f"S{n}", f"P{n}", Decimal(100))
                # The crash came while a child was on its way: half reached the venue and rest there.
                order = Order(
                    symbol, "buy", 10, "limit", limit_price=50, client_order_id=f"child{n}", parent_id=f"S{n}"
                )
                journal.record_child(order)
                if n % 2 == 0:
                    await venue.submit_order(order)
        with Journal.open(path, venue="bench", account="a") as journal:
            started = time.perf_counter()
            async with TradingService(venue, journal=journal, venue="bench", account="a") as service:
                elapsed = time.perf_counter() - started
                assert service.recovery is not None
                assert service.recovery.counts() == {"resume": parents}, service.recovery.counts()
                lookups = service.recovery.children_looked_up
                cancels = service.recovery.children_cancelled
                service.stop_accepting()
    return elapsed, lookups, cancels


def recovery_seconds(parents: int) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as folder:
        seconds, lookups, cancels = run_virtual(_recovery_run, Path(folder) / "bench.sqlite3", parents)
    return float(seconds), int(lookups), int(cancels)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    arguments = parser.parse_args()
    quiet_logs()
    parents, slices, rounds = (20, 10, 1) if arguments.quick else (100, 20, 5)
    recovery_parents = 100 if arguments.quick else 1000

    # Off and normal in pairs, back to back, so the machine's noise hits both alike; each pair
    # gives a ratio, and the median pair ratio is reported (by wall time and by CPU time).
    wall: dict[str, list[float]] = {"off": [], "normal": []}
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    latency: Any = None
    for round_number in range(rounds):
        pair = {}
        for mode in ("off", "normal"):
            rate, cpu_rate, summary = orders_per_second(parents, slices, None if mode == "off" else mode)
            wall[mode].append(rate)
            pair[mode] = (rate, cpu_rate)
            if summary is not None:
                latency = summary
            print(f"round {round_number + 1}: journal {mode}: {rate:,.0f} child orders/s", flush=True)
        ratios.append(pair["off"][0] / pair["normal"][0])
        cpu_ratios.append(pair["off"][1] / pair["normal"][1])
    full_rate, _, _ = orders_per_second(parents, slices, "full")
    print(f"journal full: {full_rate:,.0f} child orders/s", flush=True)
    medians = {mode: statistics.median(values) for mode, values in wall.items()}
    write_us = journal_write_us()
    print(f"one journal write: {write_us:.0f} us", flush=True)
    seconds, lookups, cancels = recovery_seconds(recovery_parents)
    print(
        f"recovery of {recovery_parents} open parents: {seconds:.2f} s"
        f" ({lookups} look-ups, {cancels} cancels)",
        flush=True,
    )
    result = {
        "child_orders_per_s_journal_off": round(medians["off"]),
        "child_orders_per_s_journal_normal": round(medians["normal"]),
        "child_orders_per_s_journal_full": round(full_rate),
        "journal_overhead_ratio": round(statistics.median(ratios), 2),
        "journal_overhead_ratio_cpu": round(statistics.median(cpu_ratios), 2),
        "journal_overhead_ratio_full": round(medians["off"] / full_rate, 2),
        "journal_write_p50_us": round(_percentile_us(latency, 0.5)),
        "journal_write_p99_us": round(_percentile_us(latency, 0.99)),
        f"recovery_seconds_{recovery_parents}_parents": round(seconds, 2),
        "journal_write_us": round(write_us),
        "recovery_lookups": lookups,
        "recovery_cancels": cancels,
        "child_orders_per_run": parents * slices,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
