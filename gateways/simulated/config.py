# attrs' mypy plugin reads only named functions as converters, and reports the rules of
# engine.fields as "unsupported" (it then types each __init__ argument as Any, which is right).
# mypy: disable-error-code="misc"
"""The simulated venue's knobs: symbols, latency, fees, rate limits and faults, all validated values.

Units: prices and quantities are ``Decimal`` (ints, strings, Decimals and floats accepted); times are
seconds of the engine clock; fees and spreads are basis points (1 bp = 0.01 %); probabilities are
between 0 and 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from engine.errors import InvalidInputError
from engine.fields import probability, validate_symbol
from engine.instruments import Instrument
from engine.numbers import to_decimal, to_non_negative, to_positive

__all__ = [
    "DEFAULT_REQUEST_WEIGHTS",
    "IMPACT_MODELS",
    "REQUEST_KINDS",
    "FaultPlan",
    "FeeSchedule",
    "LatencyModel",
    "SymbolSpec",
    "VenueRateLimit",
    "check_seconds",
]

REQUEST_KINDS = ("submit", "cancel", "get_order", "get_quote")
#: The fill models a symbol may use: ``legacy`` (levels ``impact_bps`` apart, refilled every step,
#: resting orders fill from the front) and ``square_root`` (see impact.py, liquidity.py and
#: queue_position.py).
IMPACT_MODELS = ("legacy", "square_root")
DEFAULT_REQUEST_WEIGHTS: Mapping[str, int] = MappingProxyType(
    {"submit": 1, "cancel": 1, "get_order": 0, "get_quote": 0}
)


def check_seconds(value: Any, field: str, *, positive: bool = False) -> float:
    """Return ``value`` as a finite float of seconds (≥ 0, or > 0 if ``positive``), else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidInputError(field, value, "expected a number of seconds")
    seconds = float(value)
    if not math.isfinite(seconds):
        raise InvalidInputError(field, value, "must be finite (no NaN or infinity)")
    if seconds < 0 or (positive and seconds == 0):
        reason = "must be greater than zero" if positive else "must not be negative"
        raise InvalidInputError(field, value, reason)
    return seconds


# A probability of a fault, from 0 to 1 (the rule of engine.fields, naming its field).
_PROBABILITY = probability()


def _displayed_size(value: Any) -> Decimal:
    return to_positive(value, 'displayed_size')


def _event(value: Any) -> float:
    return check_seconds(value, 'event')


def _event_jitter(value: Any) -> float:
    return check_seconds(value, 'event_jitter')


def _impact_bps(value: Any) -> Decimal:
    return to_non_negative(value, 'impact_bps')


def _lot_size(value: Any) -> Decimal:
    return to_positive(value, 'lot_size')


def _maker_bps(value: Any) -> Decimal:
    return to_decimal(value, "maker_bps")


def _min_notional(value: Any) -> Decimal:
    return to_non_negative(value, 'min_notional')


def _min_quantity(value: Any) -> Decimal:
    return to_non_negative(value, 'min_quantity')


def _period(value: Any) -> float:
    return check_seconds(value, 'period', positive=True)


def _price(value: Any) -> Decimal:
    return to_positive(value, 'price')


def _request(value: Any) -> float:
    return check_seconds(value, 'request')


def _request_jitter(value: Any) -> float:
    return check_seconds(value, 'request_jitter')


def _spread_bps(value: Any) -> Decimal:
    return to_non_negative(value, 'spread_bps')


def _taker_bps(value: Any) -> Decimal:
    return to_non_negative(value, 'taker_bps')


def _tick_size(value: Any) -> Decimal:
    return to_positive(value, 'tick_size')


def _volatility(value: Any) -> float:
    return check_seconds(value, 'volatility')


def _volume_per_second(value: Any) -> Decimal:
    return to_non_negative(value, 'volume_per_second')


def _symbol(value: Any) -> str:
    return validate_symbol(value)


def _impact_model(value: Any) -> str:
    if not isinstance(value, str) or value.strip().lower() not in IMPACT_MODELS:
        raise InvalidInputError("impact_model", value, f"expected one of {', '.join(IMPACT_MODELS)}")
    return value.strip().lower()


def _impact_coefficient(value: Any) -> float:
    return check_seconds(value, "impact_coefficient")  # a finite number ≥ 0


def _resilience_half_life(value: Any) -> float:
    return check_seconds(value, "resilience_half_life", positive=True)


def _refill_rate(value: Any) -> float:
    return check_seconds(value, "refill_rate", positive=True)  # a finite number > 0


