"""What a backtest produced: per variant the parents' reports, fills, price path and venue counters.

``BacktestResult.to_json()`` is the ``report.json`` of the command line: sorted keys, decimals as
strings, virtual timestamps, and order ids relabelled in order of appearance (``P1``, ``P1.3``) so
the same scenario and seed give the same bytes on every machine.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from backtesting.recording import PricePoint
from backtesting.scenario import Scenario
from engine.numbers import ZERO
from engine.orders import OrderSide
from engine.rebalancing_plan import RebalancingPlan
from engine.twap_executor import ExecutionReport, TWAPParams

__all__ = ["BacktestResult", "FillPoint", "ParentSummary", "VariantResult", "VariantTotals"]

_BPS = Decimal(10_000)
_PLACES = Decimal("0.0001")
_CASH = Decimal("0.01")


def _round(value: Decimal, places: Decimal = _PLACES) -> Decimal:
    return value.quantize(places)


@attrs.frozen
class FillPoint:
    """One fill of one parent's child order."""

    time: float
    symbol: str
    parent_id: str
    quantity: Decimal
    price: Decimal
    completion: bool


@attrs.frozen
class ParentSummary:
    """One row of the summary table: what one parent achieved and what it cost."""

    symbol: str
    side: OrderSide
    quantity: Decimal
    filled: Decimal
    avg_price: Decimal | None
    slippage_bps: Decimal | None
    shortfall: Decimal | None
    shortfall_bps: Decimal | None
    fees: Decimal
    aggressive_share: Decimal
    final_state: str

    @classmethod
    def of(cls, report: ExecutionReport) -> ParentSummary:
        """The row of ``report``."""
        aggressive = report.aggressive_quantity / report.filled_quantity if report.filled_quantity else ZERO
        shortfall = report.implementation_shortfall
        return cls(
            symbol=report.symbol, side=report.side, quantity=report.quantity,
            filled=report.filled_quantity,
            avg_price=None if report.avg_price is None else _round(report.avg_price),
            slippage_bps=report.slippage_bps,
            shortfall=None if shortfall is None else _round(shortfall, _CASH),
            shortfall_bps=report.implementation_shortfall_bps, fees=_round(report.fees, _CASH),
            aggressive_share=_round(aggressive), final_state=report.final_state.value,
        )


@attrs.frozen
class VariantTotals:
    """One row of the comparison table: a variant's parents taken together.

    Shares and costs are weighted by notional at the arrival price: ``completion_share`` is the
    filled share, ``shortfall_bps`` the implementation shortfall over the ordered notional,
    ``aggressive_share`` the share of the filled notional that deadline completion filled.
    """

    variant: str
    parents: int
    fully_filled: int
    completion_share: Decimal
    shortfall_bps: Decimal
    slippage_bps: Decimal
    fees: Decimal
    aggressive_share: Decimal
    child_orders: int
    rate_limit_violations: int
    duration: float


@attrs.frozen
class VariantResult:
    """One variant's run: its parameters, the parents' reports and what the venue saw."""

    name: str
    params: TWAPParams
    sells_first: bool
    reports: tuple[ExecutionReport, ...]
    fills: tuple[FillPoint, ...]
    prices: Mapping[str, tuple[PricePoint, ...]]
    venue_statistics: Mapping[str, Any]
    queue_statistics: Mapping[str, Any]
    cash_after: Decimal
    positions_after: Mapping[str, Decimal]
    #: Per parent id with quantity left unfilled: the average price of sweeping it through the
    #: venue's book when the variant ended (``compare`` values unfilled quantity at it).
    sweep_prices: Mapping[str, Decimal] = attrs.field(factory=dict)

    def summary(self) -> tuple[ParentSummary, ...]:
        """One row per parent, in the order they were started."""
        return tuple(ParentSummary.of(report) for report in self.reports)

    def totals(self) -> VariantTotals:
        """The parents taken together (see ``VariantTotals``)."""
        ordered = filled = shortfall = slipped = fees = aggressive = ZERO
        for report in self.reports:
            reference = report.arrival_price or report.avg_price or ZERO
            ordered += report.quantity * reference
            filled += report.filled_quantity * reference
            shortfall += report.implementation_shortfall or ZERO
            slipped += (report.slippage_bps or ZERO) * report.filled_quantity * reference
            fees += report.fees
            aggressive += report.aggressive_quantity * reference
        started = min((r.started_at for r in self.reports), default=0.0)
        ended = max((r.ended_at for r in self.reports), default=0.0)
        return VariantTotals(
            variant=self.name, parents=len(self.reports),
            fully_filled=sum(1 for r in self.reports if r.filled_quantity == r.quantity),
            # Nothing ordered is nothing left to do: complete.
            completion_share=_round(filled / ordered) if ordered else Decimal(1),
            shortfall_bps=_round(shortfall / ordered * _BPS) if ordered else ZERO,
            slippage_bps=_round(slipped / filled) if filled else ZERO,
            fees=_round(fees, _CASH), aggressive_share=_round(aggressive / filled) if filled else ZERO,
            child_orders=sum(r.child_orders for r in self.reports),
            rate_limit_violations=int(self.venue_statistics.get("rate_limit_violations", 0)),
            duration=round(ended - started, 6),
        )


