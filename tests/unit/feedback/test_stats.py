"""Wilson intervals and two-proportion tests against published / hand-computed values."""

import math

import pytest

from services.feedback import stats


@pytest.mark.parametrize(
    "x,n,low,high",
    [
        # statsmodels.stats.proportion.proportion_confint(81, 263, method="wilson")
        (81, 263, 0.25529, 0.36621),
        # Wilson (1927) / Newcombe (1998) table: 0/10 -> [0, 0.2775], 10/10 -> [0.7225, 1]
        (0, 10, 0.0, 0.27753),
        (10, 10, 0.72247, 1.0),
        # Newcombe (1998), example: 15/148 -> [0.0624, 0.1605] (published to 4 decimals)
        (15, 148, 0.0624, 0.1605),
        # 1/2 by hand: centre 0.5, half width z*sqrt(1/8 + z^2/16)/(1+z^2/2)
        (1, 2, 0.09453, 0.90547),
    ],
)
def test_wilson_matches_published_values(x, n, low, high):
    lo, hi = stats.wilson_interval(x, n)
    assert lo == pytest.approx(low, abs=6e-5)
    assert hi == pytest.approx(high, abs=6e-5)


def test_wilson_by_the_quadratic_formula():
    # The interval's bounds are the roots of (p_hat - p)^2 = z^2 p (1 - p) / n.
    x, n, z = 37, 91, stats.Z95
    p_hat = x / n
    a = 1 + z * z / n
    b = -(2 * p_hat + z * z / n)
    c = p_hat * p_hat
    disc = math.sqrt(b * b - 4 * a * c)
    lo, hi = stats.wilson_interval(x, n)
    assert lo == pytest.approx((-b - disc) / (2 * a), rel=1e-12)
    assert hi == pytest.approx((-b + disc) / (2 * a), rel=1e-12)


def test_wilson_empty_and_invalid():
    assert stats.wilson_interval(0, 0) == (0.0, 0.0)
    with pytest.raises(ValueError):
        stats.wilson_interval(3, 2)


def test_two_proportion_known_values():
    # 45/100 vs 30/100: pooled 0.375, se = sqrt(.375*.625*.02) = 0.068465, z = 2.19089, p = 0.02846
    test = stats.two_proportion_z_test(45, 100, 30, 100)
    assert test.z == pytest.approx(2.19089, abs=1e-5)
    assert test.p_value == pytest.approx(0.02846, abs=1e-5)
    # Symmetric, and no difference gives p = 1.
    assert stats.two_proportion_z_test(30, 100, 45, 100).z == pytest.approx(-2.19089, abs=1e-5)
    assert stats.two_proportion_z_test(20, 40, 10, 20).p_value == pytest.approx(1.0)


def test_two_proportion_textbook_example():
    # 120/200 vs 90/200: p_pool = .525, se = .049937, z = 3.00376, p = 0.002667
    test = stats.two_proportion_z_test(120, 200, 90, 200)
    assert test.z == pytest.approx(3.00376, abs=1e-4)
    assert test.p_value == pytest.approx(0.002667, abs=1e-5)


def test_two_proportion_degenerate():
    assert stats.two_proportion_z_test(0, 0, 5, 10).p_value == 1.0
    assert stats.two_proportion_z_test(10, 10, 10, 10).p_value == 1.0


def test_normal_sf():
    assert stats.normal_sf(0) == pytest.approx(0.5)
    assert stats.normal_sf(1.959963984540054) == pytest.approx(0.025, abs=1e-9)


def test_mantel_haenszel_hand_computed():
    # Stratum 1: a=10 b=5 c=5 d=10 (n=30); stratum 2: a=8 b=4 c=6 d=8 (n=26)
    # OR_MH = (10*10/30 + 8*8/26) / (5*5/30 + 4*6/26) = 5.79487 / 1.75641 = 3.29927
    ratio, p = stats.mantel_haenszel([(10, 5, 5, 10), (8, 4, 6, 8)])
    assert ratio == pytest.approx(3.29927, abs=1e-4)
    assert 0.0 < p < 0.1
    # Identical rates within every stratum: no effect.
    ratio, p = stats.mantel_haenszel([(5, 5, 5, 5), (2, 8, 2, 8)])
    assert ratio == pytest.approx(1.0)
    assert p == pytest.approx(1.0)


def test_benjamini_hochberg_matches_the_textbook_example() -> None:
    # Benjamini & Hochberg (1995), adjusted as R's p.adjust(method = "BH") does.
    p = [0.01, 0.04, 0.03, 0.005, 0.5]
    q = stats.benjamini_hochberg(p)
    assert q == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.5])


def test_benjamini_hochberg_is_monotone_and_never_below_p() -> None:
    import random

    rng = random.Random(7)
    p = [rng.random() ** 3 for _ in range(300)]
    q = stats.benjamini_hochberg(p)
    ranked = sorted(zip(p, q))
    assert all(qi >= pi for pi, qi in ranked)
    assert all(a[1] <= b[1] + 1e-15 for a, b in zip(ranked, ranked[1:]))
    assert stats.benjamini_hochberg([]) == []
    assert stats.benjamini_hochberg([0.2]) == [0.2]
