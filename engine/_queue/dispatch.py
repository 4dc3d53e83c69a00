"""The order queue's dispatcher and senders: who sends which request, when, from which task.

One dispatcher task sends the head of the highest-priority lane as soon as every limit allows
it, sleeping exactly until then (or until new work arrives). A request goes out either from one
of the queue's sender tasks (``submit``) or from the task of the caller that waits for it
(``send``): the dispatcher grants the caller its turn, and with empty lanes and room under every
limit the caller takes that decision itself and sends at once. The answer is settled by
``_queue_outcomes.py``; the lanes are ``_queue_lanes.py``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.streams.memory

from engine import clock
from engine._queue.handle import HandleState, OrderHandle, OrderResultStatus
from engine._queue.outcomes import QueueOutcomes
from engine.errors import DeadlineExceededError, OrderStateUnknownError
from engine.rate_limits import RequestKind

__all__ = ["QueueDispatch"]



_YIELD_EVERY = 64  # sends between checkpoints, so a long burst does not hog the loop


def _weight(handle: OrderHandle) -> int:
    # the caller's weight is that of the order endpoint; a look-up costs the look-up's own weight
    return 1 if handle._kind is RequestKind.LOOKUP else handle._weight


class QueueDispatch(QueueOutcomes):
    """The dispatching and sending part of ``RateLimitedOrderQueue`` (its base class).

    The queue owns the state named below and builds it in its constructor.
    """

    _max_in_flight: int
    _in_flight: int
    _idle_senders: int
    _waiting_for_slots: bool
    _resume_below: int
    _wakeup: anyio.Event | None
    _task_group: anyio.abc.TaskGroup | None
    _task_scopes: set[anyio.CancelScope]
    _outbox_send: anyio.streams.memory.MemoryObjectSendStream[OrderHandle]
    _outbox_receive: anyio.streams.memory.MemoryObjectReceiveStream[OrderHandle]
    _sent_ids: set[str]
    _time_throttled: float

    # -- sending now ---------------------------------------------------------------------------

    def _goes_out_now(self, handle: OrderHandle, now: float) -> bool:
        """Start a claimed ``handle`` at once if nothing waits ahead of it and every limit allows it.

        This is the dispatcher's own decision, taken early: with empty lanes and nothing due,
        the dispatcher would send it next, at this same instant (``now``). Its caller sends it.
        """
        if self._state != "open" or self._in_flight >= self._max_in_flight:
            return False
        if handle._deadline is not None and handle._deadline <= now:
            return False  # too late to send: the dispatcher fails it, as for any request
        weight = 1 if handle._kind is RequestKind.LOOKUP else handle._weight  # as ``_weight``
        if not self._lanes.is_idle(now) or not self._group.take(handle._kind, weight, now):
            return False
        self._lanes.take_direct(handle)  # in flight now
        self._in_flight += 1
        return True

    def _give_up_turn(self, handle: OrderHandle) -> None:
        """The caller of ``send`` was cancelled after its turn came, before it made the request."""
        if handle._kind is RequestKind.SUBMIT:
            # never sent now (a resend included): the caller gave up on it
            self._in_flight -= 1
            self._finish(handle, OrderResultStatus.CANCELLED, handle._last_error)
            if handle._may_have_arrived:
                self._ask_venue_to_cancel(handle._client_order_id)  # an earlier send may yet land
            self._wake()  # a slot is free again
        else:
            # a look-up of an unknown outcome must go out: only the venue can settle it
            self._record_send(handle, clock.now())
            self._hand_over(handle)

    def _ask_venue_to_cancel(self, client_order_id: str) -> None:
        raise NotImplementedError  # the queue enqueues a cancel request

    # -- the dispatcher ------------------------------------------------------------------------

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    async def _sleep_until(self, when: float) -> None:
        self._wakeup = wakeup = anyio.Event()
        try:
            if when == math.inf:
                await wakeup.wait()
            else:
                with anyio.move_on_after(max(0.0, when - clock.now())):
                    await wakeup.wait()
        finally:
            self._wakeup = None

    @contextlib.contextmanager
    def _shielded(self) -> Iterator[None]:
        scope = anyio.CancelScope(shield=True)
        self._task_scopes.add(scope)
        try:
            with scope:
                yield
        finally:
            self._task_scopes.discard(scope)

    async def _dispatch(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        with self._shielded():
            task_status.started()
            await self._dispatch_forever()

    async def _dispatch_forever(self) -> None:
        lanes, group = self._lanes, self._group
        since_yield = 0
        while True:
            now = clock.now()
            for handle in lanes.expire(now):
                self._finish(
                    handle,
                    OrderResultStatus.FAILED,
                    DeadlineExceededError(handle._deadline or now, client_order_id=handle._client_order_id),
                )
            lanes.promote_due(now)
            next_timer = lanes.next_timer()
            head = lanes.peek()
            if head is None or self._in_flight >= self._max_in_flight:
                since_yield = 0
                self._waiting_for_slots = head is not None
                await self._sleep_until(next_timer)
                self._waiting_for_slots = False
                continue
            weight = _weight(head)
            ready = group.ready_at(head._kind, weight, now)
            if ready > now:
                since_yield = 0
                await self._sleep_until(min(ready, next_timer))
                self._time_throttled += clock.now() - now
                continue
            lanes.pop(head)
            group.record(head._kind, weight, now)
            if head._request is RequestKind.LOOKUP or head._request is RequestKind.QUOTE:
                self._grant(head)  # a permit: its caller sends the request itself
            else:
                self._start(head, now)
            since_yield += 1
            if since_yield >= _YIELD_EVERY:
                since_yield = 0
                await anyio.lowlevel.checkpoint()

    def _start(self, handle: OrderHandle, now: float) -> None:
        handle._state = HandleState.IN_FLIGHT
        self._in_flight += 1
        if handle._claimed:
            handle._grant()  # its caller sends it, and records it then
        else:
            self._record_send(handle, now)
            self._hand_over(handle)

    def _record_send(self, handle: OrderHandle, now: float) -> None:
        """Count the request that goes out now: an attempt, or a look-up."""
        if handle._kind is RequestKind.LOOKUP:
            handle._lookups += 1
            self._counts["lookups"] += 1
        else:
            handle._attempts += 1
            if handle._sent_at is None:
                handle._sent_at = now
                if handle._request is RequestKind.SUBMIT:
                    self._sent_ids.add(handle._client_order_id)
        self._counts["sent"] += 1

    def _hand_over(self, handle: OrderHandle) -> None:
        if self._state == "closed":  # no sender task is left to make the request
            self._in_flight -= 1
            self._finish_abandoned(handle)
            return
        # hand it to an idle sender task; start a new one only when all are busy (at most
        # max_in_flight exist): cheaper than a task per request
        if self._idle_senders:
            self._idle_senders -= 1
            self._outbox_send.send_nowait(handle)
        else:
            assert self._task_group is not None
            self._task_group.start_soon(self._sender, handle)

    async def _sender(self, handle: OrderHandle) -> None:
        with self._shielded():
            while True:
                await self._send(handle)
                self._idle_senders += 1
                handle = await self._outbox_receive.receive()

    # -- sending -------------------------------------------------------------------------------

    async def _send(self, handle: OrderHandle) -> None:
        try:
            if handle._kind is RequestKind.SUBMIT:
                # awaited here rather than in a helper coroutine: one coroutine less per order
                order = handle._order
                assert order is not None
                try:
                    ack = await self._gateway.submit_order(order)
                except Exception as error:
                    self._on_submit_error(handle, error)
                else:
                    self._finish(
                        handle,
                        OrderResultStatus.ACCEPTED,
                        None,
                        venue_order_id=ack.venue_order_id,
                        acknowledged=True,
                    )
            elif handle._kind is RequestKind.CANCEL:
                await self._send_cancel(handle)
            else:
                await self._send_lookup(handle)
        except BaseException:
            # The caller of ``send`` was cancelled mid-request (the queue's own senders are
            # shielded): the request may have arrived, so a sender task settles it by look-up.
            if handle._claimed and handle._state is HandleState.IN_FLIGHT:
                handle._claimed = False
                handle._cancel_requested = True  # its caller gave up: if it never arrived, do not resend
                self._look_up(
                    handle,
                    OrderStateUnknownError(
                        "the sending task was cancelled before the venue answered",
                        client_order_id=handle._client_order_id,
                    ),
                )
            raise
        finally:
            self._in_flight -= 1
            if handle._state is HandleState.IN_FLIGHT:  # cut off by shutdown before an answer came
                self._finish_abandoned(handle)
            # wake a dispatcher held back by max_in_flight once a quarter of the slots are free,
            # not on every completion: it then sends a batch instead of ping-ponging one by one
            if self._waiting_for_slots and self._in_flight <= self._resume_below:
                self._wake()

    def _grant(self, handle: OrderHandle) -> None:
        """A look-up's or quote's capacity is counted: let its caller ask the venue."""
        self._counts["lookups" if handle._request is RequestKind.LOOKUP else "quotes"] += 1
        self._finish(handle, OrderResultStatus.ACCEPTED, None)
