"""Price impact of the ``square_root`` model: a concave cost, a transient part that decays, a permanent part.

The law (``SymbolSpec.impact_model = "square_root"``)
    A clip of ``q`` shares taken at once from a fresh book costs, per share and beyond the half
    spread, ``Y × σ × sqrt(q / V)`` as a fraction of the price: ``σ`` the volatility and ``V`` the
    volume over one and the same period. Both scale with time (``σ² ∝ T``, ``V ∝ T``), so the cost
    is ``Y × σ_s × sqrt(q / v_s)`` with ``σ_s`` per square-root second and ``v_s`` shares per
    second, whatever period they were measured over. References: Almgren, Thum, Hauptmann & Li,
    "Direct estimation of equity market impact" (Risk, 2005); Tóth, Lemperière, Deremble, de
    Lataillade, Kockelkoren & Bouchaud, "Anomalous price impact and the critical nature of
    liquidity in financial markets" (PRX, 2011), who find ``Y`` of order one; Bucci, Benzaquen,
    Lillo & Bouchaud, "Crossover from linear to square-root market impact" (PRL, 2019). Knob:
    ``impact_coefficient`` (``Y``, default 1).

The book behind it
    A latent book whose density grows linearly away from the price gives exactly this law
    (Donier, Bonart, Mastromatteo & Bouchaud, "A fully consistent, minimal model for non-linear
    market impact", Quantitative Finance, 2015): after ``x`` shares have been taken the marginal
    price sits ``k × sqrt(x)`` beyond the touch, ``k = 1.5 × Y × σ_s / sqrt(v_s)``, so the average
    over ``[0, q]`` is ``Y × σ_s × sqrt(q / v_s)`` and the peak is 1.5 times the average cost. A
    side's *displacement* ``d`` (the relative distance of its touch from the quote) stands for the
    ``(d / k)²`` shares already taken; the next clip continues from there, so a second clip in
    the same bar costs more than the first but less than linear impact would make it.

Transient and permanent
    After a clip, ``permanent_share`` (``θ``, default 0.1) of the increase of the peak moves the
    mid for good (both sides; Almgren et al. 2005 separate permanent from temporary impact); the
    rest is transient and decays exponentially, Obizhaeva & Wang's resilience ("Optimal trading
    strategy and supply/demand dynamics", J. Financial Markets, 2013), which is the propagator of
    Bouchaud, Gefen, Potters & Wyart ("Fluctuations and response in financial markets", 2004) with
    an exponential kernel. It decays in *volume time*: a step in which the market trades ``v``
    shares counts as ``v / v_s`` seconds, so the book heals faster when the market is busy.
    Knob: ``resilience_half_life`` (seconds at the typical volume rate, default 120).

    Clips far enough apart for the transient part to heal add their permanent parts up, so a
    slow metaorder's lasting impact grows linearly in its size; a propagator with a power-law
    kernel would make it concave. The default ``θ = 0.1`` sets its size: a metaorder of 2% of the
    day's volume in 24 clips leaves about the square-root law's ``Y σ sqrt(Q / V_day)`` in the
    mid (the thin-name example: about 25 bps).

Everything here is float arithmetic on fractions of a price; the book turns it into tick prices.
"""

from __future__ import annotations

import math

import attrs

__all__ = ["SquareRootImpact"]


@attrs.frozen
class SquareRootImpact:
    """The square-root law of one symbol, with its transient and permanent parts."""

    coefficient: float  # Y
    sigma: float  # volatility per square-root second (a fraction of the price)
    volume_rate: float  # the typical shares traded per second
    permanent_share: float  # θ
    half_life: float  # seconds of volume time for the transient displacement to halve

    @property
    def slope(self) -> float:
        """``k``: the marginal displacement after ``x`` shares taken is ``k × sqrt(x)``."""
        if self.volume_rate <= 0:
            return 0.0
        return 1.5 * self.coefficient * self.sigma / math.sqrt(self.volume_rate)

    def cost(self, quantity: float) -> float:
        """The law itself: the average cost per share, as a fraction of the price, of taking
        ``quantity`` at once from a fresh book (beyond the half spread)."""
        if quantity <= 0 or self.volume_rate <= 0:
            return 0.0
        return self.coefficient * self.sigma * math.sqrt(quantity / self.volume_rate)

    def taken(self, displacement: float) -> float:
        """Shares that would have been taken to push a side ``displacement`` away from the quote."""
        slope = self.slope
        return (displacement / slope) ** 2 if slope > 0 else 0.0

    def marginal(self, taken: float) -> float:
        """The displacement of the marginal share after ``taken`` shares."""
        return self.slope * math.sqrt(max(taken, 0.0))

    def average(self, start: float, end: float) -> float:
        """The average displacement of the shares from ``start`` to ``end`` taken (``start < end``)."""
        if end <= start:
            return self.marginal(start)
        return self.slope * (2.0 / 3.0) * (math.pow(end, 1.5) - math.pow(start, 1.5)) / (end - start)

    def reach(self, displacement: float) -> float:
        """Shares taken when the marginal displacement reaches ``displacement`` (a limit price)."""
        return self.taken(max(displacement, 0.0))

    def after_clip(self, displacement: float, quantity: float) -> tuple[float, float]:
        """A side at ``displacement`` takes a clip of ``quantity``: its new transient displacement
        and the permanent move of the mid (both fractions, the move in the clip's direction)."""
        peak = self.marginal(self.taken(displacement) + quantity)
        permanent = self.permanent_share * max(peak - displacement, 0.0)
        return peak - permanent, permanent

    def decay(self, displacement: float, volume: float) -> float:
        """The displacement after the market traded ``volume`` shares (``volume / v_s`` seconds of
        volume time at the half-life)."""
        if displacement == 0.0 or volume <= 0 or self.volume_rate <= 0:
            return displacement
        return displacement * math.pow(0.5, volume / self.volume_rate / self.half_life)
