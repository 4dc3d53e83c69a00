"""The fill model: orders at the venue, taking liquidity from the book, and resting limit orders.

- A marketable order takes from a book of ``depth_levels`` levels per side, each showing the
  symbol's ``displayed_size``; level ``i`` sits ``i × impact_bps`` away from the touch (at least a
  tick per level). So a buy pays the ask for the first displayed size and more beyond it: impact
  grows with size relative to the displayed size. What takers consume stays consumed until the
  next price step refreshes the book. One fill per level touched.
- A resting limit order fills only when a step's market trades *through* its price (a buy when
  the step's low is below it, a sell when the high is above), at its own price, as maker, up to a
  ``participation`` share of the step's volume shared by the resting orders of that side in
  price–time priority.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import attrs

from engine.errors import IllegalTransitionError
from engine.events import OrderStatus
from engine.orders import Order, OrderSide
from gateways.simulated.config import SymbolSpec
from gateways.simulated.prices import MarketStep, round_to_tick

__all__ = ["FillIntent", "OrderRecord", "SymbolBook"]

_ZERO = Decimal(0)


# The transitions: from new, and from partially filled; a final status allows none. Tuples, as
# ``in`` on a tuple finds an enum member by identity, without hashing it.
_FROM_NEW: tuple[OrderStatus, ...] = (
    OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED,
    OrderStatus.EXPIRED,
)
_FROM_PARTIALLY_FILLED: tuple[OrderStatus, ...] = (
    OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED,
)


@attrs.define(weakref_slot=False, eq=False)
class OrderRecord:
    """One order as the venue holds it; ``apply_fill`` and ``finish`` are the only changes.

    The venue keeps every order it ever held, so a record keeps little: its number at the venue
    (the venue order id is written from it when asked) and the filled quantity; the venue's
    journal holds its fills (journal.py). Records compare by identity: each is one order's only
    record.
    """

    order: Order
    number: int
    created_at: float
    updated_at: float
    status: OrderStatus = OrderStatus.NEW
    _filled: Decimal = _ZERO

    @property
    def venue_order_id(self) -> str:
        """The venue's id of the order."""
        return f"V{self.number}"

    @property
    def filled_quantity(self) -> Decimal:
        """Quantity summed over the fills, in fill order."""
        return self._filled

    @property
    def remaining(self) -> Decimal:
        """Quantity still to fill."""
        quantity = self.order.quantity
        filled = self._filled
        if not filled:
            # Unfilled, the rest writes as the quantity itself: share it (fills then share it too).
            rest = quantity - filled
            return quantity if rest.same_quantum(quantity) else rest
        return quantity - filled

    def _move(self, status: OrderStatus, time: float) -> None:
        current = self.status
        if current is OrderStatus.NEW:
            allowed = _FROM_NEW
        elif current is OrderStatus.PARTIALLY_FILLED:
            allowed = _FROM_PARTIALLY_FILLED
        else:
            allowed = ()
        if status not in allowed:
            raise IllegalTransitionError(
                f"order {self.order.client_order_id}", self.status.name, status.name
            )
        self.status = status
        self.updated_at = time

    def apply_fill(self, quantity: Decimal, time: float) -> None:
        """Count a fill of ``quantity``; refuses (as a bug) anything that would overfill."""
        filled = self._filled
        # The value of ``remaining`` without the object it shares: only compared here.
        remaining = self.order.quantity - filled
        if quantity <= _ZERO or quantity > remaining:
            raise RuntimeError(f"fill of {quantity} does not fit the remaining {self.remaining}")
        moved = OrderStatus.FILLED if quantity == remaining else OrderStatus.PARTIALLY_FILLED
        status = self.status
        if status is not OrderStatus.NEW and status is not OrderStatus.PARTIALLY_FILLED:
            self._move(moved, time)  # refuses, before anything changes: a final order takes no fill
        total = filled + quantity
        # A first fill keeps its own object when the sum writes the same (the venue holds every
        # order ever sent: most fill once, and share the Decimal); a fill is positive, so the sum
        # has its sign.
        self._filled = quantity if not filled and total.same_quantum(quantity) else total
        # Both moves are legal from new or partially filled: no need for the table.
        self.status = moved
        self.updated_at = time

    def finish(self, status: OrderStatus, time: float) -> None:
        """End the order as cancelled, expired or rejected."""
        self._move(status, time)


@attrs.frozen
class FillIntent:
    """A fill the book decided on; the venue turns it into an event and books it."""

    record: OrderRecord
    quantity: Decimal
    price: Decimal
    is_maker: bool


def _floor_lot(quantity: Decimal, lot: Decimal) -> Decimal:
    if quantity <= 0:
        return Decimal(0)
    return (quantity / lot).to_integral_value(rounding=ROUND_FLOOR) * lot


