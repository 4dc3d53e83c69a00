"""Where the simulated market's prices come from: a seeded random walk (or a replay, see replay.py).

A price source produces ``MarketStep``s: per symbol, at a time in seconds since the venue opened,
the new top of book, the range the market traded in during the step and the volume it traded.
The path depends only on the seed and the step index, never on who asks for quotes or when, so
the same seed gives the same market and the same event log.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Protocol

import attrs

from gateways.simulated.config import SymbolSpec

__all__ = ["MarketStep", "PriceSource", "RandomWalk", "round_to_tick"]

_SECONDS_PER_DAY = 86_400.0
_MID_QUANTUM = Decimal("1e-8")


def round_to_tick(price: Decimal, tick: Decimal, *, up: bool) -> Decimal:
    """Round ``price`` onto the tick grid, up or down."""
    ticks = (price / tick).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return ticks * tick


@attrs.frozen(kw_only=True)
class MarketStep:
    """What one symbol's market did in one step.

    ``bid``/``ask`` and their sizes are the top of book after the step; ``low``/``high`` bound the
    prices the market traded at during it (a resting buy fills only if ``low`` is below its
    price, a resting sell only if ``high`` is above); ``volume`` is the quantity it traded.
    """

    symbol: str
    time: float
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal
    low: Decimal
    high: Decimal
    volume: Decimal
    last: Decimal


class PriceSource(Protocol):
    """A market data source the venue steps through on its own clock."""

    @property
    def symbols(self) -> Sequence[str]:
        """The symbols it covers."""
        ...

    def opening(self) -> list[MarketStep]:
        """The market at time 0 (one step per symbol)."""
        ...

    def next_time(self) -> float | None:
        """When the next step happens (seconds since the venue opened), or ``None`` at the end."""
        ...

    def advance(self) -> list[MarketStep]:
        """Take the next step and return what changed."""
        ...

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Move ``symbol``'s market to this quote; later steps continue from it."""
        ...


@attrs.define
class _Walk:
    """One symbol's walk: the mid and half spread, moved by a seeded log-normal step."""

    spec: SymbolSpec
    _rng: random.Random
    _mid: Decimal
    _half_spread: Decimal

    def quote(self, time: float, volume: Decimal) -> MarketStep:
        tick = self.spec.tick_size
        bid = max(round_to_tick(self._mid - self._half_spread, tick, up=False), tick)
        ask = max(round_to_tick(self._mid + self._half_spread, tick, up=True), bid + tick)
        last = max(round_to_tick(self._mid, tick, up=False), tick)
        size = self.spec.displayed_size
        return MarketStep(
            symbol=self.spec.symbol, time=time, bid=bid, ask=ask, bid_size=size, ask_size=size,
            low=bid, high=ask, volume=volume, last=last,
        )

    def step(self, time: float, seconds: float) -> MarketStep:
        # Always draw both numbers, so the path is the same whatever the knobs' values.
        shock = self._rng.gauss(0.0, 1.0)
        activity = self._rng.uniform(0.5, 1.5)
        sigma = self.spec.volatility * math.sqrt(seconds / _SECONDS_PER_DAY)
        factor = Decimal(repr(math.exp(sigma * shock)))
        self._mid = (self._mid * factor).quantize(_MID_QUANTUM)
        self._half_spread = (self._half_spread * factor).quantize(_MID_QUANTUM)
        raw_volume = self.spec.volume_per_second * Decimal(repr(seconds * activity))
        lots = (raw_volume / self.spec.lot_size).to_integral_value(rounding=ROUND_FLOOR)
        volume = lots * self.spec.lot_size
        return self.quote(time, volume)

    def move_to(self, bid: Decimal, ask: Decimal) -> None:
        self._mid = (bid + ask) / 2
        self._half_spread = (ask - bid) / 2


class RandomWalk:
    """A seeded random walk per symbol on a fixed step of ``step`` seconds.

    Each symbol draws from its own ``random.Random`` seeded with the venue seed and the symbol, so
    adding a symbol never changes another's path.
    """

    def __init__(self, specs: Sequence[SymbolSpec], *, seed: int, step: float = 1.0) -> None:
        self._step = step
        self._index = 0
        self._walks: dict[str, _Walk] = {}
        for spec in specs:
            half = spec.price * spec.spread_bps / Decimal(20_000)
            self._walks[spec.symbol] = _Walk(
                spec, random.Random(f"{seed}:walk:{spec.symbol}"), spec.price, half.quantize(_MID_QUANTUM)
            )

    def __repr__(self) -> str:
        return f"<RandomWalk symbols={list(self._walks)} step={self._step}s index={self._index}>"

    @property
    def symbols(self) -> Sequence[str]:
        """The symbols it covers."""
        return tuple(self._walks)

    def opening(self) -> list[MarketStep]:
        """The starting quotes, with no traded volume yet."""
        return [walk.quote(0.0, Decimal(0)) for walk in self._walks.values()]

    def next_time(self) -> float | None:
        """The walk never ends."""
        return (self._index + 1) * self._step

    def advance(self) -> list[MarketStep]:
        """Move every symbol by one step."""
        self._index += 1
        time = self._index * self._step
        return [walk.step(time, self._step) for walk in self._walks.values()]

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Put ``symbol``'s mid and spread at this quote; the walk continues from there."""
        self._walks[symbol].move_to(bid, ask)
