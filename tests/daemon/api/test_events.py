"""The live progress stream: server-sent events over a real uvicorn on 127.0.0.1.

These tests run on a real-time loop of their own (``anyio.run``): a socket conversation is the
point here, and the TWAPs are short (a few slices a fifth of a second apart).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx

from daemon.api.routes_events import format_event
from tests.daemon.api.harness import AUTH, served_api

TWAP = {"symbol": "MSFT", "side": "sell", "quantity": "30", "num_slices": 3, "interval_seconds": 0.2}


async def read_events(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    name = "message"
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            yield name, json.loads(line.removeprefix("data:"))
            name = "message"


def test_the_stream_starts_with_a_snapshot_then_follows_a_parent_to_its_end() -> None:
    seen = anyio.run(follow_two_parents, backend="asyncio")
    names = [name for name, _ in seen]
    assert names[0] == "snapshot"
    first, second = seen[0][1]["first"], seen[0][1]["second"]
    assert [parent["parent_id"] for parent in seen[0][1]["parents"]] == [first]
    about_second = [(name, data) for name, data in seen if data.get("parent_id") == second]
    assert about_second[0][0] == "parent_created"
    fills = [data["fill"] for name, data in about_second if name == "fill"]
    assert sum(int(fill["quantity"]) for fill in fills) == 30
    assert len({fill["trade_id"] for fill in fills}) == len(fills)
    final = about_second[-1][1]["parent"]
    assert (final["state"], final["filled"], final["is_final"]) == ("completed", "30", True)


async def follow_two_parents() -> list[tuple[str, dict[str, Any]]]:
    async with served_api() as (url, _service), httpx.AsyncClient(base_url=url, timeout=30) as client:
        first = (await client.post("/v1/twaps", json=TWAP, headers=AUTH)).json()["parent_id"]
        seen: list[tuple[str, dict[str, Any]]] = []
        with anyio.fail_after(60):
            async with client.stream("GET", "/v1/events", headers=AUTH) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                second = None
                async for name, data in read_events(response):
                    seen.append((name, data))
                    if name == "snapshot":
                        second = (await client.post("/v1/twaps", json=TWAP, headers=AUTH)).json()["parent_id"]
                        data |= {"first": first, "second": second}
                    if name == "parent_final" and data["parent_id"] == second:
                        break
    return seen


def test_stopping_the_server_ends_an_open_stream() -> None:
    assert anyio.run(stream_ends_with_the_server, backend="asyncio") == "ended"


async def stream_ends_with_the_server() -> str:
    outcome = "open"
    opened = anyio.Event()
    ended = anyio.Event()
    # The client outlives the server, so only the server can end the stream.
    async with httpx.AsyncClient(timeout=30) as client, anyio.create_task_group() as task_group:
        async with served_api() as (url, _service):

            async def follow() -> None:
                nonlocal outcome
                async with client.stream("GET", f"{url}/v1/events", headers=AUTH) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("event: snapshot"):
                            opened.set()
                outcome = "ended"
                ended.set()

            task_group.start_soon(follow)
            with anyio.fail_after(10):
                await opened.wait()
            # Leaving served_api stops the server while the stream is open.
        with anyio.fail_after(10):
            await ended.wait()
    return outcome


def test_an_event_is_one_line_of_json_under_its_name_and_id() -> None:
    text = format_event("fill", {"quantity": "5", "note": "a\nb"}, 7)
    assert text == 'id: 7\nevent: fill\ndata: {"quantity":"5","note":"a\\nb"}\n\n'
