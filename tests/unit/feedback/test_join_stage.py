"""Pure parts of the co-partitioned join: the bounded state, verdict handling, record keys."""

from __future__ import annotations

import random

from services.common import config, topics
from services.common.consumer import Message
from services.feedback import model
from services.feedback.join_stage import (DEAL, EVENT, KIND_HEADER, DealRecord, EventRecord, JoinProcessor, JoinState,
                                          OpportunityState, _newest_deals, apply_event)
from services.usage.consumer import classified_event, classified_key


def test_state_evicts_the_least_recently_used():
    state = JoinState(capacity=2)
    for opp in ("a", "b"):
        state.put(opp, OpportunityState(None))
    assert state.get("a") is not None  # "a" is now the most recently used
    state.put("c", OpportunityState(None))
    assert (state.get("a") is not None, state.get("b"), state.get("c") is not None) == (True, None, True)
    state.clear()
    assert len(state) == 0


def test_newest_verdict_wins_whatever_came_before():
    human = {"event_id": "e1", "asset_id": "a", "occurred_at": "2026-01-01T00:00:00.000Z", "is_bot": False}
    bot = dict(human, is_bot=True)
    state = OpportunityState(None, dirty=set())
    apply_event(state, human)
    apply_event(state, human)  # a duplicate changes nothing
    assert list(state.events["a"]) == ["e1"] and state.dirty == {"a"}
    apply_event(state, bot)  # re-flagged (beacon_flood): leaves the join
    assert state.events["a"] == {}
    state.dirty = set()
    apply_event(state, dict(bot, event_id="e2"))  # a bot that was never stored: nothing to remove, nothing to redo
    assert state.events["a"] == {} and state.dirty == set()


def test_touches_are_separable_by_asset():
    """The join stage recomputes only the assets whose events changed; that equals the full
    computation only because compute_touches treats each asset on its own. Random events with
    shared links, repeat opens, duplicates, sourcing and out-of-window times check it."""
    from datetime import timedelta

    grace, lookback = timedelta(days=7), timedelta(days=90)
    rng = random.Random(3)
    for stage in ("won", "lost", "open"):
        raw = {"event_id": "d", "schema_version": 1, "occurred_at": "2026-03-01T00:00:00Z", "opportunity_id": "o",
               "account_id": "acct", "owner_rep_id": "r", "stage": stage, "amount": 5, "currency": "USD",
               "created_at": "2026-02-01T00:00:00Z", "updated_at": "2026-03-01T00:00:00Z"}
        if stage != "open":
            raw["closed_at"] = "2026-03-01T00:00:00Z"
        deal = model.validate_deal(raw)
        events = []
        for i in range(300):
            asset = f"a{rng.randrange(8)}"
            e = {"event_id": f"e{rng.randrange(250)}", "asset_id": asset, "rep_id": "r", "is_bot": False,
                 "type": rng.choice(["view", "customer_open", "share"]),
                 "occurred_at": model.iso(model.parse_iso("2025-10-01T00:00:00Z") + timedelta(hours=rng.uniform(0, 5000)))}
            e["share_id"] = f"s-{asset}-{rng.randrange(2)}"
            e.update({"opportunity_id": "o"} if rng.random() < 0.5 else {"account_id": "acct"})
            events.append(e)
        unique = list({e["event_id"]: e for e in events}.values())
        whole = model.compute_touches(deal, unique, grace, lookback)
        by_asset: dict = {}
        for e in unique:
            by_asset.setdefault(e["asset_id"], []).append(e)
        merged: dict = {}
        for evs in by_asset.values():
            merged.update(model.compute_touches(deal, evs, grace, lookback))
        assert merged == whole and whole


def test_newest_deal_snapshot_of_a_batch_in_any_order():
    snaps = [{"opportunity_id": "o", "version": v} for v in (3, 1, 7, 2)] + [{"opportunity_id": "p", "version": 1}]
    for seed in range(5):
        random.Random(seed).shuffle(snaps)
        assert {k: d["version"] for k, d in _newest_deals(snaps).items()} == {"o": 7, "p": 1}


def test_join_records_parse_by_kind():
    processor = JoinProcessor.__new__(JoinProcessor)
    deal = Message("j", 0, 0, b"o1", b'{"opportunity_id": "o1", "version": 1}', 0, ((KIND_HEADER, DEAL),))
    event = Message("j", 0, 1, b"o1", b'{"event_id": "e", "account_id": "a"}', 0, ((KIND_HEADER, EVENT),))
    assert isinstance(processor.parse(deal), DealRecord)
    parsed = processor.parse(event)
    assert isinstance(parsed, EventRecord) and parsed.doc["_for"] == "o1"  # an account event for one opportunity


def test_classified_event_carries_the_verdict_and_only_join_fields():
    stored = {"event_id": "e", "type": "customer_open", "asset_id": "a", "rep_id": "r", "occurred_at": "2026-01-01T00:00:00.000Z",
              "account_id": "acct", "share_id": "s", "is_bot": True, "bot_reason": "fast_open", "ip_hash": "h",
              "user_agent": "Mozilla/5.0", "received_at": "2026-01-01T00:00:01.000Z", "known_asset": True}
    event = classified_event(stored)
    assert event == {"event_id": "e", "type": "customer_open", "asset_id": "a", "rep_id": "r",
                     "occurred_at": "2026-01-01T00:00:00.000Z", "account_id": "acct", "share_id": "s", "is_bot": True,
                     "bot_reason": "fast_open", "schema_version": 1}
    assert model.validate_classified(event)["is_bot"]  # the published form passes the join's contract
    assert classified_key(event) == "acct"
    assert classified_key(dict(event, opportunity_id="o")) == "o"
    human = classified_event(dict(stored, is_bot=False, bot_reason=""))
    assert "bot_reason" not in human and model.validate_classified(human)["is_bot"] is False


def test_join_topic_partitions_come_from_their_setting():
    settings = config.load(environ={}, kafka_topic_partitions=3, feedback_join_partitions=8)
    assert topics.FEEDBACK_JOIN.partitions(settings) == 8
    assert topics.USAGE_CLASSIFIED.partitions(settings) == 3


def test_the_fast_contract_check_never_accepts_what_the_schema_refuses():
    """model._plainly_classified is a shortcut past jsonschema: it may refuse valid events
    (the schema then decides) but must never accept an invalid one."""
    from services.common import events

    base = {"event_id": "e-1", "schema_version": 1, "occurred_at": "2026-01-01T00:00:00Z", "type": "view",
            "asset_id": "a", "rep_id": "r", "account_id": "acct", "is_bot": False}
    mutations = [{}, {"is_bot": 1}, {"is_bot": None}, {"schema_version": True}, {"schema_version": 1.0},
                 {"schema_version": 2}, {"type": "teleport"}, {"event_id": ""}, {"event_id": "x" * 129},
                 {"asset_id": 5}, {"channel": ""}, {"channel": "c" * 65}, {"bot_reason": ""}, {"user_agent": "curl"},
                 {"opportunity_id": None}, {"share_id": "s"}, {"occurred_at": "x" * 41}, {"rep_id": "é" * 128}]
    drops = ["event_id", "is_bot", "schema_version", "type", "occurred_at", "rep_id"]
    cases = [dict(base, **m) for m in mutations] + [{k: v for k, v in base.items() if k != d} for d in drops]
    for case in cases:
        try:
            events.validate(model.CLASSIFIED_SCHEMA, dict(case))
            valid = True
        except Exception:  # noqa: BLE001 - any refusal
            valid = False
        assert not model._plainly_classified(case) or valid, case
    assert model._plainly_classified(base)  # and the common case takes the shortcut
