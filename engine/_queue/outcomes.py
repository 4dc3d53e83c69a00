"""How the order queue settles each answer from the venue: accept, reject, retry, or look up.

This is the queue's retry and outcome policy, apart from its lanes, limits and dispatcher
(``rate_limited_queue.py``): a 429 pauses the limit group and requeues the request; an unavailable
gateway (known not sent) is retried after a capped, jittered exponential back-off; an unknown
outcome is never resent blindly but turned into a look-up of the client order id, and only the
venue's "no such order" lets the same order, with the same id, go out again; a rejection is final.
A cancel is idempotent, so it is simply sent again after a failure, also when it overtook its own
order in flight and the venue did not know the order yet.
Every request ends in exactly one ``_finish``, the one place a handle is resolved.
"""

from __future__ import annotations

import random
from typing import Any, Literal

import anyio

from engine import clock
from engine._queue.handle import HandleState, OrderHandle, OrderResult, OrderResultStatus
from engine._queue.lanes import Lanes
from engine._queue.limits import LimitGroup
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
from engine.events import OrderStatus
from engine.gateway import TradingGateway
from engine.orders import Order
from engine.rate_limits import RequestKind

__all__ = ["QueueOutcomes"]



def _same_order(ours: Order, theirs: Order) -> bool:
    return (ours.symbol, ours.side, ours.quantity, ours.limit_price) == (
        theirs.symbol,
        theirs.side,
        theirs.quantity,
        theirs.limit_price,
    )