@attrs.frozen
class BacktestResult:
    """A whole backtest: the scenario, the seed, the plan (if any) and one result per variant."""

    scenario: Scenario
    seed: int
    plan: RebalancingPlan | None
    variants: tuple[VariantResult, ...]

    def variant(self, name: str) -> VariantResult:
        """The result of the variant called ``name``."""
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(name)

    @property
    def reports(self) -> tuple[ExecutionReport, ...]:
        """The first variant's reports (the only one when the scenario names no variants)."""
        return self.variants[0].reports

    def comparison(self) -> tuple[VariantTotals, ...]:
        """One totals row per variant."""
        return tuple(variant.totals() for variant in self.variants)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (see the module docstring)."""
        data = {
            "scenario": {"name": self.scenario.name, "description": self.scenario.description,
                         "file": self.scenario.path.replace("\\", "/").rsplit("/", 1)[-1]},
            "seed": self.seed,
            "plan": None if self.plan is None else _plan_dict(self.plan),
            "comparison": [_plain(attrs.asdict(row)) for row in self.comparison()],
            "variants": [_variant_dict(variant) for variant in self.variants],
        }
        return _plain(data)  # type: ignore[no-any-return]  # _plain keeps the dict a dict

    def to_json(self) -> str:
        """``to_dict()`` as indented JSON with sorted keys and a final newline."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2) + "\n"


def _plan_dict(plan: RebalancingPlan) -> dict[str, Any]:
    return {
        "trades": [attrs.asdict(trade) for trade in plan.trades],
        "allocations": [attrs.asdict(row) for row in plan.allocations],
        "cash_before": plan.cash_before, "cash_after": plan.cash_after,
        "portfolio_value_before": plan.portfolio_value_before, "turnover": plan.turnover,
        "total_fees": plan.total_fees, "rounding_error": plan.rounding_error,
    }


def _variant_dict(variant: VariantResult) -> dict[str, Any]:
    labels = _labels(variant)
    reports = [_relabel(report.to_dict(), labels) for report in variant.reports]
    return {
        "name": variant.name,
        "params": attrs.asdict(variant.params),
        "sells_first": variant.sells_first,
        "summary": [attrs.asdict(row) for row in variant.summary()],
        "totals": attrs.asdict(variant.totals()),
        "reports": reports,
        "venue": dict(variant.venue_statistics),
        "queue": dict(variant.queue_statistics),
        "cash_after": variant.cash_after,
        "positions_after": dict(sorted(variant.positions_after.items())),
    }


def _labels(variant: VariantResult) -> dict[str, str]:
    """Readable, run-independent names for the parents (``P1``) and their children (``P1.1``)."""
    labels: dict[str, str] = {}
    for number, report in enumerate(variant.reports, start=1):
        parent = f"P{number}"
        labels[report.parent_id] = parent
        children = [cid for s in report.slices for cid in s.child_ids]
        children += [cid for cid in getattr(report, "completion_child_ids", ()) if cid not in children]
        for index, child in enumerate(children, start=1):
            labels.setdefault(child, f"{parent}.{index}")
    return labels


def _relabel(value: Any, labels: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return labels.get(value, value)
    if isinstance(value, dict):
        return {key: _relabel(item, labels) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_relabel(item, labels) for item in value]
    return value


def _plain(value: Any) -> Any:
    """Decimals as strings, enums as values, mappings and tuples as dicts and lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
