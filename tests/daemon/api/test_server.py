"""``serve_api``: uvicorn inside the caller's task group, ready handshake, clean stop, clear errors."""

from __future__ import annotations

import socket

import anyio
import httpx

from daemon.api import ApiAddress, ApiBindError, create_app, serve_api
from tests.daemon.api.harness import AUTH, TOKEN, open_service


async def serve_then_stop() -> tuple[int, int, str]:
    async with open_service() as service, anyio.create_task_group() as task_group:
        address = await task_group.start(serve_api, create_app(service, token=TOKEN), "127.0.0.1", 0)
        async with httpx.AsyncClient(base_url=address.url) as client:
            health = (await client.get("/v1/health")).status_code
            parents = (await client.get("/v1/parents", headers=AUTH)).status_code
        task_group.cancel_scope.cancel()
    # Stopped: nothing listens on the port any more.
    with socket.socket() as probe:
        refused = probe.connect_ex(("127.0.0.1", address.port))
    return health, parents, "refused" if refused else "still listening"


def test_the_server_is_ready_when_start_returns_and_gone_when_cancelled() -> None:
    assert anyio.run(serve_then_stop, backend="asyncio") == (200, 200, "refused")


def leaves(group: BaseExceptionGroup[ApiBindError]) -> list[ApiBindError]:
    found: list[ApiBindError] = []
    for error in group.exceptions:
        found.extend(leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return found


async def bind_taken_port() -> list[ApiBindError]:
    caught: list[ApiBindError] = []
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        try:
            async with open_service() as service:
                await serve_api(create_app(service, token=TOKEN), "127.0.0.1", port)
        except* ApiBindError as group:
            caught.extend(leaves(group))
    return caught


def test_a_port_in_use_is_a_clear_error() -> None:
    [error] = anyio.run(bind_taken_port, backend="asyncio")
    assert error.host == "127.0.0.1"
    assert error.reason.startswith("Address already in use")
    assert "the API cannot listen on 127.0.0.1:" in str(error)


def test_the_address_gives_its_url() -> None:
    assert ApiAddress("127.0.0.1", 8080).url == "http://127.0.0.1:8080"
    assert ApiAddress("::1", 8080).url == "http://[::1]:8080"
