"""Reconciliation by REST: what a dropped stream may have carried, asked of the venue directly.

A pass, once the streams are subscribed again (so anything after it arrives by stream):

1. the open orders of every symbol with an order still open (``fetch_open_orders``);
2. each order still open here and not in that list, by client order id (``fetch_order``): this
   finds the ones that ended during the gap, their venue ids and cumulative filled quantity;
3. our trades in those symbols since the last trade seen (``fetch_my_trades``, paged), which fills
   in every fill the stream missed;
4. then the ends found in step 2, so that an order's fills are reported before its end.

Everything goes through the ``OrderTracker``, which dedupes fills by trade id and ends each order
once, so a pass can overlap the stream, or another pass, and nothing is counted twice. A pass that
fails part-way raises the ``GatewayError`` that stopped it; the next pass starts over. A malformed
record in an answer (a missing price, a number that is none) is skipped, logged and counted
(``malformed``), as the stream consumers do: one bad record never stops the gateway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import structlog

from engine.errors import InvalidInputError, UnknownOrderError
from gateways.ccxt.calls import VenueCalls
from gateways.ccxt.markets import SymbolNames
from gateways.ccxt.tracker import OrderTracker
from gateways.ccxt.translation import FillSeen, OrderSeen, order_seen, trade_seen

__all__ = ["ReconcileStatistics", "Reconciler"]

_log = structlog.get_logger("gateways.ccxt").bind(part="reconcile")
#: What reading a malformed venue record raises.
_MALFORMED = (InvalidInputError, KeyError, TypeError, ValueError, AttributeError)

#: How far back (ms) before the last trade seen the trade query starts: venues stamp trades in ms.
_OVERLAP_MS = 1_000
#: Trades asked for per page, and the most pages one symbol may take in one pass.
_PAGE = 500
_MAX_PAGES = 100


@attrs.frozen
class ReconcileStatistics:
    """How many passes ran and what they found."""

    passes: int
    orders_checked: int
    trades_read: int
    malformed: int = 0  # records skipped because they could not be read


class Reconciler:
    """Brings the tracker up to the venue's state by REST."""

    def __init__(self, calls: VenueCalls, tracker: OrderTracker, names: SymbolNames, start_ms: int) -> None:
        self._calls = calls
        self._names = names
        self._tracker = tracker
        self._start_ms = start_ms
        self._passes = self._orders_checked = self._trades_read = self._malformed = 0

    def statistics(self) -> ReconcileStatistics:
        """Counts of the passes so far."""
        return ReconcileStatistics(self._passes, self._orders_checked, self._trades_read, self._malformed)

    def _order(self, order: Any, symbol: str, what: str) -> OrderSeen | None:
        """``order`` read, or ``None`` (logged and counted) if it is malformed."""
        try:
            return order_seen(order, self._names.ours)
        except _MALFORMED as error:
            self._skip(order, symbol, what, error)
            return None

    def _trade(self, trade: Any, symbol: str) -> FillSeen | None:
        """``trade`` read, or ``None`` (logged and counted) if it is malformed."""
        try:
            return trade_seen(trade, self._names.ours)
        except _MALFORMED as error:
            self._skip(trade, symbol, "trade", error)
            return None

    def _skip(self, record: Any, symbol: str, what: str, error: Exception) -> None:
        self._malformed += 1
        record_id = record.get("id") if isinstance(record, Mapping) else None
        _log.bind(symbol=symbol, record=what, record_id=record_id).warning(
            "malformed venue record skipped", error=f"{type(error).__name__}: {error}"[:300]
        )

    async def run_pass(self, also_symbols: Iterable[str] = ()) -> None:
        """One full pass over the symbols in play (and ``also_symbols``)."""
        tracker = self._tracker
        symbols = sorted(tracker.symbols_in_play() | set(also_symbols))
        open_ids: set[str] = set()
        for symbol in symbols:
            for order in await self._calls.fetch_open_orders(self._names.venue(symbol)):
                seen = self._order(order, symbol, "open order")
                if seen is None:
                    continue
                if seen.client_order_id is not None:
                    open_ids.add(seen.client_order_id)
                tracker.order_seen(seen)
        ended: list[OrderSeen] = []
        for child in list(tracker.open_orders()):
            if child.client_order_id not in open_ids:
                seen_or_none = await self.check_order(child.client_order_id, child.symbol, fold=False)
                if seen_or_none is not None:
                    ended.append(seen_or_none)
        for symbol in symbols:
            await self.read_trades(symbol)
        for seen in ended:  # after the fills, so each order's fills come before its end
            tracker.order_seen(seen)
        self._passes += 1

    async def check_order(self, client_order_id: str, symbol: str, *, fold: bool = True) -> OrderSeen | None:
        """One order's state by client order id (``None`` for an order never received); folded
        in at once unless ``fold`` is false (its venue id is learnt either way)."""
        self._orders_checked += 1
        try:
            order = await self._calls.fetch_order(client_order_id, self._names.venue(symbol))
        except UnknownOrderError:
            return None  # its submit is still unresolved: the queue settles it by its own look-up
        seen = self._order({**order, "clientOrderId": client_order_id}, symbol, "order")
        if seen is None:
            return None  # unreadable: the next pass asks again
        if seen.venue_order_id is not None:
            self._tracker.acknowledged(client_order_id, seen.venue_order_id)
        if fold:
            self._tracker.order_seen(seen)
        return seen

    async def read_trades(self, symbol: str) -> None:
        """Fold in our trades of ``symbol`` since the last one seen (all, on first use)."""
        last = self._tracker.last_trade_ms(symbol)
        since = max(0, (last if last is not None else self._start_ms) - _OVERLAP_MS)
        for _ in range(_MAX_PAGES):
            trades = await self._calls.fetch_my_trades(self._names.venue(symbol), since, _PAGE)
            self._trades_read += len(trades)
            newest = since
            for trade in trades:
                fill = self._trade(trade, symbol)
                if fill is None:
                    continue
                self._tracker.fill_seen(fill)
                if fill.timestamp_ms is not None:
                    newest = max(newest, fill.timestamp_ms)
            if len(trades) < _PAGE or newest <= since:
                return
            since = newest  # the trades at ``newest`` come again and are deduped
