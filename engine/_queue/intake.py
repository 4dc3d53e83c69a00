"""The order queue's intake: how a new request is checked, placed, and withdrawn before it leaves.

A new submit or cancel is checked (its lane, deadline and weight, and, for a submit, that its
client order id is neither open nor ever sent), registered with the outcome resolver, and then
placed: handed straight to its caller when the dispatcher would send it at this very instant,
held in line for a place when the lanes are full (or refused, with ``when_full="refuse"``), or
put at the back of its lane. A look-up's or quote's permit enters its lane the same way. A request
not yet sent can be withdrawn; it then resolves ``CANCELLED``.
"""

from __future__ import annotations

import math
from typing import Any

from engine import clock
from engine._queue.dispatcher import Dispatcher
from engine._queue.handle import HandleOwner, HandleState, Lane, OrderHandle, OrderResultStatus
from engine._queue.lanes import Lanes
from engine._queue.limiter import Limiter
from engine._queue.outcomes import OutcomeResolver
from engine.errors import InvalidInputError, QueueClosedError, QueueFullError
from engine.fields import whole_number
from engine.orders import Order
from engine.rate_limits import RequestKind

__all__ = ["Intake", "check_lane"]

# A request waiting to be sent: in its lane, or backing off before another attempt.
_WAITING = (HandleState.QUEUED, HandleState.DELAYED)


def check_lane(value: Any) -> Lane:
    """``value`` as a :class:`Lane`, or ``InvalidInputError`` naming ``lane``."""
    if isinstance(value, Lane):
        return value
    raise InvalidInputError("lane", value, "expected Lane.CANCEL, Lane.COMPLETION or Lane.ROUTINE")


