"""An asyncio execution engine for trading: from a target portfolio to filled orders.

This module is the one public front; everything users import is re-exported here.
"""

from __future__ import annotations

from engine.clock import is_virtual, now, run_virtual, virtual_loop_factory
from engine.errors import (
    DuplicateClientOrderIdError,
    EngineError,
    EventStreamDroppedError,
    GatewayError,
    GatewayUnavailableError,
    InvalidInputError,
    OrderRejectedError,
    OrderStateUnknownError,
    RateLimitedError,
    UnknownOrderError,
    UnknownSymbolError,
)
from engine.events import (
    ExecutionEvent,
    OrderAccepted,
    OrderAck,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSnapshot,
    OrderStatus,
)
from engine.gateway import TradingGateway
from engine.ids import ClientOrderIdGenerator, new_client_order_id
from engine.instruments import Instrument
from engine.market import Quote
from engine.orders import Order, OrderSide, OrderType, TimeInForce

__all__ = [
    "ClientOrderIdGenerator",
    "DuplicateClientOrderIdError",
    "EngineError",
    "EventStreamDroppedError",
    "ExecutionEvent",
    "GatewayError",
    "GatewayUnavailableError",
    "Instrument",
    "InvalidInputError",
    "Order",
    "OrderAccepted",
    "OrderAck",
    "OrderCancelled",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderRejectedError",
    "OrderSide",
    "OrderSnapshot",
    "OrderStateUnknownError",
    "OrderStatus",
    "OrderType",
    "Quote",
    "RateLimitedError",
    "TimeInForce",
    "TradingGateway",
    "UnknownOrderError",
    "UnknownSymbolError",
    "is_virtual",
    "new_client_order_id",
    "now",
    "run_virtual",
    "virtual_loop_factory",
]
