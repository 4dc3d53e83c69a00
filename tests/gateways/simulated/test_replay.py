"""The venue replays recorded quotes or OHLCV bars; bad rows are refused naming file, line, column."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from engine import InvalidInputError, OrderStatus, now
from gateways.simulated import LatencyModel, PriceReplay, SimulatedVenue
from tests.gateways.simulated.venues import limit, market

QUOTES = """time,symbol,bid,ask,bid_size,ask_size
0,AAPL,150.00,150.04,300,400
0,MSFT,300.00,300.10,50,60
10,AAPL,149.50,149.54,300,400
20,AAPL,151.00,151.04,300,400
"""

BARS = """time,symbol,open,high,low,close,volume
2024-03-01T14:30:00,AAPL,150.00,150.50,149.80,150.20,5000
2024-03-01T14:31:00,AAPL,150.20,150.30,149.20,149.40,8000
2024-03-01T14:32:00,AAPL,149.40,149.60,149.30,149.50,6000
"""


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


async def test_quotes_replay_at_their_times_relative_to_the_venue_opening(tmp_path: Path) -> None:
    replay = PriceReplay.from_csv(write(tmp_path, QUOTES))
    assert [spec.symbol for spec in replay.specs] == ["AAPL", "MSFT"]
    async with SimulatedVenue(replay, latency=LatencyModel.zero()) as venue:
        start = now()
        first = await venue.get_quote("AAPL")
        await anyio.sleep(10.5)
        second = await venue.get_quote("AAPL")
        await anyio.sleep(100)
        last = await venue.get_quote("AAPL")
    assert (first.bid, first.ask, first.ask_size) == (Decimal("150.00"), Decimal("150.04"), Decimal(400))
    assert (second.bid, second.timestamp) == (Decimal("149.50"), start + 10)
    assert last.bid == Decimal("151.00")  # the last row holds after the data ends


async def test_replayed_quotes_fill_market_orders_at_the_replayed_touch(tmp_path: Path) -> None:
    replay = PriceReplay.from_csv(write(tmp_path, QUOTES))
    async with SimulatedVenue(replay, latency=LatencyModel.zero()) as venue:
        await anyio.sleep(12)
        order = market("AAPL", "buy", 100)
        await venue.submit_order(order)
        snapshot = await venue.get_order(order.client_order_id)
    assert snapshot.fills[0].price == Decimal("149.54")


async def test_bars_fill_resting_limits_the_bar_trades_through_capped_by_its_volume(tmp_path: Path) -> None:
    replay = PriceReplay.from_csv(write(tmp_path, BARS), spread_bps=4)
    async with SimulatedVenue(replay, latency=LatencyModel.zero(), participation="0.05") as venue:
        order = limit("AAPL", "buy", 1000, "149.50")
        await venue.submit_order(order)
        await anyio.sleep(200)
        snapshot = await venue.get_order(order.client_order_id)
    # The first bar's low (149.80) stays above 149.50; the next two trade through it:
    # 5 % of 8000 and of 6000.
    assert snapshot.status is OrderStatus.PARTIALLY_FILLED
    fills = [(fill.quantity, fill.timestamp) for fill in snapshot.fills]
    assert fills == [(Decimal(400), 60.0), (Decimal(300), 120.0)]
    assert {fill.price for fill in snapshot.fills} == {Decimal("149.50")}


def test_replay_specs_take_defaults_and_per_symbol_overrides(tmp_path: Path) -> None:
    replay = PriceReplay.from_csv(
        write(tmp_path, QUOTES), displayed_size=50, specs={"MSFT": {"tick_size": "0.05", "lot_size": 10}}
    )
    aapl, msft = replay.specs
    assert aapl.displayed_size == 50
    assert (aapl.tick_size, aapl.price) == (Decimal("0.01"), Decimal("150.02"))
    assert (msft.tick_size, msft.lot_size) == (Decimal("0.05"), Decimal(10))
    assert replay.duration == 20


@pytest.mark.parametrize(
    ("text", "line", "column", "value"),
    [
        ("time,symbol,bid,ask\n0,AAPL,abc,150.04\n", 2, "bid", "abc"),
        ("time,symbol,bid,ask\n0,AAPL,150,150.04\n1,AAPL,150,NaN\n", 3, "ask", "NaN"),
        ("time,symbol,bid,ask\n0,AAPL,150,150.04\n0,AAPL,-1,150.04\n", 3, "bid", "-1"),
        ("time,symbol,bid,ask\n0,AAPL,151,150.04\n", 2, "bid", "151"),
        ("time,symbol,bid,ask\n5,AAPL,150,150.04\n4,AAPL,150,150.04\n", 3, "time", 4.0),
        ("time,symbol,bid,ask\nyesterday,AAPL,150,150.04\n", 2, "time", "yesterday"),
        ("time,symbol,bid,ask\n0,,150,150.04\n", 2, "symbol", ""),
        ("time,symbol,open,high,low,close,volume\n0,AAPL,150,149,148,150,10\n", 2, "high", "149"),
        ("time,symbol,open,high,low,close,volume\n0,AAPL,150,151,148,150,-10\n", 2, "volume", "-10"),
    ],
)
def test_a_bad_row_is_refused_naming_file_line_column_and_value(
    tmp_path: Path, text: str, line: int, column: str, value: object
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InvalidInputError) as caught:
        PriceReplay.from_csv(path)
    assert caught.value.field == f"{path}:{line}:{column}"
    assert caught.value.value == value
    assert str(path) in str(caught.value)


def test_a_file_without_the_expected_columns_or_rows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="expected columns"):
        PriceReplay.from_csv(write(tmp_path, "when,what\n1,2\n"))
    with pytest.raises(InvalidInputError, match="no data rows"):
        PriceReplay.from_csv(write(tmp_path, "time,symbol,bid,ask\n"))
    with pytest.raises(InvalidInputError, match="cannot read"):
        PriceReplay.from_csv(tmp_path / "missing.csv")
