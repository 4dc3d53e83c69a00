"""The API's request and response bodies as pydantic models: the OpenAPI schema is made from them.

Request bodies refuse unknown fields and values of the wrong kind or out of range (a 422 naming
the field and the value); the trading service's own requests (``daemon.views``) then check what
only it can judge (the symbol, lot sizes...). Decimals travel as strings or JSON numbers in
requests and always as strings in responses, so no digit is lost to binary floating point.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema

__all__ = [
    "CompletionPolicyName",
    "ErrorOut",
    "FieldErrorOut",
    "HealthOut",
    "ParentListOut",
    "ParentOut",
    "PlannedTradeOut",
    "RebalanceBody",
    "RebalanceOut",
    "RecoveryPolicyName",
    "SideName",
    "SliceStyleName",
    "TwapBody",
]

# Far beyond any real order, and small enough that no schedule arithmetic on it can overflow.
MAX_AMOUNT = Decimal("1e15")
MAX_SYMBOLS = 10_000


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class SideName(enum.Enum):
    """Buy or sell (any case is accepted)."""

    BUY = "buy"
    SELL = "sell"


class SliceStyleName(enum.Enum):
    """How each slice is sent: a market order, or a limit order resting at the near side, mid or far side."""

    MARKET = "market"
    PASSIVE = "passive"
    MID = "mid"
    TOUCH = "touch"


class CompletionPolicyName(enum.Enum):
    """What the deadline completion does when the slippage cap keeps the remainder from filling."""

    FINISH = "finish"
    LEAVE_UNFILLED = "leave_unfilled"


class RecoveryPolicyName(enum.Enum):
    """What a restart does with the parent if it is unfinished: resume, complete at once, or cancel."""

    RESUME = "resume"
    COMPLETE = "complete"
    CANCEL = "cancel"


Symbol = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^\S+$")]
Side = Annotated[SideName, BeforeValidator(_lower)]
Style = Annotated[SliceStyleName, BeforeValidator(_lower)]
Policy = Annotated[CompletionPolicyName, BeforeValidator(_lower)]
OnRestart = Annotated[RecoveryPolicyName, BeforeValidator(_lower)]
# A decimal as text: digits with an optional point and exponent ("100", "0.5", "1e3").
DECIMAL_PATTERN = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"


def _decimal(minimum: str) -> WithJsonSchema:
    # pydantic documents a decimal as any string; say which strings and which numbers it takes.
    number: dict[str, Any] = {"type": "number", minimum: 0, "maximum": float(MAX_AMOUNT)}
    text = {"type": "string", "pattern": DECIMAL_PATTERN, "examples": ["100", "0.25"]}
    return WithJsonSchema({"anyOf": [number, text]}, mode="validation")


Quantity = Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, allow_inf_nan=False), _decimal("exclusiveMinimum")]
Amount = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False), _decimal("minimum")]
Price = Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, allow_inf_nan=False), _decimal("exclusiveMinimum")]


# Settings where ``null`` is a value of its own rather than "the default".
_NULL_MEANS_NONE = frozenset({"seed", "catch_up_cap", "limit_price", "max_slippage_bps", "cash", "prices"})


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class TwapSettings(_Body):
    """The schedule and how each slice is worked; every field has the engine's default."""

    num_slices: int = Field(10, ge=1, le=100_000, description="How many slices.")
    interval_seconds: float = Field(
        60.0, gt=0, le=30 * 86_400, allow_inf_nan=False, description="Seconds between slices."
    )
    style: Style | None = Field(None, description="Slice style; default market.")
    size_jitter: float | None = Field(None, ge=0, le=0.9, allow_inf_nan=False)
    time_jitter: float | None = Field(None, ge=0, le=0.5, allow_inf_nan=False)
    seed: int | None = Field(None, ge=-(2**63), le=2**63 - 1, description="Seed of the jitter.")
    catch_up: bool | None = Field(None, description="Roll a short slice's remainder into later slices.")
    catch_up_cap: Price | None = Field(None, description="At most this many nominal slices at once.")
    offset_ticks: int | None = Field(None, ge=0, le=1_000_000)
    rest_fraction: float | None = Field(None, gt=0, le=1, allow_inf_nan=False)
    limit_price: Price | None = Field(None, description="A price the parent never trades beyond.")
    complete_at_deadline: bool | None = Field(None, description="Send the remainder marketable at the end.")
    max_slippage_bps: Amount | None = Field(None, description="Cap of the completion, from the arrival mid.")
    completion_policy: Policy | None = None
    settle_timeout: float | None = Field(None, gt=0, le=3600, allow_inf_nan=False)
    on_restart: OnRestart | None = Field(None, description="What a restart does if it is unfinished.")

    def to_request_data(self) -> dict[str, Any]:
        """The fields the caller gave, as the trading service's ``from_dict`` takes them.

        A ``null`` means "the default" except where ``null`` has a meaning of its own (no seed,
        no cap, no limit price), so those are passed on.
        """
        data: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is None and name not in _NULL_MEANS_NONE:
                continue
            data[name] = value.value if isinstance(value, enum.Enum) else value
        return data


