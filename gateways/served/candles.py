"""Candles (klines) of each market since the server started, sampled from the venue's quotes.

A recorder task samples every symbol's price (the last trade, else the mid) every
``sample_seconds`` and folds it into one-second and one-minute candles on the wall clock; the
``klines`` route answers Binance's intervals from 1 second to 1 day from them (one-second candles
for the last ``SECOND_CANDLES`` seconds, minute candles for the last ``MINUTE_CANDLES`` minutes).
Volumes count the served venue's own trades, the only trades it knows.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

import anyio
import anyio.abc
import attrs

from engine.market import Quote

__all__ = ["INTERVALS", "Candle", "CandleRecorder"]

#: Binance's kline intervals the served venue answers, in seconds.
INTERVALS = {
    "1s": 1, "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1_800, "1h": 3_600, "2h": 7_200,
    "4h": 14_400, "6h": 21_600, "8h": 28_800, "12h": 43_200, "1d": 86_400,
}
SECOND_CANDLES = 3_600
MINUTE_CANDLES = 10_080  # a week


@attrs.define
class Candle:
    """Open, high, low and close of one interval starting at ``start`` (epoch seconds)."""

    start: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal

    def see(self, price: Decimal) -> None:
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price


def _fold(candles: deque[Candle], start: int, price: Decimal) -> None:
    if candles and candles[-1].start == start:
        candles[-1].see(price)
    else:
        candles.append(Candle(start, price, price, price, price))


class CandleRecorder:
    """One-second and one-minute candles per symbol; ``run`` samples, ``candles`` answers."""

    def __init__(self, symbols: Iterable[str], sample_seconds: float = 0.25) -> None:
        self.sample_seconds = sample_seconds
        self._seconds = {symbol: deque[Candle](maxlen=SECOND_CANDLES) for symbol in symbols}
        self._minutes = {symbol: deque[Candle](maxlen=MINUTE_CANDLES) for symbol in self._seconds}

    def __repr__(self) -> str:
        counts = {symbol: len(candles) for symbol, candles in self._minutes.items()}
        return f"<CandleRecorder minutes={counts}>"

    def record(self, quote: Quote, epoch: float) -> None:
        """Fold one sample of ``quote`` taken at ``epoch`` seconds."""
        price = quote.last if quote.last is not None else quote.mid
        second = math.floor(epoch)
        _fold(self._seconds[quote.symbol], second, price)
        _fold(self._minutes[quote.symbol], second - second % 60, price)

    def candles(self, symbol: str, interval: int) -> Iterator[Candle]:
        """``symbol``'s candles of ``interval`` seconds, oldest first."""
        if interval == 1:
            yield from self._seconds[symbol]
            return
        bucket: Candle | None = None
        for minute in self._minutes[symbol]:
            start = minute.start - minute.start % interval
            if bucket is not None and bucket.start == start:
                bucket.high = max(bucket.high, minute.high)
                bucket.low = min(bucket.low, minute.low)
                bucket.close = minute.close
                continue
            if bucket is not None:
                yield bucket
            bucket = Candle(start, minute.open, minute.high, minute.low, minute.close)
        if bucket is not None:
            yield bucket

    async def run(
        self,
        sample: Callable[[], None],
        stopping: anyio.Event,
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Call ``sample()`` (which records every symbol) every ``sample_seconds`` until ``stopping``."""
        sample()
        task_status.started()
        while not stopping.is_set():
            with anyio.move_on_after(self.sample_seconds):
                await stopping.wait()
            sample()
