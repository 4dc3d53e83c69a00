"""Where the simulated market's prices come from: a seeded random walk (or a replay, see replay.py).

A price source produces ``MarketStep``s: per symbol, at a time in seconds since the venue opened,
the new top of book, the range the market traded in during the step and the volume it traded.
The path depends only on the seed and the step index, never on who asks for quotes or when, so
the same seed gives the same market and the same event log.

Under the ``square_root`` model a walk also trades apart from its quote: in each step the mid
moves along a Brownian bridge between its two values, whose lowest and highest points are drawn
exactly (the reflection formula, ``m = (a + b - sqrt((b - a)² - 2 σ² ln U)) / 2``; Glasserman,
"Monte Carlo Methods in Financial Engineering", Springer, 2003); sellers trade at the bid of the low,
buyers at the ask of the high, and the last trade is at the bid or the ask (a fair coin). So a
resting buy at the mid fills only from the volume that trades down to it, not every step. The
legacy model keeps the step's range at the quote (``low = bid``, ``high = ask``) and draws
nothing more, so its paths are unchanged.
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
    """A market data source the venue steps through on its own clock.

    The venue calls ``advance`` for every step while limit orders rest (they may fill in it), and
    ``skip_to`` to jump over steps nobody needs in detail; both draw the same random numbers in
    the same order, so the path is the same either way.
    """

    @property
    def symbols(self) -> Sequence[str]:
        """The symbols it covers."""
        ...

    def typical(self, symbol: str) -> tuple[float, float]:
        """The symbol's volatility per square-root second and its shares traded per second."""
        ...

    def opening(self) -> list[MarketStep]:
        """The market at time 0 (one step per symbol)."""
        ...

    def next_time(self) -> float | None:
        """When the next step happens (seconds since the venue opened), or ``None`` at the end."""
        ...

    def advance(self) -> list[MarketStep]:
        """Take the next step and return what changed, with the volume traded in it."""
        ...

    def skip_to(self, time: float) -> list[MarketStep]:
        """Take every step up to ``time`` cheaply; return the market of the symbols that changed
        (with the volume of the steps skipped under the ``square_root`` model, none in legacy)."""
        ...

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Move ``symbol``'s market to this quote; later steps continue from it."""
        ...


@attrs.define
class _Walk:
    """One symbol's walk: a mid and half spread anchored in decimal, moved by a float log-return.

    Each step adds ``sigma × N(0, 1)`` to the log-return; the quote is the anchor times its
    exponential, so a still market (sigma 0) keeps its anchor exactly.
    """

    spec: SymbolSpec
    _rng: random.Random
    _anchor_mid: Decimal
    _anchor_half: Decimal
    _log_return: float = 0.0
    _activity: float = 1.0
    # The square-root model's extra draws: the step's start, bridge extremes and the last side.
    _previous: float = 0.0
    _extremes: tuple[float, float] = (0.0, 0.0)
    _last_at_ask: bool = False
    _skipped: Decimal = Decimal(0)  # volume of the steps skipped since the last look, step by step

    def draw(self, sigma: float, step: float) -> None:
        # Always draw every number, so the path is the same whatever is asked of it.
        self._previous = self._log_return
        self._log_return += sigma * self._rng.gauss(0.0, 1.0)
        self._activity = self._rng.uniform(0.5, 1.5)
        if self.spec.is_legacy:
            return
        self._skipped += self._volume(self._activity * step)
        start, end = self._previous, self._log_return
        spread = (end - start) ** 2
        low_draw, high_draw = 1.0 - self._rng.random(), 1.0 - self._rng.random()  # in (0, 1]
        low = (start + end - math.sqrt(spread - 2 * sigma * sigma * math.log(low_draw))) / 2
        high = (start + end + math.sqrt(spread - 2 * sigma * sigma * math.log(high_draw))) / 2
        self._extremes = (low, high)
        self._last_at_ask = self._rng.random() < 0.5

    def market(self, time: float, seconds: float | None) -> MarketStep:
        """The market now; with the volume of a step of ``seconds``, or of the steps skipped."""
        spec = self.spec
        tick = spec.tick_size
        factor = Decimal(repr(math.exp(self._log_return)))
        mid = (self._anchor_mid * factor).quantize(_MID_QUANTUM)
        half = (self._anchor_half * factor).quantize(_MID_QUANTUM)
        bid = max(round_to_tick(mid - half, tick, up=False), tick)
        ask = max(round_to_tick(mid + half, tick, up=True), bid + tick)
        last = max(round_to_tick(mid, tick, up=False), tick)
        volume = self._volume(seconds * self._activity) if seconds is not None else self._skipped
        self._skipped = Decimal(0)
        size = spec.displayed_size
        low, high = bid, ask
        if not spec.is_legacy:
            low_factor = Decimal(repr(math.exp(self._extremes[0])))
            high_factor = Decimal(repr(math.exp(self._extremes[1])))
            low = ((self._anchor_mid - self._anchor_half) * low_factor).quantize(_MID_QUANTUM)
            high = ((self._anchor_mid + self._anchor_half) * high_factor).quantize(_MID_QUANTUM)
            last = ask if self._last_at_ask else bid
        return MarketStep(
            symbol=spec.symbol, time=time, bid=bid, ask=ask, bid_size=size, ask_size=size,
            low=low, high=high, volume=volume, last=last,
        )

    def _volume(self, active_seconds: float) -> Decimal:
        """The lots traded in a step of ``active_seconds`` (seconds times the step's activity)."""
        spec = self.spec
        raw = spec.volume_per_second * Decimal(repr(active_seconds))
        return (raw / spec.lot_size).to_integral_value(rounding=ROUND_FLOOR) * spec.lot_size

    def move_to(self, bid: Decimal, ask: Decimal) -> None:
        self._anchor_mid = (bid + ask) / 2
        self._anchor_half = (ask - bid) / 2
        self._log_return = 0.0
        self._previous = 0.0
        self._extremes = (0.0, 0.0)


