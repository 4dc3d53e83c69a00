"""TWAPs, rebalances and parents through the API, over a real service on the simulated venue."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from daemon.api.schemas import TwapBody
from daemon.views import TwapRequest
from tests.daemon.api.harness import AUTH, asgi_client, open_service

TWAP = {"symbol": "AAPL", "side": "buy", "quantity": "100", "num_slices": 5, "interval_seconds": 1}


async def wait_final(client: httpx.AsyncClient, parent_id: str) -> dict[str, Any]:
    for _ in range(200):
        body: dict[str, Any] = (await client.get(f"/v1/parents/{parent_id}", headers=AUTH)).json()
        if body["is_final"]:
            return body
        await anyio.sleep(0.5)
    raise AssertionError(f"parent {parent_id} did not finish")


async def test_a_twap_is_started_and_reported_once_final() -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.post("/v1/twaps", json=TWAP, headers=AUTH)
        assert response.status_code == 201
        started = response.json()
        assert response.headers["location"] == f"/v1/parents/{started['parent_id']}"
        assert (started["symbol"], started["side"], started["quantity"]) == ("AAPL", "buy", "100")
        assert started["report"] is None
        final = await wait_final(client, started["parent_id"])
    assert final["state"] == "completed"
    assert final["filled"] == "100"
    assert final["report"]["filled_quantity"] == "100"
    assert final["report"]["requested_slices"] == 5


def test_twap_settings_in_the_body_become_the_services_request() -> None:
    body = TwapBody.model_validate(
        TWAP
        | {"style": "PASSIVE", "size_jitter": 0.1, "seed": 3, "on_restart": "cancel", "limit_price": None}
    )
    request = TwapRequest.from_dict(body.to_request_data())
    assert request.options == {"style": "passive", "size_jitter": 0.1, "seed": 3, "limit_price": None}
    assert request.on_restart.value == "cancel"
    assert (request.num_slices, request.interval_seconds) == (5, 1.0)


def test_a_null_setting_means_the_default() -> None:
    body = TwapBody.model_validate(TWAP | {"style": None, "settle_timeout": None})
    assert TwapRequest.from_dict(body.to_request_data()).options == {}


async def test_a_retried_post_with_the_same_idempotency_key_makes_one_parent() -> None:
    headers = AUTH | {"Idempotency-Key": "order-7f3a"}
    async with open_service() as service, asgi_client(service) as client:
        first = await client.post("/v1/twaps", json=TWAP, headers=headers)
        again = await client.post("/v1/twaps", json=TWAP, headers=headers)
        listed = (await client.get("/v1/parents", headers=AUTH)).json()["parents"]
    assert first.status_code == again.status_code == 201
    assert again.json()["parent_id"] == first.json()["parent_id"]
    assert [parent["parent_id"] for parent in listed] == [first.json()["parent_id"]]


async def test_the_quoted_form_of_the_idempotency_key_is_the_same_key() -> None:
    async with open_service() as service, asgi_client(service) as client:
        first = await client.post("/v1/twaps", json=TWAP, headers=AUTH | {"Idempotency-Key": "k-1"})
        again = await client.post("/v1/twaps", json=TWAP, headers=AUTH | {"Idempotency-Key": '"k-1"'})
    assert again.json()["parent_id"] == first.json()["parent_id"]


async def test_an_idempotency_key_reused_for_another_body_is_refused_and_makes_nothing() -> None:
    headers = AUTH | {"Idempotency-Key": "order-1"}
    async with open_service() as service, asgi_client(service) as client:
        await client.post("/v1/twaps", json=TWAP, headers=headers)
        response = await client.post("/v1/twaps", json=TWAP | {"quantity": "200"}, headers=headers)
        listed = (await client.get("/v1/parents", headers=AUTH)).json()["parents"]
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "idempotency_key_reused"
    assert body["errors"][0]["field"] == "idempotency_key"
    assert body["errors"][0]["value"] == "order-1"
    assert len(listed) == 1


async def test_without_a_key_each_post_makes_its_own_parent() -> None:
    async with open_service() as service, asgi_client(service) as client:
        first = await client.post("/v1/twaps", json=TWAP, headers=AUTH)
        second = await client.post("/v1/twaps", json=TWAP, headers=AUTH)
    assert first.json()["parent_id"] != second.json()["parent_id"]


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        ({"quantity": "-5"}, "quantity", "-5"),
        ({"quantity": 0}, "quantity", 0),
        ({"quantity": "NaN"}, "quantity", "NaN"),
        ({"quantity": True}, "quantity", True),
        ({"side": "hold"}, "side", "hold"),
        ({"symbol": "NOPE"}, "symbol", "NOPE"),
        ({"symbol": ""}, "symbol", ""),
        ({"num_slices": 0}, "num_slices", 0),
        ({"interval_seconds": -1}, "interval_seconds", -1),
        ({"style": "iceberg"}, "style", "iceberg"),
        ({"size_jitter": 2}, "size_jitter", 2),
        ({"colour": "red"}, "colour", "red"),
    ],
)
async def test_a_bad_twap_body_gets_422_naming_the_field_and_the_value(
    change: dict[str, Any], field: str, value: Any
) -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.post("/v1/twaps", json=TWAP | change, headers=AUTH)
        listed = (await client.get("/v1/parents", headers=AUTH)).json()["parents"]
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert {"field": field, "value": value} == {k: body["errors"][0][k] for k in ("field", "value")}
    assert field in body["message"]
    assert listed == []


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b""])
async def test_a_body_that_is_not_a_json_object_gets_422(content: bytes) -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.post(
            "/v1/twaps", content=content, headers=AUTH | {"Content-Type": "application/json"}
        )
    assert response.status_code == 422
    assert response.json()["errors"]


async def test_a_malformed_idempotency_key_gets_422_naming_the_header() -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.post("/v1/twaps", json=TWAP, headers=AUTH | {"Idempotency-Key": '""'})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_an_unknown_parent_is_404_on_every_path() -> None:
    async with open_service() as service, asgi_client(service) as client:
        fetched = await client.get("/v1/parents/P404", headers=AUTH)
        cancelled = await client.post("/v1/parents/P404/cancel", headers=AUTH)
    for response in (fetched, cancelled):
        assert response.status_code == 404
        assert response.json()["errors"][0] == {
            "field": "parent_id",
            "value": "P404",
            "message": "no parent with this id",
        }


async def test_cancel_stops_a_running_parent_short_of_its_quantity() -> None:
    slow = TWAP | {"num_slices": 20, "interval_seconds": 5}
    async with open_service() as service, asgi_client(service) as client:
        parent_id = (await client.post("/v1/twaps", json=slow, headers=AUTH)).json()["parent_id"]
        await anyio.sleep(12)
        response = await client.post(f"/v1/parents/{parent_id}/cancel", headers=AUTH)
        assert response.status_code == 202
        final = await wait_final(client, parent_id)
        again = await client.post(f"/v1/parents/{parent_id}/cancel", headers=AUTH)
    assert final["state"] == "cancelled"
    assert 0 < float(final["filled"]) < 100
    assert again.status_code == 202
    assert again.json()["state"] == "cancelled"


async def test_parents_are_listed_oldest_first() -> None:
    async with open_service() as service, asgi_client(service) as client:
        ids = [
            (await client.post("/v1/twaps", json=TWAP | {"symbol": symbol}, headers=AUTH)).json()["parent_id"]
            for symbol in ("AAPL", "MSFT", "GOOGL")
        ]
        listed = (await client.get("/v1/parents", headers=AUTH)).json()["parents"]
    assert [parent["parent_id"] for parent in listed] == ids
    assert [parent["symbol"] for parent in listed] == ["AAPL", "MSFT", "GOOGL"]


REBALANCE = {
    "target_weights": {"AAPL": "0.5", "MSFT": "0.5"},
    "cash": "100000",
    "num_slices": 2,
    "interval_seconds": 1,
}


async def test_a_dry_run_rebalance_returns_the_plan_with_reasons_and_starts_nothing() -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.post("/v1/rebalances", json=REBALANCE | {"dry_run": True}, headers=AUTH)
        listed = (await client.get("/v1/parents", headers=AUTH)).json()["parents"]
    assert response.status_code == 200
    plan = response.json()
    assert plan["dry_run"] is True
    assert plan["parent_ids"] == []
    assert {trade["symbol"] for trade in plan["trades"]} == {"AAPL", "MSFT"}
    assert all(trade["side"] == "buy" and trade["reason"] for trade in plan["trades"])
    assert listed == []


async def test_a_rebalance_starts_one_parent_per_trade() -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.post("/v1/rebalances", json=REBALANCE, headers=AUTH)
        assert response.status_code == 201
        plan = response.json()
        finals = [await wait_final(client, parent_id) for parent_id in plan["parent_ids"]]
    assert len(plan["parent_ids"]) == len(plan["trades"]) == 2
    assert [final["symbol"] for final in finals] == [trade["symbol"] for trade in plan["trades"]]
    assert all(final["state"] == "completed" for final in finals)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target_weights": {}}, "target_weights"),
        ({"target_weights": {"AAPL": "-0.1"}}, "target_weights.AAPL"),
        ({"prices": {"AAPL": 0}}, "prices.AAPL"),
        ({"dry_run": "maybe"}, "dry_run"),
    ],
)
async def test_a_bad_rebalance_body_gets_422_naming_the_field(change: dict[str, Any], field: str) -> None:
    async with open_service() as service, asgi_client(service) as client:
        response = await client.post("/v1/rebalances", json=REBALANCE | change, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