class TwapBody(TwapSettings):
    """``POST /v1/twaps``: trade ``quantity`` of ``symbol`` in ``num_slices`` slices, one per interval."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "symbol": "AAPL",
                    "side": "buy",
                    "quantity": "1000",
                    "num_slices": 10,
                    "interval_seconds": 60,
                }
            ]
        },
    )

    symbol: Symbol
    side: Side
    quantity: Quantity


class RebalanceBody(TwapSettings):
    """``POST /v1/rebalances``: plan the trades to ``target_weights``; run them unless ``dry_run``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "target_weights": {"AAPL": "0.5", "MSFT": "0.5"},
                    "cash": "100000",
                    "dry_run": True,
                }
            ]
        },
    )

    target_weights: dict[Symbol, Amount] = Field(min_length=1, max_length=MAX_SYMBOLS)
    current_positions: dict[Symbol, Amount] | None = Field(None, max_length=MAX_SYMBOLS)
    cash: Amount | None = None
    prices: dict[Symbol, Price] | None = Field(None, max_length=MAX_SYMBOLS)
    dry_run: bool = Field(False, description="Return the plan with its reasons and send nothing.")


class FieldErrorOut(BaseModel):
    """One refused field: its name (dotted for nested fields), the value given, and why."""

    field: str
    value: Any = None
    message: str


class ErrorOut(BaseModel):
    """Every 4xx and 5xx body: a short code, a sentence, and the refused fields if any."""

    error: str
    message: str
    errors: list[FieldErrorOut] = []


class HealthOut(BaseModel):
    """``GET /v1/health``: the daemon answers."""

    status: Literal["ok"]


class ParentOut(BaseModel):
    """A parent order now: progress against its schedule and, once final, its report."""

    parent_id: str
    symbol: str
    side: str
    quantity: str
    filled: str
    remaining: str
    state: str = Field(
        description="pending, working, completing, completed, cancelled, failed, expired, recovering or held"
    )
    num_slices: int
    interval_seconds: float
    share_done: str
    share_scheduled: str
    open_children: int
    created_at: float = Field(description="Unix seconds.")
    deadline_at: float = Field(description="Unix seconds.")
    average_price: str | None = None
    report: dict[str, Any] | None = Field(None, description="The execution report, once final.")
    note: str | None = None
    is_final: bool


class ParentListOut(BaseModel):
    """``GET /v1/parents``: every parent the daemon knows, oldest first."""

    parents: list[ParentOut]


class PlannedTradeOut(BaseModel):
    """One trade of a rebalancing plan and the reason for its size."""

    symbol: str
    side: str
    quantity: str
    reference_price: str
    estimated_price: str
    notional: str
    estimated_fee: str
    reason: str
    note: str


class RebalanceOut(BaseModel):
    """A rebalance's plan and, unless it was a dry run, the parent started for each trade."""

    rebalance_id: str
    dry_run: bool
    trades: list[PlannedTradeOut]
    parent_ids: list[str]
    portfolio_value: str
    cash_before: str
    cash_after: str
