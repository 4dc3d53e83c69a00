"""The values the trading service takes and returns: requests, parent views, progress, statistics.

Requests validate every field when built and raise ``InvalidInputError`` naming the field and
the value; ``from_dict`` also refuses unknown keys. Views are frozen snapshots with ``to_dict()``
giving JSON-ready data (decimals as strings, times as Unix seconds).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from engine import InvalidInputError, OrderSide, TWAPParams
from engine.numbers import to_non_negative, to_positive

__all__ = [
    "FillView",
    "LatencySummary",
    "LimitUse",
    "ParentView",
    "PlannedTradeView",
    "ProgressEvent",
    "RebalanceRequest",
    "RebalanceView",
    "RecoveryPolicy",
    "ServiceStatistics",
    "TwapRequest",
]

# TWAP settings a request may carry besides the schedule (the engine's ``TWAPParams`` fields that
# do not depend on the engine clock).
TWAP_OPTIONS = (
    "style",
    "size_jitter",
    "time_jitter",
    "seed",
    "catch_up",
    "catch_up_cap",
    "offset_ticks",
    "rest_fraction",
    "limit_price",
    "complete_at_deadline",
    "max_slippage_bps",
    "completion_policy",
    "settle_timeout",
)


class RecoveryPolicy(enum.Enum):
    """What a restart does with a parent it finds unfinished.

    ``RESUME`` works the remaining quantity over the remaining schedule (or at once if the deadline
    has passed), ``COMPLETE`` sends the remaining quantity at once, ``CANCEL`` stops it as it is.
    """

    RESUME = "resume"
    COMPLETE = "complete"
    CANCEL = "cancel"


def _symbol(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("symbol", value, "expected a non-empty string")
    return value


def _side(value: Any) -> OrderSide:
    return OrderSide.parse(value)


def _quantity(value: Any) -> Decimal:
    return to_positive(_number(value, "quantity"), "quantity")


def _number(value: Any, field: str) -> Any:
    if isinstance(value, bool):
        raise InvalidInputError(field, value, "expected a number")
    return value


def _num_slices(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
        raise InvalidInputError("num_slices", value, "expected a whole number from 1 to 100000")
    return value


def _interval(value: Any) -> float:
    result = float(to_positive(_number(value, "interval_seconds"), "interval_seconds"))
    if result > 30 * 86_400:
        raise InvalidInputError("interval_seconds", value, "must be at most 30 days")
    return result


def _options(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError("options", value, "expected a mapping of TWAP settings")
    for key in value:
        if key not in TWAP_OPTIONS:
            expected = ", ".join(TWAP_OPTIONS)
            raise InvalidInputError(key, value[key], f"not a TWAP setting; expected one of {expected}")
    # Validated by the engine's own converters: the error names the setting and its value.
    TWAPParams(**value)
    return dict(value)


def _policy(value: Any) -> RecoveryPolicy:
    if isinstance(value, RecoveryPolicy):
        return value
    try:
        return RecoveryPolicy(str(value).lower())
    except ValueError:
        raise InvalidInputError(
            "on_restart", value, f"expected one of {', '.join(p.value for p in RecoveryPolicy)}"
        ) from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


def _from_dict(cls: type[Any], data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidInputError(what, data, "expected an object")
    fields = {a.name for a in attrs.fields(cls)}
    values: dict[str, Any] = {}
    options: dict[str, Any] = dict(data.get("options") or {}) if "options" in fields else {}
    for key, value in data.items():
        if key in fields:
            values[key] = value
        elif "options" in fields and key in TWAP_OPTIONS:
            options[key] = value
        else:
            raise InvalidInputError(str(key), value, f"not a field of {what}")
    if "options" in fields:
        values["options"] = options
    return values


@attrs.frozen(kw_only=True)
class TwapRequest:
    """One TWAP parent to run: ``quantity`` of ``symbol`` over ``num_slices`` × ``interval_seconds``.

    ``options`` holds any further TWAP settings (``TWAP_OPTIONS``: style, jitter, limit price,
    completion...), validated as the engine's ``TWAPParams`` validates them; ``on_restart`` says
    what a restart does with the parent if it is unfinished.
    """

    symbol: str = attrs.field(converter=_symbol)
    side: OrderSide = attrs.field(converter=_side)
    quantity: Decimal = attrs.field(converter=_quantity)
    num_slices: int = attrs.field(default=10, converter=_num_slices)
    interval_seconds: float = attrs.field(default=60.0, converter=_interval)
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=_options, hash=False)
    on_restart: RecoveryPolicy = attrs.field(default=RecoveryPolicy.RESUME, converter=_policy)

    @classmethod
    def from_dict(cls, data: Any) -> TwapRequest:
        """A request from JSON-like data; TWAP settings may sit at the top level or in ``options``."""
        return cls(**_from_dict(cls, data, "twap request"))

    @property
    def duration(self) -> float:
        """Seconds from the first slice to the deadline."""
        return self.num_slices * self.interval_seconds

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data; ``from_dict(to_dict())`` gives an equal request."""
        return {
            "symbol": self.symbol,
            "side": self.side.value,
            "quantity": str(self.quantity),
            "num_slices": self.num_slices,
            "interval_seconds": self.interval_seconds,
            "options": _jsonable(self.options),
            "on_restart": self.on_restart.value,
        }


