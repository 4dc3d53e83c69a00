"""``JournalingGateway``: the gateway the engine is given; it journals before it acts.

A child's client order id and quantity are written (and committed) before its submit leaves;
acks, fills (once per trade id), cancels, rejects and expiries are written as they come back,
before the engine sees them. Every event also goes to an observer (the service's progress and
counters). Without a journal it only observes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from types import TracebackType
from typing import Protocol, Self, TypeVar

from daemon.measures import SendWindows
from engine import (
    DuplicateClientOrderIdError,
    ExecutionEvent,
    Instrument,
    Order,
    OrderAccepted,
    OrderAck,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderRejectedError,
    OrderSnapshot,
    Quote,
    TradingGateway,
    UnknownOrderError,
    now,
)

__all__ = ["ChildJournal", "JournalingGateway"]

_T = TypeVar("_T")


class ChildJournal(Protocol):
    """What the gateway writes; ``daemon.journal.Journal`` implements it."""

    def record_child(self, order: Order) -> None:
        """The child is about to leave (written before the request)."""

    def record_ack(self, client_order_id: str, venue_order_id: str) -> None:
        """The venue holds the child."""

    def record_not_sent(self, client_order_id: str, reason: str) -> None:
        """The child is known to be final without reaching the venue."""

    def record_fill(self, fill: OrderFilled) -> bool:
        """One fill; False if its trade id was already journaled."""

    def record_final(self, client_order_id: str, status: str, filled_quantity: object, reason: str) -> None:
        """The child ended (cancelled, rejected, expired) with this cumulative fill."""

    def record_cancel_requested(self, client_order_id: str) -> None:
        """A cancel is about to leave."""


class JournalingGateway:
    """Wraps a ``TradingGateway``: journal first, then the venue. Does not open or close it."""

    def __init__(
        self,
        gateway: TradingGateway,
        journal: ChildJournal | None = None,
        *,
        observer: Callable[[ExecutionEvent], None] | None = None,
        windows: SendWindows | None = None,
    ) -> None:
        self._gateway = gateway
        self._journal = journal
        self._observer = observer
        self._windows = windows
        self._fills = 0
        self._cancels = 0
        # Without a journal, the trade ids seen (with one, the journal refuses a repeated one).
        self._trade_ids: set[str] = set()
        # Each child's engine parent, until the service lets it go.
        self._child_parent: dict[str, str] = {}
        # Children whose submit was answered (and journaled): their OrderAccepted adds nothing.
        self._answered: set[str] = set()

    def __repr__(self) -> str:
        return f"<JournalingGateway of {self._gateway!r} journal={self._journal is not None}>"

    @property
    def inner(self) -> TradingGateway:
        """The venue's own gateway."""
        return self._gateway

    @property
    def fills(self) -> int:
        """Distinct fills seen (by trade id)."""
        return self._fills

    @property
    def cancels(self) -> int:
        """Cancels sent."""
        return self._cancels

    def parent_of(self, client_order_id: str, parents: Mapping[str, _T]) -> _T | None:
        """The value ``parents`` holds for the engine parent of this child, if any."""
        segment = self._child_parent.get(client_order_id)
        return None if segment is None else parents.get(segment)

    def forget_children(self, client_order_ids: Iterable[str]) -> None:
        """Let final children go (a long-running daemon must not grow per child)."""
        for client_order_id in client_order_ids:
            self._child_parent.pop(client_order_id, None)
            self._answered.discard(client_order_id)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        """The venue's instruments."""
        return self._gateway.instruments

    def instrument(self, symbol: str) -> Instrument:
        """The rules of ``symbol``."""
        return self._gateway.instrument(symbol)

    async def get_quote(self, symbol: str) -> Quote:
        """The venue's quote."""
        return await self._gateway.get_quote(symbol)

    async def get_order(self, client_order_id: str) -> OrderSnapshot:
        """Look a child up at the venue; its fills are journaled on the way (once each)."""
        try:
            snapshot = await self._gateway.get_order(client_order_id)
        except UnknownOrderError:
            if self._journal is not None:
                self._journal.record_not_sent(client_order_id, "unknown at the venue when looked up")
            raise
        for fill in snapshot.fills:
            if self._fill(fill) and self._observer is not None:
                self._observer(fill)
        if snapshot.status.is_final and self._journal is not None:
            self._journal.record_final(
                client_order_id, snapshot.status.value, snapshot.filled_quantity, "looked up"
            )
        return snapshot

    async def submit_order(self, order: Order) -> OrderAck:
        """Journal the child, then send it."""
        if self._journal is not None:
            self._journal.record_child(order)
        if order.parent_id is not None:
            self._child_parent[order.client_order_id] = order.parent_id
        if self._windows is not None:
            self._windows.record(now())
        try:
            ack = await self._gateway.submit_order(order)
        except DuplicateClientOrderIdError:
            raise  # the venue holds an order with this id: it stays open until looked up
        except OrderRejectedError as error:
            if self._journal is not None:
                self._journal.record_final(order.client_order_id, "rejected", 0, str(error))
            raise
        # Other errors: not sent (the queue retries the same order, or gives it up as failed) or
        # state unknown (looked up later); the child stays open in the journal until resolved.
        if self._journal is not None:
            self._journal.record_ack(order.client_order_id, ack.venue_order_id)
            self._answered.add(order.client_order_id)
        return ack

    async def cancel_order(self, client_order_id: str) -> None:
        """Journal the cancel request, then send it."""
        if self._journal is not None:
            self._journal.record_cancel_requested(client_order_id)
        self._cancels += 1
        if self._windows is not None:
            self._windows.record(now())
        await self._gateway.cancel_order(client_order_id)

    async def events(self, *, after_sequence: int = 0) -> AsyncIterator[ExecutionEvent]:
        """The venue's events, each journaled before it is passed on."""
        async for event in self._gateway.events(after_sequence=after_sequence):
            if self._journal_event(event) and self._observer is not None:
                self._observer(event)
            yield event

    def _fill(self, fill: OrderFilled) -> bool:
        if self._journal is not None:
            new = self._journal.record_fill(fill)
        else:
            new = fill.trade_id not in self._trade_ids
            self._trade_ids.add(fill.trade_id)
        if new:
            self._fills += 1
        return new

    def _journal_event(self, event: ExecutionEvent) -> bool:
        """Journal one event; False for a fill already counted (the observer skips it)."""
        if isinstance(event, OrderFilled):
            return self._fill(event)
        journal = self._journal
        if journal is None:
            return True
        if isinstance(event, OrderAccepted):
            if event.client_order_id not in self._answered:
                journal.record_ack(event.client_order_id, event.venue_order_id)
            return True
        self._answered.discard(event.client_order_id)
        if isinstance(event, OrderCancelled):
            journal.record_final(event.client_order_id, "cancelled", event.filled_quantity, event.reason)
        elif isinstance(event, OrderExpired):
            journal.record_final(event.client_order_id, "expired", event.filled_quantity, event.reason)
        elif isinstance(event, OrderRejected):
            journal.record_final(event.client_order_id, "rejected", 0, event.reason)
        return True
