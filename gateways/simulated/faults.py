"""Seeded fault injection: each fault kind rolls its own dice and counts what it injected."""

from __future__ import annotations

import random
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from gateways.simulated.config import FaultPlan

__all__ = ["FAULT_KINDS", "FaultInjector"]

FAULT_KINDS = tuple(field.name for field in attrs.fields(FaultPlan))


class FaultInjector:
    """Decides, per opportunity, whether a fault fires.

    Every kind draws from its own ``random.Random`` (seeded with the venue seed and the kind) on
    every opportunity, whatever its probability, so turning one fault on never shifts another's
    dice, and a probability of 0 never fires. A kind that can never fire skips its draw: no
    other kind reads its dice, so nothing anyone sees depends on them.
    """

    def __init__(self, plan: FaultPlan, seed: int) -> None:
        self._plan = plan
        self._chances: dict[str, float] = {kind: getattr(plan, kind) for kind in FAULT_KINDS}
        self._dice = {kind: random.Random(f"{seed}:fault:{kind}") for kind in FAULT_KINDS}
        self._counts = dict.fromkeys(FAULT_KINDS, 0)
        self.enabled = any(self._chances.values())  # False: no fault can ever fire

    def __repr__(self) -> str:
        fired = {kind: count for kind, count in self._counts.items() if count}
        return f"<FaultInjector plan={self._plan} injected={fired}>"

    @property
    def plan(self) -> FaultPlan:
        """The configured probabilities."""
        return self._plan

    def roll(self, kind: str) -> bool:
        """True if fault ``kind`` fires now. It is not counted until ``count`` confirms it."""
        chance = self._chances[kind]
        return chance > 0 and self._dice[kind].random() < chance

    def count(self, kind: str) -> None:
        """Record that fault ``kind`` was injected."""
        self._counts[kind] += 1

    def fire(self, kind: str) -> bool:
        """Roll and, if it fires, count it."""
        chance = self._chances[kind]  # ``roll`` inlined: this runs several times per request
        if chance > 0 and self._dice[kind].random() < chance:
            self._counts[kind] += 1
            return True
        return False

    @property
    def counts(self) -> Mapping[str, int]:
        """Injected faults per kind, read-only."""
        return MappingProxyType(dict(self._counts))
