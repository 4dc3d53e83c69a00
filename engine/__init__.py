"""An asyncio execution engine for trading: from a target portfolio to filled orders.

This module is the one public front; everything users import is re-exported here.
"""

from __future__ import annotations

from engine._planning.options import RebalanceMode, RoundingMethod, TradeReason, UntargetedPolicy
from engine._queue.handle import Lane, OrderHandle, OrderResult, OrderResultStatus
from engine._twap.parent import ParentState
from engine.aggressive_handler import AggressiveCompletionHandler, CompletionOutcome, CompletionPolicy
from engine.clock import is_virtual, now, run_virtual, virtual_loop_factory
from engine.errors import (
    DeadlineExceededError,
    DuplicateClientOrderIdError,
    EngineError,
    EventStreamDroppedError,
    GatewayError,
    GatewayUnavailableError,
    IllegalTransitionError,
    InvalidInputError,
    OrderRejectedError,
    OrdersLeftOpenError,
    OrderStateUnknownError,
    QueueClosedError,
    QueueFullError,
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
from engine.execution_engine import ExecutionEngine, PlanExecutionReport, TWAPHandle
from engine.execution_monitor import CompletionStatus, ExecutionMonitor
from engine.fees import FeeModel
from engine.gateway import TradingGateway
from engine.ids import ClientOrderIdGenerator, new_client_order_id
from engine.instruments import Instrument
from engine.market import Quote
from engine.orders import Order, OrderSide, OrderType, TimeInForce
from engine.rate_limited_queue import QueueStatistics, RateLimitedOrderQueue
from engine.rate_limits import LimitShape, RateLimit, RequestKind
from engine.rebalancing_plan import PlannedTrade, RebalancingPlan, RebalancingPlanner, SymbolAllocation
from engine.twap_executor import (
    ExecutionReport,
    OrderSlice,
    Schedule,
    SliceStatus,
    SliceStyle,
    TWAPExecutor,
    TWAPParams,
)

__all__ = [
    "AggressiveCompletionHandler",
    "ClientOrderIdGenerator",
    "CompletionOutcome",
    "CompletionPolicy",
    "CompletionStatus",
    "DeadlineExceededError",
    "DuplicateClientOrderIdError",
    "EngineError",
    "EventStreamDroppedError",
    "ExecutionEngine",
    "ExecutionEvent",
    "ExecutionMonitor",
    "ExecutionReport",
    "FeeModel",
    "GatewayError",
    "GatewayUnavailableError",
    "IllegalTransitionError",
    "Instrument",
    "InvalidInputError",
    "Lane",
    "LimitShape",
    "Order",
    "OrderAccepted",
    "OrderAck",
    "OrderCancelled",
    "OrderExpired",
    "OrderFilled",
    "OrderHandle",
    "OrderRejected",
    "OrderRejectedError",
    "OrderResult",
    "OrderResultStatus",
    "OrderSide",
    "OrderSlice",
    "OrderSnapshot",
    "OrderStateUnknownError",
    "OrderStatus",
    "OrderType",
    "OrdersLeftOpenError",
    "ParentState",
    "PlanExecutionReport",
    "PlannedTrade",
    "QueueClosedError",
    "QueueFullError",
    "QueueStatistics",
    "Quote",
    "RateLimit",
    "RateLimitedError",
    "RateLimitedOrderQueue",
    "RebalanceMode",
    "RebalancingPlan",
    "RebalancingPlanner",
    "RequestKind",
    "RoundingMethod",
    "Schedule",
    "SliceStatus",
    "SliceStyle",
    "SymbolAllocation",
    "TWAPExecutor",
    "TWAPHandle",
    "TWAPParams",
    "TimeInForce",
    "TradeReason",
    "TradingGateway",
    "UnknownOrderError",
    "UnknownSymbolError",
    "UntargetedPolicy",
    "is_virtual",
    "new_client_order_id",
    "now",
    "run_virtual",
    "virtual_loop_factory",
]
