"""Replayed market data: a CSV of quotes or of OHLCV bars, stepped through on the venue's clock.

Two layouts, told apart by the header row:

- quotes: ``time,symbol,bid,ask[,bid_size,ask_size]``; the market trades between bid and ask,
  ``volume_per_second`` (of the symbol's spec) times the seconds since the symbol's last row;
- bars: ``time,symbol,open,high,low,close,volume``; the quote is the close ± half the spread,
  the market trades between low and high, the bar's volume.

``time`` is seconds (any number) or an ISO 8601 timestamp (naive means UTC). The first row's time
is the moment the venue opens; each row applies at its own time, after that. Rows must not go
back in time. A bad cell raises ``InvalidInputError`` naming the file, line, column and value.

Under the ``square_root`` model a bar's quote is its close ± half the symbol's own
``spread_bps`` (the legacy model uses the file-wide ``spread_bps`` keyword, as it always did), the
displayed size is the symbol's, skipped steps carry their volume, and the venue seed can draw a
new path from the data (bootstrap.py).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from engine.errors import InvalidInputError
from engine.fields import validate_symbol
from engine.numbers import to_decimal
from gateways.simulated.bootstrap import block_bootstrap, typical_activity
from gateways.simulated.config import SymbolSpec
from gateways.simulated.prices import MarketStep, round_to_tick

__all__ = ["PriceReplay"]

_QUOTE_COLUMNS = ("time", "symbol", "bid", "ask")
_SIZE_COLUMNS = ("bid_size", "ask_size")
_BAR_COLUMNS = ("time", "symbol", "open", "high", "low", "close", "volume")


@attrs.frozen
class _Row:
    time: float
    symbol: str
    bid: Decimal
    ask: Decimal
    low: Decimal
    high: Decimal
    last: Decimal
    volume: Decimal | None
    bid_size: Decimal | None
    ask_size: Decimal | None
    spread_bps: Decimal | None = None  # a bar's: its quote is the close ± half of it

    def moved(self, factor: Decimal, time: float, tick: Decimal) -> _Row:
        """This row's prices times ``factor`` (on the tick grid), at ``time``."""
        if self.spread_bps is not None:  # a bar: its quote around the new close, rounded once
            bid, ask = _around(self.last * factor, self.spread_bps, tick)
        else:
            bid = max(round_to_tick(self.bid * factor, tick, up=False), tick)
            ask = max(round_to_tick(self.ask * factor, tick, up=True), bid + tick)
        quote = self.volume is None  # a quotes row trades between its bid and ask
        low, high = (bid, ask) if quote else (self.low * factor, self.high * factor)
        last = max(round_to_tick(self.last * factor, tick, up=False), tick) if quote else self.last * factor
        return attrs.evolve(self, time=time, bid=bid, ask=ask, low=low, high=high, last=last)


class _Cells:
    """Reads one CSV row's cells, naming file, line and column in every error."""

    def __init__(self, path: Path, line: int, row: Mapping[str, str | None]) -> None:
        self._path, self._line, self._row = path, line, row

    def fail(self, column: str, value: Any, reason: str) -> InvalidInputError:
        return InvalidInputError(f"{self._path}:{self._line}:{column}", value, reason)

    def raw(self, column: str) -> str:
        value = self._row.get(column)
        if value is None or not value.strip():
            raise self.fail(column, value, "missing value")
        return value.strip()

    def number(self, column: str, *, positive: bool = True) -> Decimal:
        raw = self.raw(column)
        try:
            value = to_decimal(raw, column)
        except InvalidInputError as error:
            raise self.fail(column, raw, error.reason) from None
        if value < 0 or (positive and value == 0):
            raise self.fail(column, raw, "must be greater than zero" if positive else "must not be negative")
        return value

    def optional_size(self, column: str) -> Decimal | None:
        return self.number(column, positive=False) if column in self._row else None

    def time(self) -> float:
        raw = self.raw("time")
        try:
            return float(to_decimal(raw, "time"))
        except InvalidInputError:
            pass
        try:
            moment = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise self.fail("time", raw, "expected seconds or an ISO 8601 timestamp") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.timestamp()

    def symbol(self) -> str:
        raw = self.raw("symbol")
        try:
            return validate_symbol(raw)
        except InvalidInputError as error:
            raise self.fail("symbol", raw, error.reason) from None


