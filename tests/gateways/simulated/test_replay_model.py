"""Replays under the square-root model: the configured spread, a seed that matters, determinism."""

from __future__ import annotations

from decimal import Decimal

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import ExecutionEvent, Order, OrderSide, OrderType, Quote, run_virtual
from gateways.simulated import LatencyModel, PriceReplay, SimulatedVenue
from tests.gateways.simulated.models import THIN_BARS, thin_replay


async def _quotes(replay: PriceReplay, seed: int, bootstrap_block: int, minutes: int = 120) -> list[Quote]:
    venue = SimulatedVenue(replay, seed=seed, latency=LatencyModel.zero(), bootstrap_block=bootstrap_block)
    async with venue:
        quotes = []
        for _ in range(minutes):
            await anyio.sleep(60)
            quotes.append(venue.quote_nowait("THIN"))
    return quotes


def _spread_bps(quote: Quote) -> Decimal:
    return quote.spread / quote.mid * 10_000


@settings(max_examples=8, deadline=None)
@given(spread=st.sampled_from([5, 10, 20, 40]), seed=st.integers(0, 1_000), block=st.sampled_from([0, 5, 30]))
def test_a_replays_quoted_spread_is_the_configured_one(spread: int, seed: int, block: int) -> None:
    quotes = run_virtual(_quotes, thin_replay(spread_bps=spread), seed, block)
    for quote in quotes:
        # The close ± half the spread, each side rounded outward onto the tick grid.
        tick_bps = Decimal("0.01") / quote.mid * 10_000
        assert spread - Decimal("0.01") <= _spread_bps(quote) < spread + 2 * tick_bps


def test_the_legacy_model_keeps_the_old_file_wide_spread() -> None:
    legacy = PriceReplay.from_csv(THIN_BARS, specs={"THIN": {"spread_bps": 20}})
    quotes = run_virtual(_quotes, legacy, 1, 0)
    assert max(_spread_bps(quote) for quote in quotes) < 10


def test_with_a_bootstrap_the_seed_draws_a_new_path_from_the_data() -> None:
    first = run_virtual(_quotes, thin_replay(), 1, 10)
    assert run_virtual(_quotes, thin_replay(), 1, 10) == first
    assert run_virtual(_quotes, thin_replay(), 2, 10) != first
    # Without one, every seed replays the data as it is.
    assert run_virtual(_quotes, thin_replay(), 1, 0) == run_virtual(_quotes, thin_replay(), 2, 0)


async def _passive_buys(seed: int) -> tuple[ExecutionEvent, ...]:
    async with SimulatedVenue(thin_replay(), seed=seed, latency=LatencyModel.zero(), cash=10**7) as venue:
        for number in range(20):
            bid = venue.quote_nowait("THIN").bid
            await venue.submit_order(
                Order(symbol="THIN", side=OrderSide.BUY, quantity=300, order_type=OrderType.LIMIT,
                      limit_price=bid, client_order_id=f"rest{number}")
            )
            await anyio.sleep(240)
            await venue.cancel_order(f"rest{number}")
            await venue.submit_order(
                Order(symbol="THIN", side=OrderSide.BUY, quantity=100, client_order_id=f"take{number}")
            )
        return tuple(venue.event_log)


def test_without_a_bootstrap_the_seed_still_changes_queue_outcomes() -> None:
    assert run_virtual(_passive_buys, 1) != run_virtual(_passive_buys, 2)


def test_the_same_seed_gives_the_same_events() -> None:
    assert run_virtual(_passive_buys, 5) == run_virtual(_passive_buys, 5)
