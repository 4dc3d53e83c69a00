"""What a parent order achieved: ``ExecutionReport`` with its ``OrderSlice`` list, and the maths.

Costs are signed so that a positive number is always a cost, for buys and sells alike:

- slippage vs arrival (bps): side × (average price − arrival mid) / arrival mid;
- slippage vs the interval TWAP of the mid (bps): the same against the mean mid over the run;
- implementation shortfall: side × Σ(fill price − arrival) × fill quantity, plus fees, plus the
  unfilled part valued at side × (end mid − arrival); in cash and in bps of quantity × arrival;
- schedule tracking error: the largest gap between what was filled and what the schedule wanted
  sent, measured just before each slice was due and at the end, as a share of the order.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs

from engine._twap.child import ChildOrder, ChildState
from engine._twap.parent import ParentOrder, ParentState
from engine.numbers import ZERO, shared_decimal, shared_sum
from engine.orders import OrderSide

__all__ = ["ExecutionReport", "OrderSlice", "SliceStatus", "build_report"]

_BPS = Decimal(10_000)
_BPS_PLACES = Decimal("0.0001")


class SliceStatus(enum.Enum):
    """What became of one slice of the schedule."""

    NOT_SENT = "not_sent"  # the parent ended before the slice was due
    SKIPPED = "skipped"  # due, but nothing to send (ahead of schedule, price limit, done)
    WORKING = "working"
    FILLED = "filled"
    PARTIALLY_FILLED = "partially_filled"
    UNFILLED = "unfilled"
    FAILED = "failed"  # every child was rejected or failed to send


def _compact_ids(ids: str | Sequence[str]) -> str | tuple[str, ...]:
    if isinstance(ids, str):
        return ids
    return ids[0] if len(ids) == 1 else tuple(ids)


@attrs.frozen
class OrderSlice:
    """One slice: when it was due and sent, how much, what filled at what price, its children."""

    index: int
    scheduled_at: float
    quantity: Decimal
    sent_at: float | None = None
    sent_quantity: Decimal = ZERO
    filled_quantity: Decimal = ZERO
    avg_price: Decimal | None = None
    status: SliceStatus = SliceStatus.NOT_SENT
    # Given and read as a tuple (``child_ids``); a lone id, as most slices have, is kept as it is,
    # not in a tuple of one (48 bytes a slice, and reports of thousands of parents are held).
    _child_ids: str | tuple[str, ...] = attrs.field(default=(), converter=_compact_ids)
    note: str | None = None

    @property
    def child_ids(self) -> tuple[str, ...]:
        """The ids of the slice's children, in sending order."""
        ids = self._child_ids
        return (ids,) if isinstance(ids, str) else ids


@attrs.frozen
class ExecutionReport:
    """The outcome of one parent order; ``to_dict()`` / ``to_json()`` for storage.

    ``avg_price`` is ``None`` when nothing filled. Prices and quantities are ``Decimal``; costs in
    bps are rounded to 4 places. ``slices`` lists the schedule; ``aggressive_quantity`` is what the
    deadline completion filled.
    """

    parent_id: str
    symbol: str
    side: OrderSide
    quantity: Decimal
    filled_quantity: Decimal
    avg_price: Decimal | None
    arrival_price: Decimal | None
    end_price: Decimal | None
    interval_twap: Decimal | None
    slippage_bps: Decimal | None
    twap_slippage_bps: Decimal | None
    implementation_shortfall: Decimal | None
    implementation_shortfall_bps: Decimal | None
    fees: Decimal
    fill_rate: Decimal
    aggressive_quantity: Decimal
    started_at: float
    ended_at: float
    tracking_error: Decimal
    slices: tuple[OrderSlice, ...]
    final_state: ParentState
    requested_slices: int
    child_orders: int
    completion_child_ids: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def duration(self) -> float:
        """Seconds from start to end (engine clock)."""
        return self.ended_at - self.started_at

    @property
    def unfilled_quantity(self) -> Decimal:
        """Quantity minus filled."""
        return self.quantity - self.filled_quantity

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: decimals as strings, enums as their values."""
        data = attrs.asdict(self, value_serializer=_serialize)
        data["duration"] = self.duration
        for line, order_slice in zip(data["slices"], self.slices, strict=True):
            del line["_child_ids"]
            line["child_ids"] = list(order_slice.child_ids)
        return data

    def to_json(self) -> str:
        """The report as JSON with sorted keys (byte-identical for identical runs)."""
        return json.dumps(self.to_dict(), sort_keys=True)


def _serialize(_instance: object, _field: object, value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _bps(cost: Decimal, base: Decimal) -> Decimal:
    return (cost / base * _BPS).quantize(_BPS_PLACES)


@attrs.define(weakref_slot=False)
class SliceRecord:
    """What the scheduler did with one slice; mutable while the parent runs."""

    index: int
    scheduled_at: float
    quantity: Decimal
    sent_at: float | None = None
    # Most slices send one child: its lone id is kept as it is, not in a tuple of one (every
    # record of every running parent is held at once). ``child_ids`` reads a tuple;
    # ``add_child_id`` appends.
    _child_ids: str | tuple[str, ...] = ()
    note: str | None = None
    due: bool = False

    @property
    def child_ids(self) -> tuple[str, ...]:
        """The ids of the slice's children, in sending order."""
        ids = self._child_ids
        return (ids,) if isinstance(ids, str) else ids

    def add_child_id(self, client_order_id: str) -> None:
        """Append the id of a child just sent."""
        ids = self._child_ids
        if not ids:
            self._child_ids = client_order_id
        else:
            self._child_ids = (ids, client_order_id) if isinstance(ids, str) else (*ids, client_order_id)


