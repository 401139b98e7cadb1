"""The sign-in throttling policy: who waits, how long, and who never does."""

from __future__ import annotations

import pytest

from services.portal.throttle import ALLOW, CheckBudget, Failures, Policy

POLICY = Policy(window_s=300.0, free_failures=3, max_delay_s=5.0, address_max_failures=30)
NOW = 1_000_000.0


def failures(count: int, last_failure: float = NOW, window_start: float = NOW - 10) -> Failures:
    return Failures(count, window_start, last_failure)


def test_delay_doubles_after_the_free_failures_and_is_capped():
    assert [POLICY.delay_s(n) for n in range(1, 10)] == [0, 0, 0, 1, 2, 4, 5, 5, 5]


def test_a_client_that_has_not_failed_is_never_delayed_whatever_the_account_saw():
    verdict = POLICY.decide(address=Failures(), account=failures(10_000), pair=Failures(), now=NOW)
    assert verdict == ALLOW


def test_a_failing_client_waits_from_its_own_last_failure():
    pair = failures(5, last_failure=NOW - 1)
    refused = POLICY.decide(Failures(), failures(5), pair, now=NOW)
    assert not refused.allowed and refused.rule == "delay" and refused.retry_after_s == pytest.approx(1.0)
    assert POLICY.decide(Failures(), failures(5), pair, now=NOW + 1.0) == ALLOW


def test_the_accounts_failures_lengthen_a_failing_clients_delay_up_to_the_cap():
    pair = failures(1, last_failure=NOW)
    verdict = POLICY.decide(Failures(), failures(500), pair, now=NOW + 4.9)
    assert verdict.rule == "delay" and verdict.retry_after_s == pytest.approx(0.1)
    assert POLICY.decide(Failures(), failures(500), pair, now=NOW + 5.0) == ALLOW, "never more than the cap"


def test_an_address_over_its_limit_is_refused_for_the_rest_of_the_window():
    address = failures(30, window_start=NOW - 100)
    verdict = POLICY.decide(address, Failures(), Failures(), now=NOW)
    assert verdict.rule == "address" and verdict.retry_after_s == pytest.approx(200.0)
    assert verdict.retry_after_header == "200"
    assert POLICY.decide(failures(29, window_start=NOW - 100), Failures(), Failures(), now=NOW) == ALLOW


def test_counts_of_a_finished_window_no_longer_count():
    old = failures(30, last_failure=NOW - 301, window_start=NOW - 301)
    assert POLICY.decide(old, old, old, now=NOW) == ALLOW
    assert POLICY.failed(old, NOW) == Failures(1, NOW, NOW), "a failure after the window starts a new one"


def test_a_failure_inside_the_window_adds_to_it():
    assert POLICY.failed(failures(4, window_start=NOW - 50), NOW + 1) == Failures(5, NOW - 50, NOW + 1)


def test_check_budget_allows_a_burst_then_its_rate():
    clock = [0.0]
    budget = CheckBudget(2.0, clock=lambda: clock[0])
    assert [budget.take() for _ in range(5)] == [True, True, True, True, False]
    clock[0] = 0.5
    assert [budget.take() for _ in range(2)] == [True, False]