class QueueOutcomes:
    """The sending and settling half of ``RateLimitedOrderQueue`` (its base class).

    The queue owns the state named below; these methods only act on one request's answer.
    """

    _gateway: TradingGateway
    _group: LimitGroup
    _lanes: Lanes
    _random: random.Random
    _counts: dict[str, int]
    _by_id: dict[str, OrderHandle]
    _state: Literal["new", "open", "closing", "closed"]
    _open: int
    _idle: anyio.Event | None
    _max_attempts: int
    _max_lookups: int
    _retry_backoff: float
    _max_retry_backoff: float
    _retry_jitter: float
    _log: Any

    def _wake(self) -> None:
        raise NotImplementedError  # the queue wakes its dispatcher

    # -- sending -------------------------------------------------------------------------------

    def _on_submit_error(self, handle: OrderHandle, error: Exception) -> None:
        """Settle a submit the gateway answered with ``error`` (the sender awaits the gateway itself)."""
        if isinstance(error, RateLimitedError):
            self._on_rate_limited(handle, error)
        elif isinstance(error, DuplicateClientOrderIdError):
            if handle._may_have_arrived:  # an earlier send of ours may have got there after all
                self._look_up(handle, error)
            else:
                self._finish(handle, OrderResultStatus.REJECTED, error)
        elif isinstance(error, OrderRejectedError):
            self._finish(handle, OrderResultStatus.REJECTED, error)
        elif isinstance(error, GatewayUnavailableError):
            self._retry_later(handle, error)
        else:  # state unknown, or anything unexpected: it may have arrived
            self._look_up(handle, self._as_engine_error(error, handle))

    async def _send_cancel(self, handle: OrderHandle) -> None:
        target = self._by_id.get(handle._client_order_id)  # our submit of that order, if still open
        try:
            await self._gateway.cancel_order(handle._client_order_id)
        except RateLimitedError as error:
            self._on_rate_limited(handle, error)
        except UnknownOrderError as error:
            if target is not None and (not target.done() or target.result().ok):
                # the cancel overtook its order, still on its way: ask again once it may be there
                self._retry_later(handle, error)
            else:
                self._finish(handle, OrderResultStatus.REJECTED, error)
        except OrderRejectedError as error:
            self._finish(handle, OrderResultStatus.REJECTED, error)
        except Exception as error:  # cancelling is idempotent: resending a cancel is always safe
            self._retry_later(handle, self._as_engine_error(error, handle))
        else:
            self._finish(handle, OrderResultStatus.ACCEPTED, None, acknowledged=True)

    async def _send_lookup(self, handle: OrderHandle) -> None:
        try:
            snapshot = await self._gateway.get_order(handle._client_order_id)
        except UnknownOrderError as error:
            self._on_never_arrived(handle, error)
        except RateLimitedError as error:
            self._on_rate_limited(handle, error, counts_attempt=False)
        except Exception as error:
            engine_error = self._as_engine_error(error, handle)
            if handle._lookups >= self._max_lookups:
                self._finish(
                    handle,
                    OrderResultStatus.FAILED,
                    OrderStateUnknownError(
                        f"order {handle._client_order_id}: venue state still unknown after {handle._lookups} "
                        f"look-ups ({engine_error})",
                        client_order_id=handle._client_order_id,
                    ),
                )
            else:
                self._delay(handle, self._backoff(handle._lookups), engine_error)
        else:
            order = handle._order
            if order is not None and not _same_order(order, snapshot.order):
                # the venue holds someone else's order under this id: ours never got there
                self._finish(
                    handle, OrderResultStatus.REJECTED, DuplicateClientOrderIdError(order.client_order_id)
                )
            elif snapshot.status is OrderStatus.REJECTED:
                self._finish(
                    handle,
                    OrderResultStatus.REJECTED,
                    OrderRejectedError("rejected by the venue", client_order_id=handle._client_order_id),
                    venue_order_id=snapshot.venue_order_id,
                    acknowledged=True,
                )
            else:
                self._finish(
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

    def _look_up(self, handle: OrderHandle, error: EngineError) -> None:
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
            self._finish(handle, OrderResultStatus.CANCELLED, error)
        elif handle._attempts >= self._max_attempts:
            self._finish(handle, OrderResultStatus.FAILED, handle._last_error or error)
        else:
            self._counts["retries"] += 1
            self._requeue(handle)

    def _on_rate_limited(
        self, handle: OrderHandle, error: RateLimitedError, *, counts_attempt: bool = True
    ) -> None:
        now = clock.now()
        self._counts["rate_limited"] += 1
        pause = max(0.0, error.retry_after) * (1.0 + self._random.uniform(0.0, self._retry_jitter))
        self._group.on_rate_limited(now, now + pause)
        self._logger(handle).warning("order.rate_limited", retry_after=error.retry_after, pause=pause)
        handle._last_error = error
        if counts_attempt and handle._attempts >= self._max_attempts:
            self._finish(handle, OrderResultStatus.FAILED, error)
            return
        self._counts["retries"] += 1
        self._requeue(handle)  # the group's pause holds it back

    def _backoff(self, attempt: int) -> float:
        base: float = min(self._max_retry_backoff, self._retry_backoff * 2.0 ** max(0, attempt - 1))
        return base * (1.0 - self._random.uniform(0.0, self._retry_jitter))

    def _retry_later(self, handle: OrderHandle, error: EngineError) -> None:
        if handle._attempts >= self._max_attempts:
            self._finish(handle, OrderResultStatus.FAILED, error)
            return
        self._counts["retries"] += 1
        delay = self._backoff(handle._attempts)
        self._logger(handle).info("order.retry_scheduled", error=str(error), delay=delay)
        self._delay(handle, delay, error)

    def _delay(self, handle: OrderHandle, delay: float, error: EngineError) -> None:
        handle._last_error = error
        if self._state != "open" and not handle._outcome_unknown:
            self._finish_unsent(handle)
            return
        if self._state == "closed":  # a caller's own send that outlived the queue: no one reads the lanes
            self._finish_abandoned(handle)
            return
        self._lanes.delay(handle, clock.now() + delay)
        self._wake()

    def _requeue(self, handle: OrderHandle) -> None:
        if self._state != "open" and not handle._outcome_unknown:
            self._finish_unsent(handle)  # closing: only look-ups of unknown outcomes still go out
            return
        if self._state == "closed":  # a caller's own send that outlived the queue: no one reads the lanes
            self._finish_abandoned(handle)
            return
        self._lanes.put_back(handle)
        self._wake()

    def _finish(
        self,
        handle: OrderHandle,
        status: OrderResultStatus,
        error: EngineError | None,
        *,
        venue_order_id: str | None = None,
        acknowledged: bool = False,
    ) -> None:
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
            # (``_value_`` is the member's plain attribute; ``value`` goes through a descriptor)
            self._counts[status._value_] += 1
            if self._by_id.get(client_order_id) is handle:
                del self._by_id[client_order_id]
        elif request is RequestKind.CANCEL:
            self._counts[status._value_] += 1  # a permit for a look-up or quote is counted when granted
        if status is not OrderResultStatus.ACCEPTED and status is not OrderResultStatus.CANCELLED:
            self._logger(handle).info("order.finished", status=status.value, error=str(error))
        self._open -= 1
        if self._open == 0 and self._idle is not None:
            self._idle.set()

    def _finish_unsent(self, handle: OrderHandle) -> None:
        """Shutdown (or a withdrawn request): it is known not to be at the venue."""
        self._finish(handle, OrderResultStatus.CANCELLED, handle._last_error)

    def _finish_abandoned(self, handle: OrderHandle) -> None:
        """Shutdown cut a request off: if it may have reached the venue, say so honestly."""
        if handle._outcome_unknown or handle._state is HandleState.IN_FLIGHT:
            self._finish(
                handle,
                OrderResultStatus.FAILED,
                OrderStateUnknownError(
                    f"order queue closed before the venue answered for {handle._client_order_id}",
                    client_order_id=handle._client_order_id,
                ),
            )
        else:
            self._finish_unsent(handle)