class SymbolBook:
    """One symbol's market at the venue: the current step, taker consumption and resting orders."""

    def __init__(self, spec: SymbolSpec, opening: MarketStep, participation: Decimal) -> None:
        self.spec = spec
        self.market = opening
        self._participation = participation
        # Open limit orders in arrival order: a dict for its order and its removal by key (a
        # cancel among many resting orders costs one look-up, not a scan of the list).
        self._resting: dict[OrderRecord, None] = {}
        self._size = _floor_lot(spec.displayed_size, spec.lot_size)
        # What takers must have taken before level ``i`` shows less than its size: ``i × size``,
        # made once rather than per order (an int times a Decimal converts the int each time).
        self._offsets = [index * self._size for index in range(spec.depth_levels)]
        # Per side (buy first, then sell; lists, not dicts keyed by the side, which hash it): what
        # takers took this step, this step's level prices (built on first use after a step, so an
        # order costs only the levels it touches) and the first level takers have not emptied.
        self._taken = [_ZERO, _ZERO]
        self._prices: list[list[Decimal] | None] = [None, None]
        self._front = [0, 0]

    def __repr__(self) -> str:
        return (
            f"<SymbolBook {self.spec.symbol} bid={self.market.bid} ask={self.market.ask} "
            f"resting={len(self._resting)}>"
        )

    @property
    def resting(self) -> tuple[OrderRecord, ...]:
        """Open limit orders waiting in the book, in arrival order."""
        return tuple(self._resting)

    @property
    def has_resting(self) -> bool:
        """True if any order rests in the book."""
        return bool(self._resting)

    def touch(self, side: OrderSide) -> Decimal:
        """The price a taker on ``side`` meets first: the ask for a buy, the bid for a sell."""
        return self.market.ask if side is OrderSide.BUY else self.market.bid

    def _level_prices(self, side: OrderSide, slot: int) -> list[Decimal]:
        """This step's price of each level a taker on ``side`` can reach (positive prices only)."""
        prices = self._prices[slot]
        if prices is None:
            spec = self.spec
            touch = self.touch(side)
            spacing = max(round_to_tick(touch * spec.impact_bps / Decimal(10_000), spec.tick_size, up=True),
                          spec.tick_size)
            prices = []
            for index in range(spec.depth_levels):
                price = touch + side.sign * index * spacing
                if price <= 0:
                    break
                prices.append(price)
            self._prices[slot] = prices
        return prices

    def take(self, record: OrderRecord) -> list[tuple[Decimal, Decimal]]:
        """Fill ``record`` against the book as far as liquidity and its limit price allow: the
        quantity and price of each taker fill, in order."""
        order = record.order
        side = order.side
        slot = 0 if side is OrderSide.BUY else 1
        limit = order.limit_price
        wanted = record.remaining
        fills = []
        prices = self._prices[slot] or self._level_prices(side, slot)
        index = self._front[slot]
        size = self._size
        offsets = self._offsets
        taken = self._taken[slot]
        # ``max``/``min`` spelt as comparisons (the same values and objects, a third of the cost).
        while index < len(prices) and wanted > _ZERO:
            # What level ``index`` still shows this step: takers empty the levels front to back.
            over = taken - offsets[index]
            available = size - (over if over > _ZERO else _ZERO)
            if not available > _ZERO:
                # Emptied for the rest of the step: later takers start past it.
                index += 1
                self._front[slot] = index
                continue
            price = prices[index]
            if limit is not None and (price - limit) * side.sign > 0:
                break
            if not available < wanted:
                # The level has what is left to fill: the last fill (most orders take one level).
                fills.append((wanted, price))
                taken += wanted
                break
            fills.append((available, price))
            taken += available
            wanted -= available
            index += 1
        self._taken[slot] = taken
        return fills

    def is_marketable(self, order: Order) -> bool:
        """True if ``order`` would take liquidity now."""
        if order.limit_price is None:
            return True
        return (order.limit_price - self.touch(order.side)) * order.side.sign >= 0

    def rest(self, record: OrderRecord) -> None:
        """Put an open limit order in the book."""
        self._resting[record] = None

    def remove(self, record: OrderRecord) -> None:
        """Take an order out of the book (cancelled, expired, rejected or filled)."""
        self._resting.pop(record, None)

    def step(self, market: MarketStep) -> list[FillIntent]:
        """Move to the next market step and fill resting orders the market traded through."""
        self.market = market
        self._taken = [_ZERO, _ZERO]
        self._prices = [None, None]
        self._front = [0, 0]
        fills: list[FillIntent] = []
        for side in (OrderSide.BUY, OrderSide.SELL):
            capacity = _floor_lot(market.volume * self._participation, self.spec.lot_size)
            crossed = [
                record for record in self._resting
                if record.order.side is side and self._traded_through(record.order)
            ]
            # Best price first; Python's sort is stable, so arrival order breaks ties.
            crossed.sort(key=lambda record: -side.sign * (record.order.limit_price or Decimal(0)))
            for record in crossed:
                if capacity <= 0:
                    break
                quantity = min(record.remaining, capacity)
                capacity -= quantity
                assert record.order.limit_price is not None  # only limit orders rest
                fills.append(FillIntent(record, quantity, record.order.limit_price, is_maker=True))
        return fills

    def _traded_through(self, order: Order) -> bool:
        price = order.limit_price
        if price is None:
            return False
        if order.side is OrderSide.BUY:
            return self.market.low < price
        return self.market.high > price
