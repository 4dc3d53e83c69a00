"""Books held by thousands of running parents share equal values instead of copying them.

Sharing never changes what is written: a value of another form (1E+1 rather than 10, -0 rather
than 0) keeps the form the plain arithmetic gives it.
"""

from __future__ import annotations

from decimal import Decimal

from engine._twap.parent import ChildOrder, ParentOrder
from engine.events import OrderFilled
from engine.instruments import Instrument
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
