"""One child order and what is confirmed about it: its state, its fills (each counted once), fees.

A child's filled quantity never exceeds its quantity, and a fill delivered twice (same trade id)
counts once; ``engine._twap.parent`` sums children into their parent.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from engine.errors import IllegalTransitionError, InvalidInputError
from engine.events import OrderFilled
from engine.numbers import ZERO, shared_sum
from engine.orders import Order

__all__ = ["CHILD_TRANSITIONS", "ChildOrder", "ChildState"]


class ChildState(enum.Enum):
    """Where a child order stands, as far as the engine has confirmed."""

    PENDING = "pending"  # handed to the queue, no answer yet
    WORKING = "working"  # the venue holds it
    UNKNOWN = "unknown"  # the send failed in a way that leaves its fate open; look it up
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        """True once the child can no longer fill."""
        return self._value_ in _FINAL_CHILD  # by value, as for ParentState


# Where a child may go: an open child to any later state (news of a venue arrives in any order,
# so a working child may still be found rejected, or in doubt after a failed send); a final child
# nowhere. The methods below ignore stale news (an acceptance after the fill) before asking here.
_OPEN = (ChildState.PENDING, ChildState.WORKING, ChildState.UNKNOWN)
_FINAL = (ChildState.FILLED, ChildState.CANCELLED, ChildState.REJECTED, ChildState.EXPIRED)
CHILD_TRANSITIONS: dict[ChildState, frozenset[ChildState]] = {
    **{state: frozenset(s for s in (*_OPEN, *_FINAL) if s is not ChildState.PENDING and s is not state)
       for state in _OPEN},
    **{state: frozenset() for state in _FINAL},
}
_FINAL_CHILD = frozenset(state.value for state in _FINAL)


@attrs.define(weakref_slot=False)
class ChildOrder:
    """One child order and what is confirmed about it: state, fills (deduped), fees."""

    order: Order
    slice_index: int | None
    aggressive: bool = False
    created_at: float = 0.0
    sent_at: float | None = None
    ended_at: float | None = None
    state: ChildState = ChildState.PENDING
    reason: str | None = None
    # Trade ids seen: the lone id of a child that filled once (most do), a small tuple of a few,
    # a set past that.
    _trade_ids: str | tuple[str, ...] | set[str] = ()
    _fill_quantity: Decimal = ZERO
    _fill_notional: Decimal = ZERO
    # While one fill is priced (most children), its price: the notional is then worked out when
    # asked, exactly as the running sum would have it, instead of held as one more Decimal.
    _sole_price: Decimal | None = None
    _fees: Decimal = ZERO
    _confirmed_filled: Decimal | None = None

    @property
    def client_order_id(self) -> str:
        """The child's client order id."""
        return self.order.client_order_id

    @property
    def quantity(self) -> Decimal:
        """The child's order quantity."""
        return self.order.quantity

    @property
    def filled(self) -> Decimal:
        """Filled quantity: the venue's confirmed total once final, else the fills seen."""
        if self._confirmed_filled is not None:
            return self._confirmed_filled
        return self._fill_quantity

    @property
    def committed(self) -> Decimal:
        """What this child may still take from its parent: all of it while open."""
        return self.filled if self.state.is_final else self.quantity

    @property
    def notional(self) -> Decimal:
        """Sum of price × quantity over the fills seen."""
        price = self._sole_price
        if price is not None:
            return ZERO + self._fill_quantity * price
        return self._fill_notional

    @property
    def priced_quantity(self) -> Decimal:
        """Quantity of the fills seen (with prices); below ``filled`` while fills are in flight."""
        return self._fill_quantity

    @property
    def fees(self) -> Decimal:
        """Fees of the fills seen."""
        return self._fees

    @property
    def sole_price(self) -> Decimal | None:
        """The price of the child's one priced fill while it keeps it (most children fill once),
        else ``None``; a report's slice of one such child shares it as its average price."""
        return self._sole_price

    @property
    def average_price(self) -> Decimal | None:
        """Average price of the fills seen, or ``None`` before the first."""
        return self.notional / self._fill_quantity if self._fill_quantity else None

    def has_trade(self, trade_id: str) -> bool:
        """True if a fill with this trade id was already counted."""
        seen = self._trade_ids
        if isinstance(seen, str):
            return seen == trade_id
        return trade_id in seen

    def apply_fill(self, fill: OrderFilled) -> Decimal:
        """Count a fill once and never past the child's quantity; return the quantity priced."""
        trade_id = fill.trade_id
        seen = self._trade_ids
        if isinstance(seen, str):
            if seen == trade_id:
                return ZERO
            self._trade_ids = (seen, trade_id)
        elif trade_id in seen:
            return ZERO
        elif isinstance(seen, set):
            seen.add(trade_id)
        elif not seen:
            self._trade_ids = trade_id
        elif len(seen) < 8:
            self._trade_ids = (*seen, trade_id)
        else:
            self._trade_ids = {*seen, trade_id}
        quantity = self.order.quantity
        ceiling = self._confirmed_filled if self._confirmed_filled is not None else quantity
        counted = min(fill.quantity, ceiling - self._fill_quantity)
        if counted <= 0:
            return ZERO
        filled = shared_sum(self._fill_quantity, counted)
        if not self._fill_quantity and filled is counted:
            self._sole_price = fill.price
        else:
            self._fill_notional = self.notional + counted * fill.price
            self._sole_price = None
        self._fill_quantity = filled
        # A capped fill pays its fee pro rata: the engine books only the part it counts.
        fee = fill.fee if counted == fill.quantity else fill.fee * counted / fill.quantity
        self._fees = shared_sum(self._fees, fee)
        if not self.state.is_final and filled >= quantity:
            self._move_to(ChildState.FILLED)
            self._confirmed_filled = quantity
            self.ended_at = fill.timestamp
        return counted

    def _move_to(self, new: ChildState) -> None:
        """The one place a child's state changes, along ``CHILD_TRANSITIONS``."""
        if new not in CHILD_TRANSITIONS[self.state]:
            raise IllegalTransitionError(self.client_order_id, self.state.value, new.value)
        self.state = new

    def accept(self) -> None:
        """The venue holds the child."""
        if self.state is ChildState.PENDING or self.state is ChildState.UNKNOWN:
            self._move_to(ChildState.WORKING)

    def mark_unknown(self, reason: str) -> None:
        """The send's outcome is open; the child stays committed until it is looked up."""
        if not self.state.is_final:
            if self.state is not ChildState.UNKNOWN:
                self._move_to(ChildState.UNKNOWN)
            self.reason = reason

    def finish(
        self, state: ChildState, filled_quantity: Decimal, at: float, reason: str | None = None
    ) -> bool:
        """Mark the child final with the venue's cumulative fill; return False if it already was."""
        if not state.is_final:
            raise InvalidInputError("state", state, "a child can only finish in a final state")
        if self.state.is_final:
            return False
        confirmed = min(self.quantity, max(filled_quantity, self._fill_quantity))
        if state is not ChildState.FILLED and confirmed >= self.quantity:
            state = ChildState.FILLED
        self._move_to(state)
        self._confirmed_filled = confirmed
        self.ended_at = at
        self.reason = reason
        return True
