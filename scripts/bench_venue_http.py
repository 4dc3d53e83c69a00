"""Benchmark child orders through ccxt and HTTP against the served paper exchange.

``.venv/bin/python scripts/bench_venue_http.py [--orders N] [--concurrency C]`` (after the README's
set-up). The same N small market orders (C in flight at a time) go two ways, in the same run, on a
real event loop:

- through ``CcxtGateway`` (ccxt REST to place, ccxt.pro's user-data stream for the fills) over
  HTTP and WebSocket on 127.0.0.1 to ``serve_venue`` (server and client share this process and its
  loop, so the figure includes the server's own work);
- straight to the ``SimulatedVenue`` in process (zero latency): the baseline (median of five runs).

An order counts as done when its submit is answered and its fill event has arrived. The server's
limits are raised so that they do not bind (the figure is the wire's cost, not Binance's 5 orders
per second). Prints a few human lines, then one JSON object on the last line:

- ``http_orders_per_second`` and ``inprocess_orders_per_second``;
- ``http_vs_inprocess``: their ratio;
- ``submit_p50_ms`` / ``submit_p99_ms``: the round trip of one submit through ccxt and HTTP.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anyio
import structlog

from engine import Order, OrderFilled, TradingGateway
from gateways.ccxt import Backoff, CcxtGateway, CcxtSettings
from gateways.served import BinanceLimits, serve_venue
from gateways.simulated import LatencyModel, SimulatedVenue


def quiet_venue() -> SimulatedVenue:
    return SimulatedVenue.demo(seed=1, latency=LatencyModel.zero(), rate_limits=[])


async def drive(
    gateway: TradingGateway, orders: int, concurrency: int, prefix: str
) -> tuple[float, list[float]]:
    """Send ``orders`` market orders, ``concurrency`` at a time; wall seconds until every one is
    answered and filled, and each submit's round trip in seconds."""
    round_trips: list[float] = []
    symbol = next(iter(gateway.instruments))
    pending = {f"{prefix}{index}" for index in range(orders)}
    filled = anyio.Event()
    remaining = set(pending)

    async def watch_fills() -> None:
        async for event in gateway.events():
            if isinstance(event, OrderFilled) and event.client_order_id in remaining:
                remaining.discard(event.client_order_id)
                if not remaining:
                    filled.set()
                    return

    ids = iter(sorted(pending))

    async def sender() -> None:
        for client_order_id in ids:
            order = Order(symbol=symbol, side="buy", quantity=1, client_order_id=client_order_id)
            started = time.perf_counter()
            await gateway.submit_order(order)
            round_trips.append(time.perf_counter() - started)

    async with anyio.create_task_group() as group:
        group.start_soon(watch_fills)
        started = time.perf_counter()
        async with anyio.create_task_group() as senders:
            for _ in range(concurrency):
                senders.start_soon(sender)
        with anyio.fail_after(120):
            await filled.wait()
        elapsed = time.perf_counter() - started
        group.cancel_scope.cancel()
    return elapsed, round_trips


async def over_http(orders: int, concurrency: int) -> tuple[float, list[float]]:
    limits = BinanceLimits(request_weight_per_minute=10**7, orders_per_10s=10**6, orders_per_day=10**7)
    header_limits = {
        "X-MBX-USED-WEIGHT-1M": 10**7,
        "X-MBX-ORDER-COUNT-10S": 10**6,
        "X-MBX-ORDER-COUNT-1D": 10**7,
    }
    async with serve_venue(quiet_venue(), limits=limits) as served:
        settings = CcxtSettings(
            "binance", served.api_key, served.secret, base_url=f"http://{served.host}:{served.port}"
        )
        async with CcxtGateway(settings, backoff=Backoff(0.05, 0.5), header_limits=header_limits) as gateway:
            await gateway.get_quote(next(iter(gateway.instruments)))  # warm the connection
            return await drive(gateway, orders, concurrency, "H")


async def in_process(orders: int, concurrency: int) -> tuple[float, list[float]]:
    async with quiet_venue() as venue:
        return await drive(venue, orders, concurrency, "P")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(measure: Callable[[int, int], Awaitable[tuple[float, list[float]]]], *arguments: Any) -> Any:
    return anyio.run(measure, *arguments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    options = parser.parse_args()
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    http_seconds, trips = run(over_http, options.orders, options.concurrency)
    # the in-process run takes milliseconds: the median of five steadies the baseline
    local_runs = [run(in_process, options.orders, options.concurrency)[0] for _ in range(5)]
    local_seconds = statistics.median(local_runs)
    http_rate = options.orders / http_seconds
    local_rate = options.orders / local_seconds
    figures = {
        "orders": options.orders,
        "concurrency": options.concurrency,
        "http_orders_per_second": round(http_rate, 1),
        "inprocess_orders_per_second": round(local_rate, 1),
        "http_vs_inprocess": float(Decimal(http_rate / local_rate).quantize(Decimal("0.0001"))),
        "submit_p50_ms": round(1000 * statistics.median(trips), 2),
        "submit_p99_ms": round(1000 * percentile(trips, 0.99), 2),
    }
    print(f"through ccxt + HTTP: {http_rate:,.0f} child orders/s (submit p50 {figures['submit_p50_ms']} ms)")
    print(f"in process:          {local_rate:,.0f} child orders/s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
