"""The progress stream over a WebSocket, on a real uvicorn on 127.0.0.1 (real time, short TWAPs)."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.daemon.api.harness import AUTH, TOKEN, served_api

TWAP = {"symbol": "GOOGL", "side": "buy", "quantity": "20", "num_slices": 2, "interval_seconds": 0.2}


def ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/v1/events/ws"


async def messages_until_final(socket: ClientConnection, client: httpx.AsyncClient) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    parent_id = None
    with anyio.fail_after(30):
        async for raw in socket:
            message = json.loads(raw)
            seen.append(message)
            if message["event"] == "snapshot":
                parent_id = (await client.post("/v1/twaps", json=TWAP, headers=AUTH)).json()["parent_id"]
            elif message["event"] == "parent_final" and message["data"]["parent_id"] == parent_id:
                return seen
    raise AssertionError("the stream ended before the parent was final")


async def follow(login: str) -> list[dict[str, Any]]:
    async with served_api() as (url, _service), httpx.AsyncClient(base_url=url, timeout=30) as client:
        headers = AUTH if login == "header" else {}
        async with connect(ws_url(url), additional_headers=headers) as socket:
            if login == "message":
                await socket.send(json.dumps({"token": TOKEN}))
            return await messages_until_final(socket, client)


def test_with_the_token_in_the_header_the_socket_streams_a_parent_to_its_end() -> None:
    seen = anyio.run(follow, "header", backend="asyncio")
    assert seen[0]["event"] == "snapshot"
    assert [message["id"] for message in seen] == list(range(len(seen)))
    final = seen[-1]["data"]["parent"]
    assert (final["state"], final["filled"]) == ("completed", "20")
    fills = [message["data"]["fill"] for message in seen if message["event"] == "fill"]
    assert sum(int(fill["quantity"]) for fill in fills) == 20


def test_a_browser_sends_the_token_as_its_first_message() -> None:
    seen = anyio.run(follow, "message", backend="asyncio")
    assert seen[0]["event"] == "snapshot"
    assert seen[-1]["event"] == "parent_final"


async def refused(message: str | None) -> tuple[int | None, str | None]:
    async with served_api() as (url, _service):
        headers = {"Authorization": "Bearer wrong-token-0123456789"} if message is None else {}
        async with connect(ws_url(url), additional_headers=headers) as socket:
            if message is not None:
                await socket.send(message)
            try:
                with anyio.fail_after(15):
                    await socket.recv()
            except ConnectionClosed as closed:
                return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, None)
    return None, None


def test_a_wrong_or_missing_token_closes_the_socket_with_1008() -> None:
    for message in (None, json.dumps({"token": "nope"}), "not json", json.dumps(["token"])):
        code, reason = anyio.run(refused, message, backend="asyncio")
        assert code == 1008, message
        assert reason == "the API token is missing or wrong"


async def closed_by_shutdown() -> int | None:
    async with anyio.create_task_group() as task_group:
        code: list[int | None] = []
        closed = anyio.Event()
        async with served_api() as (url, _service):
            socket = await connect(ws_url(url), additional_headers=AUTH)
            assert json.loads(await socket.recv())["event"] == "snapshot"

            async def wait_closed() -> None:
                await socket.wait_closed()
                code.append(socket.close_code)
                closed.set()

            task_group.start_soon(wait_closed)
            # Leaving served_api stops the server while the socket is open.
        with anyio.fail_after(15):
            await closed.wait()
    return code[0]


def test_stopping_the_server_closes_the_socket_with_1001() -> None:
    assert anyio.run(closed_by_shutdown, backend="asyncio") == 1001
