"""A child order's state moves only along its transition table, whatever order the news comes in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine._twap.child import CHILD_TRANSITIONS, ChildOrder, ChildState
from engine.errors import IllegalTransitionError
from engine.events import OrderFilled
from engine.orders import Order, OrderSide

FINAL = {ChildState.FILLED, ChildState.CANCELLED, ChildState.REJECTED, ChildState.EXPIRED}


def make_child(quantity: int = 10) -> ChildOrder:
    return ChildOrder(order=Order("AAPL", "buy", quantity, client_order_id="c-1"), slice_index=0)


def fill(trade_id: str, quantity: int) -> OrderFilled:
    return OrderFilled(
        client_order_id="c-1", symbol="AAPL", timestamp=1.0, trade_id=trade_id, side=OrderSide.BUY,
        quantity=Decimal(quantity), price=Decimal(150), fee=Decimal(0),
    )


def test_the_table_lets_a_final_child_go_nowhere_and_nothing_return_to_pending() -> None:
    for state in FINAL:
        assert CHILD_TRANSITIONS[state] == frozenset()
    for moves in CHILD_TRANSITIONS.values():
        assert ChildState.PENDING not in moves
    assert set(CHILD_TRANSITIONS) == set(ChildState)


def test_a_move_the_table_does_not_allow_raises_and_changes_nothing() -> None:
    child = make_child()
    child.finish(ChildState.CANCELLED, Decimal(0), at=1.0)
    with pytest.raises(IllegalTransitionError, match="cancelled -> working"):
        child._move_to(ChildState.WORKING)
    assert child.state is ChildState.CANCELLED


def test_news_that_comes_after_the_end_is_ignored() -> None:
    child = make_child()
    child.apply_fill(fill("t-1", 10))
    assert child.state is ChildState.FILLED
    child.accept()
    child.mark_unknown("late timeout")
    assert not child.finish(ChildState.CANCELLED, Decimal(0), at=2.0)
    assert (child.state, child.filled) == (ChildState.FILLED, Decimal(10))


_FINAL_STATES = sorted(FINAL, key=lambda state: state.value)
_STEPS = st.lists(
    st.one_of(
        st.just(("accept",)),
        st.just(("unknown",)),
        st.tuples(st.just("fill"), st.integers(1, 6)),
        st.tuples(st.just("finish"), st.sampled_from(_FINAL_STATES), st.integers(0, 10)),
    ),
    max_size=12,
)


@given(_STEPS)
def test_any_order_of_news_keeps_the_state_on_the_table(steps: list[tuple[object, ...]]) -> None:
    child = make_child()
    history = [child.state]
    for number, step in enumerate(steps):
        if step[0] == "accept":
            child.accept()
        elif step[0] == "unknown":
            child.mark_unknown("send failed")
        elif step[0] == "fill":
            child.apply_fill(fill(f"t-{number}", int(str(step[1]))))
        else:
            state = step[1]
            assert isinstance(state, ChildState)
            child.finish(state, Decimal(int(str(step[2]))), at=float(number))
        if child.state is not history[-1]:
            assert child.state in CHILD_TRANSITIONS[history[-1]]
            history.append(child.state)
        assert child.filled <= child.quantity
    assert sum(state in FINAL for state in history) <= 1
