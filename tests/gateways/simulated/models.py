"""Symbols and venues under the square-root market model, shared by these tests."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from engine import Order, OrderFilled, OrderSide
from gateways.simulated import LatencyModel, PriceReplay, SimulatedVenue, SymbolSpec

ROOT = Path(__file__).resolve().parents[3]
THIN_BARS = ROOT / "examples" / "data" / "thin_name_bars.csv"


def modelled(symbol: str = "XYZ", **overrides: Any) -> SymbolSpec:
    """A random-walk symbol under the square-root model, on a fine tick so rounding hides nothing."""
    options: dict[str, Any] = {
        "price": 100, "volatility": 0.02, "spread_bps": 4, "displayed_size": 100, "depth_levels": 50,
        "volume_per_second": 20, "tick_size": "0.0001", "impact_model": "square_root",
    }
    options.update(overrides)
    return SymbolSpec(symbol=symbol, **options)


def venue_of(*specs: SymbolSpec, seed: int = 1, **overrides: Any) -> SimulatedVenue:
    """A venue without latency and with plenty of cash."""
    options: dict[str, Any] = {"seed": seed, "latency": LatencyModel.zero(), "cash": 10**9}
    options.update(overrides)
    return SimulatedVenue(list(specs) or [modelled()], **options)


def thin_replay(**overrides: Any) -> PriceReplay:
    """The thin-name example's bars under the square-root model, with its spread and sizes."""
    options: dict[str, Any] = {
        "spread_bps": 20, "displayed_size": 150, "depth_levels": 20, "impact_model": "square_root",
    }
    options.update(overrides)
    return PriceReplay.from_csv(THIN_BARS, specs={"THIN": options})


def buy(symbol: str, quantity: Any) -> Order:
    """A market buy."""
    return Order(symbol=symbol, side=OrderSide.BUY, quantity=quantity)


def fills_of(venue: SimulatedVenue, client_order_id: str) -> list[OrderFilled]:
    """The fills the venue booked for one order."""
    return [e for e in venue.event_log if isinstance(e, OrderFilled) and e.client_order_id == client_order_id]


def average_price(fills: list[OrderFilled]) -> Decimal:
    """The quantity-weighted average price of some fills."""
    quantity = sum((fill.quantity for fill in fills), Decimal(0))
    return sum((fill.quantity * fill.price for fill in fills), Decimal(0)) / quantity
