"""ccxt's unified structures (order, trade, ticker) read into the engine's values, and back.

ccxt's unified order has ``status`` in ``open | closed | canceled | expired | rejected`` and a
cumulative ``filled``; a unified trade has its venue ``id`` (unique per symbol), the venue ``order``
id, ``amount``, ``price``, ``fee`` and ``takerOrMaker``. Numbers arrive as floats and become
``Decimal`` through ``str`` (see ``markets.to_decimal``). A market order is sent without a price
(Binance would turn a priced market order into a ``quoteOrderQty`` order, buying by cost).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from engine.errors import InvalidInputError
from engine.events import OrderStatus
from engine.market import Quote
from engine.numbers import ZERO
from engine.orders import Order, OrderSide, OrderType, TimeInForce
from gateways.ccxt.markets import to_decimal

__all__ = [
    "FillSeen",
    "OrderSeen",
    "create_order_arguments",
    "order_from_ccxt",
    "order_seen",
    "quote_from_ticker",
    "status_of",
    "trade_from_report",
    "trade_seen",
]

_STATUSES = {
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


@attrs.frozen
class OrderSeen:
    """One observation of an order at the venue (from the stream or from REST)."""

    client_order_id: str | None
    venue_order_id: str | None
    symbol: str
    status: OrderStatus
    filled: Decimal
    reason: str


@attrs.frozen
class FillSeen:
    """One trade of an order at the venue (from the stream or from REST)."""

    client_order_id: str | None
    venue_order_id: str | None
    symbol: str
    trade_id: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    is_maker: bool
    timestamp_ms: int | None = None


def create_order_arguments(order: Order, venue_symbol: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The positional arguments and params of ``exchange.create_order`` for ``order``."""
    params: dict[str, Any] = {"clientOrderId": order.client_order_id}
    if order.order_type is OrderType.MARKET:
        price = None  # never a price: Binance reads a priced market order as buy-by-cost
    else:
        price = str(order.limit_price)
        params["timeInForce"] = "IOC" if order.time_in_force is TimeInForce.IOC else "GTC"
    arguments = (venue_symbol, order.order_type.value, order.side.value, str(order.quantity), price)
    return arguments, params


def status_of(order: Mapping[str, Any]) -> OrderStatus:
    """The engine's status for a ccxt order (``open`` splits on whether anything filled)."""
    status = _STATUSES.get(str(order.get("status")))
    if status is not None:
        return status
    filled = order.get("filled")
    return OrderStatus.PARTIALLY_FILLED if filled and to_decimal(filled, "filled") > 0 else OrderStatus.NEW


def _reason(order: Mapping[str, Any], status: OrderStatus) -> str:
    info = order.get("info") or {}
    code = info.get("r") if isinstance(info, Mapping) else None
    if code and code != "NONE":
        return str(code)
    return status.value


def _same(symbol: str) -> str:
    return symbol


def _not_negative(filled: Any) -> Decimal:
    number = to_decimal(filled, "filled")
    if number < 0:
        raise InvalidInputError("filled", filled, "the venue sent a filled quantity below zero")
    return number


def order_seen(order: Mapping[str, Any], ours: Callable[[str], str] = _same) -> OrderSeen:
    """An observation from a ccxt order structure (``ours`` names its symbol our way)."""
    status = status_of(order)
    filled = order.get("filled")
    venue_order_id = order.get("id")
    return OrderSeen(
        client_order_id=order.get("clientOrderId") or None,
        venue_order_id=None if venue_order_id is None else str(venue_order_id),
        symbol=ours(str(order.get("symbol"))),
        status=status,
        filled=ZERO if filled is None else _not_negative(filled),
        reason=_reason(order, status),
    )


def _positive(value: Any, field: str) -> Decimal:
    """A trade's quantity or price: a number above zero (any other is a malformed record)."""
    number = to_decimal(value, field)
    if number <= 0:
        raise InvalidInputError(field, value, "the venue sent a trade's number that is not above zero")
    return number


def trade_seen(trade: Mapping[str, Any], ours: Callable[[str], str] = _same) -> FillSeen:
    """A fill from a ccxt trade structure (Binance's stream also carries the client id in ``c``)."""
    info = trade.get("info") or {}
    client_order_id = trade.get("clientOrderId") or (info.get("c") if isinstance(info, Mapping) else None)
    fee = trade.get("fee") or {}
    fee_cost = fee.get("cost") if isinstance(fee, Mapping) else None
    order_id = trade.get("order")
    timestamp = trade.get("timestamp")
    return FillSeen(
        client_order_id=client_order_id or None,
        venue_order_id=None if order_id is None else str(order_id),
        symbol=ours(str(trade.get("symbol"))),
        trade_id=str(trade.get("id")),
        quantity=_positive(trade.get("amount"), "amount"),
        price=_positive(trade.get("price"), "price"),
        fee=ZERO if fee_cost is None else to_decimal(fee_cost, "fee.cost"),
        is_maker=trade.get("takerOrMaker") == "maker",
        timestamp_ms=int(timestamp) if isinstance(timestamp, int | float) else None,
    )


def order_from_ccxt(order: Mapping[str, Any], client_order_id: str, symbol: str) -> Order:
    """Our ``Order`` (in our ``symbol``) rebuilt from a ccxt order structure, for a look-up."""
    order_type = OrderType.LIMIT if order.get("type") == "limit" else OrderType.MARKET
    price = order.get("price")
    time_in_force = TimeInForce.IOC if order.get("timeInForce") == "IOC" else TimeInForce.GTC
    return Order(
        symbol=symbol,
        side=OrderSide.parse(order.get("side")),
        quantity=to_decimal(order.get("amount"), "amount"),
        order_type=order_type,
        limit_price=to_decimal(price, "price") if order_type is OrderType.LIMIT else None,
        time_in_force=time_in_force if order_type is OrderType.LIMIT else TimeInForce.GTC,
        client_order_id=client_order_id,
    )


def quote_from_ticker(symbol: str, ticker: Mapping[str, Any], timestamp: float) -> Quote:
    """The top of book from a ccxt ticker (``bid``, ``ask``, their volumes and ``last``)."""
    last = ticker.get("last")
    return Quote(
        symbol,
        bid=to_decimal(ticker.get("bid"), "bid"),
        ask=to_decimal(ticker.get("ask"), "ask"),
        bid_size=to_decimal(ticker.get("bidVolume") or 0, "bidVolume"),
        ask_size=to_decimal(ticker.get("askVolume") or 0, "askVolume"),
        last=None if not last else to_decimal(last, "last"),
        timestamp=timestamp,
    )


def trade_from_report(order: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
    """A ccxt-shaped trade from a Binance execution report (``t`` trade id, ``l``/``L``/``n``)."""
    return {
        "id": str(info["t"]),
        "order": order.get("id"),
        "clientOrderId": order.get("clientOrderId"),
        "symbol": order.get("symbol"),
        "amount": info["l"],
        "price": info["L"],
        "fee": {"cost": info.get("n") or "0"},
        "takerOrMaker": "maker" if info.get("m") else "taker",
        "timestamp": info.get("T"),
    }
