"""Pure parts of the co-partitioned join: the bounded state, verdict handling, record keys."""

from __future__ import annotations

import random

from services.common import config, topics
from services.common.consumer import Message
from services.feedback import model
from services.feedback.join_stage import (BUNDLE, BUNDLE_MAX_BYTES, DEAL, EVENT, KIND_HEADER, Bundle, DealRecord,
                                          EventRecord, JoinProcessor, JoinState, OpportunityState, _newest_deals,
                                          Written, apply_event, bundle)
from services.usage.consumer import classified_event, classified_key


def _state_with(n_events: int, opportunity: str = "x") -> OpportunityState:
    """A state of `n_events` events; its size does not depend on the (one-letter) opportunity."""
    state = OpportunityState({"opportunity_id": opportunity, "account_id": "acct-1", "stage": "won"})
    for i in range(n_events):
        state.add({"event_id": f"{opportunity}-e{i}", "asset_id": f"asset-{i % 7:05d}", "type": "view", "rep_id": "rep-1",
                   "occurred_at": f"2026-01-{1 + i % 28:02d}T10:00:00.000Z", "opportunity_id": opportunity,
                   "is_bot": False})
    return state


def test_state_evicts_the_least_recently_used_beyond_its_budget():
    one = _state_with(10).estimated_bytes()
    state = JoinState(budget_bytes=2 * one + 1)
    state.begin_batch()
    for opp in ("a", "b"):
        state.put(opp, _state_with(10, opp))
    state.end_batch()
    assert state.bytes == 2 * one and len(state) == 2
    state.begin_batch()
    assert state.get("a") is not None  # "a" is now the most recently used
    state.put("c", _state_with(10, "c"))
    assert (state.get("a") is not None, state.get("b"), state.get("c") is not None) == (True, None, True)
    assert state.bytes == 2 * one


def test_a_batch_keeps_every_state_it_uses_and_the_cache_shrinks_when_it_ends():
    """A batch touching more opportunities than the budget holds must not evict its own (it
    would reload them one by one); the budget applies again once the batch is done."""
    one = _state_with(10).estimated_bytes()
    state = JoinState(budget_bytes=2 * one + 1)
    state.begin_batch()
    state.put("old", _state_with(10, "o"))
    state.end_batch()
    state.begin_batch()
    held = {opp: _state_with(10, opp) for opp in "abcd"}
    for opp, opportunity_state in held.items():
        state.put(opp, opportunity_state)
    assert state.get("old") is None  # from an earlier batch: evicted first
    assert all(state.get(opp) is held[opp] for opp in held) and state.bytes == 4 * one > state.budget_bytes
    for i in range(40):  # "d" grows
        held["d"].add({"event_id": f"x{i}", "asset_id": "asset-9", "occurred_at": "2026-01-01T00:00:00.000Z"})
    state.resize(held["d"])
    assert state.bytes == 3 * one + held["d"].estimated_bytes()
    state.end_batch()  # least recently used first: a, b, c (d alone is over the budget, and goes too)
    assert (len(state), state.bytes) == (0, 0)
    state.begin_batch()
    state.put("e", _state_with(10, "e"))
    state.end_batch()
    assert state.get("e") is not None and state.bytes == one
    state.clear()
    assert (len(state), state.bytes) == (0, 0)


