"""Statistics behind the win-rate report: Wilson intervals and two-proportion tests.

Pure functions, no dependencies (math only), so the report's numbers can be checked by
hand against textbook values (see tests/unit/feedback/test_stats.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # standard normal quantile for a two-sided 95% interval


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion; (0, 0) for zero trials.

    Unlike the normal ("Wald") interval it behaves at 0/n and n/n and for small n,
    which is exactly the regime of a new asset with a handful of closed deals.
    """
    if trials <= 0:
        return 0.0, 0.0
    if successes < 0 or successes > trials:
        raise ValueError(f"successes {successes} outside 0..{trials}")
    p = successes / trials
    z2 = z * z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


@dataclass(frozen=True)
class TwoProportionTest:
    z: float
    p_value: float  # two-sided


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> TwoProportionTest:
    """Pooled two-proportion z-test of H0: p1 == p2 (two-sided).

    Degenerate cases (an empty group, or a pooled proportion of 0 or 1 where the
    standard error is 0) give z = 0 and p = 1: no evidence of a difference.
    """
    if n1 <= 0 or n2 <= 0:
        return TwoProportionTest(0.0, 1.0)
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return TwoProportionTest(0.0, 1.0)
    z = (x1 / n1 - x2 / n2) / se
    return TwoProportionTest(z, min(1.0, 2 * normal_sf(abs(z))))


def mantel_haenszel(strata: list[tuple[int, int, int, int]]) -> tuple[float, float]:
    """Mantel-Haenszel common odds ratio and the MH chi-square test's p-value.

    Each stratum is (won_with, lost_with, won_without, lost_without) for one owner rep:
    comparing deals with and without an asset *within* the same rep removes the "good
    reps use more content" confound. Returns (odds_ratio, p_value); strata with fewer
    than two deals or without both groups carry no information and are skipped. An
    undefined ratio (no discordant information) is reported as 1.0 with p = 1.
    """
    num = den = 0.0
    sum_a = sum_e = sum_v = 0.0
    for a, b, c, d in strata:
        n = a + b + c + d
        if n < 2 or (a + b) == 0 or (c + d) == 0:
            continue
        num += a * d / n
        den += b * c / n
        n1, n0 = a + b, c + d
        m1, m0 = a + c, b + d
        sum_a += a
        sum_e += n1 * m1 / n
        sum_v += n1 * n0 * m1 * m0 / (n * n * (n - 1))
    if den == 0 or num == 0:
        ratio = 1.0 if num == den else (math.inf if den == 0 else 0.0)
    else:
        ratio = num / den
    if sum_v <= 0:
        return (1.0 if not math.isfinite(ratio) else ratio), 1.0
    chi2 = (abs(sum_a - sum_e) - 0.5) ** 2 / sum_v if abs(sum_a - sum_e) > 0.5 else 0.0
    p = 2 * normal_sf(math.sqrt(chi2))  # chi-square(1) survival = 2 * normal_sf(sqrt)
    return ratio, min(1.0, p)


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given.

    A report tests hundreds of assets at once; at p < 0.05 each, about one in twenty
    assets with no real effect would still be called "tied to wins". Declaring the
    assets with q < alpha significant keeps the expected share of false discoveries
    among them at most alpha (under independence or positive dependence of the tests).
    q_(i) = min over j >= i of m * p_(j) / j, for the p-values sorted ascending, capped at 1.
    """
    m = len(p_values)
    if m == 0:
        return []
    order = sorted(range(m), key=lambda i: p_values[i])
    q = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        q[i] = min(1.0, running)
    return q
