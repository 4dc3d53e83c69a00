"""The square-root model's impact: concave in size, transient part decays, permanent part stays."""

from __future__ import annotations

import itertools
from decimal import Decimal

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import OrderFilled, OrderSide, Quote, run_virtual
from gateways.simulated import SimulatedVenue
from gateways.simulated.impact import SquareRootImpact
from tests.gateways.simulated.models import average_price, buy, fills_of, modelled, venue_of


async def _cost_per_share_bps(quantity: int) -> float:
    """A fresh venue, one market buy: what each share paid above the mid, in bps."""
    async with venue_of() as venue:
        mid = venue.quote_nowait("XYZ").mid
        await venue.submit_order(buy("XYZ", quantity))
        fills = [event for event in venue.event_log if isinstance(event, OrderFilled)]
    return float((average_price(fills) - mid) / mid) * 1e4


@settings(max_examples=20, deadline=None)
@given(small=st.integers(1, 2_000), factor=st.integers(2, 10))
def test_more_size_costs_more_per_share(small: int, factor: int) -> None:
    large = small * factor
    assert run_virtual(_cost_per_share_bps, large) > run_virtual(_cost_per_share_bps, small)


def test_cost_follows_the_square_root_law_not_a_straight_line() -> None:
    spec = modelled()
    law = SquareRootImpact(
        coefficient=1.0, sigma=spec.volatility / 86_400**0.5, volume_rate=float(spec.volume_per_second),
        permanent_share=spec.permanent_share, half_life=spec.resilience_half_life,
    )
    half_spread_bps = float(spec.spread_bps) / 2
    for quantity in (100, 400, 1600):
        measured = run_virtual(_cost_per_share_bps, quantity) - half_spread_bps
        assert abs(measured - law.cost(quantity) * 1e4) < 0.05 + 0.02 * law.cost(quantity) * 1e4
    # Four times the size costs twice as much per share, not four times.
    ratio = (run_virtual(_cost_per_share_bps, 1600) - half_spread_bps) / (
        run_virtual(_cost_per_share_bps, 400) - half_spread_bps
    )
    assert 1.9 < ratio < 2.1


async def _asks_after_a_buy(quantity: int, seed: int) -> tuple[Quote, list[Quote]]:
    async with venue_of(modelled(volatility=0.02), seed=seed) as venue:
        before = venue.quote_nowait("XYZ")
        if quantity:
            await venue.submit_order(buy("XYZ", quantity))
        quotes = []
        for _ in range(12):
            await anyio.sleep(60)
            quotes.append(venue.quote_nowait("XYZ"))
    return before, quotes


@settings(max_examples=10, deadline=None)
@given(quantity=st.integers(500, 4_000), seed=st.integers(0, 1_000))
def test_the_transient_impact_decays_toward_the_permanent_part(quantity: int, seed: int) -> None:
    _, quiet = run_virtual(_asks_after_a_buy, 0, seed)
    _, pushed = run_virtual(_asks_after_a_buy, quantity, seed)
    # The same market path, so the difference is the buy's impact on the ask, in bps of the ask.
    excess = [float((p.ask - q.ask) / q.ask) * 1e4 for p, q in zip(pushed, quiet, strict=True)]
    assert all(later <= earlier + 0.02 for earlier, later in itertools.pairwise(excess))
    # What is left after twelve minutes (six half-lives) is the permanent part; above it, the
    # transient part halves about every two minutes.
    transient = [value - excess[-1] for value in excess]
    assert transient[0] > 0.5
    assert 0.3 < transient[2] / transient[0] < 0.7


@settings(max_examples=10, deadline=None)
@given(quantity=st.integers(500, 4_000), seed=st.integers(0, 1_000))
def test_permanent_impact_moves_the_mid_for_good(quantity: int, seed: int) -> None:
    _, quiet = run_virtual(_asks_after_a_buy, 0, seed)
    _, pushed = run_virtual(_asks_after_a_buy, quantity, seed)
    spec = modelled()
    law = SquareRootImpact(
        coefficient=1.0, sigma=spec.volatility / 86_400**0.5, volume_rate=float(spec.volume_per_second),
        permanent_share=spec.permanent_share, half_life=spec.resilience_half_life,
    )
    # An hour later the transient part is gone; the permanent share of the peak (1.5 × the cost) remains.
    moved = float((pushed[-1].mid - quiet[-1].mid) / quiet[-1].mid) * 1e4
    expected = spec.permanent_share * 1.5 * law.cost(quantity) * 1e4
    assert moved > 0
    assert abs(moved - expected) < 0.1 * expected + 0.05


