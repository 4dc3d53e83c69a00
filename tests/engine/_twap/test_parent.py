"""Per-parent state machine and fill accounting: no overfill, every fill once, quantity conserved.

The books share equal values instead of copying them (the last section). The promises they serve
are tried end to end, under faults, in ``tests/promises/``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine._twap.child import ChildOrder, ChildState
from engine._twap.parent import TRANSITIONS, ParentOrder, ParentState
from engine.errors import IllegalTransitionError, InvalidInputError
from engine.events import OrderFilled
from engine.instruments import Instrument
from engine.orders import Order, OrderSide


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


def _figures(parent: ParentOrder) -> tuple[str, ...]:
    # Written out, so that equal values in another form (1E+1 against 10) count as a change.
    return tuple(
        repr(value)
        for value in (
            parent.child_count,
            parent.priced_quantity,
            parent.notional,
            parent.fees,
            parent.aggressive_filled,
            parent.filled,
            parent.committed,
            parent.remaining,
        )
    )


def test_folding_final_priced_children_keeps_every_figure_and_lets_them_go() -> None:
    parent = make_parent()
    first, second = make_child(parent, 100, "c1"), make_child(parent, 100, "c2")
    second.aggressive = True
    parent.apply_fill(first, fill("c1", "t1", 100, price="150.25", fee="0.3"))
    parent.apply_fill(second, fill("c2", "t2", 40, price="151", fee="0.1"))
    parent.finish_child(second, ChildState.CANCELLED, Decimal(40), 2.0)
    third = make_child(parent, 100, "c3")
    before = _figures(parent)

    assert parent.fold_children(("c1", "c2"))

    assert _figures(parent) == before
    assert parent.children == (third,)
    with pytest.raises(KeyError):
        parent.child("c1")


@pytest.mark.parametrize(
    ("case", "expected_reason"),
    [
        ("open", "still working"),
        ("unpriced", "a confirmed fill without its price"),
        ("unknown", "not a child"),
    ],
)
def test_a_child_not_final_or_not_fully_priced_is_not_folded_and_nothing_changes(
    case: str, expected_reason: str
) -> None:
    parent = make_parent()
    done = make_child(parent, 100, "c1")
    parent.apply_fill(done, fill("c1", "t1", 100))
    other = make_child(parent, 100, "c2")
    if case == "unpriced":
        # The cancel confirms 30 filled, whose fill event (with its price) is still on its way.
        parent.finish_child(other, ChildState.CANCELLED, Decimal(30), 2.0)
    ids = ("c1", "c9") if case == "unknown" else ("c1", "c2")
    before = _figures(parent)

    assert not parent.fold_children(ids), expected_reason

    assert _figures(parent) == before
    assert parent.children == (done, other)


def test_a_fill_for_a_folded_child_changes_nothing_once_its_fills_were_all_counted() -> None:
    parent = make_parent()
    child = make_child(parent, 100, "c1")
    parent.apply_fill(child, fill("c1", "t1", 60))
    parent.finish_child(child, ChildState.CANCELLED, Decimal(60), 2.0)
    assert parent.fold_children(("c1",))
    # The monitor no longer routes events to it; had it kept the child, a late fill would be capped
    # at the confirmed 60 anyway: folding loses nothing.
    assert child.apply_fill(fill("c1", "t2", 40)) == 0
    assert parent.filled == 60
    assert parent.remaining == 940


_prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10_000), places=2)
_fees = st.sampled_from([Decimal(0), Decimal("0.1"), Decimal("1E+1"), Decimal("-0.05"), Decimal("0.333")])


@settings(max_examples=150, deadline=None)
@given(data=st.data(), children=st.integers(min_value=1, max_value=8))
def test_folding_the_oldest_settled_children_keeps_every_figure_exactly(
    data: st.DataObject, children: int
) -> None:
    parent = make_parent(100_000)
    made = []
    for n in range(children):
        child = make_child(parent, data.draw(st.integers(1, 500), label="quantity"), f"c{n}")
        child.aggressive = data.draw(st.booleans(), label="aggressive")
        made.append(child)
        for k in range(data.draw(st.integers(0, 3), label="fills")):
            quantity = data.draw(st.integers(1, 300), label="fill quantity")
            price, fee = str(data.draw(_prices)), str(data.draw(_fees))
            parent.apply_fill(child, fill(f"c{n}", f"t{n}.{k}", quantity, price=price, fee=fee))
        if not child.state.is_final and data.draw(st.booleans(), label="cancel"):
            # The cancel may confirm fills whose events (with their prices) have not come yet.
            unpriced = data.draw(st.integers(0, int(child.quantity - child.filled)), label="unpriced")
            parent.finish_child(child, ChildState.CANCELLED, child.filled + unpriced, 2.0)
    before = _figures(parent)
    if children > 1:
        assert not parent.fold_children((made[1].client_order_id,)), "not the oldest child"
    # Folded as the scheduler folds: the oldest children first, up to the first one not settled.
    folded = 0
    for child in made:
        settled = child.state.is_final and child.priced_quantity == child.filled
        assert parent.fold_children((child.client_order_id,)) == settled
        assert _figures(parent) == before
        if not settled:
            break
        folded += 1
    assert len(parent.children) == children - folded


# -- shared values ---------------------------------------------------------------------------------
# Books held by thousands of running parents share equal values instead of copying them. Sharing
# never changes what is written: a value of another form (1E+1 rather than 10, -0 rather than 0)
# keeps the form the plain arithmetic gives it.


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
