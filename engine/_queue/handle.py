"""What ``RateLimitedOrderQueue.submit`` hands back: lanes, results and the awaitable handle.

A handle is the queue's one record per request (it is what sits in the lanes), so a queued order
costs one small object. ``await handle`` gives the :class:`OrderResult`; ``handle.cancel()``
withdraws a request that has not been sent yet.

A handle's state changes in one place, ``OrderHandle._move_to``, and only along the arrows of
``TRANSITIONS``; any other move raises ``IllegalTransitionError``, so a bookkeeping slip in the
queue surfaces at once instead of leaving a request stranded or sent twice.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Generator
from typing import Any, Protocol

import anyio
import attrs

from engine.errors import EngineError, IllegalTransitionError
from engine.orders import Order
from engine.rate_limits import RequestKind

__all__ = [
    "TRANSITIONS",
    "HandleOwner",
    "HandleState",
    "Lane",
    "OrderHandle",
    "OrderResult",
    "OrderResultStatus",
]


class Lane(enum.IntEnum):
    """Priority lanes: a lower number is sent first; first in, first out within a lane."""

    CANCEL = 0
    COMPLETION = 1
    ROUTINE = 2


class OrderResultStatus(enum.Enum):
    """How a queued request ended."""

    ACCEPTED = "accepted"  # the venue holds the order (or took the cancel request)
    REJECTED = "rejected"  # the venue refused it for a reason; not retried
    FAILED = "failed"  # gave up: attempts or deadline used up, or the venue's state stayed unknown
    CANCELLED = "cancelled"  # withdrawn or shut down before it was sent; the venue never held it


@attrs.frozen
class OrderResult:
    """The outcome of one queued request, with its timestamps on the engine clock.

    ``sent_at`` is the first send (``None`` if it never left), ``acknowledged_at`` the venue's
    answer that settled it. ``attempts`` counts sends of the request itself (look-ups that
    reconciled an unknown outcome are not counted).
    """

    status: OrderResultStatus
    client_order_id: str
    venue_order_id: str | None
    attempts: int
    enqueued_at: float
    sent_at: float | None
    acknowledged_at: float | None
    error: EngineError | None = None

    @property
    def ok(self) -> bool:
        """True when the venue accepted the request."""
        return self.status is OrderResultStatus.ACCEPTED


class HandleState(enum.Enum):
    """Where a request is inside the queue."""

    NEW = "new"  # made, not yet placed in the queue
    WAITING_FOR_ROOM = "waiting_for_room"  # the queue was full; not yet in its lane
    QUEUED = "queued"  # in its lane, waiting for capacity
    DELAYED = "delayed"  # backing off before its next attempt
    IN_FLIGHT = "in_flight"  # a request to the venue is out
    DONE = "done"


TRANSITIONS: dict[HandleState, frozenset[HandleState]] = {
    HandleState.NEW: frozenset(
        {HandleState.QUEUED, HandleState.WAITING_FOR_ROOM, HandleState.IN_FLIGHT, HandleState.DONE}
    ),
    HandleState.WAITING_FOR_ROOM: frozenset({HandleState.QUEUED, HandleState.DONE}),
    HandleState.QUEUED: frozenset({HandleState.IN_FLIGHT, HandleState.DONE}),
    HandleState.DELAYED: frozenset({HandleState.QUEUED, HandleState.DONE}),
    # back to its lane after a 429 or to look an unknown outcome up; backing off; or answered
    HandleState.IN_FLIGHT: frozenset({HandleState.QUEUED, HandleState.DELAYED, HandleState.DONE}),
    HandleState.DONE: frozenset(),
}
# The same table by value, for the check every move makes (several per order): an enum member
# hashes through Python code, its str value does not.
_ALLOWED_BY_VALUE = {
    state.value: frozenset(move.value for move in moves) for state, moves in TRANSITIONS.items()
}


class HandleOwner(Protocol):
    """What a handle needs from its queue."""

    def _withdraw_handle(self, handle: OrderHandle) -> bool: ...

    def _check_running(self) -> None: ...


class OrderHandle:
    """An awaitable for one queued request: ``result = await handle``.

    ``kind`` is ``RequestKind.SUBMIT`` for orders and ``RequestKind.CANCEL`` for cancel requests.
    (The queue also keeps one, of kind ``LOOKUP`` or ``QUOTE``, for each look-up or quote waiting
    for its capacity: a permit, never handed out.) The queue drives the private fields; the public
    surface only reads them.
    """

    __slots__ = (
        "_attempts",
        "_cancel_requested",
        "_claimed",
        "_client_order_id",
        "_deadline",
        "_enqueued_at",
        "_event",
        "_kind",
        "_lane",
        "_last_error",
        "_lookups",
        "_may_have_arrived",
        "_order",
        "_outcome_unknown",
        "_owner",
        "_request",
        "_result",
        "_sent_at",
        "_sequence",
        "_state",
        "_turn",
        "_weight",
    )

    def __init__(
        self,
        *,
        request: RequestKind,
        client_order_id: str,
        order: Order | None,
        lane: Lane,
        weight: int,
        deadline: float | None,
        enqueued_at: float,
        owner: HandleOwner,
    ) -> None:
        self._request = request  # what was asked: a submit or a cancel
        self._kind = request  # what goes out next: the request itself, or a look-up
        self._client_order_id = client_order_id
        self._order = order
        self._lane = lane
        self._weight = weight
        self._deadline = deadline
        self._enqueued_at = enqueued_at
        self._owner = owner  # the queue (a reference, not a bound method: one pointer per order)
        self._state = HandleState.NEW
        self._sequence = 0
        self._attempts = 0
        self._lookups = 0
        self._sent_at: float | None = None
        self._last_error: EngineError | None = None
        self._outcome_unknown = False  # the latest send's outcome is unknown: only a look-up settles it
        self._may_have_arrived = False  # some send's outcome was unknown: a late arrival is possible
        self._cancel_requested = False
        self._claimed = False  # its caller sends it (``queue.send``): no sender task is woken
        self._result: OrderResult | None = None
        self._event: anyio.Event | None = None
        self._turn: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        return (
            f"<OrderHandle {self._request.value} {self._client_order_id} lane={self._lane.name} "
            f"state={self._state.value} attempts={self._attempts}>"
        )

    @property
    def client_order_id(self) -> str:
        """The client order id of the order (for a cancel: of the order to cancel)."""
        return self._client_order_id

    @property
    def kind(self) -> RequestKind:
        """``SUBMIT`` or ``CANCEL``."""
        return self._request

    @property
    def lane(self) -> Lane:
        """The lane the request waits in."""
        return self._lane

    @property
    def order(self) -> Order | None:
        """The order being submitted (``None`` for a cancel request)."""
        return self._order

    @property
    def state(self) -> HandleState:
        """Where the request is inside the queue."""
        return self._state

    def done(self) -> bool:
        """True once the result is known."""
        return self._result is not None

    def result(self) -> OrderResult:
        """The result, without waiting; raises ``RuntimeError`` if it is not known yet."""
        if self._result is None:
            raise RuntimeError(f"{self._client_order_id} has no result yet; await the handle")
        return self._result

    def cancel(self) -> bool:
        """Withdraw the request if it has not been sent; it then resolves ``CANCELLED``.

        Its place in the queue and the capacity it would have used go to the requests behind it.
        Returns False (and changes nothing) once the request is out or finished.
        """
        return self._owner._withdraw_handle(self)

    async def wait(self) -> OrderResult:
        """Wait for the result.

        Raises ``QueueClosedError`` at once if the queue is not running (never entered with
        ``async with``), since nothing would ever resolve the handle; await it again once it runs.
        """
        if self._result is None:
            self._owner._check_running()
            if self._event is None:
                self._event = anyio.Event()
            await self._event.wait()
        assert self._result is not None  # set before the event fires
        return self._result

    def __await__(self) -> Generator[Any, None, OrderResult]:
        return self.wait().__await__()

    async def _wait_turn(self) -> None:
        """For the caller that sends its own request: wait until it is granted or finished."""
        # A bare future: the engine runs on asyncio, and an anyio.Event costs five times more
        # to make; one is made per wait on the hottest path of the engine.
        self._turn = turn = asyncio.get_running_loop().create_future()
        try:
            await turn
        finally:
            self._turn = None

    def _grant(self) -> None:
        """Wake the caller that sends its own request: its turn has come (or its result)."""
        turn = self._turn
        if turn is not None and not turn.done():
            turn.set_result(None)

    def _move_to(self, new: HandleState) -> None:
        """Move to ``new``; raise ``IllegalTransitionError`` if ``TRANSITIONS`` does not allow it."""
        if new._value_ not in _ALLOWED_BY_VALUE[self._state._value_]:
            raise IllegalTransitionError(self._client_order_id, self._state.value, new.value)
        self._state = new

    def _resolve(self, result: OrderResult) -> None:
        """Settle the handle; the queue's one way to finish a request."""
        self._result = result
        if self._state is not HandleState.DONE:  # (already DONE when the lanes let it go unsent)
            self._move_to(HandleState.DONE)
        if self._event is not None:
            self._event.set()
        turn = self._turn  # as ``_grant``, without the call: every request ends here
        if turn is not None and not turn.done():
            turn.set_result(None)
