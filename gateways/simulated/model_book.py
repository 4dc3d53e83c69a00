"""One symbol's book under the ``square_root`` model: impact, refilling depth and queue positions.

``ImpactBook`` has the same calls as the legacy ``SymbolBook`` (matching.py), so the market and
the order desk use either. It composes:

- ``Liquidity`` (liquidity.py): displayed depth per side that refills with traded volume, each
  side's transient displacement and the permanent offset of the mid, priced by the square-root
  law of ``SquareRootImpact`` (impact.py);
- ``QueueBook`` (queue_position.py): resting orders behind the queue at their price, with
  adverse selection.

The quote it shows is the source's (random walk or replay) moved by the permanent impact, each
side pushed out by its transient displacement, with sizes capped by the depth left. A taker
fills in chunks of the displayed size, each at the average price of the latent book over its
shares, rounded to the nearest tick but never better than the touch it saw (nor beyond its
limit). Random numbers (queue draws) come from the ``random.Random`` the market hands it,
seeded by the venue seed and the symbol.
"""

from __future__ import annotations

import random
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from engine.orders import Order, OrderSide
from gateways.simulated.config import SymbolSpec
from gateways.simulated.impact import SquareRootImpact
from gateways.simulated.liquidity import Liquidity, LiquiditySnapshot
from gateways.simulated.matching import FillIntent, OrderRecord
from gateways.simulated.prices import MarketStep, round_to_tick
from gateways.simulated.queue_position import QueueBook, QueuePosition

__all__ = ["ImpactBook"]

_ZERO = Decimal(0)
_QUANTUM = Decimal("1e-8")


def _floor_lot(quantity: Decimal, lot: Decimal) -> Decimal:
    if quantity <= 0:
        return _ZERO
    return (quantity / lot).to_integral_value(rounding=ROUND_FLOOR) * lot


def _scaled(price: Decimal, factor: float) -> Decimal:
    return price if factor == 1.0 else (price * Decimal(repr(factor))).quantize(_QUANTUM)


