"""Rollup keys and month alignment (rollups.py): which rollup a touch or credit counts in, and
which report filters the rollups answer exactly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest

from services.common import kafka_io
from services.common.consumer import InvalidEvent
from services.feedback import rollups

UTC = timezone.utc


def touch(stage, created="2025-06-10T08:00:00.000Z", closed="2025-07-31T23:59:59.999Z", asset="deck"):
    return {"asset_id": asset, "stage": stage, "created_at": created, "closed_at": closed}


def test_closed_deals_count_in_their_close_month_open_ones_in_their_creation_month():
    assert rollups.touch_key(touch("won")) == "deck|2025-07"
    assert rollups.touch_key(touch("lost", closed="2025-08-01T00:00:00.000Z")) == "deck|2025-08"
    assert rollups.touch_key(touch("open", closed=None)) == "deck|2025-06"
    assert rollups.credit_key(touch("won")) == "deck|2025-07"


def test_months_are_utc_months_whatever_offset_the_time_carries():
    # 01:00 on August 1st in UTC+02:00 is still July 31st in UTC.
    assert rollups.month_of("2025-08-01T01:00:00+02:00") == "2025-07"
    assert rollups.month_of("2025-12-31T23:00:00-02:00") == "2026-01"
    assert [rollups.month_of(v) for v in ("2025-12-31T23:59:59.999Z", "2026-01-01T00:00:00Z")] == ["2025-12", "2026-01"]


def test_missing_dates_and_other_stages():
    assert rollups.touch_key(touch("won", closed=None)) == "deck|none"
    assert rollups.touch_key(touch("open", created=None, closed=None)) == "deck|none"
    assert rollups.touch_key(touch("unspecified")) is None


def test_ids_split_on_the_last_bar_as_asset_ids_may_hold_one():
    rid = rollups.rollup_id("a|b", "2025-01")
    assert rollups.split_id(rid) == ("a|b", "2025-01")


def test_month_bounds_roll_over_the_year():
    assert rollups.month_bounds("2025-12") == (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    assert rollups.month_bounds("2025-02") == (datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))


@pytest.mark.parametrize("start, end, segment, covered", [
    (None, None, {}, True),
    (datetime(2024, 7, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC), {}, True),
    (None, datetime(2025, 1, 1, tzinfo=UTC), {}, True),
    (datetime(2024, 7, 1, tzinfo=UTC), None, {"industry": []}, True),  # an empty segment list filters nothing
    (datetime(2024, 7, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC), {"industry": ["retail"]}, False),
    (datetime(2024, 7, 2, tzinfo=UTC), None, {}, False),
    (None, datetime(2025, 7, 1, 0, 0, 1, tzinfo=UTC), {}, False),
    (None, datetime(2025, 7, 1, 0, 0, 0, 1000, tzinfo=UTC), {}, False),  # one millisecond in
    # Midnight on the first in another time zone is not a UTC month boundary.
    (datetime(2024, 7, 1, tzinfo=timezone(timedelta(hours=2))), None, {}, False),
    # The same instant as a UTC month start, written with an offset.
    (datetime(2024, 7, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))), None, {}, True),
])
def test_only_whole_utc_months_without_segment_are_covered(start, end, segment, covered):
    assert rollups.covers(start, end, segment) is covered


def test_dirty_keys_reach_the_partition_of_their_key_once():
    ids = [f"asset-{i}|2025-0{i % 9 + 1}" for i in range(500)] + ["asset-1|2025-02"]
    records = rollups.dirty_records("t", 6, ids)
    received: list[str] = []
    for record in records:
        keys = rollups.parse_ids(record.value)
        assert all(kafka_io.partition_of(k, 6) == record.partition for k in keys)
        received += keys
    assert sorted(received) == sorted(set(ids))


@pytest.mark.parametrize("value", [b"", b"{}", b'["no-bar"]', b"[1]", b"[", orjson.dumps({"ids": ["a|b"]})])
def test_malformed_rollup_records_are_refused(value):
    with pytest.raises(InvalidEvent):
        rollups.parse_ids(value)


def test_a_rebuild_wins_over_older_offsets_and_loses_to_later_ones():
    end = 41  # the rebuild read the partition's end offset 41, then the sources
    assert rollups.offset_version(end - 1) < rollups.rebuild_version(end) < rollups.offset_version(end)
    assert rollups.offset_version(0) > 0  # external versions start above a missing document's
