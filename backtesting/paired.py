"""Statistics of a study over paths: summaries of one sample and paired differences of two.

Paired, because ``compare`` runs every variant on the same paths: the difference of two variants
on one path removes the market's own move, which is most of the variance of either (a variant
that looks better on one path may only have met a kinder drift). The interval is Student's t
on the per-path differences, ``mean ± t(0.975, n-1) × sd / sqrt(n)``, and the p-value the
two-sided paired t-test of a zero mean difference; with hundreds of paths the t is as good as
a bootstrap, and it needs no random numbers. Student's t comes from the regularised incomplete
beta function (the continued fraction of Numerical Recipes, §6.4), so nothing beyond the
standard library is needed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import attrs

__all__ = [
    "PairedDifference", "Summary", "paired_difference", "student_t_cdf", "student_t_quantile", "summary",
]


@attrs.frozen
class Summary:
    """Mean, median, standard deviation and the 5th and 95th percentiles of a sample."""

    mean: float
    median: float
    std: float
    p5: float
    p95: float


@attrs.frozen
class PairedDifference:
    """Mean of the per-path differences (variant minus baseline), its 95% interval and p-value."""

    mean: float
    low: float
    high: float
    p_value: float


def _percentile(ordered: Sequence[float], share: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    position = share * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def summary(values: Sequence[float]) -> Summary:
    """The ``Summary`` of a non-empty sample (std 0 for a single value)."""
    ordered = sorted(values)
    return Summary(
        mean=statistics.fmean(ordered), median=statistics.median(ordered),
        std=statistics.stdev(ordered) if len(ordered) > 1 else 0.0,
        p5=_percentile(ordered, 0.05), p95=_percentile(ordered, 0.95),
    )


def paired_difference(variant: Sequence[float], baseline: Sequence[float]) -> PairedDifference:
    """``variant - baseline`` path by path: the mean, its 95% t interval and the two-sided p-value."""
    differences = [a - b for a, b in zip(variant, baseline, strict=True)]
    count = len(differences)
    mean = statistics.fmean(differences)
    if count < 2:
        return PairedDifference(mean, -math.inf, math.inf, 1.0)
    error = statistics.stdev(differences) / math.sqrt(count)
    if error == 0:
        # Identical on every path: no doubt about the mean, and a difference is certain.
        return PairedDifference(mean, mean, mean, 1.0 if mean == 0 else 0.0)
    freedom = count - 1
    half_width = student_t_quantile(0.975, freedom) * error
    p_value = 2 * (1 - student_t_cdf(abs(mean) / error, freedom))
    return PairedDifference(mean, mean - half_width, mean + half_width, min(max(p_value, 0.0), 1.0))


def student_t_cdf(value: float, freedom: int) -> float:
    """P(T ≤ value) for Student's t with ``freedom`` degrees of freedom."""
    tail = 0.5 * _incomplete_beta(freedom / 2, 0.5, freedom / (freedom + value * value))
    return 1 - tail if value > 0 else tail


def student_t_quantile(probability: float, freedom: int) -> float:
    """The ``value`` with ``student_t_cdf(value, freedom) == probability`` (by bisection)."""
    low, high = -1e3, 1e3
    for _ in range(200):
        middle = (low + high) / 2
        if student_t_cdf(middle, freedom) < probability:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    logarithm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(logarithm)
    if x < (a + 1) / (a + b + 2):
        return front * _continued_fraction(a, b, x) / a
    return 1 - front * _continued_fraction(b, a, 1 - x) / b


def _continued_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return result
