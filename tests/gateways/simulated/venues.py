"""Venues and small helpers shared by the simulated-venue tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio

from engine import ExecutionEvent, Order, OrderFilled, OrderSide, OrderType, TimeInForce
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec


def still_symbol(symbol: str = "AAPL", price: Any = 150, **overrides: Any) -> SymbolSpec:
    """A symbol whose mid never moves by itself (volatility 0): tests move it with set_quote."""
    options: dict[str, Any] = {"volatility": 0, "spread_bps": 2, "displayed_size": 1000}
    options.update(overrides)
    return SymbolSpec(symbol=symbol, price=price, **options)


def quiet_venue(*symbols: SymbolSpec, **overrides: Any) -> SimulatedVenue:
    """A venue without latency whose prices stand still unless a test moves them."""
    options: dict[str, Any] = {"seed": 1, "latency": LatencyModel.zero(), "cash": 1_000_000}
    options.update(overrides)
    return SimulatedVenue(list(symbols) or [still_symbol()], **options)


def market(symbol: str, side: str, quantity: Any, **extra: Any) -> Order:
    """A market order."""
    return Order(symbol=symbol, side=OrderSide.parse(side), quantity=quantity, **extra)


def limit(symbol: str, side: str, quantity: Any, price: Any, *, ioc: bool = False, **extra: Any) -> Order:
    """A limit order, good till cancelled unless ``ioc``."""
    return Order(
        symbol=symbol, side=OrderSide.parse(side), quantity=quantity, order_type=OrderType.LIMIT,
        limit_price=price, time_in_force=TimeInForce.IOC if ioc else TimeInForce.GTC, **extra,
    )


def fills_of(events: list[ExecutionEvent], client_order_id: str) -> list[OrderFilled]:
    """The fill events of one order."""
    return [e for e in events if isinstance(e, OrderFilled) and e.client_order_id == client_order_id]


def filled_quantity(fills: list[OrderFilled]) -> Decimal:
    """The sum of the fills' quantities."""
    return sum((fill.quantity for fill in fills), Decimal(0))


async def collect(venue: SimulatedVenue, seconds: float, after_sequence: int = 0) -> list[ExecutionEvent]:
    """Every event delivered within ``seconds`` of virtual time."""
    events: list[ExecutionEvent] = []
    with anyio.move_on_after(seconds):
        async for event in venue.events(after_sequence=after_sequence):
            events.append(event)  # noqa: PERF401 - a comprehension would lose what came before the timeout
    return events
