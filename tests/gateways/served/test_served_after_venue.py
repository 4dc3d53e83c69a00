"""Once the venue has acted on a request, the answer says so: never an error.

A client that gets an error for a new order believes the order was not placed and sends it again;
one that gets an error for a cancel believes the order still works. So when the venue took a new
order (or cancelled one) and what follows fails (the venue's own rate limit refusing the look-up
of the order, or anything else), the answer is HTTP 200 with what is known: the ``ACK`` form of a
new order, the ledger's view of a cancelled one.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateways.served import ServedEndpoints
from gateways.simulated import VenueRateLimit
from tests.gateways.served.harness import Clients, quiet_venue, raw_request, run_served, signed_query

# The venue's own limit: one request of these kinds a minute.
_WEIGHTS = {"submit": 1, "cancel": 1, "get_order": 1}


def _order(client_order_id: str, **extra: str) -> dict[str, object]:
    return {
        "symbol": "AAPLUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1",
        "price": "100", "newClientOrderId": client_order_id, **extra,
    }


async def _post(served: ServedEndpoints, params: dict[str, object]) -> tuple[int, Any]:
    status, _, body = await raw_request(
        served, "POST", "/api/v3/order", body=signed_query(served, params), api_key=served.api_key
    )
    return status, body


def test_a_taken_order_whose_look_up_the_venue_limits_is_answered_200_in_the_ack_form() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        status, body = await _post(served, _order("taken-1"))  # FULL: would look the order up
        assert status == 200, body
        assert body["clientOrderId"] == "taken-1"
        assert body["symbol"] == "AAPLUSDT"
        assert isinstance(body["orderId"], int)
        assert "status" not in body  # the ACK form: what executed is not known here
        assert served.exchange.venue.statistics().open_orders == 1
        entry = served.exchange.ledger.by_client_id("taken-1")
        assert entry is not None
        assert entry.order_id == body["orderId"]

    venue = quiet_venue(rate_limits=[VenueRateLimit(limit=1, period=60.0, weights=_WEIGHTS)])
    run_served(scenario, venue)


def test_ccxt_sees_the_order_placed_when_the_venue_limits_its_look_up() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        order = await exchange.create_order(
            "AAPL/USDT", "limit", "buy", 1, 100, params={"clientOrderId": "taken-2"}
        )
        assert order["clientOrderId"] == "taken-2"
        assert order["id"] is not None
        assert served.exchange.venue.statistics().orders == 1

    venue = quiet_venue(rate_limits=[VenueRateLimit(limit=1, period=60.0, weights=_WEIGHTS)])
    run_served(scenario, venue)


def test_a_taken_order_whose_full_answer_fails_to_build_is_answered_200_in_the_ack_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gateways.served.order_routes as order_routes

    def broken(*args: object) -> object:
        raise RuntimeError("the FULL answer could not be built")

    monkeypatch.setattr(order_routes, "fill_fields", broken)

    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        status, body = await _post(served, _order("taken-3"))
        assert status == 200, body
        assert body["clientOrderId"] == "taken-3"
        assert "fills" not in body
        assert served.exchange.venue.statistics().orders == 1

    run_served(scenario)


def test_a_cancel_the_venue_executed_is_answered_200_though_the_look_up_after_it_is_limited() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        status, placed = await _post(served, _order("gone-1", newOrderRespType="ACK"))  # 1 request
        assert status == 200, placed
        query = signed_query(served, {"symbol": "AAPLUSDT", "origClientOrderId": "gone-1"})
        # look-up before (2), the cancel (3), the look-up after it is refused by the venue
        status, _, body = await raw_request(
            served, "DELETE", "/api/v3/order", query, api_key=served.api_key
        )
        assert status == 200, body
        assert (body["origClientOrderId"], body["orderId"]) == ("gone-1", placed["orderId"])
        assert served.exchange.venue.statistics().open_orders == 0
        assert served.exchange.venue.statistics().rate_limit_violations == 1

    venue = quiet_venue(rate_limits=[VenueRateLimit(limit=3, period=60.0, weights=_WEIGHTS)])
    run_served(scenario, venue)
