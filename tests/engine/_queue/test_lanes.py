"""The order queue's lanes: when nothing waits, a request may leave at once; otherwise it queues."""

from __future__ import annotations

from engine._queue.handle import HandleState, Lane, OrderHandle
from engine._queue.lanes import Lanes
from engine.rate_limits import RequestKind


class _Owner:
    def _withdraw_handle(self, handle: OrderHandle) -> bool:
        return False

    def _check_running(self) -> None:
        return None


def _handle(client_order_id: str, deadline: float | None = None) -> OrderHandle:
    return OrderHandle(
        request=RequestKind.SUBMIT,
        client_order_id=client_order_id,
        order=None,
        lane=Lane.ROUTINE,
        weight=1,
        deadline=deadline,
        enqueued_at=0.0,
        owner=_Owner(),
    )


def _sent(lanes: Lanes, handle: OrderHandle) -> OrderHandle:
    """Put ``handle`` in its lane and take it out again, as the dispatcher does to send it."""
    lanes.push(handle)
    assert lanes.peek() is handle
    lanes.pop(handle)
    return handle


def test_empty_lanes_are_idle() -> None:
    assert Lanes(10).is_idle(0.0)


def test_a_waiting_request_or_one_held_for_room_makes_the_lanes_busy() -> None:
    lanes = Lanes(1)
    first, second = _handle("a"), _handle("b")
    lanes.hold(second)
    assert not lanes.is_idle(0.0)
    lanes.forget(second)
    assert lanes.is_idle(0.0)
    lanes.push(first)
    assert not lanes.is_idle(0.0)
    lanes.forget(first)
    assert lanes.is_idle(0.0)


def test_a_back_off_ending_now_makes_the_lanes_busy_until_then_they_are_idle() -> None:
    lanes = Lanes(10)
    retry = _sent(lanes, _handle("a"))
    lanes.delay(retry, 5.0)
    assert lanes.is_idle(4.9)  # its back-off is not over: a new request may go first
    assert not lanes.is_idle(5.0)  # the retry is due: it keeps its place ahead
    lanes.forget(retry)  # withdrawn: its stale timer no longer holds anyone back
    assert lanes.is_idle(5.0)


def test_a_passed_deadline_makes_the_lanes_busy_until_the_dispatcher_settles_it() -> None:
    lanes = Lanes(10)
    late = _sent(lanes, _handle("a", deadline=2.0))
    lanes.delay(late, 10.0)
    assert lanes.is_idle(1.0)
    assert not lanes.is_idle(2.0)
    assert lanes.expire(2.0) == [late]
    assert late.state is HandleState.DONE
    assert lanes.is_idle(2.0)


def test_a_new_order_finds_no_room_when_the_lanes_are_full_or_others_wait_for_room() -> None:
    lanes = Lanes(2)
    first, second, third = _handle("a"), _handle("b"), _handle("c")
    lanes.push(first)
    assert not lanes.has_no_room()
    lanes.push(second)
    assert lanes.has_no_room()  # full
    lanes.hold(third)
    lanes.forget(first)  # room again: the one waiting takes it, first come first served
    assert third.state is HandleState.QUEUED
    assert lanes.has_no_room()
    lanes.forget(second)
    assert not lanes.has_no_room()
    held = _handle("d")
    lanes.hold(held)  # waiting for room although there is some: whoever comes next waits behind it
    assert lanes.has_no_room()
