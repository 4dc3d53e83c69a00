"""How the order queue settles each answer from the venue: accept, reject, retry, or look up.

This is the queue's retry and outcome policy, apart from its lanes, limiter and dispatcher: a 429
pauses the limit group and puts the request back in its lane; an unavailable gateway (known not
sent) is retried after the limiter's capped, jittered back-off; an unknown outcome is never resent
blindly but turned into a look-up of the client order id, and only the venue's "no such order"
lets the same order, with the same id, go out again; a rejection is final. A cancel is idempotent,
so it is simply sent again after a failure, also when it overtook its own order in flight and the
venue did not know the order yet.

:class:`OutcomeResolver` also keeps the register of open requests (the submits by client order id,
so a duplicate is refused, and how many are open, so shutdown knows when all are settled). Every
request ends in exactly one ``finish``, the one place a handle is resolved. It makes no request
itself: the dispatcher sends and hands it the answer.
"""

from __future__ import annotations

from typing import Any

import anyio

from engine import clock
from engine._queue.handle import HandleState, OrderHandle, OrderResult, OrderResultStatus
from engine._queue.lanes import Lanes
from engine._queue.limiter import Limiter
from engine.errors import (
    DuplicateClientOrderIdError,
    EngineError,
    GatewayError,
    GatewayUnavailableError,
    OrderRejectedError,
    OrderStateUnknownError,
    RateLimitedError,
    UnknownOrderError,
)
from engine.events import OrderSnapshot, OrderStatus
from engine.orders import Order
from engine.rate_limits import RequestKind

__all__ = ["OutcomeResolver"]


def _same_order(ours: Order, theirs: Order) -> bool:
    return (ours.symbol, ours.side, ours.quantity, ours.limit_price) == (
        theirs.symbol,
        theirs.side,
        theirs.quantity,
        theirs.limit_price,
    )


