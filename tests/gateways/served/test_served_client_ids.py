"""Client order ids as Binance treats them: "Duplicate order sent." only while an order with that
id is open; once it is finished (filled, cancelled, expired, rejected) its id can be used again,
and the new order trades as any other. The paper exchange is no stricter than Binance, so a
client that resends a finished order's id is caught by its own logic, not by the paper exchange.
"""

from __future__ import annotations

from decimal import Decimal

import ccxt.async_support as ccxt_async
import pytest

from engine.events import OrderAccepted, OrderCancelled
from engine.orders import Order, OrderSide
from gateways.served import ServedEndpoints
from gateways.served.encoding import WallClock
from gateways.served.ledger import Ledger
from gateways.served.symbols import SymbolMap
from tests.gateways.served.harness import Clients, raw_request, run_served, signed_query


def _order(client_order_id: str, price: int = 100) -> Order:
    return Order(symbol="AAPL", side=OrderSide.BUY, quantity=1, order_type="limit", limit_price=price,
                 client_order_id=client_order_id)


def test_the_ledger_refuses_an_id_while_its_order_may_fill_and_takes_it_again_once_finished() -> None:
    ledger = Ledger(SymbolMap(["AAPL"]), WallClock(0.0))
    first = ledger.reserve(_order("same"), 0.0)
    assert first is not None
    assert ledger.reserve(_order("same"), 0.0) is None  # sent, not yet known to the venue
    ledger.apply(OrderAccepted(client_order_id=first.venue_id, symbol="AAPL", timestamp=1.0,
                               venue_order_id="v1"))
    assert ledger.reserve(_order("same"), 1.0) is None  # open
    ledger.apply(OrderCancelled(client_order_id=first.venue_id, symbol="AAPL", timestamp=2.0,
                                filled_quantity=Decimal(0)))
    second = ledger.reserve(_order("same", price=101), 2.0)
    assert second is not None
    assert second.order_id != first.order_id
    assert second.order.client_order_id == "same"
    assert second.venue_id != first.venue_id  # the venue knows each order by its own id
    assert ledger.by_client_id("same") is second
    assert ledger.by_order_id(first.order_id) is first
    # a late event of the first order is the first order's, not the second's
    ledger.apply(OrderAccepted(client_order_id=first.venue_id, symbol="AAPL", timestamp=3.0,
                               venue_order_id="v1"))
    assert not second.accepted
    # refused by the venue: the id points at the finished order again
    ledger.release(second)
    assert ledger.by_client_id("same") is first
    assert ledger.by_order_id(second.order_id) is None


def test_a_finished_order_s_client_order_id_places_a_new_order_that_trades() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        resting = await exchange.create_order(
            "AAPL/USDT", "limit", "buy", 1, 100, params={"clientOrderId": "again-1"}
        )
        await exchange.cancel_order(resting["id"], "AAPL/USDT")
        bought = await exchange.create_order(
            "AAPL/USDT", "market", "buy", 2, params={"clientOrderId": "again-1"}
        )
        assert bought["clientOrderId"] == "again-1"
        assert bought["id"] != resting["id"]
        assert (bought["status"], bought["filled"]) == ("closed", 2)
        sold = await exchange.create_order(
            "AAPL/USDT", "market", "sell", 2, params={"clientOrderId": "again-1"}
        )
        assert (sold["status"], sold["filled"]) == ("closed", 2)
        assert served.exchange.venue.statistics().orders == 3
        assert served.exchange.venue.positions.get("AAPL", Decimal(0)) == 0
        # by client order id: the newest order; by order id: each one
        found = await exchange.fetch_order(None, "AAPL/USDT", params={"clientOrderId": "again-1"})
        assert found["id"] == sold["id"]
        first = await exchange.fetch_order(resting["id"], "AAPL/USDT")
        assert (first["clientOrderId"], first["status"]) == ("again-1", "canceled")
        trades = await exchange.fetch_my_trades("AAPL/USDT")
        assert sorted(trade["order"] for trade in trades) == sorted([bought["id"], sold["id"]])

    run_served(scenario)


def test_an_open_order_s_client_order_id_is_refused_also_by_the_test_endpoint() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        await exchange.create_order("AAPL/USDT", "limit", "buy", 1, 100, params={"clientOrderId": "open-1"})
        params = {
            "symbol": "AAPLUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1",
            "price": "100", "newClientOrderId": "open-1",
        }
        status, _, body = await raw_request(
            served, "POST", "/api/v3/order/test", body=signed_query(served, params), api_key=served.api_key
        )
        assert (status, body["code"], body["msg"]) == (400, -2010, "Duplicate order sent.")
        await exchange.cancel_order(None, "AAPL/USDT", params={"clientOrderId": "open-1"})
        status, _, body = await raw_request(
            served, "POST", "/api/v3/order/test", body=signed_query(served, params), api_key=served.api_key
        )
        assert (status, body) == (200, {})
        with pytest.raises(ccxt_async.OrderNotFound):  # the cancelled one is not open any more
            await exchange.cancel_order(None, "AAPL/USDT", params={"clientOrderId": "open-1"})

    run_served(scenario)


def test_an_id_is_free_once_the_venue_finished_its_order_though_the_event_has_not_come_yet() -> None:
    from gateways.simulated import LatencyModel
    from tests.gateways.served.harness import quiet_venue

    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        params = {
            "symbol": "AAPLUSDT", "side": "BUY", "type": "MARKET", "quantity": "1",
            "newClientOrderId": "quick-1", "newOrderRespType": "ACK",
        }
        for _ in range(2):  # filled at once at the venue; its events are still on their way
            status, _, body = await raw_request(
                served, "POST", "/api/v3/order", body=signed_query(served, params), api_key=served.api_key
            )
            assert status == 200, body
        assert served.exchange.venue.positions["AAPL"] == 2

    slow_events = LatencyModel(request=0, request_jitter=0, event=20.0, event_jitter=0)
    run_served(scenario, quiet_venue(latency=slow_events))
