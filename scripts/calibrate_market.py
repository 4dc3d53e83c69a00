"""Calibrate the simulated venue's square-root market model: measure it, print it against its formulas.

``.venv/bin/python scripts/calibrate_market.py [--paths N]`` (after the README's set-up; default 40
paths). Everything runs on virtual time against ``SimulatedVenue``, through its public calls
only (submit, cancel, quotes, the event log), on two markets:

- ``walk``: a random-walk symbol (price 100, 2% daily volatility, 20 shares a second, 4 bps
  spread, 100 shares on each of 50 levels, a 0.0001 tick so that ticks hide nothing);
- ``thin``: the thin-name example's bars (``examples/data/thin_name_bars.csv``) with its symbol
  settings under the square-root model, a 10-bar bootstrap so that each path differs, and its
  0.01 tick (about 4 bps, which shows in the small clips).

It prints, then puts in one JSON object on the last line:

1. ``impact``: per market and clip size (as a share of one minute's typical volume), the
   measured cost per share beyond the touch (bps, mean over paths) against the law
   ``Y × σ × sqrt(q / V)``; ``thin`` also shows the legacy model's cost for the same clips.
2. ``resilience``: after a clip of one minute's volume on ``walk``, the ask's excess over a twin
   venue without the clip (same seed, same path): the measured half-life of its transient part
   against ``resilience_half_life``, and the part left after 30 minutes against the permanent
   share of the peak (``θ × 1.5 × cost``).
3. ``fills``: resting buys of the displayed size, one tick inside the spread, at the bid and
   about 2-4 and 10-12 bps below it, each for 90 and 300 seconds: the share filled completely and
   the share touched at all, against the reflection-principle bound on the market reaching the price
   (``2 Φ(-d / (σ sqrt(T)))``, ``d`` the distance below the bid); and adverse selection: the mean
   move of the mid over the horizon for the orders that filled against those that did not (bps).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anyio
import structlog

from engine import Order, OrderFilled, OrderSide, OrderType, run_virtual
from gateways.simulated import LatencyModel, PriceReplay, SimulatedVenue, SymbolSpec

ROOT = Path(__file__).resolve().parent.parent
THIN_BARS = ROOT / "examples" / "data" / "thin_name_bars.csv"
SHARES_OF_A_MINUTE = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
THIN = {"spread_bps": 20, "displayed_size": 150, "depth_levels": 20, "impact_bps": 15}


def walk_spec(**overrides: Any) -> SymbolSpec:
    """The ``walk`` market's symbol."""
    options: dict[str, Any] = {
        "symbol": "WALK", "price": 100, "volatility": 0.02, "spread_bps": 4, "displayed_size": 100,
        "depth_levels": 50, "volume_per_second": 20, "tick_size": "0.0001", "impact_model": "square_root",
    }
    options.update(overrides)
    return SymbolSpec(**options)


def make_venue(market: str, seed: int, model: str = "square_root") -> SimulatedVenue:
    """A fresh venue of ``market`` (``walk`` or ``thin``) without latency."""
    if market == "walk":
        spec = walk_spec(impact_model=model)
        return SimulatedVenue([spec], seed=seed, latency=LatencyModel.zero(), cash=10**9)
    replay = PriceReplay.from_csv(THIN_BARS, specs={"THIN": {**THIN, "impact_model": model}})
    return SimulatedVenue(replay, seed=seed, latency=LatencyModel.zero(), cash=10**9, bootstrap_block=10)


def symbol_of(market: str) -> str:
    """The one symbol of ``market``."""
    return "WALK" if market == "walk" else "THIN"


def law(market: str) -> tuple[float, float, float]:
    """``(Y, σ per square-root second, volume per second)`` as the model reads them: the walk's
    from its spec, the replay's measured on its bars."""
    if market == "walk":
        spec = walk_spec()
        return spec.impact_coefficient, spec.volatility / math.sqrt(86_400), float(spec.volume_per_second)
    replay = PriceReplay.from_csv(THIN_BARS, specs={"THIN": {**THIN, "impact_model": "square_root"}})
    sigma, rate = replay.source().typical("THIN")
    return replay.spec("THIN").impact_coefficient, sigma, rate


