"""Deadline completion: finish what a parent has left, from confirmed facts only.

At an incomplete parent's deadline the handler

1. cancels every resting child (through the queue's cancel lane),
2. waits, bounded, for each to reach a final state; a child still in doubt is looked up at the
   venue by client order id,
3. computes the remainder from confirmed states only (a child still unresolved keeps its whole
   quantity reserved, so a late fill can never overfill the parent),
4. sends the remainder through the queue's completion lane as marketable orders, capped by a
   maximum slippage from the arrival price when one is set. Given a ``CompletionPacing`` (a
   completion window), it works the remainder in clips no larger than the touch shows, each
   followed by the time the market takes to trade it at the pacing's share of volume.

When the cap blocks completion, ``CompletionPolicy.LEAVE_UNFILLED`` stops there and the report
shows the unfilled quantity; ``CompletionPolicy.FINISH`` then sends market orders regardless.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import anyio
import attrs
import structlog

from engine._queue.handle import Lane, OrderHandle
from engine._schedules.rules import clip_quantity
from engine._schedules.volume import CompletionPacing
from engine._twap.child import ChildOrder, ChildState
from engine._twap.params import CompletionPolicy
from engine._twap.parent import ParentOrder
from engine.clock import now
from engine.errors import GatewayError, InvalidInputError, QueueClosedError
from engine.execution_monitor import ExecutionMonitor
from engine.fields import finite_number, whole_number
from engine.gateway import TradingGateway
from engine.ids import new_client_order_id as _default_new_id
from engine.numbers import ZERO, optional_non_negative
from engine.orders import Order, OrderSide, OrderType, TimeInForce
from engine.rate_limited_queue import RateLimitedOrderQueue

__all__ = [
    "AggressiveCompletionHandler",
    "CompletionOutcome",
    "CompletionPolicy",
    "HandlerStatistics",
    "describe_unsettled",
]

_BPS = Decimal(10_000)
# The longest pause between two rounds of look-ups of children still unsettled.
_MAX_SETTLE_BACKOFF = 10.0
# How long look-ups go on after a settling cancel is answered, at least.
_AFTER_ANSWER = 30.0
_log = structlog.get_logger(__name__)


@attrs.frozen
class CompletionOutcome:
    """What one completion achieved."""

    parent_id: str
    remainder: Decimal
    sent: Decimal
    filled: Decimal
    unresolved_children: int
    blocked_by_cap: bool
    note: str | None = None


@attrs.frozen
class HandlerStatistics:
    """Counters of an ``AggressiveCompletionHandler``."""

    completions: int
    orders_sent: int


def _unsettled(parent: ParentOrder) -> list[ChildOrder]:
    """The children not final at the venue, or with fills whose prices are not known yet."""
    return [
        child for child in parent.children if not child.state.is_final or child.priced_quantity < child.filled
    ]


def describe_unsettled(parent: ParentOrder) -> str:
    """What is unknown about a parent's children after settling: a line for the report."""
    parts = []
    for child in _unsettled(parent):
        if not child.state.is_final:
            parts.append(
                f"{child.client_order_id} {child.state.value} at the venue as far as known "
                f"({child.filled} of {child.quantity} filled so far; the rest may still fill)"
            )
        else:
            parts.append(
                f"{child.client_order_id} filled {child.filled}, of which "
                f"{child.filled - child.priced_quantity} at a price not known (its fill events never came)"
            )
    return f"{len(parts)} child order(s) not settled at the venue: " + "; ".join(parts)


def cap_price(arrival: Decimal, side: OrderSide, max_slippage_bps: Decimal) -> Decimal:
    """The worst price allowed: arrival moved against us by ``max_slippage_bps``."""
    return arrival * (1 + side.sign * max_slippage_bps / _BPS)


def _tighter(first: Decimal, second: Decimal, side: OrderSide) -> Decimal:
    # The less aggressive of two limit prices: the lower for a buy, the higher for a sell.
    return min(first, second) if side is OrderSide.BUY else max(first, second)


