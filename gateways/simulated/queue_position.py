"""Resting orders of the ``square_root`` model: each waits behind the queue ahead of it.

Joining
    A limit order that improves its side's touch (a buy above the bid) starts a new price level:
    nothing is ahead of it. One that joins the touch, or rests behind it, queues behind the
    displayed size of its level: ``displayed_size × U(0.5, 1.5)``, drawn from the book's own
    ``random.Random`` (the venue seed), for the hidden and iceberg quantity a real queue holds.
    So the seed changes queue outcomes, in a replay too.

Volume at the order's price
    In a step the market trades ``volume`` spread evenly over its traded range ``[low, high]``;
    the part at or beyond a resting buy's price is ``volume × (price - low) / (high - low)``
    (all of it when the step traded at one price at or below it, none when the market stayed
    above). That volume first eats the queue ahead; only what is left over fills the order, at
    its price, as maker, up to the ``participation`` share of the step's volume that the side's
    resting orders share in price–time priority. A queue-reactive view of fills (Huang, Lehalle &
    Rosenbaum, "Simulating and analyzing order book data: the queue-reactive model", JASA 2015;
    Moallemi & Yuan, "A model for queue position valuation in a limit order book", 2017).

Adverse selection
    Resting orders fill more when the price is moving through them: in a step whose last price
    ends on the far side of a resting order (above a buy: the market moved away), the volume at
    its price counts ``1 - adverse_selection`` times (knob ``adverse_selection``, default 0.5;
    0 turns it off). Fills then cluster in the steps that move against the order: the adverse
    selection of Glosten & Milgrom ("Bid, ask and transaction prices in a specialist market with
    heterogeneously informed traders", J. Financial Economics, 1985), which Moallemi & Yuan
    price into the value of a queue position.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from decimal import Decimal

import attrs

from engine.orders import OrderSide
from gateways.simulated.matching import OrderRecord
from gateways.simulated.prices import MarketStep

__all__ = ["QueueBook", "QueuePosition"]


@attrs.define
class QueuePosition:
    """Where one resting order stands: shares ahead of it when it joined, and the volume traded
    at its price since (the order fills only from what exceeds the first)."""

    record: OrderRecord
    ahead: float
    traded: float = 0.0
    filled: Decimal = Decimal(0)  # filled while resting here (a taker fill before it rested is not)

    @property
    def fillable(self) -> float:
        """Shares the order may have filled so far: the volume at its price beyond the queue ahead."""
        return max(self.traded - self.ahead, 0.0)


class QueueBook:
    """The resting orders of one symbol with their queue positions."""

    def __init__(self, rng: random.Random, displayed_size: float, adverse_selection: float) -> None:
        self._rng = rng
        self._displayed = displayed_size
        self._adverse = adverse_selection
        # In arrival order (a dict: ordered, and a cancel removes by key).
        self._positions: dict[OrderRecord, QueuePosition] = {}

    def __repr__(self) -> str:
        return f"<QueueBook resting={len(self._positions)}>"

    def __len__(self) -> int:
        return len(self._positions)

    def records(self) -> tuple[OrderRecord, ...]:
        """The resting orders in arrival order."""
        return tuple(self._positions)

    def position(self, record: OrderRecord) -> QueuePosition | None:
        """The queue position of a resting order (``None`` once it left the book)."""
        return self._positions.get(record)

    def join(self, record: OrderRecord, market: MarketStep) -> QueuePosition:
        """Put ``record`` in the book behind the queue at its price (see the module docstring)."""
        order = record.order
        assert order.limit_price is not None  # only limit orders rest
        touch = market.bid if order.side is OrderSide.BUY else market.ask
        improves = (order.limit_price - touch) * order.side.sign > 0
        # Draw for every order, so one order's outcome does not shift the next one's draw.
        draw = self._rng.uniform(0.5, 1.5)
        position = QueuePosition(record, 0.0 if improves else self._displayed * draw)
        self._positions[record] = position
        return position

    def leave(self, record: OrderRecord) -> None:
        """Take an order out (cancelled, filled, expired)."""
        self._positions.pop(record, None)

    def step(self, market: MarketStep, capacity: Decimal, lot: Decimal) -> list[tuple[OrderRecord, Decimal]]:
        """Count the step's volume at each order's price and return the fills it allows, per side
        sharing ``capacity`` shares in price–time priority."""
        volume = float(market.volume)
        if volume <= 0 or not self._positions:
            return []
        low, high, last = float(market.low), float(market.high), float(market.last)
        fills: list[tuple[OrderRecord, Decimal]] = []
        for side in (OrderSide.BUY, OrderSide.SELL):
            waiting = [p for p in self._positions.values() if p.record.order.side is side]
            for position in waiting:
                position.traded += self._at_price(position, side, volume, low, high, last)
            fills += self._share(waiting, side, capacity, lot)
        return fills

    def _at_price(
        self, position: QueuePosition, side: OrderSide, volume: float, low: float, high: float, last: float
    ) -> float:
        price = float(position.record.order.limit_price or 0)
        # The share of the step's range at or beyond the order's price (for a buy: at or below).
        beyond = price - low if side is OrderSide.BUY else high - price
        # A step that traded at one price: all of it or none.
        share = min(max(beyond / (high - low), 0.0), 1.0) if high > low else float(beyond >= 0)
        moved_away = last > price if side is OrderSide.BUY else last < price
        if moved_away:
            share *= 1.0 - self._adverse
        return volume * share

    @staticmethod
    def _share(
        waiting: Iterable[QueuePosition], side: OrderSide, capacity: Decimal, lot: Decimal
    ) -> list[tuple[OrderRecord, Decimal]]:
        # Best price first; the sort is stable, so arrival order breaks ties.
        ordered = sorted(waiting, key=lambda p: -side.sign * (p.record.order.limit_price or Decimal(0)))
        fills = []
        for position in ordered:
            if capacity <= 0:
                break
            record = position.record
            room = _floor_lot(Decimal(repr(position.fillable)), lot) - position.filled
            quantity = min(record.remaining, room, capacity)
            if quantity > 0:
                capacity -= quantity
                position.filled += quantity
                fills.append((record, quantity))
        return fills


def _floor_lot(quantity: Decimal, lot: Decimal) -> Decimal:
    if quantity <= 0:
        return Decimal(0)
    return (quantity / lot).to_integral_value(rounding="ROUND_FLOOR") * lot