class ImpactBook:
    """One symbol's market at the venue under the square-root model (see the module docstring)."""

    def __init__(
        self,
        spec: SymbolSpec,
        opening: MarketStep,
        participation: Decimal,
        *,
        sigma: float,
        volume_rate: float,
        rng: random.Random,
    ) -> None:
        self.spec = spec
        self._participation = participation
        self._chunk = max(_floor_lot(spec.displayed_size, spec.lot_size), spec.lot_size)
        impact = SquareRootImpact(
            coefficient=spec.impact_coefficient, sigma=sigma, volume_rate=volume_rate,
            permanent_share=spec.permanent_share, half_life=spec.resilience_half_life,
        )
        self._liquidity = Liquidity(impact, float(self._chunk) * spec.depth_levels, spec.refill_rate)
        self._queue = QueueBook(rng, float(self._chunk), spec.adverse_selection)
        self._source = opening
        self.market = opening

    def __repr__(self) -> str:
        return (
            f"<ImpactBook {self.spec.symbol} bid={self.market.bid} ask={self.market.ask} "
            f"resting={len(self._queue)} {self._liquidity!r}>"
        )

    @property
    def impact(self) -> SquareRootImpact:
        """The symbol's square-root law."""
        return self._liquidity.impact

    @property
    def resting(self) -> tuple[OrderRecord, ...]:
        """Open limit orders waiting in the book, in arrival order."""
        return self._queue.records()

    @property
    def has_resting(self) -> bool:
        """True if any order rests in the book."""
        return len(self._queue) > 0

    def queue_position(self, record: OrderRecord) -> QueuePosition | None:
        """Where a resting order stands in its queue (``None`` if it does not rest)."""
        return self._queue.position(record)

    def liquidity(self) -> LiquiditySnapshot:
        """A snapshot of the book's depth and impact state."""
        return self._liquidity.snapshot()

    def touch(self, side: OrderSide) -> Decimal:
        """The price a taker on ``side`` meets first: the ask for a buy, the bid for a sell."""
        return self.market.ask if side is OrderSide.BUY else self.market.bid

    def is_marketable(self, order: Order) -> bool:
        """True if ``order`` would take liquidity now."""
        if order.limit_price is None:
            return True
        return (order.limit_price - self.touch(order.side)) * order.side.sign >= 0

    def _base(self, side: OrderSide) -> Decimal:
        """The side's touch moved by the permanent impact only (where displacement counts from)."""
        source = self._source
        return _scaled(source.ask if side is OrderSide.BUY else source.bid, self._liquidity.factor)

    def _price(self, side: OrderSide, base: Decimal, displacement: float) -> Decimal:
        raw = base * Decimal(repr(1.0 + side.sign * displacement))
        tick = self.spec.tick_size
        return max((raw / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick, tick)

    def take(self, record: OrderRecord) -> list[tuple[Decimal, Decimal]]:
        """Fill ``record`` against the book as far as the shown depth and its limit price allow:
        the quantity and price of each taker fill, in order."""
        order = record.order
        side = order.side
        slot = 0 if side is OrderSide.BUY else 1
        base = self._base(side)
        limit = order.limit_price
        reach = None if limit is None else float(side.sign * (limit / base - 1))
        spec = self.spec
        room = _floor_lot(Decimal(repr(self._liquidity.room(slot, reach))), spec.lot_size)
        wanted = min(record.remaining, room)
        touch = self.touch(side)
        fills: list[tuple[Decimal, Decimal]] = []
        done = _ZERO
        while done < wanted:
            size = min(self._chunk, wanted - done)
            average = self._liquidity.average(slot, float(done), float(done + size))
            price = self._price(side, base, average)
            # Never better than the touch the taker saw, never beyond its limit.
            price = max(price, touch) if side is OrderSide.BUY else min(price, touch)
            if limit is not None:
                price = min(price, limit) if side is OrderSide.BUY else max(price, limit)
            fills.append((size, price))
            done += size
        if done > 0:
            self._liquidity.take(slot, float(done))
            self._refresh()
        return fills

    def sweep_price(self, side: OrderSide, quantity: Decimal) -> Decimal:
        """The average price of taking ``quantity`` now through the latent book, shown depth or not
        (what an unfilled remainder would cost to finish); ``quantity`` must be positive."""
        slot = 0 if side is OrderSide.BUY else 1
        average = self._liquidity.average(slot, 0.0, float(quantity))
        price = self._price(side, self._base(side), average)
        touch = self.touch(side)
        return max(price, touch) if side is OrderSide.BUY else min(price, touch)

    def rest(self, record: OrderRecord) -> None:
        """Put an open limit order in the book, behind the queue at its price."""
        self._queue.join(record, self.market)

    def remove(self, record: OrderRecord) -> None:
        """Take an order out of the book (cancelled, expired, rejected or filled)."""
        self._queue.leave(record)

    def reset_impact(self) -> None:
        """Forget every trace of impact (the quote was set by hand)."""
        self._liquidity.reset()

    def step(self, market: MarketStep) -> list[FillIntent]:
        """Move to the source's next step: impact decays and depth refills with its volume, then
        resting orders fill from the volume at their price beyond the queue ahead of them."""
        self._liquidity.heal(float(market.volume))
        self._source = market
        self._refresh()
        spec = self.spec
        capacity = _floor_lot(market.volume * self._participation, spec.lot_size)
        fills = []
        for record, quantity in self._queue.step(self.market, capacity, spec.lot_size):
            assert record.order.limit_price is not None  # only limit orders rest
            fills.append(FillIntent(record, quantity, record.order.limit_price, is_maker=True))
        return fills

    def _refresh(self) -> None:
        """The quote as the book shows it now (see the module docstring)."""
        source = self._source
        liquidity = self._liquidity
        if liquidity.is_quiet:
            self.market = source
            return
        spec = self.spec
        tick = spec.tick_size
        factor = liquidity.factor
        bid = round_to_tick(
            _scaled(source.bid, factor) * Decimal(repr(1.0 - liquidity.displacement(1))), tick, up=False
        )
        bid = max(bid, tick)
        ask = round_to_tick(
            _scaled(source.ask, factor) * Decimal(repr(1.0 + liquidity.displacement(0))), tick, up=True
        )
        ask = max(ask, bid + tick)
        lot = spec.lot_size
        self.market = MarketStep(
            symbol=source.symbol, time=source.time, bid=bid, ask=ask,
            bid_size=min(source.bid_size, _floor_lot(Decimal(repr(liquidity.depth(1))), lot)),
            ask_size=min(source.ask_size, _floor_lot(Decimal(repr(liquidity.depth(0))), lot)),
            low=_scaled(source.low, factor), high=_scaled(source.high, factor), volume=source.volume,
            last=max(round_to_tick(_scaled(source.last, factor), tick, up=False), tick),
        )
