"""The venue's own records, read as the truth a report is checked against.

A report's fills are the fills the venue journalled for the report's child orders, each trade
counted once: quantity, notional (price × quantity) and fees.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from engine import ExecutionReport, OrderFilled
from gateways.simulated import SimulatedVenue

ZERO = Decimal(0)


@attrs.frozen
class Fills:
    """What a venue filled for a set of orders."""

    quantity: Decimal = ZERO
    notional: Decimal = ZERO
    fees: Decimal = ZERO

    @property
    def avg_price(self) -> Decimal | None:
        return self.notional / self.quantity if self.quantity else None


def child_ids(report: ExecutionReport) -> set[str]:
    """Every child order id a report names (slices and completion)."""
    return {cid for line in report.slices for cid in line.child_ids} | set(report.completion_child_ids)


def venue_fills(venue: SimulatedVenue, client_order_ids: set[str]) -> Fills:
    """The venue's fills of these orders, each trade id counted once."""
    seen: set[str] = set()
    quantity = notional = fees = ZERO
    for event in venue.event_log:
        if isinstance(event, OrderFilled) and event.client_order_id in client_order_ids:
            if event.trade_id in seen:
                continue
            seen.add(event.trade_id)
            quantity += event.quantity
            notional += event.quantity * event.price
            fees += event.fee
    return Fills(quantity, notional, fees)


def all_orders_sent(venue: SimulatedVenue) -> set[str]:
    """Every client order id the venue accepted a submit for."""
    return {
        request.client_order_id
        for request in venue.request_log
        if request.kind == "submit" and request.client_order_id is not None
    }


def mismatch(report: ExecutionReport, venue: SimulatedVenue) -> str | None:
    """Why the report differs from the venue's fills of its children, or None if it does not."""
    truth = venue_fills(venue, child_ids(report))
    if report.filled_quantity != truth.quantity:
        return f"filled {report.filled_quantity}, venue filled {truth.quantity}"
    if report.avg_price != truth.avg_price:
        return f"average price {report.avg_price}, venue {truth.avg_price}"
    if report.fees != truth.fees:
        return f"fees {report.fees}, venue {truth.fees}"
    return None
