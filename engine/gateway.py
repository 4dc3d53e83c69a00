"""The protocol every venue gateway implements; ``engine/`` depends on this, never on a gateway.

A gateway is used inside ``async with``: entering connects and loads the instrument table,
leaving disconnects. Its calls raise only the ``GatewayError`` family from ``engine.errors``
(vendor errors are translated at the gateway's edge):

- ``submit_order`` returns an ``OrderAck`` once the venue holds the order. A timeout or a lost
  connection after the request left raises ``OrderStateUnknownError``: the caller must look the
  client order id up with ``get_order`` and never resend blindly. A venue that already holds the
  client order id raises ``DuplicateClientOrderIdError``.
- ``cancel_order`` asks the venue to cancel; the outcome arrives as an event (``OrderCancelled``,
  or the fills that beat the cancel). Cancelling an order that is already final is a no-op.
- ``get_order`` returns the venue's ``OrderSnapshot``, or raises ``UnknownOrderError`` when the
  venue never received that client order id.
- ``events(after_sequence=n)`` streams execution events with sequence numbers above ``n``. If the
  stream drops it raises ``EventStreamDroppedError``; subscribing again from the last sequence
  seen replays everything missed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from engine.events import ExecutionEvent, OrderAck, OrderSnapshot
from engine.instruments import Instrument
from engine.market import Quote
from engine.orders import Order

__all__ = ["TradingGateway"]


@runtime_checkable
class TradingGateway(Protocol):
    """A connection to one venue: orders out, execution events in."""

    async def __aenter__(self) -> Self:
        """Connect and load the venue's instruments."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Disconnect."""
        ...

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        """The venue's tradable symbols and their rules."""
        ...

    def instrument(self, symbol: str) -> Instrument:
        """The rules of ``symbol``; raises ``UnknownSymbolError`` if the venue does not list it."""
        ...

    async def submit_order(self, order: Order) -> OrderAck:
        """Send a new order; see the module docstring for what each error means."""
        ...

    async def cancel_order(self, client_order_id: str) -> None:
        """Ask the venue to cancel an order; the result arrives as an event."""
        ...

    async def get_order(self, client_order_id: str) -> OrderSnapshot:
        """Look an order up by client order id at the venue."""
        ...

    async def get_quote(self, symbol: str) -> Quote:
        """The current top-of-book quote of ``symbol``."""
        ...

    def events(self, *, after_sequence: int = 0) -> AsyncIterator[ExecutionEvent]:
        """Execution events with a sequence number above ``after_sequence``, as they happen."""
        ...
