"""Every attribution model's credit split, against hand-computed cases."""

from datetime import datetime, timedelta, timezone

import pytest

from services.feedback import attribution as attr

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def approx(values):
    return pytest.approx(values, abs=1e-9)


@pytest.mark.parametrize(
    "n,first,last,linear,u",
    [
        (1, [1], [1], [1], [1]),
        (2, [1, 0], [0, 1], [0.5, 0.5], [0.5, 0.5]),
        (3, [1, 0, 0], [0, 0, 1], [1 / 3] * 3, [0.4, 0.2, 0.4]),
        (5, [1, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0.2] * 5, [0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4]),
    ],
)
def test_position_models(n, first, last, linear, u):
    assert attr.first_touch(n) == approx(first)
    assert attr.last_touch(n) == approx(last)
    assert attr.linear(n) == approx(linear)
    assert attr.u_shaped(n) == approx(u)


@pytest.mark.parametrize(
    "n,creation,expected",
    [
        (1, 0, [1.0]),
        # two touchpoints: the one nearest creation holds two roles (0.6 vs 0.3, normalised)
        (2, 0, [2 / 3, 1 / 3]),
        (2, 1, [1 / 3, 2 / 3]),
        # three touchpoints, creation in the middle: 0.3 each, nothing left for "rest" -> 1/3 each
        (3, 1, [1 / 3, 1 / 3, 1 / 3]),
        # three, creation on the first: first 0.6, middle is the rest (0.1), last 0.3
        (3, 0, [0.6, 0.1, 0.3]),
        # five, creation on the second: 0.3 / 0.3 / 0.1/2 / 0.1/2 / 0.3
        (5, 1, [0.3, 0.3, 0.05, 0.05, 0.3]),
        # five, creation on the last: first 0.3, last 0.6, three in the middle share 0.1
        (5, 4, [0.3, 0.1 / 3, 0.1 / 3, 0.1 / 3, 0.6]),
    ],
)
def test_w_shaped(n, creation, expected):
    assert attr.w_shaped(n, creation) == approx(expected)


def test_creation_position_nearest_earliest_on_tie():
    times = [T0, T0 + timedelta(days=4), T0 + timedelta(days=10)]
    assert attr.creation_position(times, T0 + timedelta(days=5)) == 1
    assert attr.creation_position(times, T0 + timedelta(days=2)) == 0  # tie 2 vs 2 days -> earliest
    assert attr.creation_position(times, T0 - timedelta(days=30)) == 0


def test_time_decay_known_half_life():
    close = T0 + timedelta(days=14)
    # ages 14, 7, 0 days with a 7-day half-life: raw 0.25, 0.5, 1 -> /1.75
    times = [T0, T0 + timedelta(days=7), close]
    assert attr.time_decay(times, close, 7) == approx([0.25 / 1.75, 0.5 / 1.75, 1 / 1.75])
    # one touch: 100%; two touches a half-life apart: 1/3, 2/3
    assert attr.time_decay([T0], close, 7) == approx([1.0])
    assert attr.time_decay([T0 + timedelta(days=7), close], close, 7) == approx([1 / 3, 2 / 3])
    # a touch in the grace period after close counts as age 0
    assert attr.time_decay([close, close + timedelta(days=1)], close, 7) == approx([0.5, 0.5])
    # five touches a day apart, half-life 1 day: 1/16, 1/8, 1/4, 1/2, 1 over 31/16
    five = [close - timedelta(days=d) for d in (4, 3, 2, 1, 0)]
    assert attr.time_decay(five, close, 1) == approx([w / (31 / 16) for w in (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1)])
    with pytest.raises(ValueError):
        attr.time_decay([T0], close, 0)


def test_credit_per_asset_sums_touchpoints_and_amount():
    created = T0
    close = T0 + timedelta(days=20)
    points = [
        attr.Touchpoint("b", T0 + timedelta(days=10)),
        attr.Touchpoint("a", T0 + timedelta(days=1)),
        attr.Touchpoint("c", T0 + timedelta(days=19)),
        attr.Touchpoint("a", T0 + timedelta(days=15)),
    ]
    credit = attr.credit(points, 1000.0, created, close)
    # ordered: a(1) b(10) a(15) c(19)
    assert credit["first_touch"] == approx({"a": 1000.0})
    assert credit["last_touch"] == approx({"c": 1000.0})
    assert credit["linear"] == approx({"a": 500.0, "b": 250.0, "c": 250.0})
    assert credit["u_shaped"] == approx({"a": 400.0 + 100.0, "b": 100.0, "c": 400.0})
    # creation nearest = a(1) (also first): a 0.6 + a(15) 0.05, b 0.05, c 0.3
    assert credit["w_shaped"] == approx({"a": 650.0, "b": 50.0, "c": 300.0})
    for model in attr.MODELS:
        assert sum(credit[model].values()) == pytest.approx(1000.0)