def _slice_status(
    record: SliceRecord, children: Sequence[ChildOrder], filled: Decimal, sent: Decimal
) -> SliceStatus:
    if not children:
        return SliceStatus.SKIPPED if record.due else SliceStatus.NOT_SENT
    return _status(
        record,
        any(not c.state.is_final for c in children),
        all(c.state is ChildState.REJECTED for c in children),
        filled,
        sent,
    )


def _status(
    record: SliceRecord, working: bool, rejected: bool, filled: Decimal, sent: Decimal
) -> SliceStatus:
    # The status of a slice that sent children: some still ``working``, or every one ``rejected``.
    if working:
        return SliceStatus.WORKING
    if filled <= 0:
        return SliceStatus.FAILED if rejected else SliceStatus.UNFILLED
    # A re-priced slice sends several children; it is filled when the last one completed it.
    if filled >= record.quantity or filled >= sent:
        return SliceStatus.FILLED
    return SliceStatus.PARTIALLY_FILLED


def _total(values: list[Decimal]) -> Decimal:
    """``sum(values, ZERO)``, keeping a lone value's own object when the sum writes the same.

    Reports of thousands of parents are held at once, and most slices have one child: sharing
    its Decimals saves a new object per field. The sum can differ in form though (``0 + 1E+1``
    is ``10``, ``0 + -0`` is ``0``), so the lone value is kept only when exponent and sign agree.
    """
    if len(values) == 1:
        return shared_sum(ZERO, values[0])
    return sum(values, ZERO)


def order_slice(record: SliceRecord | OrderSlice, parent: ParentOrder) -> OrderSlice:
    """The report line of one slice from its record and the parent's children (a line already
    made, for a slice whose children were folded, is returned as it is)."""
    if isinstance(record, OrderSlice):
        return record
    ids = record._child_ids
    if isinstance(ids, str):
        return _one_child_slice(record, parent.child(ids))
    children = tuple(parent.child(cid) for cid in ids)
    priced = sum((c.priced_quantity for c in children), ZERO)
    notional = sum((c.notional for c in children), ZERO)
    sent = _total([c.quantity for c in children])
    filled = _total([c.filled for c in children])
    avg_price = notional / priced if priced else None
    if avg_price is not None and len(children) == 1:
        avg_price = shared_decimal(avg_price, children[0].sole_price)
    return _line(record, sent, filled, avg_price, _slice_status(record, children, filled, sent), ids)


def _one_child_slice(record: SliceRecord, child: ChildOrder) -> OrderSlice:
    # Most slices: the general case's figures and status for one child, without its tuples,
    # lists and generators (a line is made for every slice of every parent).
    priced = child.priced_quantity
    sent, filled = shared_sum(ZERO, child.quantity), shared_sum(ZERO, child.filled)
    avg_price = None
    if priced:
        avg_price = shared_decimal((ZERO + child.notional) / (ZERO + priced), child.sole_price)
    state = child.state
    status = _status(record, not state.is_final, state is ChildState.REJECTED, filled, sent)
    return _line(record, sent, filled, avg_price, status, record._child_ids)


