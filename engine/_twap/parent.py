"""The state of one parent order and of its child orders, and the accounting of their fills.

Two rules carry the engine's promises and live here, in one place:

- **No overfill.** A child's filled quantity never exceeds the child's quantity, a fill delivered
  twice (same trade id) counts once, and a parent never commits more than its quantity:
  ``committed`` counts every open child at its full quantity and every final child at its
  confirmed fill, and a new child is refused if it would push ``committed`` past the quantity.
- **Quantity is conserved.** When a child ends (cancelled, rejected, expired) its unfilled part
  stops counting as committed, so it is back in the parent's ``remaining``.

A parent moves through ``ParentState`` along the transition table ``TRANSITIONS``; any other move
raises ``IllegalTransitionError`` instead of silently overwriting the state.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from engine._twap.child import ChildOrder, ChildState
from engine.errors import IllegalTransitionError, InvalidInputError
from engine.events import OrderFilled
from engine.instruments import Instrument
from engine.numbers import ZERO, shared_difference, shared_sum
from engine.orders import OrderSide

__all__ = ["TRANSITIONS", "ParentOrder", "ParentState"]


class ParentState(enum.Enum):
    """Where a parent order stands."""

    PENDING = "pending"
    WORKING = "working"
    COMPLETING = "completing"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        """True once the parent will do nothing more."""
        # By value: an enum member hashes through Python code, a str does not.
        return self._value_ in _FINAL_PARENT


TRANSITIONS: dict[ParentState, frozenset[ParentState]] = {
    ParentState.PENDING: frozenset({ParentState.WORKING, ParentState.CANCELLED, ParentState.FAILED}),
    ParentState.WORKING: frozenset(
        {
            ParentState.COMPLETING,
            ParentState.COMPLETED,
            ParentState.CANCELLED,
            ParentState.FAILED,
            ParentState.EXPIRED,
        }
    ),
    ParentState.COMPLETING: frozenset(
        {ParentState.COMPLETED, ParentState.CANCELLED, ParentState.FAILED, ParentState.EXPIRED}
    ),
    ParentState.COMPLETED: frozenset(),
    ParentState.CANCELLED: frozenset(),
    ParentState.FAILED: frozenset(),
    ParentState.EXPIRED: frozenset(),
}
_FINAL_PARENT = frozenset(state.value for state, moves in TRANSITIONS.items() if not moves)


@attrs.define
class ParentOrder:
    """One parent order: its target, its state, its children and its fill timeline."""

    parent_id: str
    symbol: str
    side: OrderSide
    quantity: Decimal
    instrument: Instrument
    created_at: float
    deadline: float | None = None
    _state: ParentState = ParentState.PENDING
    _children: dict[str, ChildOrder] = attrs.field(factory=dict)
    _open_children: dict[str, None] = attrs.field(factory=dict)  # ordered, for reproducible runs
    _history: list[tuple[float, ParentState]] = attrs.field(factory=list)
    # The fill timeline in two columns (time, quantity): a pair per fill would cost a tuple each.
    _fill_times: list[float] = attrs.field(factory=list)
    _fill_quantities: list[Decimal] = attrs.field(factory=list)
    _filled: Decimal = ZERO
    _committed: Decimal = ZERO
    reason: str | None = None
    # What folded children contributed (see ``fold_child``): a count and their priced totals.
    _folded_count: int = 0
    _folded_priced: Decimal = ZERO
    _folded_notional: Decimal = ZERO
    _folded_fees: Decimal = ZERO
    _folded_aggressive: Decimal = ZERO

    def __repr__(self) -> str:
        return (
            f"<ParentOrder {self.parent_id} {self.side} {self.quantity} {self.symbol} "
            f"state={self._state.value} filled={self._filled} open_children={len(self._open_children)}>"
        )

    @property
    def state(self) -> ParentState:
        """The current state."""
        return self._state

    @property
    def history(self) -> tuple[tuple[float, ParentState], ...]:
        """Every transition as (time, new state)."""
        return tuple(self._history)

    @property
    def filled(self) -> Decimal:
        """Filled quantity over every child (each fill counted once, never past the quantity)."""
        return self._filled

    @property
    def committed(self) -> Decimal:
        """Filled plus what open children may still fill."""
        return self._committed

    @property
    def remaining(self) -> Decimal:
        """What the parent may still send: quantity minus committed."""
        return self.quantity - self._committed

    @property
    def unfilled(self) -> Decimal:
        """Quantity minus filled."""
        return self.quantity - self._filled

    @property
    def children(self) -> tuple[ChildOrder, ...]:
        """The children the parent holds, in the order they were created: every child, except
        those folded into the totals once their slice was over (see ``fold_child``)."""
        return tuple(self._children.values())

    @property
    def child_count(self) -> int:
        """How many children the parent ever had, folded ones included."""
        return self._folded_count + len(self._children)

    @property
    def priced_quantity(self) -> Decimal:
        """Quantity of the fills seen (with prices), over every child."""
        return sum((c.priced_quantity for c in self._children.values()), self._folded_priced)

    @property
    def notional(self) -> Decimal:
        """Sum of price × quantity over the fills seen, over every child."""
        return sum((c.notional for c in self._children.values()), self._folded_notional)

    @property
    def fees(self) -> Decimal:
        """Fees of the fills seen, over every child."""
        return sum((c.fees for c in self._children.values()), self._folded_fees)

    @property
    def aggressive_filled(self) -> Decimal:
        """Filled quantity of the children sent to complete the parent aggressively."""
        live = (c.filled for c in self._children.values() if c.aggressive)
        return sum(live, self._folded_aggressive)

    def fold_children(self, client_order_ids: tuple[str, ...]) -> bool:
        """Let go of these children if they are the oldest ones held, in order, and every one is
        final with every fill priced, keeping only
        their share of the totals (``child_count``, ``priced_quantity``, ``notional``, ``fees``,
        ``aggressive_filled``); return False, changing nothing, if one is not.

        The scheduler folds a slice's children once the slice is over and its report line is made:
        thousands of parents run at once, and each would otherwise hold every child it sent.
        Nothing later can change such a child (its filled quantity is confirmed, so a late fill is
        capped to nothing), so the parent's figures stay exactly what they were.
        """
        children = self._children
        # Only the oldest children, in their order: the running sums then add exactly as the sums
        # over every child would (a pro-rata fee is rounded, so the order of the sum matters).
        oldest = iter(children.values())
        for cid in client_order_ids:
            child = next(oldest, None)
            if child is None or child.order.client_order_id != cid:
                return False
            # Final, and every fill priced: the fills seen make up ``filled``.
            if not child.state.is_final or child.priced_quantity != child.filled:
                return False
        for cid in client_order_ids:
            child = children.pop(cid)
            # Running sums, sharing a lone child's own Decimals (as ``shared_sum`` does) at first.
            priced, notional, fees = self._folded_priced, self._folded_notional, self._folded_fees
            if self._folded_count:
                self._folded_priced = priced + child.priced_quantity
                self._folded_notional = notional + child.notional
                self._folded_fees = fees + child.fees
            else:
                self._folded_priced = shared_sum(priced, child.priced_quantity)
                self._folded_notional = shared_sum(notional, child.notional)
                self._folded_fees = shared_sum(fees, child.fees)
            self._folded_count += 1
            if child.aggressive:
                self._folded_aggressive = shared_sum(self._folded_aggressive, child.filled)
        return True

    @property
    def open_children(self) -> tuple[ChildOrder, ...]:
        """Children that are not final (working, pending or unknown)."""
        return tuple(self._children[cid] for cid in self._open_children)

    @property
    def fill_timeline(self) -> tuple[tuple[float, Decimal], ...]:
        """Every counted fill as (time, quantity), in arrival order."""
        return tuple(zip(self._fill_times, self._fill_quantities, strict=True))

    def child(self, client_order_id: str) -> ChildOrder:
        """The child with this client order id."""
        return self._children[client_order_id]

    def transition(self, new: ParentState, at: float, reason: str | None = None) -> None:
        """Move to ``new``; raise ``IllegalTransitionError`` if the table does not allow it."""
        if new not in TRANSITIONS[self._state]:
            raise IllegalTransitionError(self.parent_id, self._state.value, new.value)
        self._state = new
        self._history.append((at, new))
        if reason is not None:
            self.reason = reason

    def add_child(self, child: ChildOrder) -> None:
        """Register a child before it is sent; refuse one that could overfill the parent."""
        order = child.order
        if order.symbol != self.symbol or order.side is not self.side:
            raise InvalidInputError("order", order.describe(), f"does not match parent {self.parent_id}")
        if order.client_order_id in self._children:
            raise InvalidInputError("client_order_id", order.client_order_id, "already a child")
        if order.quantity > self.remaining:
            raise InvalidInputError(
                "quantity", order.quantity, f"exceeds the remaining {self.remaining} of {self.parent_id}"
            )
        self._children[order.client_order_id] = child
        self._open_children[order.client_order_id] = None
        self._committed += order.quantity

    def apply_fill(self, child: ChildOrder, fill: OrderFilled) -> Decimal:
        """Count a fill of one of this parent's children; return the quantity newly filled."""
        # (``child.filled`` and ``child.committed``, read without their properties: a fill per
        # child order comes through here)
        was_open = not child.state.is_final
        before_filled = child.filled
        child.apply_fill(fill)
        before_committed = child.order.quantity if was_open else before_filled
        return self._settle(child, was_open, before_filled, before_committed, fill.timestamp)

    def finish_child(
        self,
        child: ChildOrder,
        state: ChildState,
        filled_quantity: Decimal,
        at: float,
        reason: str | None = None,
    ) -> Decimal:
        """Mark a child final; its unfilled part returns to ``remaining``. Return newly filled."""
        was_open = not child.state.is_final
        before_filled, before_committed = child.filled, child.committed
        child.finish(state, filled_quantity, at, reason)
        return self._settle(child, was_open, before_filled, before_committed, at)

    def _settle(
        self, child: ChildOrder, was_open: bool, before_filled: Decimal, before_committed: Decimal, at: float
    ) -> Decimal:
        # The one place the parent's totals change. (``child.filled``, ``child.committed`` and
        # ``child.state.is_final`` read without their properties: once per fill and per end.)
        filled = child.filled
        final = child.state.is_final
        newly_filled = shared_difference(filled, before_filled)
        self._filled += newly_filled
        self._committed += (filled if final else child.order.quantity) - before_committed
        if newly_filled > 0:
            self._fill_times.append(at)
            self._fill_quantities.append(newly_filled)
        if was_open and final:
            self._open_children.pop(child.order.client_order_id, None)
        return newly_filled
