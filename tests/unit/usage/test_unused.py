"""The unused report's pure parts: age, ordering with ties, counts per reason, request validation."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from collateral.v1 import usage_pb2
from services.common import errors
from services.usage import unused

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def row(asset_id: str, reason: str = "NEVER_USED", age: int = 0, impressions: int = 0, last: float | None = None,
        owner: str = "o", kind: str = "deck") -> unused.UnusedRow:
    return unused.UnusedRow({"asset_id": asset_id, "owner": owner, "type": kind}, reason, age, impressions, 0, 0, last)


def test_age_counts_from_publication_then_creation():
    assert unused.age_days({"published_at": "2026-11-20T12:00:00Z", "created_at": "2026-01-01T00:00:00Z"}, NOW) == 10
    assert unused.age_days({"published_at": None, "created_at": "2026-11-29T11:00:00Z"}, NOW) == 1
    assert unused.age_days({}, NOW) == 0
    assert unused.age_days({"published_at": "2026-12-05T00:00:00Z"}, NOW) == 0  # clock skew never goes negative


def test_order_breaks_ties_by_ascending_id_in_both_directions():
    rows = [row("c", age=5), row("a", age=5), row("b", age=9), row("d", age=1)]
    assert [r.asset_id for r in unused.ordered(rows, usage_pb2.UNUSED_SORT_AGE, False)] == ["d", "a", "c", "b"]
    assert [r.asset_id for r in unused.ordered(rows, usage_pb2.UNUSED_SORT_AGE, True)] == ["b", "a", "c", "d"]
    assert [r.asset_id for r in unused.ordered(rows, usage_pb2.UNUSED_SORT_UNSPECIFIED, False)] == ["a", "b", "c", "d"]


def test_never_used_sorts_as_the_oldest_last_use():
    rows = [row("a", last=2000.0), row("b", last=None), row("c", last=1000.0)]
    assert [r.asset_id for r in unused.ordered(rows, usage_pb2.UNUSED_SORT_LAST_USED, True)] == ["a", "c", "b"]


def test_reason_counts_follow_the_funnel_order_and_leave_out_zeros():
    rows = [row("a", "EXPIRED"), row("b", "NEVER_USED"), row("c", "NEVER_USED")]
    assert list(unused.reason_counts(rows).items()) == [("NEVER_USED", 2), ("EXPIRED", 1)]


@pytest.mark.parametrize("fields, path", [
    ({"sort": 42}, "sort"), ({"min_age_days": -3}, "min_age_days"), ({"max_age_days": 10**6}, "max_age_days"),
    ({"min_age_days": 9, "max_age_days": 3}, "max_age_days"), ({"reasons": [0]}, "reasons[0]"),
    ({"asset_types": [""]}, "asset_types[0]")])
def test_bad_requests_name_the_field(fields, path):
    with pytest.raises(errors.InvalidArgument) as err:
        unused.parse_filters(usage_pb2.ListUnusedAssetsRequest(**fields))
    assert str(err.value).startswith(f"{path}: ")


def test_age_band_bounds_are_inclusive_and_zero_is_open():
    band = unused.parse_filters(usage_pb2.ListUnusedAssetsRequest(min_age_days=31, max_age_days=90))
    assert [band.in_age_band(d) for d in (30, 31, 90, 91)] == [False, True, True, False]
    assert unused.parse_filters(usage_pb2.ListUnusedAssetsRequest(min_age_days=366)).in_age_band(10_000)