class AggressiveCompletionHandler:
    """Cancels resting children, waits for confirmed final states, sends the remainder marketable.

    Usable on its own with any queue and monitor; the engine gives every parent the same one.
    ``max_slippage_bps`` caps the completion price relative to the arrival price (``None``: no
    cap, market orders); ``settle_timeout`` bounds the wait for each child to be final;
    Marketable rounds go out ``retry_delay`` apart while they make progress; ``max_attempts``
    bounds how many rounds in a row may fill nothing (and ``max_rounds`` all of them), so a dead
    market ends the completion instead of looping.
    """

    def __init__(
        self,
        gateway: TradingGateway,
        queue: RateLimitedOrderQueue,
        monitor: ExecutionMonitor,
        *,
        max_slippage_bps: float | Decimal | None = None,
        policy: CompletionPolicy | str = CompletionPolicy.FINISH,
        settle_timeout: float = 10.0,
        max_attempts: int = 5,
        max_rounds: int = 100,
        retry_delay: float = 1.0,
        new_client_order_id: Callable[[], str] | None = None,
    ) -> None:
        slippage = optional_non_negative(max_slippage_bps, "max_slippage_bps")
        settle_timeout = finite_number(settle_timeout, "settle_timeout", above=0.0)
        max_attempts = whole_number(max_attempts, "max_attempts", minimum=1)
        max_rounds = whole_number(max_rounds, "max_rounds", minimum=max_attempts)
        retry_delay = finite_number(retry_delay, "retry_delay", minimum=0.0)
        if new_client_order_id is not None and not callable(new_client_order_id):
            raise InvalidInputError("new_client_order_id", new_client_order_id, "expected a callable or None")
        self._gateway = gateway
        self._queue = queue
        self._monitor = monitor
        self._max_slippage_bps = slippage
        self._policy = CompletionPolicy.parse(policy)
        self._settle_timeout = settle_timeout
        self._max_attempts = max_attempts
        self._max_rounds = max_rounds
        self._retry_delay = retry_delay
        self._new_id = new_client_order_id if new_client_order_id is not None else _default_new_id
        self._completions = 0
        self._orders_sent = 0

    def statistics(self) -> HandlerStatistics:
        """A frozen snapshot of the counters."""
        return HandlerStatistics(completions=self._completions, orders_sent=self._orders_sent)

    def __repr__(self) -> str:
        return (
            f"<AggressiveCompletionHandler policy={self._policy.value} "
            f"max_slippage_bps={self._max_slippage_bps} completions={self._completions}>"
        )

    async def settle_children(self, parent: ParentOrder) -> int:
        """Cancel every open child and wait until each is final at the venue with every fill
        priced; return how many are not (``describe_unsettled`` says what is unknown).

        A cancel may wait for room under the rate limits: the wait follows it. A child still open
        (or with fills whose prices have not arrived) after ``settle_timeout`` is looked up at the
        venue, again with back-off while the look-up fails or the venue still holds the child
        (whose cancel is then sent again). It ends after ``settle_timeout`` and the queue's
        ``cancel_grace``, or later while a cancel still waits for room (and half a minute of
        look-ups after it is answered), but never after twice the grace. Runs shielded: the
        settlement must finish even when the caller is being cancelled.
        """
        with anyio.CancelScope(shield=True):
            cancels = {child.client_order_id: self._cancel(parent, child) for child in parent.open_children}
            start, grace = now() + self._settle_timeout, self._queue.cancel_grace
            give_up, last_stop = start + grace, start + 2 * grace
            wait = self._settle_timeout
            while _unsettled(parent):
                if any(cancel is not None and not cancel.done() for cancel in cancels.values()):
                    give_up = min(last_stop, max(give_up, now() + self._settle_timeout + _AFTER_ANSWER))
                with anyio.move_on_after(max(0.0, min(wait, give_up - now()))):
                    while _unsettled(parent):  # (events: fills, cancels, final states)
                        await self._monitor.wait_changed(parent.parent_id)
                if now() >= give_up or not _unsettled(parent):
                    break
                for child in _unsettled(parent):
                    cid = child.client_order_id
                    cancel = cancels.get(cid)
                    if child.state is ChildState.PENDING or (cancel is not None and not cancel.done()):
                        continue  # its send or its cancel is still on its way: nothing to ask yet
                    # Retried every round while the venue is unavailable (safe: a look-up changes
                    # nothing), until the child is known final and priced.
                    if await self._monitor.reconcile(cid) is ChildState.WORKING:
                        cancels[cid] = self._cancel(parent, child)  # still live: ask again
                wait = min(2 * wait, max(self._settle_timeout, _MAX_SETTLE_BACKOFF))
            unresolved = len(_unsettled(parent))
        return unresolved

    def _cancel(self, parent: ParentOrder, child: ChildOrder) -> OrderHandle | None:
        # Also a child in doubt: if the venue holds it, the cancel ends it; if not, the venue
        # says so and a look-up settles it.
        _log.info("cancel child", parent_id=parent.parent_id, child_id=child.client_order_id)
        try:
            return self._queue.cancel(child.client_order_id)
        except QueueClosedError:
            return None  # (the queue is gone: look-ups still go to the venue)

    async def complete(
        self,
        parent_id: str,
        arrival_price: Decimal | None = None,
        limit_price: Decimal | None = None,
        *,
        pacing: CompletionPacing | None = None,
    ) -> CompletionOutcome:
        """Finish ``parent_id``: settle its children, then send the confirmed remainder (in clips
        sized to the touch and paced by the volume, with ``pacing``).

        ``limit_price`` is the parent's own limit: unlike the slippage cap, no policy overrides it.
        """
        parent = self._monitor.parent(parent_id)
        log = _log.bind(parent_id=parent_id, symbol=parent.symbol)
        self._completions += 1
        unresolved = await self.settle_children(parent)
        start_remaining = parent.remaining
        sent = ZERO
        filled_before = parent.filled
        blocked = False
        note = None
        cap = None
        if self._max_slippage_bps is not None and arrival_price is not None:
            cap = parent.instrument.round_price(
                cap_price(arrival_price, parent.side, self._max_slippage_bps), parent.side
            )
        if limit_price is not None:
            limit_price = parent.instrument.round_price(limit_price, parent.side)
        log.info(
            "completing",
            remainder=str(start_remaining),
            cap=str(cap),
            limit_price=str(limit_price),
            unresolved=unresolved,
        )
        fruitless = 0
        orders = 0
        last: ChildOrder | None = None
        clip = ZERO
        for attempt in range(self._max_rounds):
            remainder = parent.instrument.round_quantity(parent.remaining)
            if remainder <= 0 or parent.state.is_final or fruitless >= self._max_attempts:
                break
            if attempt > 0 and pacing is not None:
                # The depth a clip took comes back as the market trades.
                await anyio.sleep(pacing.wait_after(clip, remainder, now(), self._retry_delay))
            elif attempt > 0 and self._retry_delay > 0:
                # Give the book a moment to refill before taking liquidity again.
                await anyio.sleep(self._retry_delay)
            limit = (
                cap
                if (cap is not None and not (blocked and self._policy is CompletionPolicy.FINISH))
                else None
            )
            if limit_price is not None:
                limit = limit_price if limit is None else _tighter(limit, limit_price, parent.side)
            reference: Decimal | None
            try:
                # within the venue's limits, ahead of routine slices: the deadline is near
                quote = await self._queue.quote(parent.symbol, lane=Lane.COMPLETION)
                reference = quote.ask if parent.side is OrderSide.BUY else quote.bid
                touch = quote.ask_size if parent.side is OrderSide.BUY else quote.bid_size
                if pacing is not None:
                    pacing.meter.observe(quote)
            except GatewayError:
                reference, touch = arrival_price, ZERO
            if remainder < parent.instrument.min_order_quantity(reference):
                note = f"remainder {remainder} below the smallest order"
                break
            clip = remainder if pacing is None else clip_quantity(remainder, touch, parent.instrument)
            order = Order(
                symbol=parent.symbol,
                side=parent.side,
                quantity=clip,
                order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
                limit_price=limit,
                time_in_force=TimeInForce.IOC,
                client_order_id=self._new_id(),
                parent_id=parent_id,
            )
            child = ChildOrder(order=order, slice_index=None, aggressive=True, created_at=now())
            self._monitor.add_child(parent_id, child)
            orders += 1
            last = child
            sent += clip
            self._orders_sent += 1
            log.info(
                "send completion child",
                child_id=order.client_order_id,
                quantity=str(clip),
                limit_price=str(limit),
                attempt=attempt,
            )
            with anyio.CancelScope(shield=True):
                result = await self._queue.send(order, lane=Lane.COMPLETION)
                self._monitor.record_result(order.client_order_id, result)
                await self._wait_final(child)
            fruitless = 0 if child.filled > 0 else fruitless + 1
            # One marketable remainder is blocked when anything is left; a clip, when it is.
            if limit is not None and (child.filled < clip if pacing is not None else parent.remaining > 0):
                blocked = True
                if limit == limit_price:
                    # The parent's own limit binds: no policy trades beyond it.
                    note = f"limit price {limit} left {parent.remaining} unfilled"
                    break
                if self._policy is CompletionPolicy.LEAVE_UNFILLED:
                    note = f"slippage cap {limit} left {parent.remaining} unfilled"
                    break
        if note is None and parent.remaining > 0 and not parent.state.is_final and orders:
            note = self._stopped_note(parent, orders, sent, parent.filled - filled_before, fruitless, last)
        return CompletionOutcome(
            parent_id=parent_id,
            remainder=start_remaining,
            sent=sent,
            filled=parent.filled - filled_before,
            unresolved_children=unresolved,
            blocked_by_cap=blocked,
            note=note,
        )

    def _stopped_note(
        self,
        parent: ParentOrder,
        orders: int,
        sent: Decimal,
        filled: Decimal,
        fruitless: int,
        last: ChildOrder | None,
    ) -> str:
        """Why the completion stopped with quantity left: what was left, why, what was tried."""
        if fruitless >= self._max_attempts:
            why = f"{fruitless} completion round(s) in a row filled nothing"
        else:
            why = f"the {self._max_rounds} completion rounds allowed were used up"
        outcome = ""
        if last is not None:
            outcome = f"; the last ended {last.state.value}"
            if last.reason:
                outcome += f" ({last.reason})"
        return (
            f"completion left {parent.remaining} unfilled: {why}; tried {orders} completion "
            f"order(s) for {sent} in all, which filled {filled}{outcome}"
        )

    async def _wait_final(self, child: ChildOrder) -> None:
        with anyio.move_on_after(self._settle_timeout):
            if child.state is ChildState.UNKNOWN:
                await self._monitor.reconcile(child.client_order_id)
            if not child.state.is_final:
                await self._monitor.wait_child_final(child.client_order_id)
        if not child.state.is_final:
            await self._monitor.reconcile(child.client_order_id)