def test_the_estimated_size_of_a_state_is_close_to_what_it_really_holds():
    """The budget is only as good as the estimate: states as the join builds them (decoded
    events, computed touches and credits of won and lost deals) against tracemalloc."""
    import gc
    import tracemalloc
    from datetime import timedelta

    import orjson

    from services.feedback import credits, rollups

    rng = random.Random(5)
    raw_deals = []
    for i in range(300):
        stage = rng.choice(["won", "lost", "open"])
        raw = {"event_id": f"d{i}", "schema_version": 1, "occurred_at": "2026-03-01T00:00:00Z",
               "opportunity_id": f"opp-{i:07d}", "account_id": f"acct-{i}", "owner_rep_id": "rep-17", "stage": stage,
               "amount": 25000.0, "currency": "USD", "created_at": "2026-02-01T00:00:00Z",
               "updated_at": "2026-03-01T00:00:00Z", "industry": "healthcare", "region": "emea"}
        if stage != "open":
            raw["closed_at"] = "2026-03-01T00:00:00Z"
        raw_deals.append(orjson.dumps(raw))
    validated = [orjson.dumps(model.validate_deal(orjson.loads(body))) for body in raw_deals]  # schema caches warm
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        states = []
        for body in validated:
            deal = orjson.loads(body)
            state = OpportunityState(deal)
            for j in range(rng.randrange(1, 30)):
                state.add({"event_id": f"e{rng.randrange(10**9)}", "type": rng.choice(["view", "download", "share"]),
                           "asset_id": f"asset-{rng.randrange(2000):05d}", "rep_id": "rep-17",
                           "occurred_at": f"2026-02-{1 + j % 27:02d}T10:{j % 60:02d}:00.000Z",
                           "opportunity_id": deal["opportunity_id"], "is_bot": False})
            touches = model.compute_touches(deal, state.events_of(), timedelta(days=30), timedelta(days=90))
            state.touches = {tid: Written.of(orjson.dumps(doc), rollups.touch_key(doc)) for tid, doc in touches.items()}
            state.credits = {cid: Written.of(orjson.dumps(doc), rollups.credit_key(doc))
                             for cid, doc in credits.credit_documents(deal, touches).items()}
            state.dirty = set()
            states.append(state)
        allocated = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    estimated = sum(s.estimated_bytes() for s in states)
    assert 0.75 < estimated / allocated < 1.35, (estimated, allocated)


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
    assert isinstance(parsed, EventRecord) and parsed.opportunity_id == "o1"  # an account event for one opportunity


def _join_message(record, offset: int = 0) -> Message:
    return Message(record.topic, record.partition, offset, None, record.value, 0, record.headers)


def test_bundles_carry_every_input_in_order_to_its_opportunitys_partition():
    """What the router forwards is what the join stage reads: each input, in the router's order
    per opportunity, in the partition Kafka's default partitioner gives the opportunity id (the
    partition a record keyed by it would reach), split below the size limit."""
    from kafka.partitioner.default import DefaultPartitioner

    class Cluster:
        def topics(self):
            return {"j"}

        def partitions_for_topic(self, _topic):
            return set(range(6))

        available_partitions_for_topic = partitions_for_topic

    rng = random.Random(5)
    items = []
    for i in range(3000):
        opp = f"opp-{rng.randrange(400)}"
        if rng.random() < 0.1:
            items.append((DEAL, opp, {"opportunity_id": opp, "version": i, "note": "é" * rng.randrange(300)}))
        else:
            items.append((EVENT, opp, {"event_id": f"e{i}", "asset_id": "a", "is_bot": rng.random() < 0.1,
                                       "pad": "x" * rng.randrange(2000)}))
    records = bundle("j", 6, items)
    assert len(records) > 6 and all(len(r.value) <= BUNDLE_MAX_BYTES for r in records)  # several per partition
    processor = JoinProcessor.__new__(JoinProcessor)
    received: dict[str, list] = {}
    for offset, record in enumerate(records):
        assert dict(record.headers)[KIND_HEADER] == BUNDLE
        parsed = processor.parse(_join_message(record, offset))
        assert isinstance(parsed, Bundle)
        for r in parsed.records:
            opp = r.doc["opportunity_id"] if isinstance(r, DealRecord) else r.opportunity_id
            expected = DefaultPartitioner().partition("j", opp.encode(), opp.encode(), None, None, Cluster())
            assert record.partition == expected
            received.setdefault(opp, []).append((DEAL if isinstance(r, DealRecord) else EVENT, opp, r.doc))
    sent: dict[str, list] = {}
    for item in items:
        sent.setdefault(item[1], []).append(item)
    assert received == sent


