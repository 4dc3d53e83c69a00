"""``python -m daemon.paper [--port P] [--seed N] [--port-file PATH]``: a paper venue on 127.0.0.1.

Serves ``SimulatedVenue.demo`` (AAPL, MSFT, GOOGL) with fast price steps until SIGTERM or SIGINT;
prints ``listening on 127.0.0.1:PORT`` and, with ``--port-file``, writes the port there.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import anyio

from daemon.paper.server import serve_venue
from gateways.simulated import LatencyModel, SimulatedVenue, VenueRateLimit


async def _main(
    port: int, seed: int, port_file: Path | None, limit: int, step: float, latency: float
) -> None:
    venue = SimulatedVenue.demo(
        seed,
        step=step,
        rate_limits=[VenueRateLimit(limit=limit, period=60.0)],
        latency=LatencyModel(request=latency, request_jitter=latency / 2),
    )
    async with venue, anyio.create_task_group() as task_group:
        bound = await task_group.start(serve_venue, venue, "127.0.0.1", port)
        print(f"listening on 127.0.0.1:{bound}", flush=True)
        if port_file is not None:
            await anyio.Path(port_file).write_text(str(bound))
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for _ in signals:
                break
        task_group.cancel_scope.cancel()


def main() -> int:
    """Run the paper venue."""
    parser = argparse.ArgumentParser(prog="python -m daemon.paper", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port-file", type=Path)
    parser.add_argument("--limit", type=int, default=1200, help="orders per rolling minute the venue takes")
    parser.add_argument("--step", type=float, default=0.1, help="seconds between price steps")
    parser.add_argument("--latency", type=float, default=0.02, help="one-way request latency in seconds")
    args = parser.parse_args()
    anyio.run(_main, args.port, args.seed, args.port_file, args.limit, args.step, args.latency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