def _weights(value: Any, field: str) -> Mapping[str, Decimal]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(field, value, "expected a mapping of symbol to number")
    result: dict[str, Decimal] = {}
    for symbol, number in value.items():
        _symbol(symbol)
        result[symbol] = to_non_negative(_number(number, f"{field}.{symbol}"), f"{field}.{symbol}")
    return result


def _target_weights(value: Any) -> Mapping[str, Decimal]:
    result = _weights(value, "target_weights")
    if not result:
        raise InvalidInputError("target_weights", value, "expected at least one symbol")
    return result


def _positions(value: Any) -> Mapping[str, Decimal]:
    return _weights(value, "current_positions")


def _prices(value: Any) -> Mapping[str, Decimal] | None:
    if value is None:
        return None
    result = _weights(value, "prices")
    for symbol, price in result.items():
        if price <= 0:
            raise InvalidInputError(f"prices.{symbol}", price, "must be greater than zero")
    return result


def _cash(value: Any) -> Decimal | None:
    return None if value is None else to_non_negative(_number(value, "cash"), "cash")


def _dry_run(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError("dry_run", value, "expected true or false")
    return value


@attrs.frozen(kw_only=True)
class RebalanceRequest:
    """Move a portfolio to ``target_weights``: plan the trades, then run each as a TWAP parent.

    ``current_positions`` and ``cash`` describe the portfolio (positions default to none, cash is
    required unless positions alone make the value); ``prices`` default to the venue's mid quotes.
    ``dry_run`` returns the plan with its reasons and sends nothing.
    """

    target_weights: Mapping[str, Decimal] = attrs.field(converter=_target_weights, hash=False)
    current_positions: Mapping[str, Decimal] = attrs.field(factory=dict, converter=_positions, hash=False)
    cash: Decimal | None = attrs.field(default=None, converter=_cash)
    prices: Mapping[str, Decimal] | None = attrs.field(default=None, converter=_prices, hash=False)
    dry_run: bool = attrs.field(default=False, converter=_dry_run)
    num_slices: int = attrs.field(default=10, converter=_num_slices)
    interval_seconds: float = attrs.field(default=60.0, converter=_interval)
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=_options, hash=False)
    on_restart: RecoveryPolicy = attrs.field(default=RecoveryPolicy.RESUME, converter=_policy)

    @classmethod
    def from_dict(cls, data: Any) -> RebalanceRequest:
        """A request from JSON-like data."""
        return cls(**_from_dict(cls, data, "rebalance request"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "target_weights": _jsonable(self.target_weights),
            "current_positions": _jsonable(self.current_positions),
            "cash": None if self.cash is None else str(self.cash),
            "prices": None if self.prices is None else _jsonable(self.prices),
            "dry_run": self.dry_run,
            "num_slices": self.num_slices,
            "interval_seconds": self.interval_seconds,
            "options": _jsonable(self.options),
            "on_restart": self.on_restart.value,
        }


@attrs.frozen(kw_only=True)
class ParentView:
    """One parent as the service knows it now.

    ``state`` is the engine's ``ParentState`` value (pending, working, completing, completed,
    cancelled, failed, expired), ``recovering`` while a restart settles its children, or
    ``held`` when the journal's venue differs from the running one (left for the operator).
    ``share_scheduled`` is the share of the quantity the schedule wanted done by now; times are
    Unix seconds. ``report`` is the final ``ExecutionReport`` as a dict once the parent is final
    (for a parent resumed after a restart, the report of its last part, with ``filled`` over all).
    """

    parent_id: str
    symbol: str
    side: str
    quantity: Decimal
    filled: Decimal
    remaining: Decimal
    state: str
    num_slices: int
    interval_seconds: float
    share_done: Decimal
    share_scheduled: Decimal
    open_children: int
    created_at: float
    deadline_at: float
    average_price: Decimal | None = None
    report: Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    note: str | None = None

    @property
    def is_final(self) -> bool:
        """True once the parent does nothing more (``held`` parents wait for the operator)."""
        return self.state in FINAL_STATES

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        data = attrs.asdict(self, recurse=False)
        data["is_final"] = self.is_final
        return {key: _jsonable(value) for key, value in data.items()}


FINAL_STATES = frozenset({"completed", "cancelled", "failed", "expired", "held"})


@attrs.frozen(kw_only=True)
class PlannedTradeView:
    """One trade of a rebalancing plan with the reason for its size."""

    symbol: str
    side: str
    quantity: Decimal
    reference_price: Decimal
    estimated_price: Decimal
    notional: Decimal
    estimated_fee: Decimal
    reason: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {key: _jsonable(value) for key, value in attrs.asdict(self).items()}


@attrs.frozen(kw_only=True)
class RebalanceView:
    """A rebalance: its plan and, unless ``dry_run``, the parent started for each trade."""

    rebalance_id: str
    dry_run: bool
    trades: tuple[PlannedTradeView, ...]
    parent_ids: tuple[str, ...]
    portfolio_value: Decimal
    cash_before: Decimal
    cash_after: Decimal

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "rebalance_id": self.rebalance_id,
            "dry_run": self.dry_run,
            "trades": [trade.to_dict() for trade in self.trades],
            "parent_ids": list(self.parent_ids),
            "portfolio_value": str(self.portfolio_value),
            "cash_before": str(self.cash_before),
            "cash_after": str(self.cash_after),
        }