class OutcomeResolver:
    """Settles each answer of the venue and finishes every request; see the module."""

    def __init__(
        self, lanes: Lanes, limiter: Limiter, *, max_attempts: int, max_lookups: int, log: Any
    ) -> None:
        self._lanes = lanes
        self._limiter = limiter
        self._max_attempts = max_attempts
        self._max_lookups = max_lookups
        self._log = log
        self._by_id: dict[str, OrderHandle] = {}  # open submits, so a duplicate id is refused
        self._open = 0  # requests not yet finished
        self._idle: anyio.Event | None = None  # set when nothing is open, for shutdown
        self._retrying = True  # False once the queue closes: only look-ups of unknown outcomes go back
        self._lanes_read = True  # False once the queue closed: no one reads the lanes any more
        self._counts = dict.fromkeys(("accepted", "rejected", "failed", "cancelled", "retries"), 0)

    # -- the register of open requests ---------------------------------------------------------

    def register(self, handle: OrderHandle) -> None:
        """Count a new request as open (a submit also under its client order id, until it ends)."""
        self._open += 1
        if handle._request is RequestKind.SUBMIT:
            self._by_id[handle._client_order_id] = handle

    def open_submit(self, client_order_id: str) -> OrderHandle | None:
        """The open submit of the order with this id, if any."""
        return self._by_id.get(client_order_id)

    async def wait_until_settled(self) -> None:
        """Wait until every open request is finished."""
        while self._open:
            self._idle = anyio.Event()
            await self._idle.wait()

    def stop_retrying(self) -> None:
        """The queue closes: a failed attempt is finished, not retried (look-ups still go out)."""
        self._retrying = False

    def stop_requeueing(self) -> None:
        """The queue closed: no one reads the lanes, so nothing goes back to them."""
        self._retrying = False
        self._lanes_read = False

    def counts(self) -> dict[str, int]:
        """How many submits and cancels ended each way, and how many retries were made."""
        return dict(self._counts)

    # -- answers -------------------------------------------------------------------------------

    def on_submit_error(self, handle: OrderHandle, error: Exception) -> None:
        """Settle a submit the gateway answered with ``error``."""
        if isinstance(error, RateLimitedError):
            self._on_rate_limited(handle, error)
        elif isinstance(error, DuplicateClientOrderIdError):
            # A resend's "duplicate" may name our own earlier send: some venues take an order and
            # still answer an error (a 429 while building the answer). Only a look-up can tell;
            # it finds someone else's order apart by comparing it with ours.
            if handle._may_have_arrived or handle._attempts > 1:
                self.look_up(handle, error)
            else:
                self.finish(handle, OrderResultStatus.REJECTED, error)
        elif isinstance(error, OrderRejectedError):
            self.finish(handle, OrderResultStatus.REJECTED, error)
        elif isinstance(error, GatewayUnavailableError):
            self._retry_later(handle, error)
        else:  # state unknown, or anything unexpected: it may have arrived
            self.look_up(handle, self._as_engine_error(error, handle))

    def on_cancel_error(self, handle: OrderHandle, error: Exception, target: OrderHandle | None) -> None:
        """Settle a cancel the gateway answered with ``error``; ``target``: our open submit of that order."""
        if isinstance(error, RateLimitedError):
            self._on_rate_limited(handle, error)
        elif isinstance(error, UnknownOrderError):
            if target is not None and (not target.done() or target.result().ok):
                # the cancel overtook its order, still on its way: ask again once it may be there
                self._retry_later(handle, error)
            else:
                self.finish(handle, OrderResultStatus.REJECTED, error)
        elif isinstance(error, OrderRejectedError):
            self.finish(handle, OrderResultStatus.REJECTED, error)
        else:  # cancelling is idempotent: resending a cancel is always safe
            self._retry_later(handle, self._as_engine_error(error, handle))

    def on_lookup_error(self, handle: OrderHandle, error: Exception) -> None:
        """Settle a look-up of an unknown outcome the gateway answered with ``error``."""
        if isinstance(error, UnknownOrderError):
            self._on_never_arrived(handle, error)
        elif isinstance(error, RateLimitedError):
            self._on_rate_limited(handle, error, counts_attempt=False)
        else:
            engine_error = self._as_engine_error(error, handle)
            if handle._lookups >= self._max_lookups:
                self.finish(
                    handle,
                    OrderResultStatus.FAILED,
                    OrderStateUnknownError(
                        f"order {handle._client_order_id}: venue state still unknown after {handle._lookups} "
                        f"look-ups ({engine_error})",
                        client_order_id=handle._client_order_id,
                    ),
                )
            else:
                self._delay(handle, self._limiter.backoff(handle._lookups), engine_error)

    def on_lookup_answer(self, handle: OrderHandle, snapshot: OrderSnapshot) -> None:
        """Settle a look-up of an unknown outcome by the venue's snapshot of the order."""
        order = handle._order
        if order is not None and not _same_order(order, snapshot.order):
            # the venue holds someone else's order under this id: ours never got there
            self.finish(
                handle, OrderResultStatus.REJECTED, DuplicateClientOrderIdError(order.client_order_id)
            )
        elif snapshot.status is OrderStatus.REJECTED:
            self.finish(
                handle,
                OrderResultStatus.REJECTED,
                OrderRejectedError("rejected by the venue", client_order_id=handle._client_order_id),
                venue_order_id=snapshot.venue_order_id,
                acknowledged=True,
            )
        else:
            self.finish(
                handle,
                OrderResultStatus.ACCEPTED,
                None,
                venue_order_id=snapshot.venue_order_id,
                acknowledged=True,
            )

    # -- outcomes ------------------------------------------------------------------------------

    def _as_engine_error(self, error: Exception, handle: OrderHandle) -> EngineError:
        if isinstance(error, EngineError):
            return error
        self._logger(handle).error("gateway.unexpected_error", error=repr(error))
        return GatewayError(
            f"unexpected {type(error).__name__}: {error}", client_order_id=handle._client_order_id
        )

    def _logger(self, handle: OrderHandle) -> Any:
        return self._log.bind(
            client_order_id=handle._client_order_id,
            lane=handle._lane.name,
            attempt=handle._attempts,
            request=handle._request.value,
        )

    def look_up(self, handle: OrderHandle, error: EngineError) -> None:
        """The send's outcome is unknown: never resend; look the client order id up instead."""
        self._logger(handle).warning("order.outcome_unknown", error=str(error))
        handle._outcome_unknown = True
        handle._may_have_arrived = True
        handle._kind = RequestKind.LOOKUP
        handle._last_error = error
        self._requeue(handle)

    def _on_never_arrived(self, handle: OrderHandle, error: UnknownOrderError) -> None:
        """The look-up says the venue never got the order: only now may it go out again."""
        self._logger(handle).info("order.never_arrived")
        handle._outcome_unknown = False
        handle._kind = RequestKind.SUBMIT
        if handle._cancel_requested:
            self.finish(handle, OrderResultStatus.CANCELLED, error)
        elif handle._attempts >= self._max_attempts:
            self.finish(handle, OrderResultStatus.FAILED, handle._last_error or error)
        else:
            self._counts["retries"] += 1
            self._requeue(handle)

    def _on_rate_limited(
        self, handle: OrderHandle, error: RateLimitedError, *, counts_attempt: bool = True
    ) -> None:
        pause = self._limiter.pause_for_rate_limit(error.retry_after)
        self._logger(handle).warning("order.rate_limited", retry_after=error.retry_after, pause=pause)
        handle._last_error = error
        if counts_attempt and handle._attempts >= self._max_attempts:
            self.finish(handle, OrderResultStatus.FAILED, error)
            return
        self._counts["retries"] += 1
        self._requeue(handle)  # the group's pause holds it back

    def _retry_later(self, handle: OrderHandle, error: EngineError) -> None:
        if handle._attempts >= self._max_attempts:
            self.finish(handle, OrderResultStatus.FAILED, error)
            return
        self._counts["retries"] += 1
        delay = self._limiter.backoff(handle._attempts)
        self._logger(handle).info("order.retry_scheduled", error=str(error), delay=delay)
        self._delay(handle, delay, error)

    def _delay(self, handle: OrderHandle, delay: float, error: EngineError) -> None:
        handle._last_error = error
        if not self._retrying and not handle._outcome_unknown:
            self.finish_unsent(handle)
            return
        if not self._lanes_read:  # a caller's own send that outlived the queue: no one reads the lanes
            self.finish_abandoned(handle)
            return
        self._lanes.delay(handle, clock.now() + delay)  # (the dispatcher wakes once the answer is settled)

    def _requeue(self, handle: OrderHandle) -> None:
        if not self._retrying and not handle._outcome_unknown:
            self.finish_unsent(handle)  # closing: only look-ups of unknown outcomes still go out
            return
        if not self._lanes_read:  # a caller's own send that outlived the queue: no one reads the lanes
            self.finish_abandoned(handle)
            return
        self._lanes.put_back(handle)

    def finish(
        self,
        handle: OrderHandle,
        status: OrderResultStatus,
        error: EngineError | None,
        *,
        venue_order_id: str | None = None,
        acknowledged: bool = False,
    ) -> None:
        """Resolve ``handle`` with its result (once: a later call changes nothing)."""
        if handle._result is not None:
            return
        client_order_id = handle._client_order_id
        handle._resolve(
            OrderResult(
                status,
                client_order_id,
                venue_order_id,
                handle._attempts,
                handle._enqueued_at,
                handle._sent_at,
                clock.now() if acknowledged else None,
                error,
            )
        )
        request = handle._request
        if request is RequestKind.SUBMIT:
            self._counts[status.value] += 1
            if self._by_id.get(client_order_id) is handle:
                del self._by_id[client_order_id]
        elif request is RequestKind.CANCEL:
            self._counts[status.value] += 1  # a permit for a look-up or quote is counted when granted
        if status is not OrderResultStatus.ACCEPTED and status is not OrderResultStatus.CANCELLED:
            self._logger(handle).info("order.finished", status=status.value, error=str(error))
        self._open -= 1
        if self._open == 0 and self._idle is not None:
            self._idle.set()

    def finish_unsent(self, handle: OrderHandle) -> None:
        """Shutdown (or a withdrawn request): it is known not to be at the venue."""
        self.finish(handle, OrderResultStatus.CANCELLED, handle._last_error)

    def finish_abandoned(self, handle: OrderHandle) -> None:
        """Shutdown cut a request off: if it may have reached the venue, say so honestly."""
        if handle._outcome_unknown or handle._state is HandleState.IN_FLIGHT:
            self.finish(
                handle,
                OrderResultStatus.FAILED,
                OrderStateUnknownError(
                    f"order queue closed before the venue answered for {handle._client_order_id}",
                    client_order_id=handle._client_order_id,
                ),
            )
        else:
            self.finish_unsent(handle)