async def _two_clips(quantity: int) -> tuple[Decimal, Decimal]:
    async with venue_of() as venue:
        mid = venue.quote_nowait("XYZ").mid
        first = await venue.submit_order(buy("XYZ", quantity))
        second = await venue.submit_order(buy("XYZ", quantity))
        prices = []
        for ack in (first, second):
            fills = fills_of(venue, ack.client_order_id)
            prices.append((average_price(fills) - mid) / mid * 10_000)
    return prices[0], prices[1]


def test_a_second_clip_at_once_costs_more_than_the_first_but_less_than_linear_impact_would() -> None:
    first, second = run_virtual(_two_clips, 800)
    half_spread = Decimal(modelled().spread_bps) / 2
    # The book remembers the first clip: the second continues up the square-root curve, where its
    # impact is 2^1.5 - 1 = 1.83 times the first's; on a linear book it would be 3 times.
    ratio = (second - half_spread) / (first - half_spread)
    assert Decimal("1.6") < ratio < Decimal("2.1")
    # Together about what one clip of both costs.
    assert abs(float((first + second) / 2) - run_virtual(_cost_per_share_bps, 1600)) < 0.5


async def _market_buy_beyond_depth() -> tuple[Decimal, Decimal, Quote, Quote]:
    spec = modelled(displayed_size=100, depth_levels=5, volume_per_second=10)
    async with venue_of(spec) as venue:
        ack = await venue.submit_order(buy("XYZ", 2_000))
        filled = sum((fill.quantity for fill in fills_of(venue, ack.client_order_id)), Decimal(0))
        emptied = venue.quote_nowait("XYZ")
        await anyio.sleep(10)  # ten one-second steps: about 100 shares traded, 100 refilled
        later = venue.quote_nowait("XYZ")
        snapshot = venue.liquidity_nowait("XYZ")
        assert snapshot is not None
        return filled, Decimal(repr(snapshot.ask_depth)), emptied, later


def test_a_market_order_takes_only_what_the_book_shows_and_the_book_refills_with_volume() -> None:
    filled, depth, emptied, later = run_virtual(_market_buy_beyond_depth)
    assert filled == 500  # 5 levels of 100; the rest expired
    assert emptied.ask_size == 0
    # Ten seconds at about 10 shares a second bring back about 100 shares, not the whole book.
    assert 0 < later.ask_size <= 100
    assert 50 <= depth <= 150


def test_the_venue_prices_a_sweep_without_trading() -> None:
    async def sweep() -> tuple[Decimal, Decimal, int]:
        async with venue_of() as venue:
            small = venue.sweep_price_nowait("XYZ", OrderSide.BUY, 100)
            large = venue.sweep_price_nowait("XYZ", OrderSide.BUY, 10_000)
            return small, large, len(venue.event_log)

    small, large, events = run_virtual(sweep)
    assert small < large
    assert events == 0


def test_the_legacy_model_has_no_liquidity_state_to_show() -> None:
    async def look() -> object:
        async with SimulatedVenue.demo() as venue:
            return venue.liquidity_nowait("AAPL")

    assert run_virtual(look) is None


async def _second_clip_after_ten_minutes(ask_every: float | None) -> list[tuple[Decimal, Decimal]]:
    async with venue_of(modelled(displayed_size=100, depth_levels=10)) as venue:
        await venue.submit_order(buy("XYZ", 1_000))  # empties the book and pushes the ask
        if ask_every is None:
            await anyio.sleep(600)
        else:
            for _ in range(int(600 / ask_every)):
                await anyio.sleep(ask_every)
                venue.quote_nowait("XYZ")
            await anyio.sleep(600 - int(600 / ask_every) * ask_every)
        ack = await venue.submit_order(buy("XYZ", 1_000))
        return [(fill.quantity, fill.price) for fill in fills_of(venue, ack.client_order_id)]


def test_how_the_book_heals_does_not_depend_on_who_asks_for_quotes_meanwhile() -> None:
    quiet = run_virtual(_second_clip_after_ten_minutes, None)
    assert quiet
    assert run_virtual(_second_clip_after_ten_minutes, 7.3) == quiet
    assert run_virtual(_second_clip_after_ten_minutes, 1.0) == quiet
