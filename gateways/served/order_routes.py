"""Signed REST routes of orders: ``order`` (POST, GET, DELETE), ``order/test`` and ``openOrders``.

A new order is checked completely before the venue sees it: parameters (-1100/-1102/-1106/-1115/
-1116/-1117), the symbol (-1121), the symbol's filters (-1013 PRICE_FILTER, LOT_SIZE, NOTIONAL), the
funds when ``check_balances`` is on (-2010, balances.py), the client order id (-2010 "Duplicate
order sent." while an order with it may still fill; a finished order's id is free again, as on
Binance: see ledger.py). Then the ledger gives it its ``orderId`` and the venue executes it. A
venue timeout (the order may live) answers -1007, HTTP 503; a refusal by the venue answers -2010
with the venue's reason.

``newOrderRespType``: ``ACK`` answers when the venue holds the order; ``RESULT`` and ``FULL`` (the
default) look the order up first, so the answer shows what executed at once (``FULL`` lists the
fills too).

Once the venue has taken a new order or cancelled one, the answer is never an error (the client
would send the order again, or believe it still works): if the look-up after it fails (the venue's
own rate limit, or anything else), a new order is answered in the ``ACK`` form and a cancel with
what the ledger knows, both HTTP 200.
"""

from __future__ import annotations

import contextlib
import re

import anyio
import attrs
import structlog
from starlette.routing import Route

from engine.errors import (
    DuplicateClientOrderIdError,
    GatewayError,
    GatewayUnavailableError,
    InvalidInputError,
    OrderRejectedError,
    OrderStateUnknownError,
    RateLimitedError,
    UnknownOrderError,
)
from engine.ids import new_client_order_id, validate_client_order_id
from engine.orders import Order, OrderSide, OrderType, TimeInForce
from gateways.served.balances import check_funds
from gateways.served.dispatch import endpoint
from gateways.served.encoding import fill_fields
from gateways.served.errors import (
    BinanceError,
    duplicate_order,
    filter_failure,
    illegal_characters,
    invalid_side,
    invalid_time_in_force,
    invalid_type,
    missing_parameter,
    not_required,
    order_does_not_exist,
    rejected,
    status_unknown,
    unknown_order,
    venue_limited,
)
from gateways.served.exchange import PaperExchange
from gateways.served.ledger import OrderEntry
from gateways.served.params import Params
from gateways.served.symbols import Market

__all__ = ["order_from_params", "order_routes"]

_log = structlog.get_logger(__name__)
_CLIENT_ORDER_ID = re.compile(r"[a-zA-Z0-9\-_]{1,36}")
_CLIENT_ORDER_ID_RANGE = "^[a-zA-Z0-9-_]{1,36}$"
_TIME_IN_FORCE = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC}