@attrs.frozen(kw_only=True)
class FillView:
    """One fill of a child order."""

    client_order_id: str
    trade_id: str
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {key: _jsonable(value) for key, value in attrs.asdict(self).items()}


@attrs.frozen(kw_only=True)
class ProgressEvent:
    """One item of the progress stream.

    ``kind`` is ``parent_created``, ``parent_progress`` (after a fill, and every few seconds while
    a parent works), ``parent_final`` or ``fill``; ``parent`` is the parent's view at that moment;
    ``fill`` is set for ``fill``. ``timestamp`` is Unix seconds.
    """

    kind: str
    parent_id: str
    timestamp: float
    parent: ParentView | None = None
    fill: FillView | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "kind": self.kind,
            "parent_id": self.parent_id,
            "timestamp": self.timestamp,
            "parent": None if self.parent is None else self.parent.to_dict(),
            "fill": None if self.fill is None else self.fill.to_dict(),
        }


# Bucket upper bounds (seconds) of the latency summaries: prometheus-style, cumulative counts.
LATENCY_BOUNDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@attrs.frozen(kw_only=True)
class LatencySummary:
    """Observations of a duration: count, sum, largest, and cumulative counts per bucket bound."""

    count: int
    total_seconds: float
    max_seconds: float
    buckets: tuple[tuple[float, int], ...]


@attrs.frozen(kw_only=True)
class LimitUse:
    """One configured rate limit and how much of its rolling window the sends use now."""

    name: str
    limit: int
    period_seconds: float
    used: int


@attrs.frozen(kw_only=True)
class ServiceStatistics:
    """The counters the metrics need, as one snapshot.

    Orders, cancels, 429s and queue depth come from the engine's ``RateLimitedOrderQueue``;
    ``fills`` counts distinct fills (by trade id) seen from the venue; ``limits`` counts the sends
    of each configured limit in its current rolling window; ``parents_by_state`` counts parents
    per ``ParentView.state``; ``slice_lateness`` is each finished slice's send time minus its
    scheduled time; ``journal_write_latency`` times each journal transaction (empty without one).
    """

    orders_sent: int
    orders_accepted: int
    orders_rejected: int
    orders_failed: int
    cancels_sent: int
    fills: int
    rate_limited: int
    queue_depth: int
    in_flight: int
    limits: tuple[LimitUse, ...]
    parents_by_state: Mapping[str, int] = attrs.field(hash=False)
    slice_lateness: LatencySummary
    journal_write_latency: LatencySummary
    journal_enabled: bool
