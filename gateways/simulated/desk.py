"""The venue's order desk: accepts, fills, cancels and ends orders, and books every fill.

It is the one place where an order changes: each change goes to the order's record, the account
and the event wire together, so the snapshot, the positions and the stream always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import structlog

from engine.clock import now
from engine.errors import (
    DuplicateClientOrderIdError,
    GatewayError,
    InvalidInputError,
    OrderRejectedError,
    UnknownOrderError,
)
from engine.events import (
    ExecutionEvent,
    OrderAck,
    OrderCancelled,
    OrderExpired,
    OrderRejected,
    OrderStatus,
)
from engine.instruments import Instrument
from engine.orders import Order, OrderType, TimeInForce
from gateways.simulated.account import Account
from gateways.simulated.config import FeeSchedule
from gateways.simulated.faults import FaultInjector
from gateways.simulated.journal import EventJournal
from gateways.simulated.limits import RequestOutcome
from gateways.simulated.market import Book, SimulatedMarket
from gateways.simulated.matching import FillIntent, OrderRecord
from gateways.simulated.wire import EventWire

__all__ = ["OrderDesk"]

Handled = tuple[RequestOutcome, object, GatewayError | None]
_RECENT_FEES = 1024


class OrderDesk:
    """Executes order requests that passed the rate limits; owns the venue's order records."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        market: SimulatedMarket,
        wire: EventWire,
        journal: EventJournal,
        account: Account,
        fees: FeeSchedule,
        faults: FaultInjector,
    ) -> None:
        self._instruments = instruments
        self._market = market
        self._books = {symbol: market.book(symbol) for symbol in instruments}
        self._wire = wire
        self._journal = journal
        self._account = account
        self._fees = fees
        self._faults = faults
        self._orders: dict[str, OrderRecord] = {}
        # Accepted orders and fills are the journal's records and fills; the rest is counted here.
        self._counts = dict.fromkeys(("cancels", "rejects", "expired"), 0)
        # Accepted orders that reached a final status (filled, cancelled, expired or rejected):
        # an order never reopens, so the others are the open ones.
        self._ended = 0
        # Fees of recent fills by (quantity, price, maker): the journal keeps every fill's fee,
        # and fills of equal size at one price level share one Decimal.
        self._recent_fees: dict[tuple[Decimal, Decimal, bool], tuple[Decimal, Decimal, Decimal]] = {}
        self._log = structlog.get_logger(__name__).bind(venue="simulated")

    def __repr__(self) -> str:
        return f"<OrderDesk orders={len(self._orders)} open={self.open_orders} counts={self.counts}>"

    @property
    def counts(self) -> Mapping[str, int]:
        """Orders accepted, fills, cancels, rejects and expiries so far."""
        journal = self._journal
        return {"orders": journal.orders, "fills": journal.fills, **self._counts}

    @property
    def open_orders(self) -> int:
        """Orders that may still fill."""
        return self._journal.orders - self._ended

    def handle(self, kind: str, client_order_id: str | None, payload: object, time: float) -> Handled:
        """Execute one submit, cancel, look-up or quote request now (at ``time``)."""
        if kind == "submit":
            assert isinstance(payload, Order)
            return self._submit(payload, time)
        if kind == "get_quote":
            assert isinstance(payload, str)
            return RequestOutcome.OK, self._market.quote(payload), None
        assert client_order_id is not None
        record = self._orders.get(client_order_id)
        if record is None:
            return RequestOutcome.UNKNOWN_ORDER, None, UnknownOrderError(client_order_id)
        if kind == "get_order":
            return RequestOutcome.OK, self._journal.snapshot(record), None
        if record.status.is_open:
            self._finish(record, OrderStatus.CANCELLED, "cancelled", time)
        return RequestOutcome.OK, None, None

    def _reject(self, order: Order, reason: str) -> tuple[RequestOutcome, object, GatewayError]:
        self._counts["rejects"] += 1
        self._log.info("order rejected", client_order_id=order.client_order_id, reason=reason)
        error = OrderRejectedError(reason, client_order_id=order.client_order_id)
        return RequestOutcome.REJECTED, None, error

    def _submit(self, order: Order, time: float) -> Handled:
        client_order_id = order.client_order_id
        if client_order_id in self._orders:
            self._counts["rejects"] += 1
            return RequestOutcome.DUPLICATE, None, DuplicateClientOrderIdError(client_order_id)
        symbol = order.symbol
        instrument = self._instruments.get(symbol)
        if instrument is None:
            return self._reject(order, f"symbol={symbol!r}: unknown symbol")
        book = self._books[symbol]
        try:
            instrument.check_order(order, reference_price=book.touch(order.side))
        except InvalidInputError as error:
            return self._reject(order, str(error))
        faults = self._faults
        # Without faults no dice are drawn (``fire`` would draw none either).
        if faults.enabled and faults.fire("reject"):
            return self._reject(order, "simulated venue reject")
        # The venue executes the request at one instant, ``time``.
        journal = self._journal
        record = journal.new_record(order, time)
        self._orders[client_order_id] = record
        self._wire.publish(journal.accepted(record), time)
        if faults.enabled and faults.fire("reject_after_accept"):
            self._finish(record, OrderStatus.REJECTED, "simulated reject after accept", time)
        else:
            self._work(record, book, time)
        dropped = faults.enabled and faults.fire("drop_ack")
        outcome = RequestOutcome.ACK_DROPPED if dropped else RequestOutcome.OK
        return outcome, OrderAck(client_order_id, record.venue_order_id, time), None

    def _work(self, record: OrderRecord, book: Book, time: float) -> None:
        """Fill what is marketable now; rest or expire the remainder."""
        order = record.order
        if order.limit_price is None or book.is_marketable(order):  # a market order always is
            for quantity, price in book.take(record):
                self._book_fill(record, quantity, price, False, time)
        if record.status is OrderStatus.FILLED:  # the only final status a fill leads to
            return
        if order.order_type is OrderType.MARKET:
            self._finish(record, OrderStatus.EXPIRED, "no more liquidity for the market order", time)
        elif order.time_in_force is TimeInForce.IOC:
            self._finish(record, OrderStatus.EXPIRED, "immediate-or-cancel remainder", time)
        else:
            book.rest(record)
            self._market.order_rested()

    def fill(self, intent: FillIntent) -> None:
        """Book a fill the market decided on as it stepped (a resting order's)."""
        record = intent.record
        self._book_fill(record, intent.quantity, intent.price, intent.is_maker, now())
        if record.status is OrderStatus.FILLED:
            self._books[record.order.symbol].remove(record)

    def _book_fill(
        self, record: OrderRecord, quantity: Decimal, price: Decimal, is_maker: bool, time: float
    ) -> None:
        """Book one fill: the journal, the order, the account, the wire; the one place fills happen.
        A filled order that rests is the caller's to take out of the book."""
        order = record.order
        fee = self._fee(quantity, price, is_maker)
        journal = self._journal
        sequence = journal.filled(record, time, quantity, price, fee, is_maker)
        record.apply_fill(quantity, time)
        self._account.apply_fill(order.symbol, order.side, quantity, price, fee)
        self._wire.publish(sequence, time)
        if record.status is OrderStatus.FILLED:
            self._ended += 1

    def _fee(self, quantity: Decimal, price: Decimal, is_maker: bool) -> Decimal:
        """The fee of one fill; the same object as an earlier fill's when it would write the same."""
        key = (quantity, price, is_maker)
        known = self._recent_fees.get(key)
        # Equal values may differ in exponent (10 and 10.0), and so would their fees.
        if known is not None and known[0].same_quantum(quantity) and known[1].same_quantum(price):
            return known[2]
        fee = self._fees.fee(quantity * price, is_maker=is_maker)
        if len(self._recent_fees) >= _RECENT_FEES:
            self._recent_fees.clear()
        self._recent_fees[key] = (quantity, price, fee)
        return fee

    def _finish(self, record: OrderRecord, status: OrderStatus, reason: str, time: float) -> None:
        order = record.order
        record.finish(status, time)
        self._ended += 1
        if status is OrderStatus.CANCELLED:
            # Only a cancel ends an order that may rest: expiries and rejects after acceptance
            # come before an order rests.
            self._books[order.symbol].remove(record)
        event: ExecutionEvent
        cid, symbol, filled = order.client_order_id, order.symbol, record.filled_quantity
        sequence = len(self._journal) + 1
        if status is OrderStatus.CANCELLED:
            self._counts["cancels"] += 1
            event = OrderCancelled(
                client_order_id=cid, symbol=symbol, timestamp=time, filled_quantity=filled, reason=reason,
                sequence=sequence,
            )
        elif status is OrderStatus.EXPIRED:
            self._counts["expired"] += 1
            event = OrderExpired(
                client_order_id=cid, symbol=symbol, timestamp=time, filled_quantity=filled, reason=reason,
                sequence=sequence,
            )
        else:
            self._counts["rejects"] += 1
            event = OrderRejected(
                client_order_id=cid, symbol=symbol, timestamp=time, reason=reason, sequence=sequence
            )
        self._wire.publish(self._journal.kept(event), time)
