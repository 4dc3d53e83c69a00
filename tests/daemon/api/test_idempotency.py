"""Retries sent while the first request is still being answered make no second parent."""

from __future__ import annotations

from typing import Any

import anyio

from daemon.api.idempotency import KeyLocks
from tests.daemon.api.harness import AUTH, asgi_client, open_service

TWAP = {"symbol": "AAPL", "side": "buy", "quantity": "100", "num_slices": 5, "interval_seconds": 1}
REBALANCE = {"target_weights": {"AAPL": "0.5", "MSFT": "0.5"}, "cash": "100000", "num_slices": 2}


async def test_concurrent_retries_of_a_post_make_one_parent_and_get_the_same_answer() -> None:
    answers: dict[str, list[Any]] = {"/v1/twaps": [], "/v1/rebalances": []}
    async with open_service() as service, asgi_client(service) as client:

        async def post(path: str, body: dict[str, Any]) -> None:
            response = await client.post(path, json=body, headers=AUTH | {"Idempotency-Key": f"retry{path}"})
            assert response.status_code == 201
            data = response.json()
            answers[path].append(data.get("parent_id") or data["parent_ids"])

        async with anyio.create_task_group() as task_group:
            for _ in range(4):
                task_group.start_soon(post, "/v1/twaps", TWAP)
                task_group.start_soon(post, "/v1/rebalances", REBALANCE)
        parents = (await client.get("/v1/parents", headers=AUTH)).json()["parents"]
    twap_ids = answers["/v1/twaps"]
    rebalance_ids = answers["/v1/rebalances"]
    assert len(set(twap_ids)) == 1
    assert all(ids == rebalance_ids[0] for ids in rebalance_ids)
    assert len(parents) == 1 + len(rebalance_ids[0])


async def test_requests_sharing_a_key_run_one_at_a_time_and_the_lock_is_let_go() -> None:
    locks = KeyLocks()
    inside: list[str] = []
    overlaps = 0

    async def request(key: str | None, name: str) -> None:
        nonlocal overlaps
        async with locks.hold(key):
            if key is not None and any(other.startswith(key) for other in inside):
                overlaps += 1
            inside.append(f"{key}:{name}")
            await anyio.sleep(1)
            inside.remove(f"{key}:{name}")

    async with anyio.create_task_group() as task_group:
        for number in range(3):
            task_group.start_soon(request, "a", str(number))
            task_group.start_soon(request, "b", str(number))
            task_group.start_soon(request, None, str(number))
    assert overlaps == 0
    assert repr(locks) == "<KeyLocks held=0>"
