"""Hot accounts' pure parts: the ranking order, the bounded top-k, request checks and page tokens."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from collateral.v1 import usage_pb2
from services.common import auth, errors, pagination
from services.usage import hot_accounts as hot
from services.usage.hot_accounts import ACCOUNT, OPPORTUNITY, GroupKey, HotAccount

SECRET = "unit-secret"
REP = auth.Principal("rita@example.com", auth.Role.REP)
ADMIN = auth.Principal("ada@example.com", auth.Role.ADMIN)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def account(value: str, seconds: float, opens: int = 0, last: float = 0.0, kind: str = ACCOUNT) -> HotAccount:
    return HotAccount(GroupKey(kind, value), seconds, opens, 0, None, last)


def test_most_engaged_first_then_opens_then_latest_activity_then_id():
    rows = [account("b", 10, 1, 5), account("a", 10, 1, 5), account("c", 10, 2, 1), account("d", 10, 1, 9),
            account("e", 30), account("o", 10, 1, 5, kind=OPPORTUNITY)]
    ranked = [(a.key.kind, a.key.value) for a in sorted(rows, key=hot.rank_key)]
    assert ranked == [(ACCOUNT, "e"), (ACCOUNT, "c"), (ACCOUNT, "d"), (ACCOUNT, "a"), (ACCOUNT, "b"),
                      (OPPORTUNITY, "o")]


def test_best_keeps_exactly_the_top_k_of_a_long_stream():
    rng = random.Random(7)
    rows = [account(f"acct-{i:05d}", rng.randint(0, 50) / 2, rng.randint(0, 3), rng.randint(0, 9))
            for i in range(5000)]
    for keep in (1, 25, 1300):
        assert [a.key for a in hot.best(iter(rows), keep)] == [a.key for a in sorted(rows, key=hot.rank_key)[:keep]]


@pytest.mark.parametrize("requested,days", [(0, 7), (7, 7), (14, 14), (30, 30), (90, 90)])
def test_window_days_default_and_range(requested, days):
    assert hot.window_days(requested) == days


@pytest.mark.parametrize("requested", [-1, 91, 10_000])
def test_window_days_out_of_range_names_the_field(requested):
    with pytest.raises(errors.InvalidArgument) as err:
        hot.window_days(requested)
    assert err.value.field == "window_days"


def test_reps_see_their_own_links_only_and_curators_pick():
    assert hot.rep_scope("", REP) == REP.subject
    assert hot.rep_scope(REP.subject, REP) == REP.subject
    with pytest.raises(errors.PermissionDenied):
        hot.rep_scope("ravi@example.com", REP)
    assert hot.rep_scope("", ADMIN) == ""
    assert hot.rep_scope("ravi@example.com", ADMIN) == "ravi@example.com"


def test_a_page_token_keeps_the_first_pages_window_end():
    first = hot.parse_request(usage_pb2.ListHotAccountsRequest(window_days=14), REP, SECRET, NOW)
    assert (first.start, first.end, first.offset, first.size) == (NOW - timedelta(days=14), NOW, 0, 20)
    token = pagination.encode(SECRET, [int(NOW.timestamp() * 1000), 40])
    later = hot.parse_request(usage_pb2.ListHotAccountsRequest(window_days=14, page_token=token, page_size=5), REP,
                              SECRET, NOW + timedelta(hours=1))
    assert (later.end, later.offset, later.size) == (NOW, 40, 5)


@pytest.mark.parametrize("cursor", [[1, 2, 3], ["x", 0], [10, hot.MAX_OFFSET + 1], [10, -1], {"a": 1}, "s"])
def test_malformed_page_tokens_are_invalid_arguments(cursor):
    with pytest.raises(errors.InvalidArgument) as err:
        hot.read_cursor(SECRET, pagination.encode(SECRET, cursor))
    assert err.value.field == "page_token"


def test_groups_become_accounts_or_opportunities_in_the_message():
    acct = hot.account_message(account("acct-1", 12.5, 2, 1_700_000_000_000))
    opp = hot.account_message(account("opp-1", 3, 0, 1_700_000_000_000, kind=OPPORTUNITY))
    assert (acct.account_id, acct.opportunity_id, acct.HasField("last_opened_at")) == ("acct-1", "", False)
    assert (opp.account_id, opp.opportunity_id) == ("", "opp-1")
    assert acct.last_active_at.ToMilliseconds() == 1_700_000_000_000
