"""The overview page's figures: shares, changes against the previous period, CSV rows."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import usage_pb2
from services.portal import overview


def _reply() -> usage_pb2.GetAdoptionOverviewResponse:
    week = Timestamp()
    week.FromDatetime(datetime(2026, 9, 1))
    return usage_pb2.GetAdoptionOverviewResponse(
        current=usage_pb2.AdoptionFigures(published_assets=1020, rep_used_assets=412, customer_used_assets=150,
                                          active_reps=14, known_reps=20),
        previous=usage_pb2.AdoptionFigures(published_assets=1000, rep_used_assets=350, customer_used_assets=180,
                                           active_reps=14, known_reps=19),
        weeks=[usage_pb2.AdoptionWeek(start=week, published_assets=40, rep_used_assets=10, customer_used_assets=4)],
        teams=[usage_pb2.RepGroup(name="east", active_reps=3, known_reps=4, previous_active_reps=2,
                                  previous_known_reps=4),
               usage_pb2.RepGroup(name="", active_reps=1, known_reps=2, previous_active_reps=1, previous_known_reps=2)],
        risers=[usage_pb2.AssetMover(asset_id="a1", title="=HYPERLINK()", uses=12, previous_uses=4, change=8,
                                     change_percent=200.0)],
        fallers=[usage_pb2.AssetMover(asset_id="a2", uses=0, previous_uses=7, change=-7, change_percent=-100.0),
                 usage_pb2.AssetMover(asset_id="a3", uses=0, previous_uses=0, change=0, new_in_period=True)])


@pytest.mark.parametrize("requested, offered", [(90, 90), (30, 30), (365, 365), (7, 30), (180, 90), (400, 365)])
def test_any_requested_days_map_to_an_offered_period(requested, offered):
    assert overview.period_days(requested) == offered


def test_headline_sentences_and_changes_in_points():
    rep, customer, reps = overview.headline(_reply())
    assert rep.sentence == "412 of 1,020 published assets, 40%"
    assert rep.change.delta == pytest.approx(5.4)  # 40.4% after 35.0%
    assert (rep.change.arrow, rep.change.direction, rep.change.text) == ("▲", "up", "+5.4 pts")
    assert (customer.change.arrow, customer.change.text) == ("▼", "-3.3 pts")
    assert reps.sentence == "14 of 20 reps, 70%" and reps.change.arrow == "▼"


def test_an_unchanged_figure_is_flat():
    change = overview.share_change(1, 2, 5, 10)
    assert (change.arrow, change.direction, change.text) == ("=", "flat", "±0 pts")
    assert overview.count_change(3, 5).text == "-2"


def test_empty_catalog_is_zero_percent_not_an_error():
    assert overview.percent(0, 0) == 0.0
    assert overview.share_change(0, 0, 0, 0).delta == 0


def test_groups_name_the_unknown_bucket():
    east, unknown = overview.groups(_reply().teams)
    assert (east.label, east.share, east.prev_share) == ("east", 75.0, 50.0)
    assert unknown.label == "Unknown"


def test_csv_has_a_row_per_figure_of_the_page():
    rows = overview.csv_rows(_reply())
    assert all(len(r) == len(overview.CSV_HEADER) for r in rows)
    by_section = {}
    for r in rows:
        by_section.setdefault(r[0], []).append(r)
    assert by_section["headline"][0] == ["headline", "rep_adoption", 412, 1020, 40.4, 350, 1000, 35.0, "5.4", ""]
    assert by_section["week_reps"] == [["week_reps", "2026-09-01", 10, 40, 25.0, "", "", "", "", ""]]
    assert [r[1] for r in by_section["team"]] == ["east", "Unknown"]
    assert by_section["riser"] == [["riser", "a1", 12, "", "", 4, "", "", 8, 200.0]]
    assert by_section["faller"][1][-1] == ""  # new in the period: no percentage
    assert overview.mover_percent(_reply().fallers[1]) == "new"
    assert overview.mover_percent(_reply().risers[0]) == "+200%"