def _deadline(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError("deadline", value, "expected an engine-clock time in seconds, or None")
    return float(value)


def _enqueue_time() -> float:
    """The engine clock now; zero before any event loop runs (the clock starts there)."""
    # (``clock.now`` hands a burst at one instant one shared float object: 24 bytes less per
    # queued order)
    try:
        return clock.now()
    except RuntimeError:
        return 0.0


class Intake:
    """Checks and places every new request; see the module."""

    def __init__(
        self,
        lanes: Lanes,
        limiter: Limiter,
        outcomes: OutcomeResolver,
        dispatcher: Dispatcher,
        *,
        max_queued: int,
        refuse_when_full: bool,
        owner: HandleOwner,
    ) -> None:
        self._lanes = lanes
        self._limiter = limiter
        self._outcomes = outcomes
        self._dispatcher = dispatcher
        self._max_queued = max_queued
        self._refuse_when_full = refuse_when_full
        self._owner = owner  # the queue, which every handle refers to
        self._closed = False  # once the queue closes it takes no new request
        self._cancels_only = False  # while it closes it still takes cancels
        # the last cancel sent for each order: a second while one still waits to be sent would
        # spend the limits' room twice for one order (let go with ``forget_cancels``)
        self._cancels: dict[str, OrderHandle] = {}

    @property
    def refuses_when_full(self) -> bool:
        """True when a new order is refused (not held) while the lanes are full."""
        return self._refuse_when_full

    def close(self, *, but_cancels: bool = False) -> None:
        """Take no new request from now on (``but_cancels``: only cancels, while the queue closes)."""
        self._closed = True
        self._cancels_only = but_cancels

    def accepts(self, request: RequestKind) -> bool:
        """Whether a new request of this kind is taken now."""
        return not self._closed or (self._cancels_only and request is RequestKind.CANCEL)

    # -- entering ------------------------------------------------------------------------------

    def submit(self, order: Any, lane: Any, deadline: Any, weight: Any, *, claimed: bool) -> OrderHandle:
        """Check and place a new order; ``claimed``: its caller sends it (``queue.send``)."""
        if not isinstance(order, Order):
            raise InvalidInputError("order", order, "expected an Order")
        if self._outcomes.open_submit(order.client_order_id) is not None:
            raise InvalidInputError(
                "order", order.client_order_id, "an order with this client order id is already in the queue"
            )
        if self._dispatcher.was_sent(order.client_order_id):
            raise InvalidInputError(
                "order", order.client_order_id, "an order with this client order id was already sent"
            )
        return self.new_request(
            RequestKind.SUBMIT, order.client_order_id, order, lane, deadline, weight, claimed=claimed
        )

    def waiting_cancel(self, client_order_id: str) -> OrderHandle | None:
        """The cancel of this order that still waits to be sent (in its lane or backing off), if any."""
        handle = self._cancels.get(client_order_id)
        if handle is None or handle.done() or handle._state not in _WAITING:
            return None
        return handle

    def forget_cancels(self, client_order_ids: list[str]) -> None:
        """Let go of the last cancel of each of these orders."""
        for client_order_id in client_order_ids:
            self._cancels.pop(client_order_id, None)

    def check_request(
        self, request: RequestKind, lane: Any, deadline: Any, weight: Any
    ) -> tuple[Lane, float | None, int]:
        """The request's lane, deadline and weight, checked; ``QueueClosedError`` once closed."""
        if self._closed and not (self._cancels_only and request is RequestKind.CANCEL):
            raise QueueClosedError("the order queue is closed")
        # the common values (a lane, a finite float or None, a weight of 1) pass without a call
        if lane.__class__ is not Lane:
            lane = check_lane(lane)
        if deadline is not None and not (deadline.__class__ is float and -math.inf < deadline < math.inf):
            deadline = _deadline(deadline)
        if weight.__class__ is not int or weight < 1:
            weight = whole_number(weight, "weight", minimum=1)
        self._limiter.check_cost(request, weight)
        return lane, deadline, weight

    def new_request(
        self,
        request: RequestKind,
        client_order_id: str,
        order: Order | None,
        lane: Any,
        deadline: Any,
        weight: Any,
        *,
        enqueue: bool = True,
        claimed: bool = False,
    ) -> OrderHandle:
        """Check, register and place a submit or cancel; ``enqueue=False``: the caller finishes it."""
        lane, deadline, weight = self.check_request(request, lane, deadline, weight)
        try:  # one clock reading for the whole decision (``_enqueue_time``, without the call)
            now = clock.now()
        except RuntimeError:
            now = 0.0
        full = request is not RequestKind.CANCEL and self._lanes.has_no_room()
        if full and self._refuse_when_full:
            raise QueueFullError(self._max_queued)
        handle = OrderHandle(
            request=request,
            client_order_id=client_order_id,
            order=order,
            lane=lane,
            weight=weight,
            deadline=deadline,
            enqueued_at=now,
            owner=self._owner,
        )
        handle._claimed = claimed
        self._outcomes.register(handle)
        if request is RequestKind.CANCEL and enqueue:
            self._cancels[client_order_id] = handle
        if not enqueue:
            pass  # nothing to send: the caller finishes it at once
        elif claimed and self._dispatcher.goes_out_now(handle, now):
            pass  # the caller sends it now: the dispatcher has nothing to do
        elif full:
            self._lanes.hold(handle)
        else:
            self._lanes.push(handle)
            self._dispatcher.wake()
        return handle

    def new_permit(self, kind: RequestKind, key: str, lane: Lane) -> OrderHandle:
        """Put a look-up's or quote's permit in its lane; it resolves ``ACCEPTED`` when granted."""
        handle = OrderHandle(
            request=kind,
            client_order_id=key,
            order=None,
            lane=lane,
            weight=1,
            deadline=None,
            enqueued_at=_enqueue_time(),
            owner=self._owner,
        )
        self._outcomes.register(handle)
        self._lanes.push(handle)
        self._dispatcher.wake()
        return handle

    # -- withdrawing ---------------------------------------------------------------------------

    def take_out(self, handle: OrderHandle) -> bool:
        """Take a not-yet-sent request out of the lanes (lazily: its slot is skipped later).

        The caller finishes it. False (and nothing changed) once it is out, finished, or may be
        at the venue (an unknown outcome: only its look-up may settle it).
        """
        if handle._state not in (HandleState.QUEUED, HandleState.DELAYED, HandleState.WAITING_FOR_ROOM):
            return False
        if handle._outcome_unknown:
            return False
        self._lanes.forget(handle)
        return True

    def withdraw(self, handle: OrderHandle) -> bool:
        """Take a not-yet-sent request out and resolve it ``CANCELLED``; False if it cannot be."""
        if not self.take_out(handle):
            return False
        self._outcomes.finish(handle, OrderResultStatus.CANCELLED, handle._last_error)
        self._dispatcher.wake()
        return True
