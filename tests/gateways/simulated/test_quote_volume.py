"""A quote's ``volume``: the running count of what the market traded, under the square-root model."""

from __future__ import annotations

from decimal import Decimal

import anyio

from engine import run_virtual
from gateways.simulated import SymbolSpec
from tests.gateways.simulated.models import modelled, venue_of


async def _volume_after(asks: list[float], spec: SymbolSpec) -> Decimal | None:
    async with venue_of(spec) as venue:
        for pause in asks:
            await anyio.sleep(pause)
            venue.quote_nowait(spec.symbol)
        await anyio.sleep(600 - sum(asks))
        return venue.quote_nowait(spec.symbol).volume


def test_the_running_volume_does_not_depend_on_who_asks_or_when() -> None:
    quiet = run_virtual(_volume_after, [], modelled(volume_per_second=20))
    assert quiet is not None
    # Ten minutes at about 20 shares a second.
    assert 10_000 < quiet < 14_000
    assert run_virtual(_volume_after, [7.3], modelled(volume_per_second=20)) == quiet
    assert run_virtual(_volume_after, [1.9, 3.3, 100.0], modelled(volume_per_second=20)) == quiet


def test_the_legacy_model_reports_no_volume() -> None:
    legacy = SymbolSpec(symbol="XYZ", price=100, volume_per_second=20)
    assert run_virtual(_volume_after, [5.0], legacy) is None