class _ReplaySource:
    """A cursor over a replay's rows; implements ``PriceSource``."""

    def __init__(self, replay: PriceReplay, rows: tuple[_Row, ...]) -> None:
        self._replay = replay
        self._rows = rows
        self._index = 0
        self._last_time: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"<ReplaySource rows={len(self._rows)} index={self._index}>"

    @property
    def symbols(self) -> Sequence[str]:
        return tuple(spec.symbol for spec in self._replay.specs)

    def typical(self, symbol: str) -> tuple[float, float]:
        """Volatility per square-root second and volume per second, measured on the data (the
        spec's, where it sets a volatility or the data has no volume)."""
        spec = self._replay.spec(symbol)
        measured = self._replay.activity(symbol)
        sigma, rate = measured if measured is not None else (0.0, None)
        if spec.volatility > 0:
            sigma = spec.volatility / 293.93876913398137  # sqrt(86,400 s)
        return sigma, float(spec.volume_per_second) if rate is None else rate

    def opening(self) -> list[MarketStep]:
        firsts: dict[str, _Row] = {}
        for row in self._rows:
            firsts.setdefault(row.symbol, row)
        return [self._step(firsts[spec.symbol], Decimal(0)) for spec in self._replay.specs]

    def next_time(self) -> float | None:
        rows = self._rows
        return rows[self._index].time if self._index < len(rows) else None

    def advance(self) -> list[MarketStep]:
        rows = self._rows
        time = rows[self._index].time
        steps = []
        while self._index < len(rows) and rows[self._index].time == time:
            row = rows[self._index]
            self._index += 1
            volume = row.volume
            if volume is None:
                spec = self._replay.spec(row.symbol)
                elapsed = Decimal(repr(time - self._last_time.get(row.symbol, time)))
                volume = spec.volume_per_second * elapsed
            self._last_time[row.symbol] = time
            steps.append(self._step(row, volume))
        return steps

    def skip_to(self, time: float) -> list[MarketStep]:
        rows = self._rows
        latest: dict[str, _Row] = {}
        # The square-root model heals its book with the volume of the steps it skipped.
        skipped: dict[str, Decimal] = {}
        while self._index < len(rows) and rows[self._index].time <= time:
            row = rows[self._index]
            self._index += 1
            latest[row.symbol] = row
            spec = self._replay.spec(row.symbol)
            if not spec.is_legacy:
                volume = row.volume
                if volume is None:
                    elapsed = Decimal(repr(row.time - self._last_time.get(row.symbol, row.time)))
                    volume = spec.volume_per_second * elapsed
                skipped[row.symbol] = skipped.get(row.symbol, Decimal(0)) + volume
            self._last_time[row.symbol] = row.time
        return [self._step(row, skipped.get(symbol, Decimal(0))) for symbol, row in latest.items()]

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Replayed rows are data: a moved quote holds until the symbol's next row."""

    def _step(self, row: _Row, volume: Decimal) -> MarketStep:
        spec = self._replay.spec(row.symbol)
        size = spec.displayed_size
        return MarketStep(
            symbol=row.symbol, time=row.time, bid=row.bid, ask=row.ask,
            bid_size=size if row.bid_size is None else row.bid_size,
            ask_size=size if row.ask_size is None else row.ask_size,
            low=row.low, high=row.high, volume=volume, last=row.last,
        )


