"""The demo's planned year (scripts/demo_story.py): deterministic, consistent with each asset's lifetime, and telling its story."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from scripts import demo_story as ds
from services.feedback import model as feedback_model, stats

ANCHOR = datetime(2026, 11, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def story() -> ds.Story:
    return ds.plan(ANCHOR, 300, 600, 4000, 1500)


def test_the_same_anchor_gives_the_same_plan_and_another_anchor_only_moves_it_in_time(story):
    again = ds.plan(ANCHOR, 300, 600, 4000, 1500)
    assert (again.assets, again.deals, again.usage, again.searches) == (story.assets, story.deals, story.usage,
                                                                        story.searches)
    later = ds.plan(ANCHOR + timedelta(days=3), 300, 600, 4000, 1500)
    assert [e.event_id for e in later.usage] == [e.event_id for e in story.usage]
    assert [e.occurred + timedelta(days=3) for e in story.usage] == [e.occurred for e in later.usage]
    assert ds.plan_assets(ANCHOR, 300) == story.assets


def test_ids_are_unique(story):
    for ids in ([a.asset_id for a in story.assets], [d.opportunity_id for d in story.deals],
                [e.event_id for e in story.usage], [s.event_id for s in story.searches]):
        assert len(ids) == len(set(ids))


def test_the_catalog_grew_over_the_year_with_drafts_retired_and_expired_assets(story):
    created = [a.created for a in story.assets]
    assert ANCHOR - min(created) > timedelta(days=330) and ANCHOR - max(created) < timedelta(days=30)
    assert all(a.published is None or a.created < a.published < ANCHOR for a in story.assets)
    assert sum(a.published is None for a in story.assets) >= 5
    assert sum(a.retired is not None for a in story.assets) >= 3
    assert sum(a.expires < ANCHOR for a in story.assets) >= 3
    assert len({a.owner for a in story.assets}) >= 4
    assert len({a.asset_type for a in story.assets}) == len(ds.TYPE_NAMES)


def test_no_usage_outside_its_asset_lifetime(story):
    for event in story.usage:
        asset = story.asset(event.asset_id)
        assert asset.published is not None and asset.created <= asset.published <= event.occurred < asset.until, event
        assert event.occurred < ANCHOR


def test_usage_is_a_long_tail_with_a_busy_head(story):
    uses = Counter(e.asset_id for e in story.usage)
    counts = sorted((uses.get(a.asset_id, 0) for a in story.assets), reverse=True)
    assert sum(c <= 5 for c in counts) > len(counts) / 2  # most assets are rarely or never used
    assert sum(counts[:6]) > 0.4 * sum(counts)  # a handful carries a large share of the use


def test_customer_opens_follow_their_share_and_a_few_are_bots(story):
    shared = {e.share_id: e for e in story.usage if e.kind == "share"}
    opens = [e for e in story.usage if e.kind in ("customer_open", "page_view")]
    assert opens and all(e.share_id in shared and e.occurred > shared[e.share_id].occurred for e in opens)
    bots = [e for e in opens if e.user_agent in ds.BOT_AGENTS]
    assert 0 < len(bots) < len(opens) / 5
    assert all(e.page >= 1 and e.seconds > 0 for e in opens if e.kind == "page_view")
    assert {ds.rep_team(r) for r in ds.REPS} == set(ds.TEAMS) and {ds.rep_region(r) for r in ds.REPS} == set(ds.REGIONS)


def test_deals_close_before_the_anchor_and_lost_reasons_name_content_gaps(story):
    stages = Counter(d.stage for d in story.deals)
    assert stages["won"] > 100 and stages["lost"] > 100 and stages["open"] > 20
    for deal in story.deals:
        assert (deal.closed is None) == (deal.stage == "open")
        assert deal.closed is None or deal.created < deal.closed <= ANCHOR - timedelta(days=2)
        assert (deal.lost_reason is not None) == (deal.stage == "lost")
    gap_topics = {feedback_model.normalize_topic(q) for q in ds.GAP_QUERIES}
    lost_topics = {feedback_model.normalize_topic(d.lost_reason) for d in story.deals if d.lost_reason}
    request_topics = {feedback_model.normalize_topic(text) for _, text in ds.CONTENT_REQUESTS}
    assert len(gap_topics & lost_topics) >= 3 and request_topics <= gap_topics


def test_the_winners_help_win_significantly_and_others_do_not(story):
    closed = [d for d in story.deals if d.stage != "open"]
    p_values = {}
    for asset in story.assets:
        touched = [d for d in closed if asset.asset_id in d.touched]
        if len(touched) < 10:
            continue
        rest = [d for d in closed if asset.asset_id not in d.touched]
        p_values[asset.asset_id] = stats.two_proportion_z_test(
            sum(d.stage == "won" for d in touched), len(touched), sum(d.stage == "won" for d in rest), len(rest)).p_value
    q_values = dict(zip(p_values, stats.benjamini_hochberg(list(p_values.values()))))
    significant = {asset_id for asset_id, q in q_values.items() if q < 0.05}
    assert significant == {ds.asset_id(n) for n in ds.WINNER_NUMBERS}


def test_searches_match_the_catalog_of_their_day_and_gaps_find_nothing(story):
    for query in ds.GAP_QUERIES:
        assert not any(ds.matches(query, a) for a in story.assets), query
    for query in ds.FOUND_QUERIES:
        assert any(ds.matches(query, a) for a in story.assets), query
    zero = [s for s in story.searches if s.result_count == 0]
    assert len(story.searches) / 10 < len(zero) < len(story.searches) / 3
    for search in story.searches:
        assert len(search.shown_asset_ids) == min(10, search.result_count)
        for asset_id in search.shown_asset_ids:
            asset = story.asset(asset_id)
            assert asset.usable_at(search.occurred) and ds.matches(search.query, asset)
    shown = {a for s in story.searches for a in s.shown_asset_ids}
    used = {e.asset_id for e in story.usage}
    assert shown - used  # assets shown in search and never opened: the unused report's "shown, not opened"
