"""The venue's journal: every event it published, in sequence order, kept as what it is made of.

A venue in a backtest keeps every event for its whole life (for replays and ``event_log``), and
most of an event repeats what the order's record already holds. So the journal keeps an
acceptance as its order's record and a fill as a row of columns (order, time, quantity, price,
fee, maker), and writes the event object when someone reads it: a subscription, a replay, a
look-up or ``event_log``. The end of an order (cancelled, expired, rejected) is kept as the event
itself. Built twice, an event is equal to itself, not the same object; its Decimals are the ones
the venue booked, so they are shared, as before.

Sequence numbers are positions in the journal (the first event is 1); fills are numbered in
the order they happened (the first is 1), which is also their trade id: ``T1``, ``T2``, ...
"""

from __future__ import annotations

from array import array
from decimal import Decimal

from engine.events import (
    ExecutionEvent,
    OrderAccepted,
    OrderFilled,
    OrderSnapshot,
)
from engine.orders import Order
from gateways.simulated.matching import OrderRecord

__all__ = ["EventJournal"]

# What a journal entry holds, by kind: the record's number, a fill number, or a kept event's index.
_ACCEPTED, _FILLED, _KEPT = 0, 1, 2


class EventJournal:
    """The sequenced record of a venue's events and its order records, with one writer: the desk."""

    def __init__(self) -> None:
        self._records: list[OrderRecord] = []  # by venue order number - 1
        self._kinds = bytearray()  # by sequence - 1
        self._refs = array("q")  # by sequence - 1: record number, fill number or kept index
        self._kept: list[ExecutionEvent] = []
        # The fill columns, by fill number - 1.
        self._fill_records = array("q")
        self._fill_sequences = array("q")
        self._fill_times = array("d")
        self._fill_quantities: list[Decimal] = []
        self._fill_prices: list[Decimal] = []
        self._fill_fees: list[Decimal] = []
        self._fill_makers = bytearray()
        # Each order's fills: the first by record number - 1 (0: none yet), the rest, of the few
        # orders that fill more than once, by record number.
        self._first_fills = array("q")
        self._later_fills: dict[int, list[int]] = {}

    def __repr__(self) -> str:
        return f"<EventJournal events={len(self._kinds)} orders={len(self._records)} fills={self.fills}>"

    def __len__(self) -> int:
        return len(self._kinds)

    @property
    def orders(self) -> int:
        """How many order records (accepted orders) the journal holds."""
        return len(self._records)

    @property
    def fills(self) -> int:
        """How many fills the journal holds."""
        return len(self._fill_times)

    # --- writing ----------------------------------------------------------------------------

    def new_record(self, order: Order, time: float) -> OrderRecord:
        """A record for an order the venue accepts now, numbered after the last one."""
        record = OrderRecord(order, len(self._records) + 1, time, time)  # created and updated now
        self._records.append(record)
        self._first_fills.append(0)
        return record

    def accepted(self, record: OrderRecord) -> int:
        """Journal ``record``'s acceptance; return its sequence."""
        self._kinds.append(_ACCEPTED)
        self._refs.append(record.number)
        return len(self._kinds)

    def filled(
        self, record: OrderRecord, time: float, quantity: Decimal, price: Decimal, fee: Decimal,
        is_maker: bool,
    ) -> int:
        """Journal a fill of ``record`` (before the record counts it); return its sequence (its
        fill number is the journal's count of fills)."""
        self._kinds.append(_FILLED)
        sequence = len(self._kinds)
        number = len(self._fill_times) + 1
        self._refs.append(number)
        self._fill_records.append(record.number)
        self._fill_sequences.append(sequence)
        self._fill_times.append(time)
        self._fill_quantities.append(quantity)
        self._fill_prices.append(price)
        self._fill_fees.append(fee)
        self._fill_makers.append(is_maker)
        index = record.number - 1
        if self._first_fills[index]:
            self._later_fills.setdefault(record.number, []).append(number)
        else:
            self._first_fills[index] = number
        return sequence

    def kept(self, event: ExecutionEvent) -> int:
        """Journal ``event`` as it is (its sequence must be the next one); return the sequence."""
        assert event.sequence == len(self._kinds) + 1, (event.sequence, len(self._kinds))
        self._kinds.append(_KEPT)
        self._refs.append(len(self._kept))
        self._kept.append(event)
        return event.sequence

    # --- reading ----------------------------------------------------------------------------

    def is_fill(self, sequence: int) -> bool:
        """True if event ``sequence`` is a fill."""
        return self._kinds[sequence - 1] == _FILLED

    def event(self, sequence: int) -> ExecutionEvent:
        """Event ``sequence`` (from 1), as it was published."""
        kind = self._kinds[sequence - 1]
        ref = self._refs[sequence - 1]
        if kind == _FILLED:
            return self.fill(ref)
        if kind == _KEPT:
            return self._kept[ref]
        record = self._records[ref - 1]
        order = record.order
        return OrderAccepted._checked(
            order.client_order_id, order.symbol, record.created_at, sequence, f"V{ref}"
        )

    def fill(self, number: int) -> OrderFilled:
        """Fill ``number`` (from 1), as it was published."""
        index = number - 1
        order = self._records[self._fill_records[index] - 1].order
        return OrderFilled._checked(
            order.client_order_id, order.symbol, self._fill_times[index], self._fill_sequences[index],
            f"T{number}", order.side, self._fill_quantities[index], self._fill_prices[index],
            self._fill_fees[index], bool(self._fill_makers[index]),
        )

    def fill_numbers(self, record: OrderRecord) -> tuple[int, ...]:
        """The numbers of ``record``'s fills, in fill order."""
        first = self._first_fills[record.number - 1]
        if not first:
            return ()
        return (first, *self._later_fills.get(record.number, ()))

    def events(self) -> tuple[ExecutionEvent, ...]:
        """Every event, in sequence order."""
        return tuple(self.event(sequence) for sequence in range(1, len(self._kinds) + 1))

    def snapshot(self, record: OrderRecord) -> OrderSnapshot:
        """The frozen look-up answer for ``record``: its sums are taken over its fills in order."""
        fills = tuple(self.fill(number) for number in self.fill_numbers(record))
        filled = record.filled_quantity
        notional = Decimal(0)
        fees = Decimal(0)
        for fill in fills:
            notional += fill.quantity * fill.price
        for fill in fills:
            fees += fill.fee
        return OrderSnapshot(
            order=record.order, venue_order_id=record.venue_order_id, status=record.status,
            filled_quantity=filled, average_price=notional / filled if filled else None,
            fees=fees, fills=fills, created_at=record.created_at, updated_at=record.updated_at,
        )