def _levels(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise InvalidInputError("depth_levels", value, "expected a whole number from 1 to 1000")
    return value


@attrs.frozen(kw_only=True)
class SymbolSpec:
    """One simulated symbol: its venue rules and how its market behaves.

    - ``price``: the starting mid price.
    - ``volatility``: standard deviation of the mid's log return over one day (86,400 s of the
      engine clock); each price step of ``s`` seconds moves by ``volatility × sqrt(s / 86400)``.
      0 keeps the mid still (the quote then moves only through ``SimulatedVenue.set_quote``).
    - ``spread_bps``: the bid–ask spread in basis points of the mid (at least one tick).
    - ``displayed_size``: quantity shown at each of ``depth_levels`` price levels per side.
    - ``impact_bps``: distance between consecutive levels, in basis points of the touch (at least
      one tick), so taking more than the displayed size pays more.
    - ``volume_per_second``: average quantity the market trades per second; resting limit orders
      fill from a participation share of it.
    - ``tick_size``, ``lot_size``, ``min_quantity``, ``min_notional``: the venue's order rules.

    The market model (``impact_model``; the other keys below only matter for ``square_root``):

    - ``impact_model``: ``"legacy"`` (the default: levels ``impact_bps`` apart that refill every
      step, resting orders fill from the front of the queue; old scenarios run as they always did)
      or ``"square_root"``: a clip of ``q`` costs ``impact_coefficient × σ × sqrt(q / V)`` beyond
      the half spread, ``σ`` and ``V`` the volatility and volume over one day (impact.py).
    - ``impact_coefficient``: ``Y`` of the square-root law (order one; default 1).
    - ``permanent_share``: share of each clip's peak impact that stays in the mid (default 0.1).
    - ``resilience_half_life``: seconds (at the symbol's typical volume rate) for the transient
      impact to halve; it decays in traded volume, faster in busy markets (default 120).
    - ``refill_rate``: displayed depth restored per share the market trades (default 1).
    - ``adverse_selection``: from 0 to 1, how much less a resting order fills in a step whose
      price ends on the far side of it (moved away) than in one that moves through it (default 0.5).
    """

    symbol: str = attrs.field(converter=_symbol)
    price: Decimal = attrs.field(converter=_price)
    volatility: float = attrs.field(default=0.02, converter=_volatility)
    spread_bps: Decimal = attrs.field(default=Decimal(2), converter=_spread_bps)
    displayed_size: Decimal = attrs.field(default=Decimal(1000), converter=_displayed_size)
    depth_levels: int = attrs.field(default=5, converter=_levels)
    impact_bps: Decimal = attrs.field(default=Decimal(1), converter=_impact_bps)
    volume_per_second: Decimal = attrs.field(
        default=Decimal(100), converter=_volume_per_second
    )
    tick_size: Decimal = attrs.field(default=Decimal("0.01"), converter=_tick_size)
    lot_size: Decimal = attrs.field(default=Decimal(1), converter=_lot_size)
    min_quantity: Decimal = attrs.field(default=Decimal(0), converter=_min_quantity)
    min_notional: Decimal = attrs.field(default=Decimal(0), converter=_min_notional)
    impact_model: str = attrs.field(default="legacy", converter=_impact_model)
    impact_coefficient: float = attrs.field(default=1.0, converter=_impact_coefficient)
    permanent_share: float = attrs.field(default=0.1, converter=_PROBABILITY)
    resilience_half_life: float = attrs.field(default=120.0, converter=_resilience_half_life)
    refill_rate: float = attrs.field(default=1.0, converter=_refill_rate)
    adverse_selection: float = attrs.field(default=0.5, converter=_PROBABILITY)

    @property
    def is_legacy(self) -> bool:
        """True when the symbol uses the legacy fill model."""
        return self.impact_model == "legacy"

    @property
    def instrument(self) -> Instrument:
        """The venue rules of this symbol."""
        return Instrument(
            self.symbol,
            tick_size=self.tick_size,
            lot_size=self.lot_size,
            min_quantity=self.min_quantity,
            min_notional=self.min_notional,
        )


@attrs.frozen(kw_only=True)
class LatencyModel:
    """One-way delays in seconds, each ``base + uniform(0, jitter)`` drawn from the venue's seed.

    ``request`` applies on the way to the venue and again on the way back (so a call takes about
    twice it); ``event`` is the delay from the venue's event to its delivery on the stream.
    """

    request: float = attrs.field(default=0.02, converter=_request)
    request_jitter: float = attrs.field(default=0.01, converter=_request_jitter)
    event: float = attrs.field(default=0.005, converter=_event)
    event_jitter: float = attrs.field(default=0.002, converter=_event_jitter)

    @classmethod
    def zero(cls) -> LatencyModel:
        """No latency at all: requests and events arrive at once (in order)."""
        return cls(request=0, request_jitter=0, event=0, event_jitter=0)


@attrs.frozen(kw_only=True)
class FeeSchedule:
    """Fees in basis points of each fill's notional: ``maker_bps`` for resting fills, ``taker_bps``
    for taking ones. A negative maker fee is a rebate."""

    maker_bps: Decimal = attrs.field(default=Decimal(1), converter=_maker_bps)
    taker_bps: Decimal = attrs.field(default=Decimal(5), converter=_taker_bps)

    def fee(self, notional: Decimal, *, is_maker: bool) -> Decimal:
        """The fee for one fill of ``notional`` (exact, in the quote currency)."""
        return notional * (self.maker_bps if is_maker else self.taker_bps) / Decimal(10_000)


def _weights(value: Any) -> Mapping[str, int]:
    if not isinstance(value, Mapping):
        raise InvalidInputError("weights", value, "expected a mapping of request kind to weight")
    weights = dict.fromkeys(REQUEST_KINDS, 0)
    for kind, weight in value.items():
        if kind not in REQUEST_KINDS:
            raise InvalidInputError("weights", kind, f"unknown request kind; expected one of {REQUEST_KINDS}")
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise InvalidInputError(f"weights[{kind!r}]", weight, "expected a whole number ≥ 0")
        weights[kind] = weight
    return MappingProxyType(weights)


def _limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError("limit", value, "expected a whole number ≥ 1")
    return value


@attrs.frozen(kw_only=True)
class VenueRateLimit:
    """At most ``limit`` weight per rolling ``period`` seconds, counted at arrival at the venue.

    A request at time ``t`` is admitted when the weight admitted in ``(t - period, t]`` plus its
    own weight is at most ``limit``; otherwise the venue answers ``RateLimitedError`` with the
    ``retry_after`` at which it would be admitted. Refused requests consume no weight. ``weights``
    gives each request kind's weight; kinds not named weigh 0.
    """

    limit: int = attrs.field(converter=_limit)
    period: float = attrs.field(converter=_period)
    weights: Mapping[str, int] = attrs.field(
        default=DEFAULT_REQUEST_WEIGHTS, converter=_weights, hash=False
    )
    name: str = ""

    def weight(self, kind: str) -> int:
        """The weight of one request of ``kind`` under this limit."""
        return self.weights.get(kind, 0)


@attrs.frozen(kw_only=True)
class FaultPlan:
    """Seeded fault probabilities, each drawn independently per opportunity.

    - ``drop_ack``: per accepted submit, the answer is lost: the order lives at the venue, and the
      caller gets ``OrderStateUnknownError`` after the venue's ``request_timeout``.
    - ``reject``: per submit that passed validation, the venue refuses it (``OrderRejectedError``;
      nothing is stored).
    - ``reject_after_accept``: per accepted order, the venue acks it and then, before it can
      fill, rejects it with an ``OrderRejected`` event.
    - ``duplicate_fill``: per fill event, the stream delivers it twice.
    - ``reorder_events``: per event, the stream holds it back and delivers it right after the next
      one (or after 1 s if no other event comes by then; only a real swap is counted).
    - ``drop_stream``: per event delivered while a subscription is connected, the stream drops
      right after it: every connected subscription raises ``EventStreamDroppedError``.
    - ``unavailable``: per request, the connection fails before sending
      (``GatewayUnavailableError``; the venue never sees it).
    """

    drop_ack: float = attrs.field(default=0.0, converter=_PROBABILITY)
    reject: float = attrs.field(default=0.0, converter=_PROBABILITY)
    reject_after_accept: float = attrs.field(default=0.0, converter=_PROBABILITY)
    duplicate_fill: float = attrs.field(default=0.0, converter=_PROBABILITY)
    reorder_events: float = attrs.field(default=0.0, converter=_PROBABILITY)
    drop_stream: float = attrs.field(default=0.0, converter=_PROBABILITY)
    unavailable: float = attrs.field(default=0.0, converter=_PROBABILITY)

    @classmethod
    def none(cls) -> FaultPlan:
        """No faults at all."""
        return cls()
