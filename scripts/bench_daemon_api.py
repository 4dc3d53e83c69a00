"""Benchmark the daemon's control API: status reads per second, against a bare Starlette route.

``.venv/bin/python scripts/bench_daemon_api.py [--quick]`` (after the README's set-up).

Both servers run in this process on 127.0.0.1 (real uvicorn, real sockets, one keep-alive
connection per client worker), on a real-time loop, and are read by the same httpx client. The
API is the daemon's app over a ``TradingService`` on the simulated demo venue with ``PARENTS``
working parents; the baseline is a bare Starlette route answering a fixed JSON body of the same
size as one parent. Short batches alternate API and baseline (which goes first alternates too),
so a busy neighbour on this shared machine slows both alike; the figures are medians over the
batches, per wall second and per CPU second of this process (client and servers together: the
steadier figure when other work shares the cores). Prints a human line, then one JSON object on
the last line:

- ``api_reads_per_s``: ``GET /v1/parents/{id}`` (token checked, a live view of a working parent
  built, serialised) per second; ``api_reads_per_cpu_s`` the same per CPU second;
- ``bare_starlette_reads_per_s`` and ``bare_starlette_reads_per_cpu_s``: the baseline's;
- ``api_to_bare_ratio`` and ``api_to_bare_cpu_ratio``: API over baseline, per pair of batches,
  median (1.0 would mean the API costs nothing over the bare framework and client);
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
import attrs
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


@attrs.frozen
class Batch:
    """One timed batch of reads: per wall second and per CPU second of this process."""

    per_wall_second: float
    per_cpu_second: float


async def read_batch(
    client: httpx.AsyncClient, paths: list[str], requests: int, headers: dict[str, str]
) -> Batch:
    """``requests`` GETs over ``CONCURRENCY`` workers cycling through ``paths``."""
    count = requests // CONCURRENCY

    async def worker(offset: int) -> None:
        for index in range(count):
            response = await client.get(paths[(offset + index) % len(paths)], headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{response.request.url} answered {response.status_code}")

    wall, cpu = time.perf_counter(), time.process_time()
    async with anyio.create_task_group() as task_group:
        for offset in range(CONCURRENCY):
            task_group.start_soon(worker, offset)
    done = count * CONCURRENCY
    return Batch(done / (time.perf_counter() - wall), done / max(time.process_time() - cpu, 1e-9))


async def measure(pairs: int, requests: int) -> dict[str, Any]:
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
        api_batches: list[Batch] = []
        bare_batches: list[Batch] = []
        list_batches: list[Batch] = []
        async with (
            httpx.AsyncClient(base_url=api.url, limits=limits) as api_client,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{bare_port}", limits=limits) as bare_client,
        ):
            await read_batch(api_client, paths, 200, auth)  # warm both up
            await read_batch(bare_client, paths, 200, {})
            for number in range(pairs):
                # Short batches, alternating which goes first: a neighbour's load hits both alike.
                runs: list[tuple[list[Batch], Callable[[], Awaitable[Batch]]]] = [
                    (api_batches, lambda: read_batch(api_client, paths, requests, auth)),
                    (bare_batches, lambda: read_batch(bare_client, paths, requests, {})),
                ]
                if number % 2:
                    runs.reverse()
                for batches, run in runs:
                    batches.append(await run())
                list_batches.append(await read_batch(api_client, ["/v1/parents"], requests // 2, auth))
        task_group.cancel_scope.cancel()

    def median(batches: list[Batch], field: str) -> float:
        values: list[float] = [getattr(batch, field) for batch in batches]
        return statistics.median(values)

    wall_ratios = [
        a.per_wall_second / b.per_wall_second for a, b in zip(api_batches, bare_batches, strict=True)
    ]
    cpu_ratios = [a.per_cpu_second / b.per_cpu_second for a, b in zip(api_batches, bare_batches, strict=True)]
    result = {
        "api_reads_per_s": round(median(api_batches, "per_wall_second")),
        "bare_starlette_reads_per_s": round(median(bare_batches, "per_wall_second")),
        "api_to_bare_ratio": round(statistics.median(wall_ratios), 3),
        "api_reads_per_cpu_s": round(median(api_batches, "per_cpu_second")),
        "bare_starlette_reads_per_cpu_s": round(median(bare_batches, "per_cpu_second")),
        "api_to_bare_cpu_ratio": round(statistics.median(cpu_ratios), 3),
        "api_list_reads_per_s": round(median(list_batches, "per_wall_second")),
        "parents": PARENTS,
        "concurrency": CONCURRENCY,
        "pairs": pairs,
        "requests_per_batch": requests,
    }
    print(
        f"status reads: API {result['api_reads_per_s']:,}/s, bare Starlette "
        f"{result['bare_starlette_reads_per_s']:,}/s (ratio {result['api_to_bare_ratio']}); per CPU second "
        f"{result['api_reads_per_cpu_s']:,} vs {result['bare_starlette_reads_per_cpu_s']:,} "
        f"(ratio {result['api_to_bare_cpu_ratio']}); "
        f"the list of {PARENTS}: {result['api_list_reads_per_s']:,}/s",
        flush=True,
    )
    return result


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    # Keep the service's and the venue's logs out of the figures.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    result = anyio.run(measure, 6 if quick else 30, 200 if quick else 400, backend="asyncio")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
