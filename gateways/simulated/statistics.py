"""The venue's counters as a frozen snapshot."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

import attrs

__all__ = ["VenueStatistics"]


def _frozen_counts(value: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class VenueStatistics:
    """What the venue has done so far.

    ``requests`` counts requests that reached the venue (refused ones included); ``orders`` the
    accepted orders; ``rejects`` refused submits (rules, duplicates, simulated rejects) and
    orders rejected after acceptance; ``faults_injected`` the faults per ``FaultPlan`` field.
    """

    requests: int
    orders: int
    fills: int
    cancels: int
    rejects: int
    expired: int
    rate_limit_violations: int
    faults_injected: Mapping[str, int] = attrs.field(converter=_frozen_counts, hash=False)
    open_orders: int
    events_published: int
    events_delivered: int
    fees_paid: Decimal
