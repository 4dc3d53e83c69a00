"""The order queue's dispatcher and senders: who sends which request, when, from which task.

One dispatcher task sends the head of the highest-priority lane as soon as the limiter allows
it, sleeping exactly until then (or until new work arrives). A request goes out either from one
of the dispatcher's sender tasks (``submit``) or from the task of the caller that waits for it
(``send``): the dispatcher grants the caller its turn, and with empty lanes and room under every
limit the caller takes that decision itself and sends at once. Every request to the gateway is
made here; the answer goes to the outcome resolver, which settles it.

It owns its tasks (in the queue's task group, each in a shielded scope only the queue cancels),
the count of requests in flight and the ids of the orders it ever sent.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.streams.memory

from engine import clock
from engine._queue.handle import HandleState, OrderHandle, OrderResultStatus
from engine._queue.lanes import Lanes
from engine._queue.limiter import Limiter
from engine._queue.outcomes import OutcomeResolver
from engine.errors import DeadlineExceededError, OrderStateUnknownError
from engine.gateway import TradingGateway
from engine.rate_limits import RequestKind

__all__ = ["Dispatcher"]


_YIELD_EVERY = 64  # sends between checkpoints, so a long burst does not hog the loop


def _weight(handle: OrderHandle) -> int:
    # the caller's weight is that of the order endpoint; a look-up costs the look-up's own weight
    return 1 if handle._kind is RequestKind.LOOKUP else handle._weight


class Dispatcher:
    """Sends what the lanes hold when the limiter allows it; see the module."""

    _outbox_send: anyio.streams.memory.MemoryObjectSendStream[OrderHandle]  # made by ``start``
    _outbox_receive: anyio.streams.memory.MemoryObjectReceiveStream[OrderHandle]

    def __init__(
        self,
        gateway: TradingGateway,
        lanes: Lanes,
        limiter: Limiter,
        outcomes: OutcomeResolver,
        *,
        max_in_flight: int,
    ) -> None:
        self._gateway = gateway
        self._lanes = lanes
        self._limiter = limiter
        self._outcomes = outcomes
        self._max_in_flight = max_in_flight
        self._resume_below = max_in_flight - max(1, max_in_flight // 4)
        self._waiting_for_slots = False
        self._in_flight = 0
        self._idle_senders = 0
        self._running = False  # between ``start`` and ``stop``: a caller may send at once
        self._closed = False  # after ``close``: no sender task is left
        self._wakeup: anyio.Event | None = None  # set to wake the sleeping dispatcher
        self._task_group: anyio.abc.TaskGroup | None = None
        # each of the queue's own tasks runs in a shielded scope that only the queue cancels: a
        # cancelled surrounding scope must not cut off sends in flight or look-ups of unknown
        # outcomes; they get ``shutdown_timeout`` like any other exit
        self._task_scopes: set[anyio.CancelScope] = set()
        # ids of every order this queue ever sent (about 100 bytes each): some venues take a
        # client order id again once its first order is done, so a resubmission would trade twice
        self._sent_ids: set[str] = set()
        self._sent = 0
        self._lookups = 0  # look-ups of unknown outcomes
        self._time_throttled = 0.0

    # -- what it tells the queue ---------------------------------------------------------------

    @property
    def max_in_flight(self) -> int:
        """Requests out at once, at most."""
        return self._max_in_flight

    @property
    def in_flight(self) -> int:
        """Requests out now."""
        return self._in_flight

    @property
    def sent(self) -> int:
        """Requests sent so far (attempts and look-ups of unknown outcomes)."""
        return self._sent

    @property
    def lookups(self) -> int:
        """Look-ups of unknown outcomes sent so far."""
        return self._lookups

    @property
    def time_throttled(self) -> float:
        """Seconds the head of the lanes waited for the limits."""
        return self._time_throttled

    @property
    def sent_ids_held(self) -> int:
        """Ids of sent orders still held (see ``forget_sent``)."""
        return len(self._sent_ids)

    def was_sent(self, client_order_id: str) -> bool:
        """True if an order with this id was ever sent (and not forgotten)."""
        return client_order_id in self._sent_ids

    def forget_sent(self, client_order_ids: Iterable[str]) -> None:
        """Let go of the record that these ids were sent."""
        discard = self._sent_ids.discard
        for client_order_id in client_order_ids:
            discard(client_order_id)

    # -- lifetime ------------------------------------------------------------------------------

    async def start(self, task_group: anyio.abc.TaskGroup) -> None:
        """Run the dispatcher task in ``task_group``; return once it runs."""
        # (made here, not in the constructor: a stream must be closed, and only a started queue closes)
        self._outbox_send, self._outbox_receive = anyio.create_memory_object_stream[OrderHandle](math.inf)
        self._task_group = task_group
        self._running = True
        await task_group.start(self._dispatch)

    def stop(self) -> None:
        """The queue closes: no caller's request goes out at once any more (it takes no new ones)."""
        self._running = False

    def cancel_tasks(self) -> None:
        """Cut off every task of the dispatcher (after the queue's shutdown timeout)."""
        for scope in self._task_scopes:
            scope.cancel()

    def close(self) -> None:
        """The tasks are gone: finish whatever was handed to a sender task but never sent."""
        self._closed = True
        self._outbox_send.close()
        while True:
            try:
                handle = self._outbox_receive.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream):
                break
            if handle._outcome_unknown:  # a look-up never made: the venue may hold it
                self._outcomes.finish_abandoned(handle)
            else:  # known not sent
                self._outcomes.finish_unsent(handle)
        self._outbox_receive.close()

    # -- sending now ---------------------------------------------------------------------------

    def goes_out_now(self, handle: OrderHandle, now: float) -> bool:
        """Start a claimed ``handle`` at once if nothing waits ahead of it and every limit allows it.

        This is the dispatcher's own decision, taken early: with empty lanes and nothing due,
        the dispatcher would send it next, at this same instant (``now``). Its caller sends it.
        """
        if not self._running or self._in_flight >= self._max_in_flight:
            return False
        if handle._deadline is not None and handle._deadline <= now:
            return False  # too late to send: the dispatcher fails it, as for any request
        weight = 1 if handle._kind is RequestKind.LOOKUP else handle._weight  # as ``_weight``
        if not self._lanes.is_idle(now) or not self._limiter.take(handle._kind, weight, now):
            return False
        self._lanes.take_direct(handle)  # in flight now
        self._in_flight += 1
        return True

    def give_up_turn(self, handle: OrderHandle) -> bool:
        """The caller of ``send`` was cancelled after its turn came, before it made the request.

        Returns True when the order is withdrawn although an earlier send of it may still land
        at the venue (the queue then asks the venue to cancel it).
        """
        if handle._kind is RequestKind.SUBMIT:
            # never sent now (a resend included): the caller gave up on it
            self._in_flight -= 1
            self._outcomes.finish(handle, OrderResultStatus.CANCELLED, handle._last_error)
            self.wake()  # a slot is free again
            return handle._may_have_arrived
        # a look-up of an unknown outcome must go out: only the venue can settle it
        self.record_send(handle, clock.now())
        self._hand_over(handle)
        return False

    # -- the dispatcher ------------------------------------------------------------------------

    def wake(self) -> None:
        """Wake the dispatcher if it sleeps: the lanes or the slots changed."""
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
        lanes, limiter, outcomes = self._lanes, self._limiter, self._outcomes
        since_yield = 0
        while True:
            now = clock.now()
            for handle in lanes.expire(now):
                outcomes.finish(
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
            ready = limiter.ready_at(head._kind, weight, now)
            if ready > now:
                since_yield = 0
                await self._sleep_until(min(ready, next_timer))
                self._time_throttled += clock.now() - now
                continue
            lanes.pop(head)
            limiter.record(head._kind, weight, now)
            if head._request is RequestKind.LOOKUP or head._request is RequestKind.QUOTE:
                self._grant(head)  # a permit: its caller sends the request itself
            else:
                self._start(head, now)
            since_yield += 1
            if since_yield >= _YIELD_EVERY:
                since_yield = 0
                await anyio.lowlevel.checkpoint()

    def _start(self, handle: OrderHandle, now: float) -> None:
        self._in_flight += 1  # (``lanes.pop`` moved it in flight)
        if handle._claimed:
            handle._grant()  # its caller sends it, and records it then
        else:
            self.record_send(handle, now)
            self._hand_over(handle)

    def _grant(self, handle: OrderHandle) -> None:
        """A look-up's or quote's capacity is counted: let its caller ask the venue."""
        self._limiter.count_permit(handle._request)
        self._outcomes.finish(handle, OrderResultStatus.ACCEPTED, None)

    def record_send(self, handle: OrderHandle, now: float) -> None:
        """Count the request that goes out now: an attempt, or a look-up."""
        if handle._kind is RequestKind.LOOKUP:
            handle._lookups += 1
            self._lookups += 1
        else:
            handle._attempts += 1
            if handle._sent_at is None:
                handle._sent_at = now
                if handle._request is RequestKind.SUBMIT:
                    self._sent_ids.add(handle._client_order_id)
        self._sent += 1

    def _hand_over(self, handle: OrderHandle) -> None:
        if self._closed:  # no sender task is left to make the request
            self._in_flight -= 1
            self._outcomes.finish_abandoned(handle)
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
                await self.send(handle)
                self._idle_senders += 1
                handle = await self._outbox_receive.receive()

    # -- sending -------------------------------------------------------------------------------

    async def send(self, handle: OrderHandle) -> None:
        """Make the request ``handle`` is in flight for, and hand the answer to the resolver."""
        outcomes = self._outcomes
        try:
            if handle._kind is RequestKind.SUBMIT:
                # awaited here rather than in a helper coroutine: one coroutine less per order
                order = handle._order
                assert order is not None
                try:
                    ack = await self._gateway.submit_order(order)
                except Exception as error:
                    outcomes.on_submit_error(handle, error)
                else:
                    outcomes.finish(
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
                outcomes.look_up(
                    handle,
                    OrderStateUnknownError(
                        "the sending task was cancelled before the venue answered",
                        client_order_id=handle._client_order_id,
                    ),
                )
            raise
        finally:
            self._in_flight -= 1
            state = handle._state
            if state is HandleState.IN_FLIGHT:  # cut off by shutdown before an answer came
                outcomes.finish_abandoned(handle)
            elif state is HandleState.QUEUED or state is HandleState.DELAYED:
                self.wake()  # back in the lanes for another attempt or a look-up
            # wake a dispatcher held back by max_in_flight once a quarter of the slots are free,
            # not on every completion: it then sends a batch instead of ping-ponging one by one
            if self._waiting_for_slots and self._in_flight <= self._resume_below:
                self.wake()

    async def _send_cancel(self, handle: OrderHandle) -> None:
        target = self._outcomes.open_submit(handle._client_order_id)  # our submit of that order, if open
        try:
            await self._gateway.cancel_order(handle._client_order_id)
        except Exception as error:
            self._outcomes.on_cancel_error(handle, error, target)
        else:
            self._outcomes.finish(handle, OrderResultStatus.ACCEPTED, None, acknowledged=True)

    async def _send_lookup(self, handle: OrderHandle) -> None:
        try:
            snapshot = await self._gateway.get_order(handle._client_order_id)
        except Exception as error:
            self._outcomes.on_lookup_error(handle, error)
        else:
            self._outcomes.on_lookup_answer(handle, snapshot)