def order_from_params(exchange: PaperExchange, params: Params) -> tuple[Market, Order]:
    """The order the parameters describe, checked against the symbol's filters, or the answer."""
    market = params.market(exchange.symbols)
    side = {"BUY": OrderSide.BUY, "SELL": OrderSide.SELL}.get(params.required("side"))
    if side is None:
        raise invalid_side()
    order_type = {"MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT}.get(params.required("type"))
    if order_type is None:
        raise invalid_type()
    quantity = params.decimal("quantity")
    if quantity is None:
        raise missing_parameter("quantity")
    price = params.decimal("price")
    time_in_force = TimeInForce.GTC
    if order_type is OrderType.LIMIT:
        if price is None:
            raise missing_parameter("price")
        named = _TIME_IN_FORCE.get(params.required("timeInForce"))
        if named is None:
            raise invalid_time_in_force()
        time_in_force = named
    else:
        if price is not None:
            raise not_required("price")
        if params.text("timeInForce") is not None:
            raise not_required("timeInForce")
    client_order_id = params.text("newClientOrderId") or new_client_order_id()
    if not _CLIENT_ORDER_ID.fullmatch(client_order_id):
        raise illegal_characters("newClientOrderId", _CLIENT_ORDER_ID_RANGE)
    try:
        validate_client_order_id(client_order_id)
    except InvalidInputError:
        raise illegal_characters("newClientOrderId", "^[a-zA-Z0-9-_]{1,32}$") from None
    if quantity <= 0:
        raise filter_failure("LOT_SIZE")
    if price is not None and price <= 0:
        raise filter_failure("PRICE_FILTER")
    instrument = exchange.venue.instrument(market.symbol)
    try:
        instrument.check_quantity(quantity)
    except InvalidInputError:
        raise filter_failure("LOT_SIZE") from None
    if price is not None:
        try:
            instrument.check_price(price)
        except InvalidInputError:
            raise filter_failure("PRICE_FILTER") from None
    quote = exchange.quote(market.symbol)
    reference = price if price is not None else (quote.ask if side is OrderSide.BUY else quote.bid)
    if quantity * reference < instrument.min_notional:
        raise filter_failure("NOTIONAL")
    order = Order(
        symbol=market.symbol, side=side, quantity=quantity, order_type=order_type, limit_price=price,
        time_in_force=time_in_force, client_order_id=client_order_id,
    )
    if exchange.check_balances:
        check_funds(order, reference, exchange.venue, exchange.ledger, exchange.symbols)
    return market, order


async def test_order(exchange: PaperExchange, params: Params) -> object:
    """``order/test``: every check of a new order, nothing sent to the venue."""
    _, order = order_from_params(exchange, params)
    if exchange.ledger.in_use(order.client_order_id):
        raise duplicate_order()
    return {}


async def new_order(exchange: PaperExchange, params: Params) -> object:
    market, order = order_from_params(exchange, params)
    response_type = params.text("newOrderRespType") or "FULL"
    if response_type not in ("ACK", "RESULT", "FULL"):
        raise illegal_characters("newOrderRespType", "ACK|RESULT|FULL")
    ledger = exchange.ledger
    previous = ledger.by_client_id(order.client_order_id)
    if previous is not None and not previous.is_final:
        # The ledger hears of fills and cancels a moment after the venue: ask the venue itself.
        with contextlib.suppress(BinanceError):
            await _refresh(exchange, previous)
    entry = ledger.reserve(order, anyio.current_time())
    if entry is None:
        raise duplicate_order()
    try:
        ack = await exchange.venue.submit_order(
            order if entry.venue_id == order.client_order_id
            else attrs.evolve(order, client_order_id=entry.venue_id)
        )
    except DuplicateClientOrderIdError:
        ledger.release(entry)
        raise duplicate_order() from None
    except RateLimitedError as error:
        ledger.release(entry)
        raise venue_limited(error.retry_after, new_order=True) from None
    except OrderRejectedError as error:
        ledger.release(entry)
        raise rejected(error.reason) from None
    except OrderStateUnknownError:
        raise status_unknown() from None  # the order may live: its entry stays for the events
    except GatewayUnavailableError:
        ledger.release(entry)
        raise BinanceError(
            503, -1001, "Internal error; unable to process your request. Please try again."
        ) from None
    transact_ms = exchange.clock.ms(ack.timestamp)
    head = {
        "symbol": market.market_id, "orderId": entry.order_id, "orderListId": -1,
        "clientOrderId": order.client_order_id, "transactTime": transact_ms,
    }
    if response_type == "ACK":
        return head
    try:
        await _refresh(exchange, entry)
        fields = ledger.fields(entry)
        answer = {**head, **{name: fields[name] for name in _RESULT_FIELDS}, "workingTime": transact_ms}
        if response_type == "FULL":
            answer["fills"] = fill_fields(entry.trades, market.quote)
    except BinanceError as error:  # the venue's own limit, or it did not answer the look-up
        # The venue took the order: an error now would make the client send it again.
        _log.info("order answered in the ACK form", order_id=entry.order_id, code=error.code)
        return head
    except Exception:
        _log.exception("order answered in the ACK form", order_id=entry.order_id)
        return head
    return answer


_RESULT_FIELDS = (
    "price", "origQty", "executedQty", "cummulativeQuoteQty", "status", "timeInForce", "type", "side",
    "origQuoteOrderQty", "selfTradePreventionMode",
)


async def _refresh(exchange: PaperExchange, entry: OrderEntry) -> None:
    """Bring the ledger's entry up to the venue's own snapshot of the order."""
    try:
        snapshot = await exchange.venue.get_order(entry.venue_id)
    except UnknownOrderError:
        return
    except RateLimitedError as error:
        raise venue_limited(error.retry_after, new_order=False) from None
    except GatewayError:
        raise status_unknown() from None
    exchange.ledger.absorb(snapshot)


def _find(exchange: PaperExchange, params: Params, market: Market) -> OrderEntry | None:
    order_id = params.integer("orderId")
    client_order_id = params.text("origClientOrderId")
    if order_id is None and client_order_id is None:
        raise BinanceError(
            400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
        )
    ledger = exchange.ledger
    if order_id is not None:
        entry = ledger.by_order_id(order_id)
    else:
        entry = ledger.by_client_id(client_order_id or "")
    if entry is None or entry.order.symbol != market.symbol:
        return None
    if client_order_id is not None and entry.order.client_order_id != client_order_id:
        return None
    return entry


async def query_order(exchange: PaperExchange, params: Params) -> object:
    market = params.market(exchange.symbols)
    entry = _find(exchange, params, market)
    if entry is None:
        raise order_does_not_exist()
    await _refresh(exchange, entry)
    if not entry.accepted:
        raise order_does_not_exist()
    return exchange.ledger.fields(entry)


async def cancel_order(exchange: PaperExchange, params: Params) -> object:
    market = params.market(exchange.symbols)
    entry = _find(exchange, params, market)
    if entry is None:
        raise unknown_order()
    await _refresh(exchange, entry)
    if not entry.is_open:
        raise unknown_order()
    try:
        await exchange.venue.cancel_order(entry.venue_id)
    except UnknownOrderError:
        raise unknown_order() from None
    except RateLimitedError as error:
        raise venue_limited(error.retry_after, new_order=False) from None
    except GatewayError:
        raise status_unknown() from None
    # The venue cancelled the order: should the look-up fail, answer what the ledger knows.
    try:
        await _refresh(exchange, entry)
    except BinanceError as error:
        _log.info("cancel answered without a look-up", order_id=entry.order_id, code=error.code)
    except Exception:
        _log.exception("cancel answered without a look-up", order_id=entry.order_id)
    fields = exchange.ledger.fields(entry)
    return {
        "symbol": market.market_id,
        "origClientOrderId": entry.order.client_order_id,
        "orderId": entry.order_id,
        "orderListId": -1,
        "clientOrderId": params.text("newClientOrderId") or new_client_order_id(),
        "transactTime": exchange.clock.now_ms(),
        **{name: fields[name] for name in _RESULT_FIELDS},
    }


async def open_orders(exchange: PaperExchange, params: Params) -> object:
    market = params.optional_market(exchange.symbols)
    symbol = market.symbol if market is not None else None
    ledger = exchange.ledger
    return [ledger.fields(entry) for entry in ledger.open_entries(symbol)]


def _open_orders_weight(params: Params) -> int:
    return 6 if params.text("symbol") is not None else 80


def order_routes() -> list[Route]:
    """The order routes, with Binance's request weights (a new order also counts as an order)."""
    return [
        Route("/api/v3/order", endpoint(new_order, weight=1, signed=True, order=True), methods=["POST"]),
        Route("/api/v3/order/test", endpoint(test_order, weight=1, signed=True), methods=["POST"]),
        Route("/api/v3/order", endpoint(query_order, weight=4, signed=True), methods=["GET"]),
        Route("/api/v3/order", endpoint(cancel_order, weight=1, signed=True), methods=["DELETE"]),
        Route("/api/v3/openOrders", endpoint(open_orders, weight=_open_orders_weight, signed=True)),
    ]


