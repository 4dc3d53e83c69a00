"""Liquidity of the ``square_root`` model: displayed depth that refills with traded volume.

Each side of a symbol's book shows at most ``depth_levels × displayed_size`` shares. A taker
takes only what is shown (a market order's rest expires, as on a real venue); what it took comes
back as the market trades: each share the market trades restores ``refill_rate`` shares of depth
(knob ``refill_rate``, default 1), so a bar that trades 500 shares refills 500, not the whole
book. Liquidity that refills at a finite rate tied to order flow is the premise of Obizhaeva &
Wang (2013) and of the latent-book picture (Donier et al. 2015; Bouchaud, Bonart, Donier &
Gould, "Trades, Quotes and Prices", Cambridge University Press, 2018).

The same object keeps each side's transient displacement and the permanent offset of the mid
(impact.py has the formulas), so one place changes the state of a symbol's liquidity:
``take`` when a taker trades, ``heal`` when the market steps.
"""

from __future__ import annotations

import math

import attrs

from gateways.simulated.impact import SquareRootImpact

__all__ = ["Liquidity", "LiquiditySnapshot"]


@attrs.frozen
class LiquiditySnapshot:
    """What a symbol's book holds now: displayed depth per side (shares), each side's transient
    displacement and the permanent offset of the mid (basis points), the last step's volume and
    the symbol's typical volume per second."""

    bid_depth: float
    ask_depth: float
    bid_displacement_bps: float
    ask_displacement_bps: float
    permanent_bps: float
    last_volume: float
    volume_rate: float


@attrs.define
class Liquidity:
    """One symbol's depth and impact state; index 0 is the ask side (buyers take it), 1 the bid."""

    impact: SquareRootImpact
    full_depth: float
    refill_rate: float
    _depth: list[float] = attrs.field(init=False)
    _displacement: list[float] = attrs.field(init=False, factory=lambda: [0.0, 0.0])
    _permanent: float = attrs.field(init=False, default=0.0)  # log offset of the mid
    _last_volume: float = attrs.field(init=False, default=0.0)

    def __attrs_post_init__(self) -> None:
        self._depth = [self.full_depth, self.full_depth]

    def __repr__(self) -> str:
        return (
            f"<Liquidity depth={[round(d) for d in self._depth]} "
            f"displacement_bps={[round(d * 1e4, 2) for d in self._displacement]} "
            f"permanent_bps={self._permanent * 1e4:.2f}>"
        )

    @property
    def factor(self) -> float:
        """What the permanent impact multiplies the undisturbed mid by."""
        return math.exp(self._permanent)

    @property
    def is_quiet(self) -> bool:
        """True when nothing is displaced, nothing moved and every side is full."""
        return (
            self._permanent == 0.0 and self._displacement == [0.0, 0.0]
            and self._depth == [self.full_depth, self.full_depth]
        )

    def depth(self, side: int) -> float:
        """Shares the side shows now."""
        return self._depth[side]

    def displacement(self, side: int) -> float:
        """How far the side's touch sits beyond the quote, as a fraction of the price."""
        return self._displacement[side]

    def room(self, side: int, limit: float | None) -> float:
        """Shares a taker may take from ``side`` now: what it shows, and with ``limit`` (the
        largest displacement the taker accepts; ``None``: any) no more than reach it."""
        room = self._depth[side]
        if limit is not None:
            impact = self.impact
            room = min(room, impact.reach(limit) - impact.taken(self._displacement[side]))
        return max(room, 0.0)

    def average(self, side: int, start: float, end: float) -> float:
        """The average displacement of the shares ``start`` to ``end`` (counted from now) that a
        taker would take from ``side``; beyond the shown depth too (the latent book goes on), so
        it also prices sweeping a remainder."""
        impact = self.impact
        taken = impact.taken(self._displacement[side])
        return impact.average(taken + start, taken + end)

    def take(self, side: int, quantity: float) -> None:
        """A taker took ``quantity`` from ``side``: depth down, displacement up, part of it permanent."""
        if quantity <= 0:
            return
        self._depth[side] = max(self._depth[side] - quantity, 0.0)
        transient, permanent = self.impact.after_clip(self._displacement[side], quantity)
        self._displacement[side] = transient
        # A buy (the ask side) moves the mid up, a sell down.
        self._permanent += permanent if side == 0 else -permanent

    def heal(self, volume: float) -> None:
        """The market traded ``volume`` shares: displacements decay, depth refills."""
        self._last_volume = volume
        if volume <= 0:
            return
        impact = self.impact
        refill = self.refill_rate * volume
        for side in (0, 1):
            displacement = impact.decay(self._displacement[side], volume)
            # Below a millionth of a basis point nothing shows on any tick: quiet again.
            self._displacement[side] = displacement if displacement > 1e-10 else 0.0
            self._depth[side] = min(self._depth[side] + refill, self.full_depth)

    def reset(self) -> None:
        """Forget every trace of impact (the quote was set by hand)."""
        self._depth = [self.full_depth, self.full_depth]
        self._displacement = [0.0, 0.0]
        self._permanent = 0.0

    def snapshot(self) -> LiquiditySnapshot:
        """A frozen copy of the state (see ``LiquiditySnapshot``)."""
        return LiquiditySnapshot(
            bid_depth=self._depth[1], ask_depth=self._depth[0],
            bid_displacement_bps=self._displacement[1] * 1e4,
            ask_displacement_bps=self._displacement[0] * 1e4,
            permanent_bps=self._permanent * 1e4, last_volume=self._last_volume,
            volume_rate=self.impact.volume_rate,
        )
