"""The simulated market: a seeded path that nobody's questions can change; latency; inspection."""

from __future__ import annotations

from decimal import Decimal

import anyio

from engine import OrderAccepted, Quote, now, run_virtual
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec
from tests.gateways.simulated.venues import collect, limit, market, quiet_venue, still_symbol


async def _quote_after_ten_minutes(seed: int, ask_every: float | None, rest_an_order: bool) -> Quote:
    async with SimulatedVenue.demo(seed=seed) as venue:
        if rest_an_order:  # far from the market: it never fills, but makes the market step live
            await venue.submit_order(limit("AAPL", "buy", 1, "50.00"))
        if ask_every is None:
            await anyio.sleep(600)
        else:
            while now() < 600 - ask_every:
                await venue.get_quote("MSFT")
                await anyio.sleep(ask_every)
            await anyio.sleep(600 - now())
        return venue.quote_nowait("AAPL")


def test_the_price_path_does_not_depend_on_who_asks_or_when() -> None:
    quiet = run_virtual(_quote_after_ten_minutes, 9, None, False)
    assert run_virtual(_quote_after_ten_minutes, 9, 7.3, False) == quiet
    assert run_virtual(_quote_after_ten_minutes, 9, None, True) == quiet
    assert run_virtual(_quote_after_ten_minutes, 9, 1.9, True) == quiet
    assert run_virtual(_quote_after_ten_minutes, 10, None, False) != quiet


async def test_the_walk_moves_with_volatility_and_keeps_the_spread_and_tick() -> None:
    spec = SymbolSpec(symbol="XYZ", price=100, volatility=0.3, spread_bps=10, tick_size="0.05")
    async with SimulatedVenue([spec], seed=3, latency=LatencyModel.zero()) as venue:
        quotes = []
        for _ in range(50):
            await anyio.sleep(60)
            quotes.append(await venue.get_quote("XYZ"))
    assert len({quote.mid for quote in quotes}) > 10
    for quote in quotes:
        assert quote.bid % Decimal("0.05") == 0
        assert quote.ask % Decimal("0.05") == 0
        assert Decimal("0.05") <= quote.spread <= quote.mid * Decimal("0.001") + Decimal("0.1")


async def test_events_arrive_after_the_event_latency() -> None:
    latency = LatencyModel(request=0.05, request_jitter=0, event=0.2, event_jitter=0)
    async with quiet_venue(latency=latency) as venue, anyio.create_task_group() as group:
        arrivals: list[tuple[float, float]] = []

        async def listen() -> None:
            async for event in venue.events():
                arrivals.append((event.timestamp, now()))  # noqa: PERF401 - kept as they come; cancelled later

        group.start_soon(listen)
        sent = now()
        ack = await venue.submit_order(market("AAPL", "buy", 10))
        assert ack.timestamp - sent == 0.05  # one way to the venue
        assert now() - sent == 0.1  # and back
        await anyio.sleep(1)
        group.cancel_scope.cancel()
    assert len(arrivals) == 2
    assert all(round(received - happened, 6) == 0.2 for happened, received in arrivals)


async def test_a_subscription_ends_when_the_venue_closes() -> None:
    venue = quiet_venue()
    async with venue:
        await venue.submit_order(market("AAPL", "buy", 10))
    events = await collect(venue, 3600)
    assert [type(event) for event in events][:1] == [OrderAccepted]
    assert now() < 3600  # it ended at once instead of waiting for the timeout


async def test_statistics_and_repr_show_the_venue_state() -> None:
    async with quiet_venue(cash=1000) as venue:
        await venue.submit_order(market("AAPL", "buy", 2))
        await venue.submit_order(limit("AAPL", "sell", 1, "155.00"))
        stats = venue.statistics()
        text = repr(venue)
    assert (stats.requests, stats.orders, stats.fills, stats.open_orders) == (2, 2, 1, 1)
    assert stats.events_published == 3
    assert stats.fees_paid == Decimal("0.15002")  # 2 × 150.02 × 5 bp, the default taker fee
    assert "open_orders=1" in text
    assert "'AAPL': '2'" in text
    assert f"cash={venue.cash}" in text
    assert "violations=0" in text


def test_the_demo_venue_lists_three_symbols_around_their_prices() -> None:
    venue = SimulatedVenue.demo(seed=1)
    mids = {symbol: venue.quote_nowait(symbol).mid for symbol in ("AAPL", "MSFT", "GOOGL")}
    assert mids == {"AAPL": Decimal(150), "MSFT": Decimal(300), "GOOGL": Decimal(140)}
    assert venue.instrument("AAPL") == still_symbol().instrument
    assert venue.cash == 1_000_000
