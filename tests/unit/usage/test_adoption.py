"""Adoption overview's pure parts: period maths, week slices, shares, movers and rep grouping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.common import errors
from services.usage import adoption
from services.usage.adoption import Mover, Periods, RepActivity

END = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def test_previous_period_has_the_same_length_and_ends_at_the_start():
    p = Periods.of(END - timedelta(days=90), END)
    assert p.previous_start == END - timedelta(days=180)
    assert p.start - p.previous_start == p.end - p.start


def test_known_reps_reach_back_a_year_or_the_whole_previous_period():
    short = Periods.of(END - timedelta(days=30), END)
    assert short.known_since() == END - timedelta(days=30 + 365)
    long = Periods.of(END - timedelta(days=400), END)
    assert long.known_since() == long.previous_start == END - timedelta(days=800)


def test_a_period_at_the_start_of_the_calendar_is_invalid_argument():
    first = datetime(1, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(errors.InvalidArgument) as info:
        Periods.of(first, first + timedelta(days=1))
    assert info.value.field == "time_range.start"
    with pytest.raises(errors.InvalidArgument):
        Periods.of(first + timedelta(days=10), first + timedelta(days=20)).known_since()


@pytest.mark.parametrize("days, expected", [(7, [7]), (30, [7, 7, 7, 7, 2]), (90, [7] * 12 + [6]), (1, [1])])
def test_weeks_slice_the_period_from_its_start_and_the_last_is_shorter(days, expected):
    weeks = adoption.week_slices(END - timedelta(days=days), END)
    assert [(b - a) / timedelta(days=1) for a, b in weeks] == expected
    assert weeks[0][0] == END - timedelta(days=days) and weeks[-1][1] == END
    assert all(a[1] == b[0] for a, b in zip(weeks, weeks[1:]))


def test_share_and_change_percent():
    assert adoption.share(412, 1020) == pytest.approx(0.4039, abs=1e-4)
    assert adoption.share(0, 0) == 0.0
    assert adoption.change_percent(15, 10) == 50.0
    assert adoption.change_percent(5, 10) == -50.0
    assert adoption.change_percent(3, 0) is None


def test_movers_rank_by_absolute_change_with_ties_by_asset_id():
    uses = {"a": (10, 2), "b": (3, 11), "c": (9, 1), "d": (4, 4), "e": (0, 5), "f": (1, 0)}
    risers, fallers = adoption.rank_movers(uses, 2)
    assert risers == [Mover("a", 10, 2), Mover("c", 9, 1)]  # both +8: by id
    assert fallers == [Mover("b", 3, 11), Mover("e", 0, 5)]
    assert all(m.asset_id != "d" for m in risers + fallers)  # unchanged assets never move


def test_published_before_keeps_assets_without_a_publication_time():
    catalog = {"old": adoption._ms(END - timedelta(days=100)), "new": adoption._ms(END - timedelta(days=1)),
               "unknown": None}
    assert adoption.published_before(catalog, END - timedelta(days=30)) == {"old", "unknown"}
    assert adoption.published_before(catalog, END) == {"old", "new", "unknown"}


def test_reps_are_grouped_by_name_with_the_unknown_bucket_last():
    reps = [RepActivity(True, True, False, True, "west", ""), RepActivity(False, True, True, True, "", "emea"),
            RepActivity(True, True, True, True, "east", "emea"), RepActivity(False, False, True, True, "west", "")]
    teams = adoption.group_reps(reps, "team")
    assert [(g.name, g.active_reps, g.known_reps, g.previous_active_reps, g.previous_known_reps) for g in teams] == [
        ("east", 1, 1, 1, 1), ("west", 1, 1, 1, 2), ("", 0, 1, 1, 1)]
    assert [g.name for g in adoption.group_reps(reps, "region")] == ["emea", ""]
