"""Checking and converting the planner's inputs at the edge, all before any planning starts.

Every problem raises ``InvalidInputError`` naming the field and the value; price problems are
gathered first so that one error lists every offending symbol.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from engine._planning.options import RebalanceMode, RoundingMethod, UntargetedPolicy
from engine.errors import InvalidInputError
from engine.fees import FeeModel
from engine.fields import enum_member, validate_symbol
from engine.instruments import Instrument
from engine.numbers import ZERO, Number, to_decimal, to_non_negative, to_positive

__all__ = ["PlanInputs", "parse_inputs", "parse_instruments"]  # and the settings converters

_ONE = Decimal(1)
# Weights are ratios typed by people and programs; a sum of 1.0000000001 is still "one".
_WEIGHT_SLACK = Decimal("1e-9")


@attrs.frozen
class PlanInputs:
    """The validated inputs of one plan, in Decimal, keyed by symbol (sorted).

    ``instruments`` holds only the symbols that have rules; the rest use ``Instrument`` defaults.
    """

    symbols: tuple[str, ...]
    positions: dict[str, Decimal]
    weights: dict[str, Decimal]
    prices: dict[str, Decimal]
    cash: Decimal
    portfolio_value: Decimal
    cash_weight: Decimal
    instruments: dict[str, Instrument]


def _fast_decimal(raw: Any, field: str, symbol: str | None = None) -> Decimal:
    # Plans of thousands of names convert every number; take the common types directly, and
    # build the field's name (``prices['AAPL']``) only when there is an error to report.
    kind = type(raw)
    if kind is Decimal and raw.is_finite():
        return raw  # type: ignore[no-any-return]  # checked just above: a finite Decimal
    if kind is int:
        return Decimal(raw)
    if kind is float and math.isfinite(raw):
        return Decimal(repr(raw))
    return to_decimal(raw, field if symbol is None else f"{field}[{symbol!r}]")


def _mapping(value: Any, field: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(field, value, "expected a mapping of symbol to number")
    return value


def parse_instruments(value: Any, field: str) -> dict[str, Instrument]:
    """Accept a mapping of symbol to ``Instrument`` or an iterable of instruments."""
    if value is None:
        return {}
    items: Iterable[Any] = value.values() if isinstance(value, Mapping) else value
    if isinstance(value, Mapping):
        for key, instrument in value.items():
            if not isinstance(instrument, Instrument) or instrument.symbol != key:
                raise InvalidInputError(
                    f"{field}[{key!r}]", instrument, "expected the Instrument of that symbol"
                )
    try:
        result: dict[str, Instrument] = {}
        for instrument in items:
            if not isinstance(instrument, Instrument):
                raise InvalidInputError(field, instrument, "expected engine.Instrument values")
            result[instrument.symbol] = instrument
    except TypeError:
        raise InvalidInputError(field, value, "expected a mapping or an iterable of Instrument") from None
    return result


def _numbers(value: Any, field: str, *, allow_negative: bool, negative_hint: str) -> dict[str, Decimal]:
    result: dict[str, Decimal] = {}
    for symbol, raw in _mapping(value, field).items():
        if type(symbol) is not str or not symbol or len(symbol) > 32 or symbol.strip() != symbol:
            validate_symbol(symbol, f"{field} key")  # raises, naming the field
        number = _fast_decimal(raw, field, symbol)
        if number < 0 and not allow_negative:
            raise InvalidInputError(f"{field}[{symbol!r}]", raw, f"must not be negative{negative_hint}")
        result[symbol] = number
    return result


def _prices(value: Any, needed: Iterable[str]) -> dict[str, Decimal]:
    given = _mapping(value, "prices")
    result: dict[str, Decimal] = {}
    bad: dict[str, Any] = {}
    for symbol in needed:
        if symbol not in given:
            bad[symbol] = None
            continue
        raw = given[symbol]
        try:
            price = _fast_decimal(raw, "prices")
        except InvalidInputError:
            bad[symbol] = raw
            continue
        if price <= 0:
            bad[symbol] = raw
            continue
        result[symbol] = price
    if bad:
        listing = ", ".join(
            f"{symbol}={'missing' if raw is None else repr(raw)}" for symbol, raw in bad.items()
        )
        raise InvalidInputError(
            "prices", bad, f"{len(bad)} symbol(s) need a positive finite price: {listing}"
        )
    return result


def parse_inputs(
    *,
    current_positions: Any,
    target_weights: Any,
    portfolio_value: Any,
    prices: Any,
    cash: Any,
    cash_weight: Any,
    instruments: Any,
    default_instruments: Mapping[str, Instrument],
    max_leverage: Decimal,
    allow_short: bool,
) -> PlanInputs:
    """Validate everything and return ``PlanInputs``; raise ``InvalidInputError`` on the first problem."""
    short_hint = " (pass allow_short=True to hold short positions)"
    positions = _numbers(current_positions, "current_positions", allow_negative=allow_short,
                         negative_hint=short_hint)
    weights = _numbers(target_weights, "target_weights", allow_negative=allow_short,
                       negative_hint=short_hint)
    symbols = tuple(sorted(set(positions) | set(weights)))
    price_of = _prices(prices, symbols)

    weight_sum = sum(weights.values(), ZERO)
    if weight_sum > max_leverage + _WEIGHT_SLACK:
        raise InvalidInputError(
            "target_weights", weights,
            f"weights add up to {weight_sum}, above {max_leverage}; raise max_leverage to allow leverage",
        )
    if cash_weight is None:
        cash_target = _ONE - weight_sum
    else:
        cash_target = to_decimal(cash_weight, "cash_weight")
        if cash_target < 0 and max_leverage <= 1:
            raise InvalidInputError("cash_weight", cash_weight, "must not be negative without leverage")
        if abs(weight_sum + cash_target - _ONE) > _WEIGHT_SLACK:
            raise InvalidInputError(
                "cash_weight", cash_weight,
                f"target weights ({weight_sum}) plus the cash weight must add up to 1",
            )

    invested = sum((positions[s] * price_of[s] for s in positions), ZERO)
    if portfolio_value is None and cash is None:
        raise InvalidInputError("portfolio_value", None, "give portfolio_value, cash, or both")
    value = None if portfolio_value is None else to_decimal(portfolio_value, "portfolio_value")
    if value is not None and value <= 0:
        raise InvalidInputError("portfolio_value", portfolio_value, "must be greater than zero")
    if cash is None:
        assert value is not None
        cash_amount = value - invested
        if cash_amount < 0 and max_leverage <= 1:
            raise InvalidInputError(
                "portfolio_value", portfolio_value,
                f"is below the value of the positions ({invested}): that implies negative cash",
            )
    else:
        cash_amount = to_decimal(cash, "cash")
        if cash_amount < 0 and max_leverage <= 1:
            raise InvalidInputError("cash", cash, "must not be negative without leverage")
        if value is not None:
            # Callers round portfolio_value to cents; positions × prices are exact.
            tolerance = max(Decimal("0.01"), value * Decimal("1e-9"))
            if abs(invested + cash_amount - value) > tolerance:
                raise InvalidInputError(
                    "cash", cash,
                    f"positions ({invested}) plus cash ({cash_amount}) do not match "
                    f"portfolio_value ({value})",
                )
        value = invested + cash_amount
        if value <= 0:
            raise InvalidInputError("cash", cash, f"leaves a portfolio value of {value}; it must be positive")

    rules = parse_instruments(instruments, "instruments")
    unknown = sorted(set(rules) - set(symbols))
    if unknown:
        raise InvalidInputError(
            "instruments", unknown, "rules given for symbols that are neither held nor targeted"
        )
    # Symbols without rules trade in whole shares with no minimums (the Instrument defaults).
    # Walk the smaller side: a venue table may list far more symbols than a plan touches.
    if len(default_instruments) < len(symbols):
        table = {s: rule for s, rule in default_instruments.items() if s in positions or s in weights}
    else:
        table = {s: default_instruments[s] for s in symbols if s in default_instruments}
    table.update(rules)
    return PlanInputs(
        symbols=symbols,
        positions={s: positions.get(s, ZERO) for s in symbols},
        weights=weights,
        prices=price_of,
        cash=cash_amount,
        portfolio_value=value,
        cash_weight=cash_target,
        instruments=table,
    )


# Converters of the planner's settings (attrs converters must be named functions for mypy).


def mode(value: Any) -> RebalanceMode:
    return enum_member(RebalanceMode, value, "mode")


def untargeted(value: Any) -> UntargetedPolicy:
    return enum_member(UntargetedPolicy, value, "untargeted")


def rounding(value: Any) -> RoundingMethod:
    method = enum_member(RoundingMethod, value, "rounding")
    if method is RoundingMethod.EXACT:
        from engine._planning.exact_rounding import require_solver

        require_solver()
    return method


def instruments(value: Any) -> dict[str, Instrument]:
    return parse_instruments(value, "instruments")


def fees(value: Any) -> FeeModel:
    if value is None:
        return FeeModel()
    if not isinstance(value, FeeModel):
        raise InvalidInputError("fees", value, "expected an engine.FeeModel")
    return value


def slippage(value: Number) -> Decimal:
    return to_non_negative(value, "slippage_bps")


def reserve(value: Number) -> Decimal:
    return to_non_negative(value, "cash_reserve")


def min_trade(value: Number) -> Decimal:
    return to_non_negative(value, "min_trade_notional")


def hold_tolerance(value: Number) -> Decimal:
    return to_non_negative(value, "hold_tolerance")


def absolute_band(value: Number | None) -> Decimal | None:
    return None if value is None else to_non_negative(value, "absolute_band")


def relative_band(value: Number | None) -> Decimal | None:
    return None if value is None else to_non_negative(value, "relative_band")


def turnover_cap(value: Number | None) -> Decimal | None:
    return None if value is None else to_non_negative(value, "turnover_cap")


def leverage(value: Number) -> Decimal:
    result = to_positive(value, "max_leverage")
    if result < 1:
        raise InvalidInputError("max_leverage", value, "must be at least 1")
    return result


def gross_leverage(value: Number | None) -> Decimal | None:
    return None if value is None else to_positive(value, "max_gross_leverage")


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError("allow_short", value, "expected True or False")
    return value


def time_limit(value: Number) -> float:
    return float(to_positive(value, "exact_time_limit"))