def test_ties_ordered_by_asset_id():
    points = [attr.Touchpoint("z", T0), attr.Touchpoint("a", T0)]
    credit = attr.credit(points, 10.0, T0, T0 + timedelta(days=1))
    assert credit["first_touch"] == approx({"a": 10.0})
    assert credit["last_touch"] == approx({"z": 10.0})


def test_accumulator():
    acc = attr.Accumulator(half_life_days=7)
    acc.add([attr.Touchpoint("a", T0)], 100.0, T0, T0 + timedelta(days=1))
    acc.add([attr.Touchpoint("a", T0), attr.Touchpoint("b", T0 + timedelta(days=1))], 50.0, T0, T0 + timedelta(days=2))
    acc.add([], 999.0, T0, T0)
    assert acc.deals == 2
    assert acc.revenue["first_touch"] == approx({"a": 150.0})
    assert acc.revenue["linear"] == approx({"a": 125.0, "b": 25.0})
    assert acc.assets() == {"a", "b"}


def test_markov_removal_effect_hand_computed():
    # Paths: A -> B -> won, A -> lost, B -> won.
    # P(conv) = 2/3 * 1/2 * 1 + 1/3 * 1 = 2/3; without A: 1/3 (RE 0.5); without B: 0 (RE 1).
    chain = attr.MarkovPaths()
    chain.add(["A", "B"], True)
    chain.add(["A", "A"], False)  # repeats collapse
    chain.add(["B"], True)
    effects = chain.removal_effects()
    assert effects == approx({"A": 0.5, "B": 1.0})
    assert chain.credit(300.0) == approx({"A": 100.0, "B": 200.0})


def test_markov_with_a_cycle_and_no_conversions():
    chain = attr.MarkovPaths()
    chain.add(["A", "B", "A"], True)
    chain.add(["B", "A"], False)
    effects = chain.removal_effects()
    # start->A 1/2, start->B 1/2; A->B, A->won, A->lost 1/3 each; B->A 1.
    # v(A) = v(B)/3 + 1/3 and v(B) = v(A) give v = 1/2, P(conv) = 1/2.
    # Without A: 0 (RE 1). Without B: v(A) = 1/3, P = 1/6 (RE 2/3).
    assert effects == approx({"A": 1.0, "B": 2 / 3})
    lost_only = attr.MarkovPaths()
    lost_only.add(["A"], False)
    assert lost_only.removal_effects() == {} and lost_only.credit(10.0) == {}


def test_markov_other_state_takes_part_but_earns_nothing():
    chain = attr.MarkovPaths(states={"A"})
    chain.add(["A", "B", "C"], True)  # start -> A -> (other) -> won
    chain.add(["B"], False)  # start -> (other) -> lost
    assert chain.transitions[attr.START] == {"A": 1, attr.OTHER: 1}
    effects = chain.removal_effects()
    # other -> won 1/2, lost 1/2, so v(other) = v(A) = 1/2 and P = 1/2; without A: 1/2 * 1/2 = 1/4
    assert effects == approx({"A": 0.5})
    assert chain.credit(8.0) == approx({"A": 8.0})


def test_markov_removal_effects_by_the_fundamental_matrix_equal_one_solve_per_removal():
    import random

    rng = random.Random(5)
    for states in (None, {"a0", "a1", "a2"}):
        chain = attr.MarkovPaths(states)
        for _ in range(300):
            path = [f"a{rng.randrange(8)}" for _ in range(rng.randrange(1, 7))]
            chain.add(path, rng.random() < 0.4)
        fast, reference = chain.removal_effects(), chain.removal_effects_iterative()
        assert set(fast) == set(reference)
        assert fast == pytest.approx(reference, abs=1e-9)