def _fills(venue: SimulatedVenue, client_order_id: str) -> list[OrderFilled]:
    return [e for e in venue.event_log if isinstance(e, OrderFilled) and e.client_order_id == client_order_id]


async def _clip_cost(market: str, seed: int, quantity: int, model: str) -> float | None:
    """Cost per share beyond the touch (bps) of one market buy sent half an hour in."""
    symbol = symbol_of(market)
    async with make_venue(market, seed, model) as venue:
        await anyio.sleep(1800)
        ask = venue.quote_nowait(symbol).ask
        clip = Order(symbol=symbol, side=OrderSide.BUY, quantity=quantity, client_order_id="c1")
        await venue.submit_order(clip)
        fills = _fills(venue, "c1")
        filled = sum((fill.quantity for fill in fills), Decimal(0))
        if filled < quantity:
            return None  # the book showed less than the clip
        average = sum((fill.quantity * fill.price for fill in fills), Decimal(0)) / filled
        return float((average - ask) / ask) * 1e4


def measure_impact(paths: int) -> list[dict[str, Any]]:
    """The impact curve of both markets (and the legacy model's on ``thin``)."""
    rows = []
    for market in ("walk", "thin"):
        coefficient, sigma, rate = law(market)
        for share in SHARES_OF_A_MINUTE:
            quantity = max(1, round(share * rate * 60))
            model_bps = round(coefficient * sigma * math.sqrt(quantity / rate) * 1e4, 2)
            row: dict[str, Any] = {
                "market": market, "share_of_minute_volume": share, "quantity": quantity,
                "model_bps": model_bps,
            }
            for model in ("square_root", "legacy") if market == "thin" else ("square_root",):
                costs = [run_virtual(_clip_cost, market, seed, quantity, model) for seed in range(paths)]
                kept = [cost for cost in costs if cost is not None]
                key = "measured_bps" if model == "square_root" else "legacy_bps"
                row[key] = round(statistics.fmean(kept), 2) if kept else None
            rows.append(row)
    return rows


async def _excess_path(seed: int, quantity: int) -> list[float]:
    """The ask of a venue that took a clip at 0, over its twin's, in bps, at each sample time."""
    samples = [*range(0, 601, 10), 1800]
    results: list[list[float]] = []
    for clip in (True, False):
        async with make_venue("walk", seed) as venue:
            if clip:
                await venue.submit_order(Order(symbol="WALK", side=OrderSide.BUY, quantity=quantity))
            asks = []
            for time in samples:
                await anyio.sleep(time - (samples[samples.index(time) - 1] if time else 0))
                asks.append(float(venue.quote_nowait("WALK").ask))
            results.append(asks)
    return [(pushed - quiet) / quiet * 1e4 for pushed, quiet in zip(*results, strict=True)]


def measure_resilience(paths: int) -> dict[str, Any]:
    """Half-life of the transient impact and the permanent part, measured on ``walk``."""
    coefficient, sigma, rate = law("walk")
    quantity = round(rate * 60)
    spec = walk_spec()
    curves = [run_virtual(_excess_path, seed, quantity) for seed in range(paths)]
    mean = [statistics.fmean(values) for values in zip(*curves, strict=True)]
    permanent = mean[-1]
    transient = [value - permanent for value in mean[:-1]]
    half = transient[0] / 2
    half_life = None
    for index in range(1, len(transient)):
        if transient[index] <= half:
            before, after = transient[index - 1], transient[index]
            half_life = 10 * (index - 1) + 10 * (before - half) / (before - after)
            break
    cost = coefficient * sigma * math.sqrt(quantity / rate) * 1e4
    return {
        "quantity": quantity, "peak_excess_bps": round(mean[0], 2), "model_peak_bps": round(1.5 * cost, 2),
        "measured_half_life_s": None if half_life is None else round(half_life, 1),
        "model_half_life_s": spec.resilience_half_life,
        "permanent_bps": round(permanent, 2),
        "model_permanent_bps": round(spec.permanent_share * 1.5 * cost, 2),
    }