@attrs.frozen
class PriceReplay:
    """Market data to replay: rows in time order (seconds since the first) and symbol specs."""

    rows: tuple[_Row, ...]
    specs: tuple[SymbolSpec, ...]
    # Bootstrapped paths by (seed, block) and measured activity by symbol: the variants of one
    # study path build a venue each from the same draw (a tenth of a path's time, measured).
    _paths: dict[tuple[int, int], tuple[_Row, ...]] = attrs.field(factory=dict, eq=False, repr=False)
    _activity: dict[str, tuple[float, float | None] | None] = attrs.field(factory=dict, eq=False, repr=False)

    def spec(self, symbol: str) -> SymbolSpec:
        """The spec of one replayed symbol."""
        for spec in self.specs:
            if spec.symbol == symbol:
                return spec
        raise KeyError(symbol)

    def source(self, *, seed: int = 0, bootstrap_block: int = 0) -> _ReplaySource:
        """A fresh cursor over the rows, for one venue; with ``bootstrap_block`` rows per block
        (0: none), over a path the seed draws from them (bootstrap.py)."""
        rows = self.rows
        if bootstrap_block > 0 and rows:
            key = (seed, bootstrap_block)
            if key not in self._paths:
                if len(self._paths) >= 64:
                    self._paths.clear()
                ticks = {spec.symbol: spec.tick_size for spec in self.specs}
                self._paths[key] = block_bootstrap(
                    rows, bootstrap_block, seed,
                    lambda row, factor, time: row.moved(factor, time, ticks[row.symbol]),
                )
            rows = self._paths[key]
        return _ReplaySource(self, rows)

    def activity(self, symbol: str) -> tuple[float, float | None] | None:
        """The symbol's volatility and volume rate measured on the data (bootstrap.py)."""
        if symbol not in self._activity:
            self._activity[symbol] = typical_activity(self.rows, symbol)
        return self._activity[symbol]

    @property
    def duration(self) -> float:
        """Seconds from the first row to the last."""
        return self.rows[-1].time if self.rows else 0.0

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        *,
        specs: Mapping[str, Mapping[str, Any]] | None = None,
        spread_bps: Any = 2,
        **defaults: Any,
    ) -> PriceReplay:
        """Read a quotes or bars CSV. ``defaults`` are ``SymbolSpec`` settings for every symbol
        (``tick_size``, ``lot_size``, ``displayed_size``, ``volume_per_second``, ...); ``specs``
        overrides them per symbol. ``spread_bps`` makes the quote around a bar's close."""
        file = Path(path)
        spread = to_decimal(spread_bps, "spread_bps")
        if spread < 0:
            raise InvalidInputError("spread_bps", spread_bps, "must not be negative")
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidInputError("path", str(path), f"cannot read: {error.strerror}") from None
        reader = csv.DictReader(text.splitlines())
        header = tuple(name.strip() for name in reader.fieldnames or ())
        reader.fieldnames = list(header)
        if set(_BAR_COLUMNS) <= set(header):
            bars = True
        elif set(_QUOTE_COLUMNS) <= set(header):
            bars = False
        else:
            raise InvalidInputError(
                f"{file}:1", ",".join(header), f"expected columns {_QUOTE_COLUMNS} or {_BAR_COLUMNS}"
            )
        raw_rows: list[tuple[float, str, _Cells]] = []
        for line, row in enumerate(reader, start=2):
            cells = _Cells(file, line, row)
            raw_rows.append((cells.time(), cells.symbol(), cells))
        if not raw_rows:
            raise InvalidInputError(str(file), "", "no data rows")
        symbols = list(dict.fromkeys(symbol for _, symbol, _ in raw_rows))
        built = {}
        for symbol in symbols:
            options: dict[str, Any] = {"volatility": 0, "spread_bps": spread, **defaults}
            options.update((specs or {}).get(symbol, {}))
            options.setdefault("price", 1)
            built[symbol] = SymbolSpec(symbol=symbol, **options)
        start = raw_rows[0][0]
        rows: list[_Row] = []
        previous = start
        for time, symbol, cells in raw_rows:
            if time < previous:
                raise cells.fail("time", time, "goes back in time; rows must be in time order")
            previous = time
            spec = built[symbol]
            parse = _bar if bars else _quote
            # The square-root model honours each symbol's own spread; legacy keeps the file-wide one.
            own = spread if spec.is_legacy else spec.spread_bps
            rows.append(parse(cells, time - start, symbol, spec, own))
        firsts = {row.symbol: row for row in reversed(rows)}
        final_specs = tuple(
            attrs.evolve(built[symbol], price=(firsts[symbol].bid + firsts[symbol].ask) / 2)
            for symbol in symbols
        )
        return cls(tuple(rows), final_specs)


def _quote(cells: _Cells, time: float, symbol: str, spec: SymbolSpec, spread: Decimal) -> _Row:
    bid, ask = cells.number("bid"), cells.number("ask")
    if bid > ask:
        raise cells.fail("bid", str(bid), f"above the ask {ask} (crossed quote)")
    tick = spec.tick_size
    bid, ask = round_to_tick(bid, tick, up=False), round_to_tick(ask, tick, up=True)
    bid = max(bid, tick)
    ask = max(ask, bid + tick)
    last = max(round_to_tick((bid + ask) / 2, tick, up=False), tick)
    return _Row(time, symbol, bid, ask, bid, ask, last, None,
                cells.optional_size("bid_size"), cells.optional_size("ask_size"))


def _bar(cells: _Cells, time: float, symbol: str, spec: SymbolSpec, spread: Decimal) -> _Row:
    open_, high, low, close = (cells.number(column) for column in ("open", "high", "low", "close"))
    volume = cells.number("volume", positive=False)
    if high < max(open_, close, low):
        raise cells.fail("high", str(high), "below the bar's open, low or close")
    if low > min(open_, close):
        raise cells.fail("low", str(low), "above the bar's open or close")
    bid, ask = _around(close, spread, spec.tick_size)
    lots = (volume / spec.lot_size).to_integral_value(rounding="ROUND_FLOOR")
    return _Row(time, symbol, bid, ask, low, high, close, lots * spec.lot_size, None, None, spread)


def _around(close: Decimal, spread: Decimal, tick: Decimal) -> tuple[Decimal, Decimal]:
    """The quote ``close ± half the spread``, each side rounded outward onto the tick grid."""
    half = close * spread / Decimal(20_000)
    bid = max(round_to_tick(close - half, tick, up=False), tick)
    return bid, max(round_to_tick(close + half, tick, up=True), bid + tick)
