"""The simulated venue: a real venue model that runs anywhere, on the engine clock.

``SimulatedVenue`` implements ``engine.TradingGateway`` with a seeded price process, latency with
jitter, a fill model with spread, impact, partial fills and participation caps, maker/taker fees,
an account, its own rate limits and seeded fault injection. ``SimulatedVenue.demo()`` gives a
ready venue for demos and backtests.

The fill model is chosen per symbol (``SymbolSpec.impact_model``): ``legacy`` (matching.py) or
``square_root`` (model_book.py, composing impact.py, liquidity.py and queue_position.py; replays
bootstrapped by bootstrap.py). The modules here import ``engine``'s public modules and each
other, never ``backtesting``.
"""

from __future__ import annotations

from gateways.simulated.config import FaultPlan, FeeSchedule, LatencyModel, SymbolSpec, VenueRateLimit
from gateways.simulated.limits import RequestOutcome, VenueRequest
from gateways.simulated.liquidity import LiquiditySnapshot
from gateways.simulated.replay import PriceReplay
from gateways.simulated.statistics import VenueStatistics
from gateways.simulated.venue import SimulatedVenue

__all__ = [
    "FaultPlan",
    "FeeSchedule",
    "LatencyModel",
    "LiquiditySnapshot",
    "PriceReplay",
    "RequestOutcome",
    "SimulatedVenue",
    "SymbolSpec",
    "VenueRateLimit",
    "VenueRequest",
    "VenueStatistics",
]