class RandomWalk:
    """A seeded random walk per symbol on a fixed step of ``step`` seconds.

    Each symbol draws from its own ``random.Random`` seeded with the venue seed and the symbol, so
    adding a symbol never changes another's path.
    """

    def __init__(self, specs: Sequence[SymbolSpec], *, seed: int, step: float = 1.0) -> None:
        self._step = step
        self._index = 0
        self._walks: dict[str, _Walk] = {}
        self._sigmas: dict[str, float] = {}
        for spec in specs:
            half = (spec.price * spec.spread_bps / Decimal(20_000)).quantize(_MID_QUANTUM)
            rng = random.Random(f"{seed}:walk:{spec.symbol}")
            self._walks[spec.symbol] = _Walk(spec, rng, spec.price, half)
            self._sigmas[spec.symbol] = spec.volatility * math.sqrt(step / _SECONDS_PER_DAY)

    def __repr__(self) -> str:
        return f"<RandomWalk symbols={list(self._walks)} step={self._step}s index={self._index}>"

    @property
    def symbols(self) -> Sequence[str]:
        """The symbols it covers."""
        return tuple(self._walks)

    def typical(self, symbol: str) -> tuple[float, float]:
        """The spec's volatility per square-root second and volume per second."""
        spec = self._walks[symbol].spec
        return spec.volatility / math.sqrt(_SECONDS_PER_DAY), float(spec.volume_per_second)

    def opening(self) -> list[MarketStep]:
        """The starting quotes, with no traded volume yet."""
        return [walk.market(0.0, None) for walk in self._walks.values()]

    def next_time(self) -> float | None:
        """The walk never ends."""
        return (self._index + 1) * self._step

    def _draw(self) -> None:
        self._index += 1
        for symbol, walk in self._walks.items():
            walk.draw(self._sigmas[symbol], self._step)

    def advance(self) -> list[MarketStep]:
        """Move every symbol by one step."""
        self._draw()
        time = self._index * self._step
        return [walk.market(time, self._step) for walk in self._walks.values()]

    def skip_to(self, time: float) -> list[MarketStep]:
        """Move every symbol through all steps up to ``time``."""
        moved = False
        while (self._index + 1) * self._step <= time:
            self._draw()
            moved = True
        if not moved:
            return []
        return [walk.market(self._index * self._step, None) for walk in self._walks.values()]

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Put ``symbol``'s mid and spread at this quote; the walk continues from there."""
        self._walks[symbol].move_to(bid, ask)
