"""Benchmark the served venue's own cost: one request's round trip over HTTP on 127.0.0.1.

``.venv/bin/python scripts/bench_served_venue.py [--requests N]`` (after the README's set-up).

The server and a plain aiohttp client share one process and one event loop (this machine has two
shared cores), against the demo venue without latency. Requests go one at a time, signed as
Binance wants, so each figure is the server's work plus the loop's and the client's, not the
network's. Prints a few human lines, then one JSON object on the last line:

- ``time_p50_ms`` / ``time_p99_ms``: ``GET /api/v3/time`` (routing, limits, JSON, no venue);
- ``order_ack_p50_ms`` / ``..._p99_ms``: ``POST /api/v3/order`` with ``newOrderRespType=ACK``
  (signature, checks, the venue's submit);
- ``order_full_p50_ms`` / ``..._p99_ms``: the same with ``FULL`` (the default; one more venue
  look-up for the fills);
- ``order_vs_time``: the ACK order's p50 over the ``time`` p50 (what an order costs above the
  bare HTTP path);
- ``inprocess_submit_p50_ms``: ``await venue.submit_order`` on the same venue, no HTTP (the
  baseline); ``http_overhead_ratio``: ACK order p50 over it.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from urllib.parse import urlencode

import aiohttp
import anyio
import structlog

from engine.orders import Order
from gateways.served import BinanceLimits, ServedEndpoints, serve_venue
from gateways.simulated import LatencyModel, SimulatedVenue

_UNLIMITED = BinanceLimits(request_weight_per_minute=10**8, orders_per_10s=10**8, orders_per_day=10**8)


def _p(samples: list[float], quantile: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000


async def _time_requests(session: aiohttp.ClientSession, served: ServedEndpoints, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        async with session.get(f"{served.rest_url}/time") as answer:
            await answer.read()
        samples.append(time.perf_counter() - started)
    return samples


async def _orders(
    session: aiohttp.ClientSession, served: ServedEndpoints, count: int, response_type: str
) -> list[float]:
    headers = {"X-MBX-APIKEY": served.api_key, "Content-Type": "application/x-www-form-urlencoded"}
    samples = []
    for number in range(count):
        query = urlencode({
            "symbol": "AAPLUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1",
            "price": "100", "newClientOrderId": f"{response_type}-{number}",
            "newOrderRespType": response_type, "timestamp": int(time.time() * 1000),
        })
        body = f"{query}&signature={served.exchange.credentials.sign(query)}"
        started = time.perf_counter()
        async with session.post(f"{served.rest_url}/order", data=body, headers=headers) as answer:
            await answer.read()
            assert answer.status == 200, await answer.text()
        samples.append(time.perf_counter() - started)
    return samples


async def _inprocess(count: int) -> list[float]:
    venue = SimulatedVenue.demo(latency=LatencyModel.zero(), rate_limits=[])
    samples = []
    async with venue:
        for number in range(count):
            order = Order(symbol="AAPL", side="buy", quantity=1, order_type="limit", limit_price=100,
                          client_order_id=f"in-{number}")
            started = time.perf_counter()
            await venue.submit_order(order)
            samples.append(time.perf_counter() - started)
    return samples


async def measure(count: int) -> dict[str, float]:
    venue = SimulatedVenue.demo(latency=LatencyModel.zero(), rate_limits=[])
    async with serve_venue(venue, limits=_UNLIMITED) as served, aiohttp.ClientSession() as session:
        await _time_requests(session, served, 20)  # warm up
        times = await _time_requests(session, served, count)
        acks = await _orders(session, served, count, "ACK")
        fulls = await _orders(session, served, count, "FULL")
    inprocess = await _inprocess(count)
    return {
        "time_p50_ms": round(_p(times, 0.5), 3),
        "time_p99_ms": round(_p(times, 0.99), 3),
        "order_ack_p50_ms": round(_p(acks, 0.5), 3),
        "order_ack_p99_ms": round(_p(acks, 0.99), 3),
        "order_full_p50_ms": round(_p(fulls, 0.5), 3),
        "order_full_p99_ms": round(_p(fulls, 0.99), 3),
        "order_vs_time": round(statistics.median(acks) / statistics.median(times), 2),
        "inprocess_submit_p50_ms": round(_p(inprocess, 0.5), 4),
        "http_overhead_ratio": round(statistics.median(acks) / statistics.median(inprocess), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="the served venue's round trip over HTTP")
    parser.add_argument("--requests", type=int, default=500, help="requests of each kind (default 500)")
    arguments = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    figures = anyio.run(measure, arguments.requests)
    print(f"GET time p50 {figures['time_p50_ms']} ms, p99 {figures['time_p99_ms']} ms")
    print(f"POST order ACK p50 {figures['order_ack_p50_ms']} ms, FULL p50 {figures['order_full_p50_ms']} ms")
    print(f"in process submit p50 {figures['inprocess_submit_p50_ms']} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
