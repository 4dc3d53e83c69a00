"""Bad input gets a clear error naming field and value, and changes nothing at the venue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    InvalidInputError,
    Order,
    OrderRejectedError,
    OrderType,
    UnknownSymbolError,
    run_virtual,
)
from gateways.simulated import FaultPlan, FeeSchedule, LatencyModel, SimulatedVenue, SymbolSpec
from tests.gateways.simulated.venues import limit, market, quiet_venue, still_symbol

STRICT = still_symbol(tick_size="0.05", lot_size=10, min_quantity=20, min_notional=5000)


def _bad_orders() -> st.SearchStrategy[tuple[Order, str]]:
    """Orders that break one of STRICT's rules, with the field the refusal must name."""
    side = st.sampled_from(["buy", "sell"])
    off_tick = st.builds(
        lambda s, cents: (limit("AAPL", s, 100, Decimal(14000 + cents) / 100), "limit_price"),
        side, st.integers(0, 2000).filter(lambda cents: cents % 5),
    )
    fractional = st.builds(
        lambda s, q: (market("AAPL", s, q), "quantity"),
        side, st.integers(1, 10_000).filter(lambda q: q % 10).map(Decimal),
    )
    tiny = st.builds(lambda s: (market("AAPL", s, 10), "quantity"), side)
    small_notional = st.builds(
        lambda s, q: (limit("AAPL", s, q, "140.00"), "quantity"), side, st.sampled_from([20, 30])
    )
    unknown = st.builds(
        lambda s, name: (market(name, s, 100), "symbol"), side, st.sampled_from(["TSLA", "X"])
    )
    return st.one_of(off_tick, fractional, tiny, small_notional, unknown)


def _state(venue: SimulatedVenue) -> tuple[Any, ...]:
    quotes = tuple(venue.quote_nowait(symbol) for symbol in venue.instruments)
    return (venue.cash, dict(venue.positions), len(venue.event_log), quotes, venue.statistics().open_orders)


async def _refuse(order: Order, field: str) -> None:
    async with quiet_venue(STRICT, positions={"AAPL": 500}) as venue:
        resting = limit("AAPL", "buy", 40, "149.00")
        await venue.submit_order(resting)
        before = _state(venue)
        snapshot = await venue.get_order(resting.client_order_id)
        with pytest.raises(OrderRejectedError) as caught:
            await venue.submit_order(order)
        assert field in caught.value.reason
        assert caught.value.client_order_id == order.client_order_id
        assert _state(venue) == before
        assert await venue.get_order(resting.client_order_id) == snapshot
        assert venue.statistics().rejects == 1


@settings(max_examples=40, deadline=None)
@given(_bad_orders())
def test_an_order_breaking_a_venue_rule_is_rejected_and_changes_nothing(case: tuple[Order, str]) -> None:
    run_virtual(_refuse, *case)


def test_a_rejected_reason_names_the_value() -> None:
    order = limit("AAPL", "buy", 100, "149.97")

    async def scenario() -> str:
        async with quiet_venue(STRICT) as venue:
            with pytest.raises(OrderRejectedError) as caught:
                await venue.submit_order(order)
            return caught.value.reason

    assert "limit_price=Decimal('149.97')" in run_virtual(scenario)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: SymbolSpec(symbol="AAPL", price="NaN"), "price"),
        (lambda: SymbolSpec(symbol="AAPL", price=-1), "price"),
        (lambda: SymbolSpec(symbol="AAPL", price=1, volatility=-0.1), "volatility"),
        (lambda: SymbolSpec(symbol="AAPL", price=1, volatility=float("inf")), "volatility"),
        (lambda: SymbolSpec(symbol="AAPL", price=1, displayed_size=0), "displayed_size"),
        (lambda: SymbolSpec(symbol="AAPL", price=1, depth_levels=0), "depth_levels"),
        (lambda: SymbolSpec(symbol="AAPL", price=1, tick_size=0), "tick_size"),
        (lambda: SymbolSpec(symbol=" AAPL", price=1), "symbol"),
        (lambda: LatencyModel(request=-0.1), "request"),
        (lambda: FeeSchedule(taker_bps=-1), "taker_bps"),
        (lambda: FeeSchedule(maker_bps="NaN"), "maker_bps"),
        (lambda: FaultPlan(drop_ack=1.5), "drop_ack"),
        (lambda: FaultPlan(reorder_events=-0.1), "reorder_events"),
        (lambda: SimulatedVenue([]), "symbols"),
        (lambda: SimulatedVenue([still_symbol(), still_symbol()]), "symbols"),
        (lambda: SimulatedVenue(["AAPL"]), "symbols[0]"),  # type: ignore[list-item]  # on purpose
        (lambda: quiet_venue(seed="7"), "seed"),
        (lambda: quiet_venue(participation=2), "participation"),
        (lambda: quiet_venue(request_timeout=0), "request_timeout"),
        (lambda: quiet_venue(step=-1), "step"),
        (lambda: quiet_venue(cash=float("nan")), "cash"),
        (lambda: quiet_venue(positions=[("AAPL", 1)]), "positions"),
        (lambda: quiet_venue(positions={"AAPL": "lots"}), "positions['AAPL']"),
        (lambda: quiet_venue(latency=0.1), "latency"),
        (lambda: quiet_venue(faults={"drop_ack": 1}), "faults"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(build: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        build()
    assert caught.value.field == field


async def test_bad_calls_are_refused_at_the_edge_before_sending() -> None:
    async with quiet_venue() as venue:
        with pytest.raises(UnknownSymbolError):
            await venue.get_quote("TSLA")
        with pytest.raises(InvalidInputError, match="client_order_id"):
            await venue.cancel_order("not an id!")
        with pytest.raises(InvalidInputError, match="after_sequence"):
            venue.events(after_sequence=-1)
        with pytest.raises(InvalidInputError, match="order"):
            await venue.submit_order("buy 100 AAPL")  # type: ignore[arg-type]  # the wrong type on purpose
        assert venue.request_log == ()


def test_set_quote_refuses_crossed_off_tick_and_unknown_quotes_and_keeps_the_market() -> None:
    venue = quiet_venue()
    before = venue.quote_nowait("AAPL")
    for bid, ask, field in [("150.10", "150.00", "bid"), ("150.005", "150.02", "bid"), ("-1", "150", "bid")]:
        with pytest.raises(InvalidInputError) as caught:
            venue.set_quote("AAPL", bid=bid, ask=ask)
        assert caught.value.field == field
    with pytest.raises(UnknownSymbolError):
        venue.set_quote("TSLA", bid=1, ask=2)
    assert venue.quote_nowait("AAPL") == before


def test_a_fault_probability_that_is_not_a_number_is_refused_as_a_probability() -> None:
    with pytest.raises(InvalidInputError, match="probability") as caught:
        FaultPlan(drop_ack=True)
    assert caught.value.field == "drop_ack"


def test_orders_with_bad_numbers_never_reach_the_venue() -> None:
    quantities: list[int | str] = ["NaN", -5, 0, "inf"]
    for quantity in quantities:
        with pytest.raises(InvalidInputError, match="quantity"):
            Order(symbol="AAPL", side="buy", quantity=quantity)
    with pytest.raises(InvalidInputError, match="limit_price"):
        Order(symbol="AAPL", side="buy", quantity=1, order_type=OrderType.LIMIT)
