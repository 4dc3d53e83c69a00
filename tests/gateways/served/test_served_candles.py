"""Candles from sampled quotes: one-second and one-minute candles on the wall clock, and longer
intervals folded from the minutes."""

from __future__ import annotations

from decimal import Decimal

from engine.market import Quote
from gateways.served.candles import Candle, CandleRecorder


def _quote(last: str) -> Quote:
    price = Decimal(last)
    return Quote("AAPL", bid=price - Decimal("0.01"), ask=price + Decimal("0.01"), last=price)


def _row(candle: Candle) -> tuple[int, int, int, int, int]:
    return candle.start, int(candle.open), int(candle.high), int(candle.low), int(candle.close)


def test_samples_fold_into_minutes_and_minutes_into_longer_intervals() -> None:
    recorder = CandleRecorder(["AAPL"])
    # epoch 600 is a 5-minute boundary: minutes 600, 660 (one 5-minute candle), then 900
    for epoch, last in [(600.2, "10"), (630.0, "12"), (659.9, "9"), (661.0, "11"), (905.5, "13")]:
        recorder.record(_quote(last), epoch)
    minutes = [_row(candle) for candle in recorder.candles("AAPL", 60)]
    assert minutes == [
        (600, 10, 12, 9, 9),
        (660, 11, 11, 11, 11),
        (900, 13, 13, 13, 13),
    ]
    fives = [_row(candle) for candle in recorder.candles("AAPL", 300)]
    assert fives == [(600, 10, 12, 9, 11), (900, 13, 13, 13, 13)]
    seconds = [c.start for c in recorder.candles("AAPL", 1)]
    assert seconds == [600, 630, 659, 661, 905]
