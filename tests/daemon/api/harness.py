"""What the API tests share: a real ``TradingService`` on the simulated demo venue, and the API over it.

- ``open_service``: the service on a fresh demo venue (AAPL, MSFT, GOOGL);
- ``asgi_client``: an httpx client that calls the app in-process (no socket);
- ``served_api``: the app on a real uvicorn server on 127.0.0.1 (an ephemeral port), stopped at
  the end;
- ``served_api_in_thread``: the same on real time in a thread of its own, for tests driven from
  synchronous code (the schema fuzzer, the browser).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import anyio.from_thread
import httpx

from daemon.api import create_app, serve_api
from daemon.service import TradingService
from gateways.simulated import SimulatedVenue

__all__ = ["AUTH", "TOKEN", "asgi_client", "open_service", "served_api", "served_api_in_thread"]

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@asynccontextmanager
async def open_service(**options: Any) -> AsyncIterator[TradingService]:
    """A running ``TradingService`` on a fresh simulated demo venue."""
    options.setdefault("progress_interval", 0.25)
    async with SimulatedVenue.demo() as venue, TradingService(venue, **options) as service:
        yield service


@asynccontextmanager
async def asgi_client(service: TradingService) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling the API over ``service`` in-process."""
    app = create_app(service, token=TOKEN)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://daemon.test") as client:
        yield client


@asynccontextmanager
async def served_api(**options: Any) -> AsyncIterator[tuple[str, TradingService]]:
    """The API served by uvicorn on 127.0.0.1 (ephemeral port): yields its URL and the service."""
    async with open_service(**options) as service, anyio.create_task_group() as task_group:
        address = await task_group.start(serve_api, create_app(service, token=TOKEN), "127.0.0.1", 0)
        try:
            yield address.url, service
        finally:
            task_group.cancel_scope.cancel()


@contextmanager
def served_api_in_thread(**options: Any) -> Iterator[str]:
    """``served_api`` on a real-time event loop in a thread of its own; yields the URL."""
    with (
        anyio.from_thread.start_blocking_portal(backend="asyncio") as portal,
        portal.wrap_async_context_manager(served_api(**options)) as (url, _service),
    ):
        yield url
