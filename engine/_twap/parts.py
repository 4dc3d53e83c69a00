"""The shared parts every parent of one engine (or one standalone executor) runs on."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import structlog

from engine._runtime.logs import writes_debug
from engine._twap.quote_cache import QuoteCache
from engine._twap.timing import SliceAlarms
from engine.execution_monitor import ExecutionMonitor
from engine.gateway import TradingGateway
from engine.rate_limited_queue import RateLimitedOrderQueue

__all__ = ["RunnerParts"]

_log = structlog.get_logger("engine._twap.runner")


@attrs.frozen
class RunnerParts:
    """The shared parts a parent runs on: gateway, queue, monitor, quotes and a child id source."""

    gateway: TradingGateway
    queue: RateLimitedOrderQueue
    monitor: ExecutionMonitor
    new_child_id: Callable[[], str]
    quotes: QuoteCache
    # Bound once for all parents: the module's lazy logger binds anew on every call, which a
    # line per child would pay even when its level is filtered out.
    log: structlog.typing.FilteringBoundLogger = attrs.field(factory=lambda: _log.bind())
    alarms: SliceAlarms = attrs.field(factory=SliceAlarms)
    # Whether ``log`` writes debug lines (asked once: see ``writes_debug``).
    debug: bool = attrs.field(init=False)

    @debug.default
    def _debug_default(self) -> bool:
        return writes_debug(self.log)
