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
bound each request.

The queue is composed of parts it owns (``engine/_queue/``): the lanes, the limiter (capacity under
the limits, 429 pauses, back-off), the dispatcher (its task, the senders and every request to the
gateway) and the outcome resolver (retries, look-ups of unknown outcomes, finishing handles). This
module holds the lifetime, the public calls, the enqueueing and the statistics, and wires the parts.

Look-ups and quotes: ``await queue.lookup(client_order_id)`` and ``await queue.quote(symbol)``
ask the venue directly, but first take their place in a lane and their capacity under the limits
(by the weight the limits give ``get_order`` and ``get_quote``), so every request the engine makes
counts. A kind no limit counts (weight zero, the default) goes straight to the gateway, unqueued.
A look-up or quote waiting in a lane is a permit, not an order: it never counts toward
``max_queued``, and ``statistics()`` reports it as ``permits_waiting``, apart from ``queued``.

Lifetime: ``async with queue:`` runs the dispatcher. On exit, orders not yet sent resolve
``CANCELLED``; cancels still go out for up to ``cancel_grace`` s (``_queue/closing.py``), then
requests in flight are awaited for up to ``shutdown_timeout`` s, shielded; whatever is still open
resolves ``FAILED`` with ``OrderStateUnknownError``. No handle ever hangs. Orders whose cancels went
unanswered are named in ``OrdersLeftOpenError`` (logged instead if the block raised).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Literal, Self

import anyio
import anyio.abc
import structlog

from engine import clock
from engine._queue.closing import orders_left_open, send_waiting_cancels
from engine._queue.dispatcher import Dispatcher
from engine._queue.handle import HandleState, Lane, OrderHandle, OrderResult, OrderResultStatus
from engine._queue.intake import Intake, check_lane
from engine._queue.lanes import Lanes
from engine._queue.limiter import Limiter
from engine._queue.limits import LimitGroup
from engine._queue.outcomes import OutcomeResolver
from engine._queue.statistics import QueueStatistics
from engine._runtime.groups import holds_only
from engine.errors import (
    InvalidInputError,
    OrdersLeftOpenError,
    QueueClosedError,
    RateLimitedError,
)
from engine.events import OrderSnapshot
from engine.fields import finite_number, seed_value, whole_number
from engine.gateway import TradingGateway
from engine.ids import validate_client_order_id
from engine.market import Quote
from engine.orders import Order
from engine.rate_limits import RateLimit, RequestKind

__all__ = ["QueueStatistics", "RateLimitedOrderQueue"]


