"""``twap-engine trade``: a scenario's orders on the venue it picks; bad choices are named."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from backtesting.cli import main
from backtesting.errors import ScenarioError
from backtesting.runner import build_venue
from backtesting.scenario import load_scenario, parse_scenario
from backtesting.venue_choice import VenueKind, parse_venue_choice
from engine import InvalidInputError
from gateways.served import Credentials, serve_in_thread

SCENARIO = """
name = "two quick buys"
seed = 3

[venue]
symbols = [{ symbol = "AAPL", price = 150 }, { symbol = "MSFT", price = 300 }]
latency = { request = 0.0, request_jitter = 0.0, event = 0.0, event_jitter = 0.0 }
{connect}

[[orders]]
symbol = "AAPL"
side = "buy"
quantity = 12

[[orders]]
symbol = "MSFT"
side = "sell"
quantity = 6

[execution]
num_slices = 3
interval_seconds = 0.4
"""


def write_scenario(tmp_path: Path, connect: str = "") -> Path:
    path = tmp_path / "quick.toml"
    path.write_text(SCENARIO.replace("{connect}", connect), encoding="utf-8")
    return path


def test_venue_choices_are_read_as_written() -> None:
    assert parse_venue_choice("simulated").kind is VenueKind.SIMULATED
    served = parse_venue_choice("http://127.0.0.1:8765/")
    assert (served.kind, served.url) == (VenueKind.SERVED, "http://127.0.0.1:8765")
    live = parse_venue_choice("ccxt:binance")
    assert (live.kind, live.exchange_id) == (VenueKind.CCXT, "binance")


@pytest.mark.parametrize("value", ["", "ccxt:binanse", "ftp://example", "binance", 7])
def test_a_venue_choice_that_is_none_of_them_is_refused_naming_it(value: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_venue_choice(value, "--venue")
    assert caught.value.field == "--venue"
    assert caught.value.value == value


def test_a_scenario_picks_its_venue_with_connect(tmp_path: Path) -> None:
    scenario = load_scenario(write_scenario(tmp_path, 'connect = "ccxt:binance"'))
    assert scenario.venue.connect.exchange_id == "binance"
    assert load_scenario(write_scenario(tmp_path)).venue.connect.kind is VenueKind.SIMULATED


def test_a_bad_connect_in_a_scenario_names_the_key_and_value() -> None:
    with pytest.raises(ScenarioError, match=r"venue\.connect.*ccxt:nope"):
        parse_scenario(SCENARIO.replace("{connect}", 'connect = "ccxt:nope"'))


def test_trade_on_the_simulated_venue_fills_every_order(tmp_path: Path) -> None:
    console = Console(width=200, record=True)
    status = main(["trade", str(write_scenario(tmp_path)), "--venue", "simulated"], console=console)
    text = console.export_text()
    assert status == 0, text
    assert "AAPL BUY 12/12 @" in text
    assert "MSFT SELL 6/6 @" in text


def test_trade_on_the_served_paper_exchange_by_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_scenario(tmp_path)
    scenario = load_scenario(path)
    monkeypatch.setenv("TWAP_ENGINE_API_KEY", "trade-key")
    monkeypatch.setenv("TWAP_ENGINE_API_SECRET", "trade-secret")
    monkeypatch.delenv("BINANCE_API_KEY", raising=False)
    credentials = Credentials("trade-key", "trade-secret")
    with serve_in_thread(lambda: build_venue(scenario), port=0, credentials=credentials) as served:
        console = Console(width=200, record=True)
        status = main(["trade", str(path), "--venue", f"http://{served.host}:{served.port}"], console=console)
        venue_fills = served.statistics().trades
    text = console.export_text()
    assert status == 0, text
    assert f"on http://{served.host}:{served.port}" in text
    assert "AAPL BUY 12/12 @" in text
    assert "MSFT SELL 6/6 @" in text
    assert venue_fills > 0


def test_trade_on_a_live_exchange_without_keys_exits_2_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("BINANCE_API_KEY", "BINANCE_API_SECRET", "TWAP_ENGINE_API_KEY", "TWAP_ENGINE_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    status = main(["trade", str(write_scenario(tmp_path)), "--venue", "ccxt:binance"], console=Console())
    assert status == 2
    errors = capsys.readouterr().err
    assert "api_key" in errors
    assert "BINANCE_API_KEY" in errors
