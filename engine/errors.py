"""Every error the engine raises, named for what happened.

``EngineError`` is the root. Bad input raises ``InvalidInputError`` (a ``ValueError``) naming the
field and the value. Gateways translate their vendor's errors into the ``GatewayError`` family at
their edge, so callers handle one vocabulary whatever the venue:

- ``RateLimitedError``: the venue refused for load; retry after ``retry_after`` seconds.
- ``OrderRejectedError``: the venue refused the request for a reason; do not retry it as is.
- ``GatewayUnavailableError``: the request is known not to have reached the venue; safe to retry.
- ``OrderStateUnknownError``: the request left and no answer came; reconcile by looking the
  client order id up, never resend blindly.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DeadlineExceededError",
    "DuplicateClientOrderIdError",
    "EngineError",
    "EventStreamDroppedError",
    "GatewayError",
    "GatewayUnavailableError",
    "IllegalTransitionError",
    "InvalidInputError",
    "OrderRejectedError",
    "OrderStateUnknownError",
    "OrdersLeftOpenError",
    "QueueClosedError",
    "QueueFullError",
    "RateLimitedError",
    "UnknownOrderError",
    "UnknownSymbolError",
]


def _shorten(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class EngineError(Exception):
    """Raised for anything that goes wrong inside the engine; the root of all its errors."""


class InvalidInputError(EngineError, ValueError):
    """Raised when an argument is refused at the edge; names the field and the value."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={_shorten(value)}: {reason}")


class IllegalTransitionError(EngineError):
    """Raised when a state machine is asked for a move its transition table does not allow."""

    def __init__(self, name: str, current: str, requested: str) -> None:
        self.name = name
        self.current = current
        self.requested = requested
        super().__init__(f"{name}: illegal transition {current} -> {requested}")


class UnknownSymbolError(InvalidInputError):
    """Raised when a symbol is not listed by the venue or the instrument table."""

    def __init__(self, symbol: Any, field: str = "symbol", known: tuple[str, ...] = ()) -> None:
        hint = f"; known symbols: {', '.join(known[:10])}" if known else ""
        if len(known) > 10:
            hint += ", ..."
        super().__init__(field, symbol, f"unknown symbol{hint}")
        self.symbol = symbol


class QueueFullError(EngineError):
    """Raised when a bounded order queue that refuses when full holds its maximum already."""

    def __init__(self, max_queued: int) -> None:
        self.max_queued = max_queued
        super().__init__(f"the order queue is full (max_queued={max_queued}); retry later")


class QueueClosedError(EngineError):
    """Raised when a request is submitted to an order queue that has been closed, or when one
    waits on a queue that is not running (never entered with ``async with``)."""


class DeadlineExceededError(EngineError):
    """Raised (as a result's error) when a request's deadline passed before it could be sent."""

    def __init__(self, deadline: float, *, client_order_id: str | None = None) -> None:
        self.deadline = deadline
        self.client_order_id = client_order_id
        super().__init__(f"deadline {deadline:.3f} passed before {client_order_id or 'the request'} was sent")


class GatewayError(EngineError):
    """Raised when a venue request fails; the root of the errors gateways translate into."""

    def __init__(self, message: str, *, client_order_id: str | None = None) -> None:
        self.client_order_id = client_order_id
        super().__init__(message)


class RateLimitedError(GatewayError):
    """Raised when the venue refused a request for exceeding its rate limit (HTTP 429 or kin)."""

    def __init__(
        self,
        message: str = "rate limited by the venue",
        *,
        retry_after: float,
        client_order_id: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(f"{message} (retry after {retry_after:.3f}s)", client_order_id=client_order_id)


class OrderRejectedError(GatewayError):
    """Raised when the venue refused a request for a reason; resending it unchanged is futile."""

    def __init__(self, reason: str, *, client_order_id: str | None = None) -> None:
        self.reason = reason
        prefix = f"order {client_order_id} rejected" if client_order_id else "request rejected"
        super().__init__(f"{prefix}: {reason}", client_order_id=client_order_id)


class DuplicateClientOrderIdError(OrderRejectedError):
    """Raised when the venue already holds an order with this client order id."""

    def __init__(self, client_order_id: str) -> None:
        super().__init__("duplicate client order id", client_order_id=client_order_id)


class UnknownOrderError(GatewayError):
    """Raised when the venue has no order with this client order id: it never arrived."""

    def __init__(self, client_order_id: str) -> None:
        super().__init__(f"no order {client_order_id} at the venue", client_order_id=client_order_id)


class GatewayUnavailableError(GatewayError):
    """Raised when the request is known not to have reached the venue; it is safe to retry."""


class EventStreamDroppedError(GatewayUnavailableError):
    """Raised by an event stream that lost its connection; resubscribe from the last sequence."""

    def __init__(self, last_sequence: int) -> None:
        self.last_sequence = last_sequence
        super().__init__(f"event stream dropped after sequence {last_sequence}")


class OrderStateUnknownError(GatewayError):
    """Raised when a request left and no answer came; look the order up, never resend blindly."""

    def __init__(self, message: str, *, client_order_id: str | None = None) -> None:
        super().__init__(message, client_order_id=client_order_id)


class OrdersLeftOpenError(EngineError):
    """Raised when leaving an engine or a queue could not cancel orders that may still be live at
    the venue within its grace; ``client_order_ids`` names them, so they can be followed up."""

    def __init__(self, client_order_ids: tuple[str, ...], reason: str) -> None:
        self.client_order_ids = client_order_ids
        self.reason = reason
        super().__init__(
            f"{len(client_order_ids)} order(s) may still be live at the venue ({reason}): "
            + ", ".join(client_order_ids)
        )
