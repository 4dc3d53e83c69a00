"""Per-parent state machine and fill accounting: no overfill, every fill once, quantity conserved."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.errors import IllegalTransitionError, InvalidInputError
from engine.events import OrderFilled
from engine.instruments import Instrument
from engine.orders import Order, OrderSide
from engine.parent_order import TRANSITIONS, ChildOrder, ChildState, ParentOrder, ParentState


def make_parent(quantity: int = 1000) -> ParentOrder:
    return ParentOrder(
        parent_id="P1",
        symbol="AAPL",
        side=OrderSide.BUY,
        quantity=Decimal(quantity),
        instrument=Instrument("AAPL"),
        created_at=0.0,
    )


def make_child(parent: ParentOrder, quantity: int, cid: str) -> ChildOrder:
    child = ChildOrder(order=Order("AAPL", "buy", quantity, client_order_id=cid), slice_index=0)
    parent.add_child(child)
    return child


def fill(cid: str, trade_id: str, quantity: int, price: str = "150", fee: str = "0.1") -> OrderFilled:
    return OrderFilled(
        client_order_id=cid,
        symbol="AAPL",
        timestamp=1.0,
        trade_id=trade_id,
        side=OrderSide.BUY,
        quantity=Decimal(quantity),
        price=Decimal(price),
        fee=Decimal(fee),
    )


def test_the_transition_table_allows_only_forward_moves() -> None:
    parent = make_parent()
    parent.transition(ParentState.WORKING, 1.0)
    parent.transition(ParentState.COMPLETING, 2.0)
    parent.transition(ParentState.COMPLETED, 3.0)
    assert parent.history == (
        (1.0, ParentState.WORKING),
        (2.0, ParentState.COMPLETING),
        (3.0, ParentState.COMPLETED),
    )
    with pytest.raises(IllegalTransitionError, match="completed -> working"):
        parent.transition(ParentState.WORKING, 4.0)
    assert parent.state is ParentState.COMPLETED


def test_every_final_state_is_a_dead_end_and_pending_cannot_skip_to_completed() -> None:
    finals = {s for s in ParentState if s.is_final}
    assert finals == {ParentState.COMPLETED, ParentState.CANCELLED, ParentState.FAILED, ParentState.EXPIRED}
    assert all(not TRANSITIONS[s] for s in finals)
    with pytest.raises(IllegalTransitionError):
        make_parent().transition(ParentState.COMPLETED, 1.0)


def test_a_duplicate_fill_counts_once() -> None:
    parent = make_parent()
    child = make_child(parent, 100, "C1")
    assert parent.apply_fill(child, fill("C1", "T1", 40)) == 40
    assert parent.apply_fill(child, fill("C1", "T1", 40)) == 0
    assert parent.filled == 40
    assert child.fees == Decimal("0.1")


def test_fills_past_the_child_quantity_are_capped() -> None:
    parent = make_parent()
    child = make_child(parent, 100, "C1")
    parent.apply_fill(child, fill("C1", "T1", 80))
    parent.apply_fill(child, fill("C1", "T2", 50, fee="1"))
    assert child.filled == 100
    assert child.state is ChildState.FILLED
    assert parent.filled == 100
    assert child.fees == Decimal("0.1") + Decimal("0.4"), "the capped fill pays 20/50 of its fee"


def test_a_cancelled_child_returns_its_unfilled_quantity_to_the_parent() -> None:
    parent = make_parent()
    child = make_child(parent, 300, "C1")
    assert parent.remaining == 700
    parent.apply_fill(child, fill("C1", "T1", 100))
    parent.finish_child(child, ChildState.CANCELLED, Decimal(100), 5.0)
    assert parent.committed == 100
    assert parent.remaining == 900
    assert parent.open_children == ()


def test_a_fill_arriving_after_the_cancel_is_priced_but_never_overfills() -> None:
    parent = make_parent()
    child = make_child(parent, 300, "C1")
    # The cancel says 120 had filled; the fills themselves arrive late.
    parent.finish_child(child, ChildState.CANCELLED, Decimal(120), 5.0)
    assert parent.filled == 120
    assert child.priced_quantity == 0
    parent.apply_fill(child, fill("C1", "T1", 120, price="151"))
    parent.apply_fill(child, fill("C1", "T2", 50))
    assert parent.filled == 120
    assert child.priced_quantity == 120
    assert child.average_price == Decimal(151)


def test_a_child_that_could_overfill_the_parent_is_refused_and_nothing_changes() -> None:
    parent = make_parent(500)
    make_child(parent, 400, "C1")
    with pytest.raises(InvalidInputError, match="quantity"):
        make_child(parent, 200, "C2")
    assert parent.committed == 400
    assert len(parent.children) == 1


def test_a_second_final_event_does_not_change_a_final_child() -> None:
    parent = make_parent()
    child = make_child(parent, 100, "C1")
    parent.finish_child(child, ChildState.REJECTED, Decimal(0), 1.0)
    parent.finish_child(child, ChildState.CANCELLED, Decimal(50), 2.0)
    assert child.state is ChildState.REJECTED
    assert parent.filled == 0
    assert parent.remaining == 1000


def test_many_partial_fills_each_delivered_twice_count_once() -> None:
    parent = make_parent()
    child = make_child(parent, 100, "C1")
    for i in range(20):
        parent.apply_fill(child, fill("C1", f"T{i}", 5))
        parent.apply_fill(child, fill("C1", f"T{i}", 5))
    parent.apply_fill(child, fill("C1", "T3", 5))
    assert parent.filled == 100
    assert child.state is ChildState.FILLED
    assert child.fees == Decimal("2.0")