async def _rest(market: str, seed: int, ticks_below: int, horizon: int) -> tuple[bool, bool, float, float]:
    """Rest a buy ``ticks_below`` ticks under the bid (-1: one tick inside the spread) for
    ``horizon`` seconds: (filled completely, filled at all, the mid's move in bps, distance in bps)."""
    symbol = symbol_of(market)
    async with make_venue(market, seed) as venue:
        await anyio.sleep(1800)
        spec = venue.symbols[symbol]
        quote = venue.quote_nowait(symbol)
        price = quote.bid - ticks_below * spec.tick_size
        size = spec.displayed_size
        resting = Order(
            symbol=symbol, side=OrderSide.BUY, quantity=size, order_type=OrderType.LIMIT, limit_price=price,
            client_order_id="r1",
        )
        await venue.submit_order(resting)
        await anyio.sleep(horizon)
        filled = sum((fill.quantity for fill in _fills(venue, "r1")), Decimal(0))
        moved = float((venue.quote_nowait(symbol).mid - quote.mid) / quote.mid) * 1e4
        distance = float((quote.bid - price) / quote.mid) * 1e4
        return filled == size, filled > 0, moved, distance


def measure_fills(paths: int) -> list[dict[str, Any]]:
    """Fill probabilities of resting buys and the price move that comes with a fill."""
    rows = []
    for market in ("walk", "thin"):
        _, sigma, _ = law(market)
        # Below the bid by about 4 and 12 bps on ``thin``, 2 and 10 bps on ``walk``.
        ticks = (-1, 0, 1, 3) if market == "thin" else (-1, 0, 200, 1000)
        for ticks_below in ticks:
            for horizon in (90, 300):
                runs = [run_virtual(_rest, market, seed, ticks_below, horizon) for seed in range(paths)]
                distance = statistics.fmean(run[3] for run in runs) / 1e4
                bound = 1.0 if distance <= 0 else 2 * _normal_cdf(-distance / (sigma * math.sqrt(horizon)))
                filled = [run[2] for run in runs if run[0]]
                unfilled = [run[2] for run in runs if not run[1]]
                rows.append({
                    "market": market, "ticks_below_bid": ticks_below, "horizon_s": horizon,
                    "filled": round(sum(run[0] for run in runs) / paths, 3),
                    "touched": round(sum(run[1] for run in runs) / paths, 3),
                    "reach_bound": round(min(bound, 1.0), 3),
                    "mid_move_if_filled_bps": round(statistics.fmean(filled), 2) if filled else None,
                    "mid_move_if_not_bps": round(statistics.fmean(unfilled), 2) if unfilled else None,
                })
    return rows


def _normal_cdf(value: float) -> float:
    return 0.5 * (1 + math.erf(value / math.sqrt(2)))


def _print_table(title: str, rows: Sequence[dict[str, Any]]) -> None:
    print(title)
    if not rows:
        return
    columns = list(dict.fromkeys(column for row in rows for column in row))
    print("  " + "  ".join(f"{column:>12}" for column in columns))
    for row in rows:
        print("  " + "  ".join(f"{'-' if row.get(c) is None else row[c]!s:>12}" for c in columns))


def main(argv: Sequence[str] | None = None) -> None:
    """Measure, print the tables, then the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--paths", type=int, default=40, help="paths (seeds) per measurement")
    arguments = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.basicConfig(level=logging.WARNING)
    impact = measure_impact(arguments.paths)
    _print_table("impact: cost per share beyond the touch (bps) vs clip size", impact)
    resilience = measure_resilience(arguments.paths)
    _print_table("resilience after a clip of one minute's volume (walk)", [resilience])
    fills = measure_fills(arguments.paths)
    _print_table("resting buys: share filled, share touched, bound on reaching the price", fills)
    print(json.dumps({"paths": arguments.paths, "impact": impact, "resilience": resilience, "fills": fills}))


if __name__ == "__main__":
    main()
