"""A queued request's handle moves only along its transition table; any other move is an error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine._queue.handle import TRANSITIONS, HandleState, Lane, OrderHandle, OrderResult, OrderResultStatus
from engine.errors import IllegalTransitionError
from engine.rate_limits import RequestKind


class _Owner:
    def _withdraw_handle(self, handle: OrderHandle) -> bool:
        return False

    def _check_running(self) -> None:
        return None


def _handle() -> OrderHandle:
    return OrderHandle(
        request=RequestKind.SUBMIT,
        client_order_id="c1",
        order=None,
        lane=Lane.ROUTINE,
        weight=1,
        deadline=None,
        enqueued_at=0.0,
        owner=_Owner(),
    )


def _result(status: OrderResultStatus = OrderResultStatus.ACCEPTED) -> OrderResult:
    return OrderResult(status, "c1", None, 1, 0.0, 0.0, 0.0)


def test_the_table_names_every_state_and_done_is_the_only_final_one() -> None:
    assert set(TRANSITIONS) == set(HandleState)
    assert [state for state, moves in TRANSITIONS.items() if not moves] == [HandleState.DONE]
    for moves in TRANSITIONS.values():
        assert HandleState.NEW not in moves, "nothing goes back to new"


def test_a_new_handle_is_new_and_follows_a_request_through_a_retry_to_done() -> None:
    handle = _handle()
    assert handle.state is HandleState.NEW
    for state in (
        HandleState.QUEUED,
        HandleState.IN_FLIGHT,
        HandleState.DELAYED,  # backing off after an unavailable gateway
        HandleState.QUEUED,
        HandleState.IN_FLIGHT,
        HandleState.QUEUED,  # back in its lane to look an unknown outcome up
        HandleState.IN_FLIGHT,
        HandleState.DONE,
    ):
        handle._move_to(state)
        assert handle.state is state


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ((), HandleState.DELAYED),  # never sent: nothing to back off from
        ((), HandleState.NEW),
        ((HandleState.QUEUED,), HandleState.QUEUED),  # no silent re-entry
        ((HandleState.QUEUED,), HandleState.DELAYED),
        ((HandleState.WAITING_FOR_ROOM,), HandleState.IN_FLIGHT),  # must take its place in a lane first
        ((HandleState.IN_FLIGHT,), HandleState.IN_FLIGHT),
        ((HandleState.IN_FLIGHT, HandleState.DELAYED), HandleState.IN_FLIGHT),
        ((HandleState.DONE,), HandleState.QUEUED),  # a finished request never comes back
        ((HandleState.IN_FLIGHT, HandleState.DONE), HandleState.IN_FLIGHT),
    ],
)
def test_an_illegal_move_raises_and_leaves_the_state_as_it_was(
    path: tuple[HandleState, ...], illegal: HandleState
) -> None:
    handle = _handle()
    for state in path:
        handle._move_to(state)
    before = handle.state
    with pytest.raises(IllegalTransitionError) as caught:
        handle._move_to(illegal)
    assert caught.value.name == "c1"
    assert caught.value.current == before.value
    assert caught.value.requested == illegal.value
    assert handle.state is before


def test_resolving_moves_to_done_once_also_after_the_lanes_let_it_go_unsent() -> None:
    in_flight = _handle()
    in_flight._move_to(HandleState.IN_FLIGHT)
    in_flight._resolve(_result())
    assert in_flight.state is HandleState.DONE
    assert in_flight.result().ok

    withdrawn = _handle()
    withdrawn._move_to(HandleState.QUEUED)
    withdrawn._move_to(HandleState.DONE)  # taken out of its lane, about to be finished
    withdrawn._resolve(_result(OrderResultStatus.CANCELLED))
    assert withdrawn.state is HandleState.DONE
    assert withdrawn.result().status is OrderResultStatus.CANCELLED
    with pytest.raises(IllegalTransitionError):
        withdrawn._move_to(HandleState.QUEUED)


@settings(max_examples=300, deadline=None)
@given(moves=st.lists(st.sampled_from(list(HandleState)), max_size=30))
def test_any_sequence_of_moves_follows_the_table_exactly(moves: list[HandleState]) -> None:
    handle = _handle()
    expected = HandleState.NEW
    for new in moves:
        if new in TRANSITIONS[expected]:
            handle._move_to(new)
            expected = new
        else:
            with pytest.raises(IllegalTransitionError):
                handle._move_to(new)
        assert handle.state is expected


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_walk_along_legal_moves_never_raises_and_ends_only_in_done(data: st.DataObject) -> None:
    handle = _handle()
    for _ in range(data.draw(st.integers(0, 40), label="steps")):
        moves = sorted(TRANSITIONS[handle.state], key=lambda state: state.value)
        if not moves:
            break
        handle._move_to(data.draw(st.sampled_from(moves), label="move"))
    if not TRANSITIONS[handle.state]:
        assert handle.state is HandleState.DONE
