"""What a trade is expected to cost: commission (basis points, per share, minimum per order).

The planner charges these estimates against cash so a plan never spends money that fees would
take; slippage is a separate estimate on the price (see ``RebalancingPlanner``).
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from engine.numbers import ZERO, Number, to_non_negative

__all__ = ["FeeModel"]

_BPS = Decimal(10_000)


def _bps(value: Number) -> Decimal:
    return to_non_negative(value, "bps")


def _per_share(value: Number) -> Decimal:
    return to_non_negative(value, "per_share")


def _minimum(value: Number) -> Decimal:
    return to_non_negative(value, "minimum")


@attrs.frozen
class FeeModel:
    """Commission of one order: ``max(minimum, bps/10,000 × notional + per_share × quantity)``.

    An order that does not happen costs nothing; the minimum applies to every order that does.
    ``FeeModel()`` is free trading.
    """

    bps: Decimal = attrs.field(default=ZERO, converter=_bps)
    per_share: Decimal = attrs.field(default=ZERO, converter=_per_share)
    minimum: Decimal = attrs.field(default=ZERO, converter=_minimum)

    @property
    def is_free(self) -> bool:
        """True when every order costs nothing."""
        return self.bps == 0 and self.per_share == 0 and self.minimum == 0

    def estimate(self, quantity: Decimal, price: Decimal) -> Decimal:
        """The fee of one order of ``quantity`` (sign ignored) at ``price``."""
        quantity = abs(quantity)
        if quantity == 0:
            return ZERO
        variable = self.bps * quantity * price / _BPS + self.per_share * quantity
        return max(self.minimum, variable)

    def estimate_float(self, quantity: float, price: float) -> float:
        """``estimate`` in floats, for ranking many candidates quickly; money is settled in Decimal."""
        quantity = abs(quantity)
        if quantity == 0.0:
            return 0.0
        variable = float(self.bps) * quantity * price / 10_000.0 + float(self.per_share) * quantity
        return max(float(self.minimum), variable)