def _line(
    record: SliceRecord,
    sent: Decimal,
    filled: Decimal,
    avg_price: Decimal | None,
    status: SliceStatus,
    ids: str | tuple[str, ...],
) -> OrderSlice:
    return OrderSlice(
        index=record.index,
        scheduled_at=record.scheduled_at,
        quantity=record.quantity,
        sent_at=record.sent_at,
        sent_quantity=sent,
        filled_quantity=filled,
        avg_price=avg_price,
        status=status,
        child_ids=ids,
        note=record.note,
    )


def tracking_error(
    quantity: Decimal,
    scheduled: Sequence[tuple[float, Decimal]],
    fills: Sequence[tuple[float, Decimal]],
    ended_at: float,
) -> Decimal:
    """Largest |filled − scheduled| just before each slice time and at the end, ÷ quantity."""
    if not quantity:
        return ZERO
    # Checkpoints are "just before" each slice time (the slice due then is not yet owed) and the
    # end, inclusive. One sweep over both sorted sequences.
    due = sorted(scheduled, key=lambda item: item[0])
    done = sorted(fills, key=lambda item: item[0])
    checkpoints = [(t, False) for t in sorted({t for t, _ in due})] + [(ended_at, True)]
    wanted = filled = worst = ZERO
    i = j = 0
    for point, inclusive in checkpoints:
        while i < len(due) and (due[i][0] < point or (inclusive and due[i][0] <= point)):
            wanted += due[i][1]
            i += 1
        while j < len(done) and (done[j][0] < point or (inclusive and done[j][0] <= point)):
            filled += done[j][1]
            j += 1
        worst = max(worst, abs(wanted - filled))
    return (worst / quantity).quantize(_BPS_PLACES)


def build_report(
    parent: ParentOrder,
    records: Sequence[SliceRecord | OrderSlice],
    *,
    started_at: float,
    ended_at: float,
    arrival_price: Decimal | None,
    end_price: Decimal | None,
    mids: Sequence[Decimal],
    requested_slices: int,
    notes: Sequence[str] = (),
    interval_twap: Decimal | None = None,
) -> ExecutionReport:
    """Assemble the report of ``parent`` from its children, the slice records and the mids seen.

    ``interval_twap`` (the mean mid over the run) is taken from ``mids`` when not given.
    """
    priced = parent.priced_quantity
    notional = parent.notional
    fees = parent.fees
    aggressive = parent.aggressive_filled
    avg_price = notional / priced if priced else None
    sign = Decimal(parent.side.sign)
    if interval_twap is None and mids:
        interval_twap = sum(mids, ZERO) / len(mids)
    slippage = twap_slippage = shortfall = shortfall_bps = None
    if avg_price is not None and arrival_price:
        slippage = _bps(sign * (avg_price - arrival_price), arrival_price)
    if avg_price is not None and interval_twap:
        twap_slippage = _bps(sign * (avg_price - interval_twap), interval_twap)
    if arrival_price:
        opportunity = sign * parent.unfilled * ((end_price or arrival_price) - arrival_price)
        shortfall = sign * (notional - priced * arrival_price) + fees + opportunity
        shortfall_bps = _bps(shortfall, parent.quantity * arrival_price)
    scheduled = [(r.scheduled_at, r.quantity) for r in records]
    return ExecutionReport(
        parent_id=parent.parent_id,
        symbol=parent.symbol,
        side=parent.side,
        quantity=parent.quantity,
        filled_quantity=parent.filled,
        avg_price=avg_price,
        arrival_price=arrival_price,
        end_price=end_price,
        interval_twap=interval_twap,
        slippage_bps=slippage,
        twap_slippage_bps=twap_slippage,
        implementation_shortfall=shortfall,
        implementation_shortfall_bps=shortfall_bps,
        fees=fees,
        fill_rate=parent.filled / parent.quantity,
        aggressive_quantity=aggressive,
        started_at=started_at,
        ended_at=ended_at,
        tracking_error=tracking_error(parent.quantity, scheduled, parent.fill_timeline, ended_at),
        slices=tuple(order_slice(r, parent) for r in records),
        final_state=parent.state,
        requested_slices=requested_slices,
        child_orders=parent.child_count,
        # Completion children belong to no slice, so they are never folded.
        completion_child_ids=tuple(c.client_order_id for c in parent.children if c.slice_index is None),
        notes=tuple(notes),
    )