def test_a_malformed_bundle_is_refused_as_a_whole():
    from services.common.consumer import InvalidEvent

    processor = JoinProcessor.__new__(JoinProcessor)
    bad = [b'{"kind": "event"}', b'[{"kind": "event", "doc": {"event_id": "e"}}]', b'[{"kind": "deal", "for": "o", "doc": {}}]',
           b'[{"kind": "teleport", "for": "o", "doc": {}}]', b'[1]', b'[{"kind": "event", "for": "o", "doc": {}}', b'']
    for value in bad:
        try:
            processor.parse(Message("j", 0, 0, None, value, 0, ((KIND_HEADER, BUNDLE),)))
        except InvalidEvent as exc:
            assert exc.reason in ("schema", "bad_json"), value
        else:
            raise AssertionError(value)


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


def test_the_compiled_contract_check_decides_like_jsonschema():
    """The classified contract is checked without jsonschema on the hot path; it must decide the same."""
    import jsonschema

    from services.common.contracts import schema

    base = {"event_id": "e-1", "schema_version": 1, "occurred_at": "2026-01-01T00:00:00Z", "type": "view",
            "asset_id": "a", "rep_id": "r", "account_id": "acct", "is_bot": False}
    mutations = [{}, {"is_bot": 1}, {"is_bot": None}, {"schema_version": True}, {"schema_version": 1.0},
                 {"schema_version": 2}, {"type": "teleport"}, {"event_id": ""}, {"event_id": "x" * 129},
                 {"asset_id": 5}, {"channel": ""}, {"channel": "c" * 65}, {"bot_reason": ""}, {"user_agent": "curl"},
                 {"opportunity_id": None}, {"share_id": "s"}, {"occurred_at": "x" * 41}, {"rep_id": "é" * 128}]
    drops = ["event_id", "is_bot", "schema_version", "type", "occurred_at", "rep_id"]
    cases = [dict(base, **m) for m in mutations] + [{k: v for k, v in base.items() if k != d} for d in drops]
    reference = jsonschema.Draft202012Validator(schema.load(model.CLASSIFIED_SCHEMA))
    for case in cases:
        assert (schema.violation(model.CLASSIFIED_SCHEMA, case) is None) == reference.is_valid(case), case
    assert schema.violation(model.CLASSIFIED_SCHEMA, base) is None


def test_touches_compare_canonical_times_as_strings_exactly_as_parsed_times():
    """compute_touches compares and copies canonical time strings without parsing them; any other
    form is parsed. Both must give the same touches, at the window's edges too."""
    from datetime import timedelta

    grace, lookback = timedelta(days=7), timedelta(days=90)
    deal = model.validate_deal({"event_id": "d", "schema_version": 1, "occurred_at": "2026-03-01T00:00:00Z",
                                "opportunity_id": "o", "account_id": "acct", "owner_rep_id": "r", "stage": "won",
                                "amount": 5, "currency": "USD", "created_at": "2026-02-01T00:00:00Z",
                                "closed_at": "2026-03-01T00:00:00Z", "updated_at": "2026-03-01T00:00:00Z"})
    win = model.window(deal, grace, lookback)
    edges = [win.start, win.created, win.end, win.start - timedelta(milliseconds=1), win.end + timedelta(milliseconds=1),
             win.created - timedelta(milliseconds=1)]
    rng = random.Random(11)
    span_ms = int((win.end - win.start).total_seconds() * 1000)
    times = edges + [win.start + timedelta(milliseconds=rng.randrange(span_ms)) for _ in range(200)]
    canonical, offset_form = [], []
    for i, at in enumerate(times):
        e = {"event_id": f"e{i}", "asset_id": f"a{rng.randrange(6)}", "type": rng.choice(["view", "share"]),
             "rep_id": "r", "opportunity_id": "o", "occurred_at": model.iso(at)}
        canonical.append(e)
        offset_form.append(dict(e, occurred_at=at.isoformat()))  # "+00:00", not the stored form
    fast = model.compute_touches(deal, canonical, grace, lookback)
    parsed = model.compute_touches(deal, offset_form, grace, lookback)
    assert fast == parsed and len(fast) == 6
    assert sum(t["touch_count"] for t in fast.values()) == len(times) - 2  # the two just outside the window
