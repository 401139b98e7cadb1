"""ListUnusedAssets' summary, filters, sorting and paging against a brute-force evaluation,
and search impressions counted from search events the content service's publisher sends."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import grpc
import pytest

from collateral.v1 import common_pb2, usage_pb2
from services.common import topics
from services.content import publish
from tests.integration.usage.conftest import produce_json, wait_until
from tests.integration.usage.test_reports import brute_force_unused, dataset, list_all, ts  # noqa: F401 - fixture

pytestmark = pytest.mark.integration
T = usage_pb2
SORTS = {
    T.UNUSED_SORT_AGE: lambda a, data: a["age_days"],
    T.UNUSED_SORT_TYPE: lambda a, data: a["type"],
    T.UNUSED_SORT_IMPRESSIONS: lambda a, data: a["impressions"],
    T.UNUSED_SORT_LAST_USED: lambda a, data: a["last_used"] or datetime.min.replace(tzinfo=timezone.utc),
    T.UNUSED_SORT_OWNER: lambda a, data: data["owner"],
}


def expected_rows(data, start, end):
    """Every unused asset of the data set with the figures the report must show."""
    reasons = brute_force_unused(data, start, end)
    rows = []
    for asset in data["assets"]:
        aid = asset["asset_id"]
        if aid not in reasons:
            continue
        used = [e["when"] for e in data["events"] if e["asset_id"] == aid and not e["bot"] and e["when"] < end]
        rows.append({
            "asset_id": aid, "reason": reasons[aid], "type": asset["type"],
            "age_days": (end - datetime.fromisoformat(asset["published_at"])).days,
            "impressions": sum(1 for s in data["searches"] if aid in s["ids"] and start <= s["when"] < end),
            "last_used": max(used) if used else None,
        })
    return rows


def brute_order(rows, data, sort, descending):
    """Sort key, then ascending asset id for ties, whatever the direction."""
    by_id = sorted(rows, key=lambda r: r["asset_id"])
    return [r["asset_id"] for r in sorted(by_id, key=lambda r: SORTS[sort](r, data), reverse=descending)]


@pytest.fixture(scope="module")
def window(dataset):  # noqa: F811 - the fixture imported above
    end = dataset["now"] + timedelta(seconds=1)
    start = end - timedelta(days=30)
    return start, end, common_pb2.TimeRange(start=ts(start), end=ts(end))


def test_summary_counts_every_reason_whatever_the_reason_filter(dataset, window, stub, call_as):  # noqa: F811
    start, end, span = window
    expected = Counter(r["reason"] for r in expected_rows(dataset, start, end))
    for reasons in ([], [T.UNUSED_REASON_NEVER_USED]):
        page = stub.ListUnusedAssets(T.ListUnusedAssetsRequest(window=span, owner=dataset["owner"], reasons=reasons),
                                     metadata=call_as("marketer"))
        got = {T.UnusedReason.Name(c.reason).removeprefix("UNUSED_REASON_"): c.count for c in page.reason_counts}
        assert got == dict(expected)
        assert page.total_size == (expected["NEVER_USED"] if reasons else sum(expected.values()))


@pytest.mark.parametrize("sort", sorted(SORTS))
@pytest.mark.parametrize("descending", [False, True])
def test_sorted_pages_match_brute_force(dataset, window, stub, call_as, sort, descending):  # noqa: F811
    start, end, span = window
    rows = expected_rows(dataset, start, end)
    got = list_all(stub, call_as, T.ListUnusedAssetsRequest(window=span, owner=dataset["owner"], page_size=7,
                                                            sort=sort, descending=descending))
    assert [r.asset_id for r in got] == brute_order(rows, dataset, sort, descending)
    by_id = {r["asset_id"]: r for r in rows}
    for r in got:
        want = by_id[r.asset_id]
        assert (r.age_days, r.impressions, T.UnusedReason.Name(r.reason)) == (
            want["age_days"], want["impressions"], "UNUSED_REASON_" + want["reason"])


def test_type_age_and_reason_filters_match_brute_force(dataset, window, stub, call_as):  # noqa: F811
    start, end, span = window
    rows = [r for r in expected_rows(dataset, start, end) if r["type"] == "deck" and 30 <= r["age_days"] <= 200]
    request = T.ListUnusedAssetsRequest(window=span, owner=dataset["owner"], asset_types=["deck"], min_age_days=30,
                                        max_age_days=200, sort=T.UNUSED_SORT_AGE)
    page = stub.ListUnusedAssets(request, metadata=call_as("marketer"))
    assert {T.UnusedReason.Name(c.reason).removeprefix("UNUSED_REASON_"): c.count for c in page.reason_counts} \
        == dict(Counter(r["reason"] for r in rows))
    assert [a.asset_id for a in page.assets] == brute_order(rows, dataset, T.UNUSED_SORT_AGE, False)
    some = Counter(r["reason"] for r in rows).most_common(1)[0][0]
    request.reasons.append(T.UnusedReason.Value("UNUSED_REASON_" + some))
    only = stub.ListUnusedAssets(request, metadata=call_as("marketer"))
    assert [a.asset_id for a in only.assets] == [r for r in brute_order(rows, dataset, T.UNUSED_SORT_AGE, False)
                                                 if next(x for x in rows if x["asset_id"] == r)["reason"] == some]


def test_previous_page_token_returns_the_page_before(dataset, window, stub, call_as):  # noqa: F811
    _, _, span = window
    request = T.ListUnusedAssetsRequest(window=span, owner=dataset["owner"], page_size=5, sort=T.UNUSED_SORT_AGE,
                                        descending=True)
    first = stub.ListUnusedAssets(request, metadata=call_as("marketer"))
    assert first.next_page_token and not first.previous_page_token
    request.page_token = first.next_page_token
    second = stub.ListUnusedAssets(request, metadata=call_as("marketer"))
    request.page_token = second.previous_page_token
    again = stub.ListUnusedAssets(request, metadata=call_as("marketer"))
    assert [a.asset_id for a in again.assets] == [a.asset_id for a in first.assets]
    assert not {a.asset_id for a in second.assets} & {a.asset_id for a in first.assets}


@pytest.mark.parametrize("change, field", [
    ({"sort": 99}, "sort"), ({"min_age_days": 10, "max_age_days": 5}, "max_age_days"),
    ({"min_age_days": -1}, "min_age_days"), ({"reasons": [77]}, "reasons[0]")])
def test_bad_filters_are_invalid_argument_naming_the_field(stub, call_as, change, field):
    with pytest.raises(grpc.RpcError) as err:
        stub.ListUnusedAssets(T.ListUnusedAssetsRequest(**change), metadata=call_as("marketer"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in err.value.details()


def test_page_token_of_another_sort_is_refused(dataset, window, stub, call_as):  # noqa: F811
    _, _, span = window
    first = stub.ListUnusedAssets(T.ListUnusedAssetsRequest(window=span, owner=dataset["owner"], page_size=3),
                                  metadata=call_as("marketer"))
    with pytest.raises(grpc.RpcError) as err:
        stub.ListUnusedAssets(T.ListUnusedAssetsRequest(window=span, owner=dataset["owner"], page_size=3,
                                                        sort=T.UNUSED_SORT_AGE, page_token=first.next_page_token),
                              metadata=call_as("marketer"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in err.value.details()


def test_impressions_count_search_events_from_the_content_publisher(usage_env, consumer, stub, call_as,
                                                                    raw_producer):
    """The content service's own search events, through Kafka and the usage consumer, become impressions."""
    uid = uuid.uuid4().hex[:8]
    owner, now = f"mkt-imp-{uid}", datetime.now(timezone.utc)
    ids = [f"imp{uid}-{i}" for i in range(3)]
    for aid in ids:
        iso = now.isoformat()
        produce_json(raw_producer, topics.CATALOG.name(usage_env), aid, {
            "event_id": str(uuid.uuid4()), "schema_version": 1, "occurred_at": iso, "received_at": iso,
            "event_type": "updated", "asset_id": aid, "title": aid, "type": "deck", "status": "published",
            "owner": owner, "buying_stages": [], "industries": [], "regions": [], "products": [], "personas": [],
            "tags": [], "language": "en", "created_at": iso, "published_at": iso, "expires_at": None, "version": 2})
    raw_producer.flush()
    publisher = publish.Publisher(usage_env)
    try:
        # ids[0] on 3 result pages, ids[1] on 1, ids[2] never.
        for shown in ([ids[0], ids[1]], [ids[0]], [ids[0], "not-in-catalog"]):
            publisher.search(publish.search_event(uuid.uuid4().hex, "rep-1", "rep", "deck", {}, "relevance",
                                                  len(shown), shown))
    finally:
        publisher.close()  # waits for the background sends

    def impressions():
        page = stub.ListUnusedAssets(T.ListUnusedAssetsRequest(owner=owner), metadata=call_as("marketer"))
        got = {a.asset_id: a.impressions for a in page.assets}
        return got if got == {ids[0]: 3, ids[1]: 1, ids[2]: 0} else None

    wait_until(impressions, what="impressions from search events")
    page = stub.ListUnusedAssets(T.ListUnusedAssetsRequest(owner=owner, sort=T.UNUSED_SORT_IMPRESSIONS,
                                                           descending=True), metadata=call_as("marketer"))
    assert [(a.asset_id, T.UnusedReason.Name(a.reason)) for a in page.assets] == [
        (ids[0], "UNUSED_REASON_SHOWN_NOT_OPENED"), (ids[1], "UNUSED_REASON_SHOWN_NOT_OPENED"),
        (ids[2], "UNUSED_REASON_NEVER_USED")]
