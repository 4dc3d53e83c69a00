"""Books held by thousands of running parents share equal values instead of copying them.

Sharing never changes what is written: a value of another form (1E+1 rather than 10, -0 rather
than 0) keeps the form the plain arithmetic gives it.
"""

from __future__ import annotations

from decimal import Decimal

from engine._twap.parent import ChildOrder, ParentOrder
from engine._twap.report import SliceRecord
from engine._twap.slicing import catch_up_quantity, plan_slices
from engine.events import OrderFilled
from engine.instruments import Instrument
from engine.numbers import to_decimal
from engine.orders import Order, OrderSide


def make_parent() -> ParentOrder:
    return ParentOrder(
        parent_id="P1", symbol="AAPL", side=OrderSide.BUY, quantity=Decimal(1000),
        instrument=Instrument("AAPL"), created_at=0.0,
    )


def fill_of(child: ChildOrder, trade_id: str, quantity: str, price: str, fee: str) -> OrderFilled:
    return OrderFilled(
        client_order_id=child.client_order_id, symbol="AAPL", timestamp=1.0, trade_id=trade_id,
        side=OrderSide.BUY, quantity=Decimal(quantity), price=Decimal(price), fee=Decimal(fee),
    )


def add_child(parent: ParentOrder, quantity: str, cid: str) -> ChildOrder:
    child = ChildOrder(order=Order("AAPL", "buy", Decimal(quantity), client_order_id=cid), slice_index=0)
    parent.add_child(child)
    return child


def test_a_child_filled_once_shares_the_fill_quantity_fee_and_price() -> None:
    parent = make_parent()
    child = add_child(parent, "10", "C1")
    fill = fill_of(child, "T1", "10", "150.25", "0.75")
    parent.apply_fill(child, fill)
    assert child.filled is child.quantity
    assert child.priced_quantity is fill.quantity
    assert child.fees is fill.fee
    assert child.sole_price is fill.price
    assert child.has_trade("T1")
    assert not child.has_trade("T")  # a lone id is matched whole, never as a part
    assert parent.fill_timeline == ((1.0, child.quantity),)
    assert str(child.notional) == "1502.50"
    assert child.average_price == Decimal("150.25")


def test_a_second_fill_turns_the_sole_price_into_the_running_notional() -> None:
    parent = make_parent()
    child = add_child(parent, "10", "C1")
    parent.apply_fill(child, fill_of(child, "T1", "4", "150.25", "0.3"))
    parent.apply_fill(child, fill_of(child, "T2", "6", "150.50", "0.45"))
    parent.apply_fill(child, fill_of(child, "T2", "6", "150.50", "0.45"))  # the same trade again
    assert child.sole_price is None
    assert child.notional == Decimal("4") * Decimal("150.25") + Decimal("6") * Decimal("150.50")
    assert child.fees == Decimal("0.75")
    assert child.filled == Decimal(10)
    assert child.has_trade("T1")
    assert child.has_trade("T2")
    assert not child.has_trade("T3")
    assert [quantity for _, quantity in parent.fill_timeline] == [Decimal(4), Decimal(6)]


def test_a_fill_of_another_form_is_summed_as_plain_arithmetic_writes_it() -> None:
    parent = make_parent()
    child = add_child(parent, "10", "C1")
    parent.apply_fill(child, fill_of(child, "T1", "1E+1", "150", "-0"))
    assert str(child.priced_quantity) == "10"  # 0 + 1E+1
    assert str(child.fees) == "0"  # 0 + -0
    assert str(child.notional) == "1500"
    assert child.sole_price is None


def test_whole_numbers_convert_to_one_shared_decimal() -> None:
    assert to_decimal(10, "quantity") is to_decimal(10, "quantity")
    assert str(to_decimal(-3, "quantity")) == "-3"
    assert to_decimal(10**40, "quantity") == Decimal(10**40)


def test_plans_of_one_shape_share_offsets_and_quantities_and_on_schedule_slices_share_their_size() -> None:
    instrument = Instrument("AAPL")
    first = plan_slices(Decimal(100), 10, 600.0, instrument, None)
    second = plan_slices(Decimal(100), 10, 600.0, instrument, None)
    assert first.offsets is second.offsets
    assert first.quantities is second.quantities
    other_lot = plan_slices(Decimal(100), 10, 600.0, Instrument("AAPL", lot_size=Decimal("1.0")), None)
    assert other_lot.quantities == first.quantities
    assert str(other_lot.quantities[0]) == "10.0"  # its own form, not the shared 10
    nominal = first.quantities[0]
    sent = catch_up_quantity(
        scheduled_through=Decimal(20), committed=Decimal(10), remaining=Decimal(90),
        nominal_slice=nominal, cap_multiple=Decimal(2), instrument=instrument,
    )
    assert sent is nominal


def test_a_slice_record_keeps_a_lone_child_id_and_reads_every_id_as_a_tuple() -> None:
    record = SliceRecord(index=0, scheduled_at=0.0, quantity=Decimal(10))
    seen = [record.child_ids]
    for client_order_id in ("C1", "C2", "C3"):
        record.add_child_id(client_order_id)
        seen.append(record.child_ids)
        if client_order_id == "C1":
            assert record._child_ids == "C1", "a lone id is kept as it is, not in a tuple of one"
    assert seen == [(), ("C1",), ("C1", "C2"), ("C1", "C2", "C3")]
    given = SliceRecord(index=1, scheduled_at=60.0, quantity=Decimal(10), child_ids=("C3",))
    assert given.child_ids == ("C3",)
