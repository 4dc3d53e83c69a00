"""``serve_api``: run the API's uvicorn server inside the caller's anyio task group.

::

    async with anyio.create_task_group() as tg:
        address = await tg.start(serve_api, app, "127.0.0.1", 8080)
        print(f"API on {address.url}")
        ...
        tg.cancel_scope.cancel()     # stops the server: streams end, connections drain (bounded)

The socket is bound before ``start`` returns (port 0 picks a free port, given back in the
address), so a bad address is an ``ApiBindError`` at once. The daemon owns the signals: uvicorn
installs no handlers of its own here. Cancelling the task stops the server the way uvicorn's own
shutdown does (stop listening, end the event streams, let requests in flight finish within
``grace`` seconds, then cancel them), shielded so it always finishes.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import anyio
import anyio.abc
import attrs
import uvicorn
from fastapi import FastAPI

from daemon.api.errors import ApiBindError
from daemon.api.routes_events import EventStreams

__all__ = ["ApiAddress", "serve_api"]


@attrs.frozen
class ApiAddress:
    """Where the API listens."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """``http://host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


class _EmbeddedServer(uvicorn.Server):
    """uvicorn's server without signal handlers, telling when it listens."""

    def __init__(self, config: uvicorn.Config, listening: anyio.Event) -> None:
        super().__init__(config)
        self._listening = listening

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the daemon handles SIGINT and SIGTERM itself

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._listening.set()


def _bind(host: str, port: int) -> socket.socket:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ApiBindError(host, port, "the port must be a whole number from 0 to 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family)
    except OSError as error:
        raise ApiBindError(host, port, error.strerror or str(error)) from error
    # asyncio sets TCP_NODELAY only on sockets made with an explicit TCP protocol number; the
    # accepted connections inherit it from here. Without it a response sent in two writes (head,
    # then body) waits for the client's delayed ACK: about 40 ms per request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


async def serve_api(
    app: FastAPI,
    host: str,
    port: int,
    *,
    grace: float = 5.0,
    task_status: anyio.abc.TaskStatus[ApiAddress] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` on ``host:port`` until cancelled; ``task_status.started`` gets the address."""
    sock = _bind(host, port)
    address = ApiAddress(host, sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=max(1, round(grace)),
    )
    listening = anyio.Event()
    server = _EmbeddedServer(config, listening)
    streams: EventStreams = app.state.event_streams

    async def run_server() -> None:
        try:
            # Shielded: once asked to stop, uvicorn's own shutdown runs to its end (bounded by grace).
            with anyio.CancelScope(shield=True):
                await server.serve(sockets=[sock])
        finally:
            sock.close()
            task_group.cancel_scope.cancel()

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(run_server, name=f"API server {address.url}")
        try:
            await listening.wait()
            task_status.started(address)
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True):
                await streams.close()
            server.should_exit = True
