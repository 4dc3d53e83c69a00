"""The venue's market: a price source, one book per symbol, stepped on the engine clock.

Stepping is lazy when it can be: while no limit order rests, nothing can fill between requests,
so the market sleeps and jumps over the steps it missed when someone next looks (the source
draws the same numbers either way, so the path does not change). While orders rest, it wakes at
every step so their fills happen at the right time.

Each symbol's book follows its spec's ``impact_model``: ``SymbolBook`` (matching.py) for
``legacy``, ``ImpactBook`` (model_book.py) for ``square_root``, which draws its queue positions
from a ``random.Random`` seeded with the venue seed and the symbol.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Protocol

import anyio

from engine.clock import now
from engine.market import Quote
from engine.orders import Order, OrderSide
from gateways.simulated.config import SymbolSpec
from gateways.simulated.matching import FillIntent, OrderRecord, SymbolBook
from gateways.simulated.model_book import ImpactBook
from gateways.simulated.prices import MarketStep, PriceSource

__all__ = ["Book", "SimulatedMarket"]


class Book(Protocol):
    """What the market and the order desk need of a symbol's book, whichever model it follows."""

    spec: SymbolSpec
    market: MarketStep

    @property
    def resting(self) -> Sequence[OrderRecord]: ...

    @property
    def has_resting(self) -> bool: ...

    def touch(self, side: OrderSide) -> Decimal: ...

    def is_marketable(self, order: Order) -> bool: ...

    def take(self, record: OrderRecord) -> list[tuple[Decimal, Decimal]]: ...

    def rest(self, record: OrderRecord) -> None: ...

    def remove(self, record: OrderRecord) -> None: ...

    def step(self, market: MarketStep) -> list[FillIntent]: ...


class SimulatedMarket:
    """Books and prices of every symbol; hands fills of resting orders to ``on_fill``."""

    def __init__(
        self,
        source: PriceSource,
        specs: Mapping[str, SymbolSpec],
        participation: Decimal,
        on_fill: Callable[[FillIntent], None],
        seed: int = 0,
    ) -> None:
        self._source = source
        opening = {market.symbol: market for market in source.opening()}
        self._books: dict[str, Book] = {}
        for symbol, spec in specs.items():
            if spec.is_legacy:
                self._books[symbol] = SymbolBook(spec, opening[symbol], participation)
            else:
                sigma, volume_rate = source.typical(symbol)
                self._books[symbol] = ImpactBook(
                    spec, opening[symbol], participation, sigma=sigma, volume_rate=volume_rate,
                    rng=random.Random(f"{seed}:queue:{symbol}"),
                )
        # What each symbol's market has traded since the opening: quotes report it as ``volume``.
        # Only under the square-root model, whose skipped steps carry their volume (a legacy
        # book's do not, so its count would depend on who asked when).
        self._traded: dict[str, Decimal] = {
            symbol: Decimal(0) for symbol, book in self._books.items() if isinstance(book, ImpactBook)
        }
        self._on_fill = on_fill
        self._opened_at: float | None = None
        self._stopped = False
        self._wake = anyio.Event()
        self._steps = 0
        # When the source steps next (market time); only catch_up moves the source on.
        self._next_time = -math.inf

    def __repr__(self) -> str:
        resting = sum(len(book.resting) for book in self._books.values())
        return f"<SimulatedMarket steps={self._steps} resting={resting} source={self._source!r}>"

    def book(self, symbol: str) -> Book:
        """The book of a listed symbol."""
        return self._books[symbol]

    def open(self) -> None:
        """Start the market's clock now."""
        self._opened_at = now()

    def stop(self) -> None:
        """Freeze the market (the venue closed)."""
        self._stopped = True

    def absolute(self, relative: float) -> float:
        """Engine-clock time of a market time (seconds since opening)."""
        return (self._opened_at or 0.0) + relative

    def _has_resting(self) -> bool:
        return any(book.has_resting for book in self._books.values())

    def order_rested(self) -> None:
        """Tell the market an order now rests, so it steps in detail from now on."""
        self._wake.set()

    def catch_up(self, time: float | None = None) -> None:
        """Bring every book to the present (``time``, the engine clock's now if not given): take
        the steps due, filling resting orders."""
        opened_at = self._opened_at
        if opened_at is None or self._stopped:
            return
        present = (now() if time is None else time) - opened_at
        if present < self._next_time:  # most requests come between two steps
            return
        while (next_time := self._source.next_time()) is not None and next_time <= present:
            if self._has_resting():
                self._steps += 1
                for market in self._source.advance():
                    self._apply(market)
            else:
                for market in self._source.skip_to(present):
                    self._books[market.symbol].step(market)
                    if market.symbol in self._traded:
                        self._traded[market.symbol] += market.volume
                self._steps += 1
        self._next_time = math.inf if next_time is None else next_time

    def _apply(self, market: MarketStep) -> None:
        if market.symbol in self._traded:
            self._traded[market.symbol] += market.volume
        for intent in self._books[market.symbol].step(market):
            if intent.record.status.is_open:
                self._on_fill(intent)

    async def run(self) -> None:
        """Step the market at each step time while orders rest; runs in the venue's task group."""
        while True:
            self.catch_up()
            next_time = self._source.next_time()
            if next_time is None:
                return
            if self._has_resting():
                await anyio.sleep_until(self.absolute(next_time))
            else:
                self._wake = anyio.Event()
                await self._wake.wait()

    def quote(self, symbol: str) -> Quote:
        """The current top of book of ``symbol``."""
        self.catch_up()
        market = self._books[symbol].market
        return Quote(
            symbol, market.bid, market.ask, bid_size=market.bid_size, ask_size=market.ask_size,
            last=market.last, timestamp=self.absolute(market.time), volume=self._traded.get(symbol),
        )

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Move ``symbol``'s market to this quote now; later steps continue from it."""
        self.catch_up()
        book = self._books[symbol]
        self._source.set_quote(symbol, bid, ask)
        if isinstance(book, ImpactBook):
            book.reset_impact()  # the quote is what the caller set, without the impact of before
        time = now() - self._opened_at if self._opened_at is not None else 0.0
        book.step(
            MarketStep(
                symbol=symbol, time=time, bid=bid, ask=ask, bid_size=book.market.bid_size,
                ask_size=book.market.ask_size, low=bid, high=ask, volume=Decimal(0), last=book.market.last,
            )
        )
