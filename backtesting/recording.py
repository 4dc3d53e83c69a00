"""What a backtest watches while it runs: the orders sent, the market path, the clock's progress.

``RecordingGateway`` passes every call through to the venue and remembers which parent each order
works for, so fills on the venue's event log can be drawn per parent. ``MarketSampler`` samples
the quotes of a few symbols at a fixed virtual interval for the figure. Both always run (whether
or not anything is displayed), so a run's timers, hence its results, never depend on the screen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Self

import anyio
import attrs

from engine.clock import now
from engine.events import ExecutionEvent, OrderAck, OrderSnapshot
from engine.gateway import TradingGateway
from engine.instruments import Instrument
from engine.market import Quote
from engine.orders import Order

__all__ = ["MarketSampler", "PricePoint", "RecordingGateway", "SentOrder", "run_progress"]


@attrs.frozen
class SentOrder:
    """One order as it left for the venue."""

    client_order_id: str
    parent_id: str | None
    symbol: str
    sent_at: float
    is_market: bool


@attrs.frozen
class PricePoint:
    """The top of book of one symbol at one moment of the engine clock."""

    time: float
    bid: Decimal
    ask: Decimal

    @property
    def mid(self) -> Decimal:
        """The midpoint."""
        return (self.bid + self.ask) / 2


class RecordingGateway:
    """A ``TradingGateway`` that forwards to ``gateway`` and records each order it submits."""

    def __init__(self, gateway: TradingGateway) -> None:
        self._gateway = gateway
        self._sent: dict[str, SentOrder] = {}

    def __repr__(self) -> str:
        return f"<RecordingGateway orders={len(self._sent)} of {self._gateway!r}>"

    @property
    def sent_orders(self) -> Mapping[str, SentOrder]:
        """Every order submitted so far, by client order id (the first send of each)."""
        return dict(self._sent)

    async def __aenter__(self) -> Self:
        """The wrapped venue is opened by its owner; nothing to do."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """The wrapped venue is closed by its owner; nothing to do."""

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        """The venue's instruments."""
        return self._gateway.instruments

    def instrument(self, symbol: str) -> Instrument:
        """The venue's rules of ``symbol``."""
        return self._gateway.instrument(symbol)

    async def submit_order(self, order: Order) -> OrderAck:
        """Record, then forward."""
        self._sent.setdefault(
            order.client_order_id,
            SentOrder(
                client_order_id=order.client_order_id, parent_id=order.parent_id, symbol=order.symbol,
                sent_at=now(), is_market=order.limit_price is None,
            ),
        )
        return await self._gateway.submit_order(order)

    async def cancel_order(self, client_order_id: str) -> None:
        """Forward."""
        await self._gateway.cancel_order(client_order_id)

    async def get_order(self, client_order_id: str) -> OrderSnapshot:
        """Forward."""
        return await self._gateway.get_order(client_order_id)

    async def get_quote(self, symbol: str) -> Quote:
        """Forward."""
        return await self._gateway.get_quote(symbol)

    def events(self, *, after_sequence: int = 0) -> AsyncIterator[ExecutionEvent]:
        """Forward."""
        return self._gateway.events(after_sequence=after_sequence)


class MarketSampler:
    """Samples ``quote(symbol)`` for each of ``symbols`` every ``interval`` seconds until cancelled."""

    def __init__(self, quote: Callable[[str], Quote], symbols: Sequence[str], interval: float) -> None:
        self._quote = quote
        self._symbols = tuple(symbols)
        self._interval = interval
        self._points: dict[str, list[PricePoint]] = {symbol: [] for symbol in self._symbols}

    def __repr__(self) -> str:
        samples = sum(len(points) for points in self._points.values())
        return f"<MarketSampler symbols={len(self._symbols)} every={self._interval:g}s samples={samples}>"

    @property
    def points(self) -> dict[str, tuple[PricePoint, ...]]:
        """The samples so far, per symbol."""
        return {symbol: tuple(points) for symbol, points in self._points.items()}

    def sample(self) -> None:
        """Take one sample of every symbol now."""
        time = now()
        for symbol in self._symbols:
            quote = self._quote(symbol)
            self._points[symbol].append(PricePoint(time=time, bid=quote.bid, ask=quote.ask))

    async def run(self) -> None:
        """Sample now and then every interval, forever (cancel the caller's scope to stop)."""
        start = now()
        ticks = 0
        while True:
            self.sample()
            ticks += 1
            await anyio.sleep_until(start + ticks * self._interval)


async def run_progress(report: Callable[[float], None], expected_end: float, steps: int = 100) -> None:
    """Call ``report(fraction)`` at ``steps`` even points of the clock up to ``expected_end``."""
    start = now()
    span = max(expected_end - start, 1e-9)
    for step in range(1, steps + 1):
        await anyio.sleep_until(start + span * step / steps)
        report(min(step / steps, 1.0))
    await anyio.sleep_forever()
