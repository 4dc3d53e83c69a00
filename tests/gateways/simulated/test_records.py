"""An order record at the venue moves only forward: fills count up to the quantity, and a final
order takes no fill and no other end (a refused change leaves the record as it was)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import IllegalTransitionError, OrderStatus
from gateways.simulated.matching import OrderRecord
from tests.gateways.simulated.venues import limit, market


def _record(quantity: str = "10") -> OrderRecord:
    return OrderRecord(market("AAPL", "buy", Decimal(quantity)), 1, 0.0, 0.0)


def test_a_fill_of_part_of_the_quantity_leaves_the_order_partially_filled_with_the_rest_open() -> None:
    record = _record()
    record.apply_fill(Decimal(4), 1.5)
    assert record.status is OrderStatus.PARTIALLY_FILLED
    assert record.filled_quantity == 4
    assert record.remaining == 6
    assert record.updated_at == 1.5


def test_fills_that_add_up_to_the_quantity_fill_the_order() -> None:
    record = _record()
    record.apply_fill(Decimal(4), 1.0)
    record.apply_fill(Decimal(6), 2.0)
    assert record.status is OrderStatus.FILLED
    assert record.remaining == 0
    assert record.updated_at == 2.0


def test_a_first_fill_of_the_whole_quantity_is_booked_as_the_quantity_itself() -> None:
    record = _record("10.0")
    record.apply_fill(record.remaining, 1.0)
    assert record.status is OrderStatus.FILLED
    assert str(record.filled_quantity) == "10.0"  # the exponent the order was sent with


@pytest.mark.parametrize("quantity", ["11", "0", "-1"])
def test_a_fill_that_does_not_fit_the_remaining_quantity_is_refused_and_changes_nothing(
    quantity: str,
) -> None:
    record = _record()
    with pytest.raises(RuntimeError, match="does not fit the remaining 10"):
        record.apply_fill(Decimal(quantity), 1.0)
    assert record.status is OrderStatus.NEW
    assert record.filled_quantity == 0
    assert record.updated_at == 0.0


def test_a_filled_order_takes_no_further_fill() -> None:
    record = _record()
    record.apply_fill(Decimal(10), 1.0)
    with pytest.raises(RuntimeError, match="does not fit the remaining 0"):
        record.apply_fill(Decimal(1), 2.0)
    assert record.status is OrderStatus.FILLED


@pytest.mark.parametrize("status", [OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED])
def test_an_order_that_ended_takes_no_fill_and_no_other_end(status: OrderStatus) -> None:
    record = OrderRecord(limit("AAPL", "buy", 10, "150"), 1, 0.0, 0.0)
    record.finish(status, 1.0)
    with pytest.raises(IllegalTransitionError):
        record.apply_fill(Decimal(1), 2.0)
    with pytest.raises(IllegalTransitionError):
        record.finish(OrderStatus.CANCELLED, 2.0)
    assert record.status is status
    assert record.filled_quantity == 0
    assert record.updated_at == 1.0