class RateLimitedOrderQueue:
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
    ``LimitGroup``); ``cancel_grace`` and ``shutdown_timeout`` bound the exit (see the module).
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
            per_minute = whole_number(max_orders_per_minute, "max_orders_per_minute", minimum=1)
            all_limits.insert(0, RateLimit(per_minute, 60.0))
        if when_full not in ("wait", "refuse"):
            raise InvalidInputError("when_full", when_full, "expected 'wait' or 'refuse'")
        group = LimitGroup(
            all_limits,
            safety_margin=safety_margin,
            backoff_factor=backoff_factor,
            min_rate_factor=min_rate_factor,
            recovery_period=recovery_period,
        )
        max_queued = whole_number(max_queued, "max_queued", minimum=1)
        max_in_flight = whole_number(max_in_flight, "max_in_flight", minimum=1)
        max_attempts = whole_number(max_attempts, "max_attempts", minimum=1)
        max_lookups = whole_number(max_lookups, "max_lookups", minimum=1)
        retry_backoff = finite_number(retry_backoff, "retry_backoff", above=0.0)
        max_retry_backoff = finite_number(max_retry_backoff, "max_retry_backoff", above=0.0)
        retry_jitter = finite_number(retry_jitter, "retry_jitter", minimum=0.0, maximum=1.0)
        self._shutdown_timeout = finite_number(shutdown_timeout, "shutdown_timeout", minimum=0.0)
        self._cancel_grace = finite_number(cancel_grace, "cancel_grace", minimum=0.0)
        self._gateway = trading_gateway  # asked directly for look-ups and quotes
        self._log = structlog.get_logger(__name__)
        # the parts, each owning its own state, wired here: nothing else holds them
        self._lanes = Lanes(max_queued)
        self._limiter = Limiter(
            group,
            retry_backoff=retry_backoff,
            max_retry_backoff=max_retry_backoff,
            retry_jitter=retry_jitter,
            seed=seed_value(seed),
            log=self._log,
        )
        self._outcomes = OutcomeResolver(
            self._lanes, self._limiter, max_attempts=max_attempts, max_lookups=max_lookups, log=self._log
        )
        self._dispatcher = Dispatcher(
            trading_gateway, self._lanes, self._limiter, self._outcomes, max_in_flight=max_in_flight
        )
        self._intake = Intake(
            self._lanes,
            self._limiter,
            self._outcomes,
            self._dispatcher,
            max_queued=max_queued,
            refuse_when_full=when_full == "refuse",
            owner=self,
        )
        self._task_group: anyio.abc.TaskGroup | None = None
        self._state: Literal["new", "open", "closing", "closed"] = "new"

    def __repr__(self) -> str:
        lanes = ", ".join(f"{name.lower()}: {count}" for name, count in self._lanes.queued_per_lane())
        return (
            f"<RateLimitedOrderQueue {self._state} [{lanes}, "
            f"permits waiting: {self._lanes.permits_waiting}, "
            f"waiting for room: {self._lanes.waiting_for_room}, "
            f"in flight: {self._dispatcher.in_flight}, sent: {self._dispatcher.sent}] {self._limiter!r}>"
        )

    # -- lifetime ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise QueueClosedError("a RateLimitedOrderQueue runs once; make a new one")
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        self._state = "open"
        await self._dispatcher.start(task_group)
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
        self._intake.close(but_cancels=True)
        self._dispatcher.stop()
        for handle in self._lanes.drain_unsent(keep=RequestKind.CANCEL):
            self._outcomes.finish_unsent(handle)
        self._dispatcher.wake()
        unanswered = await send_waiting_cancels(self._lanes, self._cancel_grace)
        self._intake.close()
        self._outcomes.stop_retrying()
        for handle in self._lanes.drain_unsent():  # cancels the grace left unsent: given up
            self._outcomes.finish_unsent(handle)
        self._dispatcher.wake()
        with anyio.move_on_after(self._shutdown_timeout, shield=True):
            await self._outcomes.wait_until_settled()
        self._dispatcher.cancel_tasks()
        task_group.cancel_scope.cancel()
        try:
            suppress = await task_group.__aexit__(exc_type, exc, traceback)
        except BaseExceptionGroup as group:
            if not holds_only(group, exc):
                raise
            suppress = None  # the block's own error comes out as itself
        finally:
            self._state = "closed"
            self._outcomes.stop_requeueing()
            for handle in self._lanes.drain_all():
                self._outcomes.finish_abandoned(handle)
            self._dispatcher.close()  # and what was handed to a sender task but never sent
        if left_open := orders_left_open(unanswered):
            reason = f"their cancels were not answered within cancel_grace={self._cancel_grace} s"
            if exc is None:
                raise OrdersLeftOpenError(left_open, reason)
            self._log.error("queue.orders_left_open", client_order_ids=left_open, reason=reason)
        return suppress

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
        return self._intake.submit(order, lane, deadline, weight, claimed=False)

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
        handle = self._intake.submit(order, lane, deadline, weight, claimed=True)
        dispatcher = self._dispatcher
        try:
            if handle._state is HandleState.IN_FLIGHT:
                # it went out as it was enqueued (lanes empty, room under every limit): the
                # clock has not moved since, so it is sent at its enqueue time
                dispatcher.record_send(handle, handle._enqueued_at)
                await dispatcher.send(handle)
            while handle._result is None:
                if handle._state is HandleState.IN_FLIGHT:
                    dispatcher.record_send(handle, clock.now())
                    await dispatcher.send(handle)
                else:
                    await handle._wait_turn()
        except BaseException:
            if handle._claimed:  # not cut off mid-request (``send`` hands that to a look-up)
                handle._claimed = False
                handle._cancel_requested = True  # its caller gave up: if it never arrived, never resend
                if handle._state is HandleState.IN_FLIGHT:
                    if dispatcher.give_up_turn(handle):
                        self._ask_venue_to_cancel(handle._client_order_id)  # an earlier send may yet land
                elif handle._result is None and self._intake.withdraw(handle) and handle._may_have_arrived:
                    self._ask_venue_to_cancel(handle._client_order_id)  # an earlier send may yet land
            raise
        return handle._result

    def forget_sent(self, client_order_ids: Iterable[str]) -> None:
        """Let go of the record that the orders with these ids were sent.

        The queue refuses an order whose id it ever sent, and keeps every such id for it (about
        100 bytes each). An owner that knows these orders are final and will never be submitted
        again lets them go: the engine does as each parent ends, so a long-running engine does not
        grow with every child order it ever sent. A forgotten id is no longer refused by the
        queue, only by a venue that still knows it (some take an id again once its first order is
        done). Ids the queue never sent are ignored.
        """
        if isinstance(client_order_ids, str):
            raise InvalidInputError("client_order_ids", client_order_ids, "expected ids, not one string")
        ids = list(client_order_ids)
        for client_order_id in ids:
            if not isinstance(client_order_id, str):
                raise InvalidInputError("client_order_ids", client_order_id, "expected client order ids")
        self._dispatcher.forget_sent(ids)
        self._intake.forget_cancels(ids)

    def _ask_venue_to_cancel(self, client_order_id: str) -> None:
        """Send the venue a cancel for an order withdrawn here whose earlier send may still land."""
        if self._intake.accepts(RequestKind.CANCEL):  # (a closing queue still takes cancels)
            self._intake.new_request(RequestKind.CANCEL, client_order_id, None, Lane.CANCEL, None, 1)

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
        intake = self._intake
        intake.check_request(RequestKind.CANCEL, lane, deadline, 1)
        if (waiting := intake.waiting_cancel(client_order_id)) is not None:
            return waiting
        target = self._outcomes.open_submit(client_order_id)
        withdrawn = target is not None and intake.take_out(target)
        # a look-up said an earlier send never arrived, yet it may still land: ask the venue too
        ask_venue = not withdrawn or (target is not None and target._may_have_arrived)
        handle = intake.new_request(
            RequestKind.CANCEL, client_order_id, None, lane, deadline, 1, enqueue=ask_venue
        )
        if target is not None and withdrawn:
            self._outcomes.finish(target, OrderResultStatus.CANCELLED, target._last_error)
            if not ask_venue:
                self._outcomes.finish(handle, OrderResultStatus.ACCEPTED, None, acknowledged=True)
            self._dispatcher.wake()
        elif target is not None:
            target._cancel_requested = True  # if it turns out never to have arrived: do not resend
        return handle

    async def lookup(self, client_order_id: str, *, lane: Lane = Lane.COMPLETION) -> OrderSnapshot:
        """The venue's snapshot of an order, asked within the limits (``gateway.get_order``).

        The look-up waits in ``lane`` (by default ahead of routine slices: reconciling must not
        starve) for the capacity its weight needs; the gateway's errors propagate unchanged.
        """
        validate_client_order_id(client_order_id)
        charged = await self._take_capacity(RequestKind.LOOKUP, client_order_id, check_lane(lane))
        try:
            return await self._gateway.get_order(client_order_id)
        except RateLimitedError as error:
            if charged:
                self._limiter.on_venue_rate_limited(error)
            raise

    async def quote(self, symbol: str, *, lane: Lane = Lane.ROUTINE) -> Quote:
        """The venue's quote for ``symbol``, asked within the limits (``gateway.get_quote``).

        Quotes are routine: by default they wait behind cancels and completion orders.
        """
        if not isinstance(symbol, str) or not symbol:
            raise InvalidInputError("symbol", symbol, "expected a non-empty symbol")
        charged = await self._take_capacity(RequestKind.QUOTE, symbol, check_lane(lane))
        try:
            return await self._gateway.get_quote(symbol)
        except RateLimitedError as error:
            if charged:
                self._limiter.on_venue_rate_limited(error)
            raise

    async def _take_capacity(self, kind: RequestKind, key: str, lane: Lane) -> bool:
        """Wait until a request of ``kind`` fits the limits and count it; False if none counts it."""
        if not self._limiter.charges(kind):
            return False  # nothing to account: the request goes out as it always did
        if self._state == "open":
            # a permit waits in its lane like any request; the dispatcher grants it in order
            handle = self._intake.new_permit(kind, key, lane)
            try:
                granted = (await handle).ok
            finally:
                if not handle.done():  # the caller gave up waiting: free its place
                    self._intake.withdraw(handle)
            if granted:
                return True
        # the dispatcher is not running (before entry, or shut down meanwhile): count it here
        await self._limiter.wait_for_capacity(kind)
        return True

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
        lanes, dispatcher, limiter = self._lanes, self._dispatcher, self._limiter
        counts = self._outcomes.counts()
        return QueueStatistics(
            queued_per_lane=lanes.queued_per_lane(),
            waiting_for_room=lanes.waiting_for_room,
            delayed=lanes.delayed,
            in_flight=dispatcher.in_flight,
            sent=dispatcher.sent,
            accepted=counts["accepted"],
            rejected=counts["rejected"],
            failed=counts["failed"],
            cancelled=counts["cancelled"],
            retries=counts["retries"],
            rate_limited=limiter.rate_limited,
            lookups=dispatcher.lookups + limiter.lookup_permits,
            time_throttled=dispatcher.time_throttled,
            rate_factor=limiter.rate_factor(clock.now()) if self._state == "open" else 1.0,
            quotes=limiter.quotes,
            permits_waiting=lanes.permits_waiting,
            sent_ids_held=dispatcher.sent_ids_held,
        )

    def _withdraw_handle(self, handle: OrderHandle) -> bool:
        """``handle.cancel()``: withdraw the request if it has not been sent."""
        return self._intake.withdraw(handle)
