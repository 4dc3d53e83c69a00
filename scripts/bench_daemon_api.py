"""Benchmark the daemon's control API: status reads per second, against a bare Starlette route.

``.venv/bin/python scripts/bench_daemon_api.py [--quick]`` (after the README's set-up).

Both servers run in this process on 127.0.0.1 (real uvicorn, real sockets, one keep-alive
connection per client worker), on a real-time loop, and are read by the same httpx client. The
API is the daemon's app over a ``TradingService`` on the simulated demo venue with ``PARENTS``
working parents; the baseline is a bare Starlette route answering a fixed JSON body of the same
size as one parent. Rounds alternate API and baseline, so a busy neighbour on this shared machine
slows both alike; the figures are medians over the rounds. Prints a few human lines, then one
JSON object on the last line:

- ``api_reads_per_s``: ``GET /v1/parents/{id}`` (token checked, a live view of a working parent
  built, serialised) per second;
- ``bare_starlette_reads_per_s``: the baseline's reads per second;
- ``api_to_bare_ratio``: the first over the second, per round, median (1.0 would mean the API
  costs nothing over the bare framework);
- ``api_list_reads_per_s``: ``GET /v1/parents`` (all ``PARENTS`` parents) per second.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anyio
import httpx
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from daemon.api import create_app, serve_api
from daemon.service import TradingService
from daemon.views import TwapRequest
from gateways.simulated import SimulatedVenue

TOKEN = "bench-token-0123456789abcdef"
PARENTS = 20
CONCURRENCY = 4


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = anyio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()


def bare_app(body: bytes) -> Starlette:
    """A bare Starlette route answering ``body`` as JSON."""

    async def read(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/v1/parents/{parent_id}", read)])


async def serve_bare(app: Starlette, *, task_status: anyio.abc.TaskStatus[int]) -> None:
    """The baseline on uvicorn with the same settings as the API's server."""
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, server_header=False)
    server = _Server(config)
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the API's server does
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(server.serve, [sock])
        await server.listening.wait()
        task_status.started(sock.getsockname()[1])
        try:
            await anyio.sleep_forever()
        finally:
            server.should_exit = True


async def reads_per_second(
    client: httpx.AsyncClient, paths: list[str], requests: int, headers: dict[str, str]
) -> float:
    """``requests`` GETs over ``CONCURRENCY`` workers cycling through ``paths``; requests per second."""
    count = requests // CONCURRENCY

    async def worker(offset: int) -> None:
        for index in range(count):
            response = await client.get(paths[(offset + index) % len(paths)], headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{response.request.url} answered {response.status_code}")

    started = time.perf_counter()
    async with anyio.create_task_group() as task_group:
        for offset in range(CONCURRENCY):
            task_group.start_soon(worker, offset)
    return count * CONCURRENCY / (time.perf_counter() - started)


async def measure(rounds: int, requests: int) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with (
        SimulatedVenue.demo() as venue,
        TradingService(venue, progress_interval=3600) as service,
        anyio.create_task_group() as task_group,
    ):
        ids = []
        for number in range(PARENTS):
            symbol = ("AAPL", "MSFT", "GOOGL")[number % 3]
            request = TwapRequest(
                symbol=symbol, side="buy", quantity=1000, num_slices=100, interval_seconds=60
            )
            ids.append((await service.submit_twap(request)).parent_id)
        api = await task_group.start(serve_api, create_app(service, token=TOKEN), "127.0.0.1", 0)
        one = (await service.get_parent(ids[0])).to_dict()
        bare_port = await task_group.start(serve_bare, bare_app(json.dumps(one).encode()))
        paths = [f"/v1/parents/{parent_id}" for parent_id in ids]
        api_rates, bare_rates, ratios, list_rates = [], [], [], []
        async with (
            httpx.AsyncClient(base_url=api.url, limits=limits) as api_client,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{bare_port}", limits=limits) as bare_client,
        ):
            await reads_per_second(api_client, paths, 200, auth)  # warm both up
            await reads_per_second(bare_client, paths, 200, {})
            for number in range(rounds):
                runs: list[tuple[str, Callable[[], Awaitable[float]]]] = [
                    ("api", lambda: reads_per_second(api_client, paths, requests, auth)),
                    ("bare", lambda: reads_per_second(bare_client, paths, requests, {})),
                ]
                if number % 2:
                    runs.reverse()
                rates = {name: await run() for name, run in runs}
                api_rates.append(rates["api"])
                bare_rates.append(rates["bare"])
                ratios.append(rates["api"] / rates["bare"])
                list_rates.append(await reads_per_second(api_client, ["/v1/parents"], requests // 4, auth))
                print(
                    f"round {number + 1}: API {rates['api']:,.0f}/s, bare Starlette {rates['bare']:,.0f}/s, "
                    f"ratio {ratios[-1]:.2f}; list of {PARENTS}: {list_rates[-1]:,.0f}/s",
                    flush=True,
                )
        task_group.cancel_scope.cancel()
    return {
        "api_reads_per_s": round(statistics.median(api_rates)),
        "bare_starlette_reads_per_s": round(statistics.median(bare_rates)),
        "api_to_bare_ratio": round(statistics.median(ratios), 3),
        "api_list_reads_per_s": round(statistics.median(list_rates)),
        "parents": PARENTS,
        "concurrency": CONCURRENCY,
        "rounds": rounds,
        "requests_per_round": requests,
    }


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    # Keep the service's and the venue's logs out of the figures.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    result = anyio.run(measure, 3 if quick else 7, 800 if quick else 4000, backend="asyncio")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
