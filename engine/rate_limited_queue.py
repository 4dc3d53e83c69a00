"""The rate-limited order queue: priority lanes in, a venue's limits never exceeded, nothing lost.

``queue.submit(order)`` enqueues and returns an :class:`~engine._queue.handle.OrderHandle`;
``await handle`` gives an :class:`~engine._queue.handle.OrderResult`. One dispatcher task sends
the head of the highest-priority lane as soon as every limit allows it: it computes that time
exactly and sleeps until then (or until new work arrives); it never polls. Sends run concurrently
(up to ``max_in_flight``), so a burst the limits allow goes out at once. ``await queue.send(order)``
is the same request made from the caller's task: no sender task is woken, and with empty lanes
and room under every limit it goes out without waiting for the dispatcher at all.

Lanes: cancels, then deadline-completion orders, then routine slices; first in, first out within
a lane. The head of the queue waits for its capacity and nothing overtakes it, so a heavy request
is never starved by a stream of light ones.

Back-pressure: at most ``max_queued`` requests wait in the lanes. When full, ``when_full="refuse"``
makes ``submit`` raise ``QueueFullError``; ``when_full="wait"`` accepts the request but keeps it
waiting for a place, in order, before it enters its lane (``await queue.wait_for_room()`` lets a
producer pace itself). Cancel requests are never refused or held back.

Retries: a 429 pauses the whole limit group until retry-after plus seeded jitter and lowers the
effective rate, which recovers over clean periods; an unavailable gateway (known not sent) is
retried with capped exponential back-off; an unknown outcome is never resent blindly: the client
order id is looked up at the venue (retrying the look-up), and only "no such order" lets the same
order, with the same id, go out again; a rejection is final. ``max_attempts`` and ``deadline``
bound each request. That policy lives in ``_queue_outcomes.py``; this module holds the lifetime,
the public calls and the enqueueing; ``_queue_dispatch.py`` holds the dispatcher and the sending.

Look-ups and quotes: ``await queue.lookup(client_order_id)`` and ``await queue.quote(symbol)``
ask the venue directly, but first take their place in a lane and their capacity under the limits
(by the weight the limits give ``get_order`` and ``get_quote``), so every request the engine makes
counts. A kind no limit counts (weight zero, the default) goes straight to the gateway, unqueued.
A look-up or quote waiting in a lane is a permit, not an order: it never counts toward
``max_queued``, and ``statistics()`` reports it as ``permits_waiting``, apart from ``queued``.

Lifetime: ``async with queue:`` runs the dispatcher. On exit, orders not yet sent resolve
``CANCELLED``; cancels are still sent (an order left live would trade unseen): the exit waits for
them, shielded, for up to ``cancel_grace`` seconds, as they wait for room under the limits (a
closing queue still takes cancels). Requests in flight (and look-ups of unknown outcomes) are then
awaited for up to ``shutdown_timeout`` seconds, shielded; whatever is still open resolves
``FAILED`` with ``OrderStateUnknownError``. No handle ever hangs. The orders whose cancels the
venue has not answered by then are named by id in ``OrdersLeftOpenError``, raised when the block
ended without an error of its own (else logged, so that the block's error goes on).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Literal, Self

import anyio
import anyio.abc
import attrs
import structlog

from engine import clock
from engine._queue.dispatch import QueueDispatch
from engine._queue.handle import HandleState, Lane, OrderHandle, OrderResult, OrderResultStatus
from engine._queue.lanes import Lanes
from engine._queue.limits import LimitGroup
from engine._runtime.groups import holds_only
from engine.errors import (
    InvalidInputError,
    OrdersLeftOpenError,
    QueueClosedError,
    QueueFullError,
    RateLimitedError,
)
from engine.events import OrderSnapshot
from engine.fields import finite_number, seed_value
from engine.gateway import TradingGateway
from engine.ids import validate_client_order_id
from engine.market import Quote
from engine.orders import Order
from engine.rate_limits import RateLimit, RequestKind

__all__ = ["QueueStatistics", "RateLimitedOrderQueue"]

# What a cancel may end in once the venue answered it: taken, or refused (the order is final, or
# never arrived). Anything else leaves the order possibly live.
_VENUE_ANSWERED = (OrderResultStatus.ACCEPTED, OrderResultStatus.REJECTED)
# A request waiting to be sent: in its lane, or backing off before another attempt.
_WAITING = (HandleState.QUEUED, HandleState.DELAYED)



def _count(value: Any, field: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(field, value, f"expected a whole number, at least {minimum}")
    return value


def _fraction(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInputError(field, value, "expected a number from 0 to 1")
    return float(value)


def _deadline(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError("deadline", value, "expected an engine-clock time in seconds, or None")
    return float(value)


def _lane(value: Any) -> Lane:
    if isinstance(value, Lane):
        return value
    raise InvalidInputError("lane", value, "expected Lane.CANCEL, Lane.COMPLETION or Lane.ROUTINE")


@attrs.frozen
class QueueStatistics:
    """A snapshot of a :class:`RateLimitedOrderQueue`.

    ``queued_per_lane`` (and its sum, ``queued``) counts the orders and cancels waiting in each
    lane: what ``max_queued`` counts, so a new order waits for room (or is refused) once
    ``queued`` reaches it (only cancels, which are never held back, and retries returning to
    their place take it past). ``permits_waiting`` counts the look-ups and quotes waiting in the lanes
    for their capacity; they never count toward ``max_queued``.
    ``waiting_for_room`` counts requests accepted while the queue was full, not yet in a lane;
    ``delayed`` those backing off before another attempt. ``sent_ids_held`` counts the ids of
    sent orders the queue still refuses to send again (see ``forget_sent``).
    """

    queued_per_lane: tuple[tuple[str, int], ...]
    waiting_for_room: int
    delayed: int
    in_flight: int
    sent: int
    accepted: int
    rejected: int
    failed: int
    cancelled: int
    retries: int
    rate_limited: int
    lookups: int
    time_throttled: float
    rate_factor: float
    quotes: int = 0
    permits_waiting: int = 0
    sent_ids_held: int = 0

    @property
    def queued(self) -> int:
        """Orders and cancels waiting in the lanes (look-up and quote permits not counted)."""
        return sum(count for _, count in self.queued_per_lane)


class RateLimitedOrderQueue(QueueDispatch):
    """Sends orders and cancels to a gateway within its rate limits, by priority; see the module.

    ``max_orders_per_minute=N`` means never more than N submits and cancels in any rolling 60 s;
    ``limits`` adds any number of :class:`~engine.rate_limits.RateLimit` (rolling windows or token
    buckets, with weights per request kind). ``safety_margin`` (seconds) widens every rolling
    window and delays a token bucket's drain: set it to at least the spread of the venue's one-way
    latency, since the venue counts at arrival. ``seed`` seeds the retry jitter (for reproducible
    backtests).

    The other knobs: ``max_queued`` and ``when_full`` (back-pressure, see the module);
    ``max_in_flight`` requests out at once; ``max_attempts`` sends per request (look-ups not
    counted) and ``max_lookups`` look-ups per unknown outcome before it resolves ``FAILED``;
    ``retry_backoff`` doubling up to ``max_retry_backoff`` seconds after an unavailable gateway,
    shortened by up to ``retry_jitter`` (a fraction), which also lengthens a 429's pause;
    ``backoff_factor``, ``min_rate_factor`` and ``recovery_period`` shape the rate after 429s (see
    ``LimitGroup``); ``cancel_grace`` seconds for queued cancels and ``shutdown_timeout`` seconds
    for in-flight requests on exit.
    """

    def __init__(
        self,
        trading_gateway: TradingGateway,
        max_orders_per_minute: int | None = None,
        *,
        limits: Iterable[RateLimit] = (),
        safety_margin: float = 0.05,
        max_queued: int = 100_000,
        when_full: Literal["wait", "refuse"] = "wait",
        max_in_flight: int = 256,
        max_attempts: int = 5,
        max_lookups: int = 20,
        retry_backoff: float = 0.5,
        max_retry_backoff: float = 30.0,
        retry_jitter: float = 0.1,
        backoff_factor: float = 0.8,
        min_rate_factor: float = 0.5,
        recovery_period: float | None = None,
        shutdown_timeout: float = 10.0,
        cancel_grace: float = 120.0,
        seed: int | None = None,
    ) -> None:
        if not isinstance(trading_gateway, TradingGateway):
            raise InvalidInputError("trading_gateway", trading_gateway, "expected a TradingGateway")
        all_limits: list[RateLimit] = [limits] if isinstance(limits, RateLimit) else list(limits)
        if max_orders_per_minute is not None:
            all_limits.insert(0, RateLimit(_count(max_orders_per_minute, "max_orders_per_minute"), 60.0))
        if when_full not in ("wait", "refuse"):
            raise InvalidInputError("when_full", when_full, "expected 'wait' or 'refuse'")
        self._group = LimitGroup(
            all_limits,
            safety_margin=safety_margin,
            backoff_factor=backoff_factor,
            min_rate_factor=min_rate_factor,
            recovery_period=recovery_period,
        )
        self._gateway = trading_gateway
        self._max_queued = _count(max_queued, "max_queued")
        self._refuse_when_full = when_full == "refuse"
        self._max_in_flight = _count(max_in_flight, "max_in_flight")
        self._resume_below = self._max_in_flight - max(1, self._max_in_flight // 4)
        self._waiting_for_slots = False
        self._max_attempts = _count(max_attempts, "max_attempts")
        self._max_lookups = _count(max_lookups, "max_lookups")
        self._retry_backoff = finite_number(retry_backoff, "retry_backoff", above=0.0)
        self._max_retry_backoff = finite_number(max_retry_backoff, "max_retry_backoff", above=0.0)
        self._retry_jitter = _fraction(retry_jitter, "retry_jitter")
        self._shutdown_timeout = finite_number(shutdown_timeout, "shutdown_timeout", minimum=0.0)
        self._cancel_grace = finite_number(cancel_grace, "cancel_grace", minimum=0.0)
        self._random = random.Random(seed_value(seed))
        self._lanes = Lanes(self._max_queued)
        self._by_id: dict[str, OrderHandle] = {}  # open submits, so a duplicate id is refused
        # ids of every order this queue ever sent (about 100 bytes each): some venues take a
        # client order id again once its first order is done, so a resubmission would trade twice
        self._sent_ids: set[str] = set()
        # the last cancel asked of each order: a second cancel while one still waits to be sent
        # would spend the limits' room twice for one order (let go with ``forget_sent``)
        self._cancels: dict[str, OrderHandle] = {}
        self._log = structlog.get_logger(__name__)
        self._task_group: anyio.abc.TaskGroup | None = None
        # each of the queue's own tasks runs in a shielded scope that only the queue cancels: a
        # cancelled surrounding scope must not cut off sends in flight or look-ups of unknown
        # outcomes; they get ``shutdown_timeout`` like any other exit
        self._task_scopes: set[anyio.CancelScope] = set()
        self._state: Literal["new", "open", "closing", "closed"] = "new"
        self._wakeup: anyio.Event | None = None  # set to wake the sleeping dispatcher
        self._idle: anyio.Event | None = None  # set when nothing is open while closing
        self._open = 0
        self._in_flight = 0
        self._idle_senders = 0
        self._counts = dict.fromkeys(
            (
                "sent",
                "accepted",
                "rejected",
                "failed",
                "cancelled",
                "retries",
                "rate_limited",
                "lookups",
                "quotes",
            ),
            0,
        )
        self._time_throttled = 0.0

    def __repr__(self) -> str:
        lanes = ", ".join(f"{name.lower()}: {count}" for name, count in self._lanes.queued_per_lane())
        return (
            f"<RateLimitedOrderQueue {self._state} [{lanes}, "
            f"permits waiting: {self._lanes.permits_waiting}, "
            f"waiting for room: {self._lanes.waiting_for_room}, "
            f"in flight: {self._in_flight}, sent: {self._counts['sent']}] {self._group!r}>"
        )

    # -- lifetime ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise QueueClosedError("a RateLimitedOrderQueue runs once; make a new one")
        self._outbox_send, self._outbox_receive = anyio.create_memory_object_stream[OrderHandle](math.inf)
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        self._state = "open"
        await task_group.start(self._dispatch)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        task_group = self._task_group
        assert task_group is not None
        self._state = "closing"
        for handle in self._lanes.drain_unsent(keep=RequestKind.CANCEL):
            self._finish_unsent(handle)
        self._wake()
        # The cancels still unanswered when the grace ends (one that failed before it, its
        # attempts used up, is its sender's to follow up: the queue has told it).
        cancels = [handle for handle in await self._wait_for_cancels() if not handle.done()]
        for handle in self._lanes.drain_unsent():  # cancels the grace left unsent: given up
            self._finish_unsent(handle)
        with anyio.move_on_after(self._shutdown_timeout, shield=True):
            while self._open:
                self._idle = anyio.Event()
                await self._idle.wait()
        for scope in self._task_scopes:
            scope.cancel()
        task_group.cancel_scope.cancel()
        try:
            suppress = await task_group.__aexit__(exc_type, exc, traceback)
        except BaseExceptionGroup as group:
            if not holds_only(group, exc):
                raise
            suppress = None  # the block's own error comes out as itself
        finally:
            self._state = "closed"
            for handle in self._lanes.drain_all():
                self._finish_abandoned(handle)
            self._outbox_send.close()
            while True:  # handed over but never sent: cut off by the timeout
                try:
                    handle = self._outbox_receive.receive_nowait()
                except (anyio.WouldBlock, anyio.EndOfStream):
                    break
                handle._state = HandleState.QUEUED
                self._finish_abandoned(handle)
            self._outbox_receive.close()
        left_open = tuple(
            dict.fromkeys(
                handle._client_order_id
                for handle in cancels
                if handle._result is None or handle._result.status not in _VENUE_ANSWERED
            )
        )
        if left_open:
            reason = f"their cancels were not answered within cancel_grace={self._cancel_grace} s"
            if exc is None:
                raise OrdersLeftOpenError(left_open, reason)
            self._log.error("queue.orders_left_open", client_order_ids=left_open, reason=reason)
        return suppress

    async def _wait_for_cancels(self) -> list[OrderHandle]:
        """Wait, shielded and for up to ``cancel_grace`` seconds, until no cancel waits to be sent
        and every cancel waited for is answered.

        Cancels outrank everything, also on the way out: an order left live at the venue would
        trade unseen. They wait for room under the limits like any request. Returns every cancel
        it waited for.
        """
        waited: dict[int, OrderHandle] = {}
        with anyio.move_on_after(self._cancel_grace, shield=True):
            while waiting := self._lanes.unsent(RequestKind.CANCEL):
                for handle in waiting:
                    waited[id(handle)] = handle
                    await handle.wait()
        for handle in self._lanes.unsent(RequestKind.CANCEL):
            waited[id(handle)] = handle
        return list(waited.values())

    @property
    def cancel_grace(self) -> float:
        """Seconds the exit waits for cancels still queued (they wait for room like any request)."""
        return self._cancel_grace

    # -- public calls --------------------------------------------------------------------------

    def submit(
        self, order: Order, *, lane: Lane = Lane.ROUTINE, deadline: float | None = None, weight: int = 1
    ) -> OrderHandle:
        """Enqueue ``order`` and return its handle (``await`` it for the ``OrderResult``).

        ``deadline`` is an engine-clock time after which the order is no longer sent (it resolves
        ``FAILED`` with ``DeadlineExceededError``); ``weight`` is the request's weight for limits
        that count per-request weight. Never waits; see the module for when the queue is full.
        An order whose client order id is already in the queue, or was ever sent by it, is refused
        with ``InvalidInputError``: every order needs its own id.
        """
        return self._submit(order, lane, deadline, weight, claimed=False)

    def _submit(self, order: Order, lane: Any, deadline: Any, weight: Any, *, claimed: bool) -> OrderHandle:
        if not isinstance(order, Order):
            raise InvalidInputError("order", order, "expected an Order")
        if order.client_order_id in self._by_id:
            raise InvalidInputError(
                "order", order.client_order_id, "an order with this client order id is already in the queue"
            )
        if order.client_order_id in self._sent_ids:
            raise InvalidInputError(
                "order", order.client_order_id, "an order with this client order id was already sent"
            )
        handle = self._new_handle(
            RequestKind.SUBMIT, order.client_order_id, order, lane, deadline, weight, claimed=claimed
        )
        self._by_id[order.client_order_id] = handle
        return handle

    async def send(
        self, order: Order, *, lane: Lane = Lane.ROUTINE, deadline: float | None = None, weight: int = 1
    ) -> OrderResult:
        """Submit ``order`` and wait for its result, sending it from the calling task.

        The same order, lanes, limits and retries as ``await queue.submit(order)``, but cheaper:
        when its turn comes the caller makes the request itself instead of handing it to one of
        the queue's sender tasks, and when the lanes are empty and every limit allows it, it goes
        out at once without waking the dispatcher. If the caller is cancelled before the order
        left, the order is withdrawn (``CANCELLED``, never sent); if it is cancelled while the
        request is out, the queue settles it by looking the order up (and never sends it again).
        Either way the cancelled caller gets no result: follow the order by its client order id.
        """
        if self._state != "open":
            self._check_running()  # (a closed queue is refused as the order is checked)
        handle = self._submit(order, lane, deadline, weight, claimed=True)
        try:
            if handle._state is HandleState.IN_FLIGHT:
                # it went out as it was enqueued (lanes empty, room under every limit): the
                # clock has not moved since, so it is sent at its enqueue time
                self._record_send(handle, handle._enqueued_at)
                await self._send(handle)
            while handle._result is None:
                if handle._state is HandleState.IN_FLIGHT:
                    self._record_send(handle, clock.now())
                    await self._send(handle)
                else:
                    await handle._wait_turn()
        except BaseException:
            if handle._claimed:  # not cut off mid-request (``_send`` hands that to a look-up)
                handle._claimed = False
                handle._cancel_requested = True  # its caller gave up: if it never arrived, never resend
                if handle._state is HandleState.IN_FLIGHT:
                    self._give_up_turn(handle)
                elif handle._result is None and self._withdraw_handle(handle) and handle._may_have_arrived:
                    self._ask_venue_to_cancel(handle._client_order_id)  # an earlier send may yet land
            raise
        return handle._result

    def forget_sent(self, client_order_ids: Iterable[str]) -> None:
        """Let go of the record that the orders with these ids were sent.

        The queue refuses an order whose id it ever sent, and keeps every such id for it (about
        100 bytes each), with the last cancel asked of it. An owner that knows these orders are
        final and will never be submitted again lets them go: the engine does as each parent ends,
        so a long-running engine does not grow with every child order it ever sent. A forgotten id
        is no longer refused by the queue, only by a venue that still knows it (some take an id
        again once its first order is done). Ids the queue never sent are ignored.
        """
        if isinstance(client_order_ids, str):
            raise InvalidInputError("client_order_ids", client_order_ids, "expected ids, not one string")
        ids = list(client_order_ids)
        for client_order_id in ids:
            if not isinstance(client_order_id, str):
                raise InvalidInputError("client_order_ids", client_order_id, "expected client order ids")
        discard, cancels = self._sent_ids.discard, self._cancels
        for client_order_id in ids:
            discard(client_order_id)
            cancels.pop(client_order_id, None)

    def _ask_venue_to_cancel(self, client_order_id: str) -> None:
        """Send the venue a cancel for an order withdrawn here whose earlier send may still land."""
        if self._state in ("open", "closing"):  # a closing queue still sends cancels
            self._new_handle(RequestKind.CANCEL, client_order_id, None, Lane.CANCEL, None, 1)

    def cancel(
        self, client_order_id: str, *, lane: Lane = Lane.CANCEL, deadline: float | None = None
    ) -> OrderHandle:
        """Ask the venue to cancel an order, through the same limits; returns the request's handle.

        It resolves ``ACCEPTED`` once the venue took the cancel request (the outcome arrives as an
        event); a cancel the venue answers "no such order" while this queue's submit of that order
        is still on its way (the cancel overtook it) is sent again after a back-off.
        An order still waiting in this queue is withdrawn instead and never sent; its own
        handle resolves ``CANCELLED`` and the cancel request resolves ``ACCEPTED`` at once, unless
        an earlier send of it timed out (it may still land at the venue): then the cancel request
        goes to the venue as well. A cancel of an order whose earlier cancel still waits to be sent
        returns that cancel's handle: one request to the venue is enough.
        """
        validate_client_order_id(client_order_id)
        self._check_request(RequestKind.CANCEL, lane, deadline, 1)
        waiting = self._cancels.get(client_order_id)
        if waiting is not None and waiting._result is None and waiting._state in _WAITING:
            return waiting
        target = self._by_id.get(client_order_id)
        withdrawn = target is not None and self._withdraw(target)
        # a look-up said an earlier send never arrived, yet it may still land: ask the venue too
        ask_venue = not withdrawn or (target is not None and target._may_have_arrived)
        handle = self._new_handle(
            RequestKind.CANCEL, client_order_id, None, lane, deadline, 1, enqueue=ask_venue
        )
        if target is not None and withdrawn:
            self._finish(target, OrderResultStatus.CANCELLED, target._last_error)
            if not ask_venue:
                self._finish(handle, OrderResultStatus.ACCEPTED, None, acknowledged=True)
            self._wake()
        elif target is not None:
            target._cancel_requested = True  # if it turns out never to have arrived: do not resend
        if ask_venue:
            self._cancels[client_order_id] = handle
        return handle

    async def lookup(self, client_order_id: str, *, lane: Lane = Lane.COMPLETION) -> OrderSnapshot:
        """The venue's snapshot of an order, asked within the limits (``gateway.get_order``).

        The look-up waits in ``lane`` (by default ahead of routine slices: reconciling must not
        starve) for the capacity its weight needs; the gateway's errors propagate unchanged.
        """
        validate_client_order_id(client_order_id)
        charged = await self._take_capacity(RequestKind.LOOKUP, client_order_id, _lane(lane))
        try:
            return await self._gateway.get_order(client_order_id)
        except RateLimitedError as error:
            if charged:
                self._on_venue_rate_limited(error)
            raise

    async def quote(self, symbol: str, *, lane: Lane = Lane.ROUTINE) -> Quote:
        """The venue's quote for ``symbol``, asked within the limits (``gateway.get_quote``).

        Quotes are routine: by default they wait behind cancels and completion orders.
        """
        if not isinstance(symbol, str) or not symbol:
            raise InvalidInputError("symbol", symbol, "expected a non-empty symbol")
        charged = await self._take_capacity(RequestKind.QUOTE, symbol, _lane(lane))
        try:
            return await self._gateway.get_quote(symbol)
        except RateLimitedError as error:
            if charged:
                self._on_venue_rate_limited(error)
            raise

    async def _take_capacity(self, kind: RequestKind, key: str, lane: Lane) -> bool:
        """Wait until a request of ``kind`` fits the limits and count it; False if none counts it."""
        group = self._group
        if not group.charges(kind):
            return False  # nothing to account: the request goes out as it always did
        if self._state == "open":
            # a permit waits in its lane like any request; the dispatcher grants it in order
            handle = OrderHandle(
                request=kind,
                client_order_id=key,
                order=None,
                lane=lane,
                weight=1,
                deadline=None,
                enqueued_at=self._enqueue_time(),
                owner=self,
            )
            self._open += 1
            self._lanes.push(handle)
            self._wake()
            try:
                granted = (await handle).ok
            finally:
                if not handle.done():  # the caller gave up waiting: free its place
                    self._withdraw_handle(handle)
            if granted:
                return True
        # the dispatcher is not running (before entry, or shut down meanwhile): count it here
        while True:
            now = clock.now()
            ready = group.ready_at(kind, 1, now)
            if ready <= now:
                group.record(kind, 1, now)
                self._counts["lookups" if kind is RequestKind.LOOKUP else "quotes"] += 1
                return True
            await anyio.sleep(ready - now)

    def _on_venue_rate_limited(self, error: RateLimitedError) -> None:
        """The venue answered a counted look-up or quote with 429: pause the group, as for orders."""
        now = clock.now()
        self._counts["rate_limited"] += 1
        pause = max(0.0, error.retry_after) * (1.0 + self._random.uniform(0.0, self._retry_jitter))
        self._group.on_rate_limited(now, now + pause)
        self._log.warning("request.rate_limited", retry_after=error.retry_after, pause=pause)

    def _check_running(self) -> None:
        """Refuse to wait on a queue that never ran: nothing would ever resolve its handles."""
        if self._state == "new":
            raise QueueClosedError(
                "the order queue is not running: enter it with `async with queue:` to send what was submitted"
            )

    async def wait_for_room(self) -> None:
        """Wait until the lanes have room for another request (for producers that pace themselves)."""
        while self._lanes.has_no_room():
            self._check_running()  # room appears only as the dispatcher sends
            await self._lanes.wait_for_room()

    def statistics(self) -> QueueStatistics:
        """A snapshot of the queue's state and counters."""
        counts = self._counts
        return QueueStatistics(
            queued_per_lane=self._lanes.queued_per_lane(),
            waiting_for_room=self._lanes.waiting_for_room,
            delayed=self._lanes.delayed,
            in_flight=self._in_flight,
            sent=counts["sent"],
            accepted=counts["accepted"],
            rejected=counts["rejected"],
            failed=counts["failed"],
            cancelled=counts["cancelled"],
            retries=counts["retries"],
            rate_limited=counts["rate_limited"],
            lookups=counts["lookups"],
            time_throttled=self._time_throttled,
            rate_factor=self._group.rate_factor(clock.now()) if self._state == "open" else 1.0,
            quotes=counts["quotes"],
            permits_waiting=self._lanes.permits_waiting,
            sent_ids_held=len(self._sent_ids),
        )

    # -- enqueueing ----------------------------------------------------------------------------

    def _check_request(
        self, request: RequestKind, lane: Any, deadline: Any, weight: Any
    ) -> tuple[Lane, float | None, int]:
        if self._state == "closed" or (self._state == "closing" and request is not RequestKind.CANCEL):
            raise QueueClosedError("the order queue is closed")  # (it still sends cancels while closing)
        # the common values (a lane, a finite float or None, a weight of 1) pass without a call
        if lane.__class__ is not Lane:
            lane = _lane(lane)
        if deadline is not None and not (deadline.__class__ is float and -math.inf < deadline < math.inf):
            deadline = _deadline(deadline)
        if weight.__class__ is not int or weight < 1:
            weight = _count(weight, "weight")
        self._group.check_cost(request, weight)
        return lane, deadline, weight

    def _new_handle(
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
        lane, deadline, weight = self._check_request(request, lane, deadline, weight)
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
            owner=self,
        )
        handle._claimed = claimed
        self._open += 1
        if not enqueue:
            handle._state = HandleState.DONE
        elif claimed and self._goes_out_now(handle, now):
            pass  # the caller sends it now: the dispatcher has nothing to do
        elif full:
            self._lanes.hold(handle)
        else:
            self._lanes.push(handle)
            self._wake()
        return handle

    def _enqueue_time(self) -> float:
        # (``clock.now`` hands a burst at one instant one shared float object: 24 bytes less per
        # queued order)
        try:
            return clock.now()
        except RuntimeError:  # submitted before any event loop runs: the clock starts at zero
            return 0.0

    def _withdraw(self, handle: OrderHandle) -> bool:
        """Take a not-yet-sent request out of the queue (lazily: its slot is skipped later)."""
        if handle._state not in (HandleState.QUEUED, HandleState.DELAYED, HandleState.WAITING_FOR_ROOM):
            return False
        if handle._outcome_unknown:
            return False  # it may be at the venue: only the look-up may settle it
        self._lanes.forget(handle)
        return True

    def _withdraw_handle(self, handle: OrderHandle) -> bool:
        if not self._withdraw(handle):
            return False
        self._finish(handle, OrderResultStatus.CANCELLED, handle._last_error)
        self._wake()
        return True
