"""JSON for the paper venue's wire: orders, acks, events, snapshots, instruments, quotes, errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine import (
    DuplicateClientOrderIdError,
    ExecutionEvent,
    GatewayError,
    GatewayUnavailableError,
    Instrument,
    InvalidInputError,
    Order,
    OrderAccepted,
    OrderAck,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderRejectedError,
    OrderSide,
    OrderSnapshot,
    OrderStateUnknownError,
    OrderStatus,
    Quote,
    RateLimitedError,
    UnknownOrderError,
    UnknownSymbolError,
)

__all__ = [
    "decode_error",
    "decode_event",
    "decode_instrument",
    "decode_order",
    "decode_quote",
    "decode_snapshot",
    "encode_error",
    "encode_event",
    "encode_instrument",
    "encode_order",
    "encode_quote",
    "encode_snapshot",
]


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def encode_order(order: Order) -> dict[str, Any]:
    """An order as JSON data."""
    return {
        "symbol": order.symbol,
        "side": order.side.value,
        "quantity": str(order.quantity),
        "order_type": order.order_type.value,
        "limit_price": _s(order.limit_price),
        "time_in_force": order.time_in_force.value,
        "client_order_id": order.client_order_id,
        "parent_id": order.parent_id,
    }


def decode_order(data: dict[str, Any]) -> Order:
    """An order back from ``encode_order``."""
    return Order(**data)


def encode_event(event: ExecutionEvent) -> dict[str, Any]:
    """An execution event as JSON data (``type`` names its class)."""
    data: dict[str, Any] = {
        "type": type(event).__name__,
        "client_order_id": event.client_order_id,
        "symbol": event.symbol,
        "timestamp": event.timestamp,
        "sequence": event.sequence,
    }
    if isinstance(event, OrderAccepted):
        data["venue_order_id"] = event.venue_order_id
    elif isinstance(event, OrderFilled):
        data.update(
            trade_id=event.trade_id,
            side=event.side.value,
            quantity=str(event.quantity),
            price=str(event.price),
            fee=str(event.fee),
            is_maker=event.is_maker,
        )
    elif isinstance(event, (OrderCancelled, OrderExpired)):
        data.update(filled_quantity=str(event.filled_quantity), reason=event.reason)
    else:
        data["reason"] = event.reason
    return data


def decode_event(data: dict[str, Any]) -> ExecutionEvent:
    """An execution event back from ``encode_event``."""
    kind = data.pop("type")
    if kind == "OrderAccepted":
        return OrderAccepted(**data)
    if kind == "OrderFilled":
        return OrderFilled(
            **{
                **data,
                "side": OrderSide.parse(data["side"]),
                "quantity": Decimal(data["quantity"]),
                "price": Decimal(data["price"]),
                "fee": Decimal(data["fee"]),
            }
        )
    if kind == "OrderCancelled":
        return OrderCancelled(**{**data, "filled_quantity": Decimal(data["filled_quantity"])})
    if kind == "OrderExpired":
        return OrderExpired(**{**data, "filled_quantity": Decimal(data["filled_quantity"])})
    if kind == "OrderRejected":
        return OrderRejected(**data)
    raise GatewayError(f"unknown event type {kind!r} from the paper venue")


def encode_snapshot(snapshot: OrderSnapshot) -> dict[str, Any]:
    """An order snapshot as JSON data."""
    return {
        "order": encode_order(snapshot.order),
        "venue_order_id": snapshot.venue_order_id,
        "status": snapshot.status.value,
        "filled_quantity": str(snapshot.filled_quantity),
        "average_price": _s(snapshot.average_price),
        "fees": str(snapshot.fees),
        "fills": [encode_event(fill) for fill in snapshot.fills],
        "created_at": snapshot.created_at,
        "updated_at": snapshot.updated_at,
    }


def decode_snapshot(data: dict[str, Any]) -> OrderSnapshot:
    """An order snapshot back from ``encode_snapshot``."""
    fills = tuple(decode_event(fill) for fill in data["fills"])
    return OrderSnapshot(
        order=decode_order(data["order"]),
        venue_order_id=data["venue_order_id"],
        status=OrderStatus(data["status"]),
        filled_quantity=Decimal(data["filled_quantity"]),
        average_price=_d(data["average_price"]),
        fees=Decimal(data["fees"]),
        fills=tuple(fill for fill in fills if isinstance(fill, OrderFilled)),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
    )


def encode_ack(ack: OrderAck) -> dict[str, Any]:
    """An ack as JSON data."""
    return {
        "client_order_id": ack.client_order_id,
        "venue_order_id": ack.venue_order_id,
        "timestamp": ack.timestamp,
    }


def decode_ack(data: dict[str, Any]) -> OrderAck:
    """An ack back from ``encode_ack``."""
    return OrderAck(data["client_order_id"], data["venue_order_id"], data["timestamp"])


def encode_instrument(instrument: Instrument) -> dict[str, Any]:
    """An instrument as JSON data."""
    return {
        "symbol": instrument.symbol,
        "tick_size": str(instrument.tick_size),
        "lot_size": str(instrument.lot_size),
        "min_quantity": str(instrument.min_quantity),
        "min_notional": str(instrument.min_notional),
    }


def decode_instrument(data: dict[str, Any]) -> Instrument:
    """An instrument back from ``encode_instrument``."""
    return Instrument(**data)


def encode_quote(quote: Quote) -> dict[str, Any]:
    """A quote as JSON data."""
    return {
        "symbol": quote.symbol,
        "bid": str(quote.bid),
        "ask": str(quote.ask),
        "bid_size": str(quote.bid_size),
        "ask_size": str(quote.ask_size),
        "last": _s(quote.last),
        "timestamp": quote.timestamp,
    }


def decode_quote(data: dict[str, Any]) -> Quote:
    """A quote back from ``encode_quote``."""
    return Quote(**data)


def encode_error(error: Exception) -> dict[str, Any]:
    """A venue error as JSON data, to be raised again on the other side."""
    data: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, RateLimitedError):
        data["retry_after"] = error.retry_after
    if isinstance(error, OrderRejectedError):
        data["reason"] = error.reason
    if isinstance(error, InvalidInputError):
        data.update(field=error.field, value=repr(error.value), reason=error.reason)
    data["client_order_id"] = getattr(error, "client_order_id", None)
    return data


def decode_error(data: dict[str, Any]) -> Exception:
    """The engine error ``encode_error`` described."""
    kind, message = data["type"], data["message"]
    cid = str(data.get("client_order_id"))
    if kind == "RateLimitedError":
        return RateLimitedError(retry_after=float(data["retry_after"]))
    if kind == "DuplicateClientOrderIdError":
        return DuplicateClientOrderIdError(cid)
    if kind == "OrderRejectedError":
        return OrderRejectedError(data["reason"])
    if kind == "UnknownOrderError":
        return UnknownOrderError(cid)
    if kind == "UnknownSymbolError":
        return UnknownSymbolError(data.get("value"))
    if kind == "InvalidInputError":
        return InvalidInputError(data["field"], data["value"], data["reason"])
    if kind == "GatewayUnavailableError":
        return GatewayUnavailableError(message)
    if kind == "OrderStateUnknownError":
        return OrderStateUnknownError(message)
    return GatewayError(message)
