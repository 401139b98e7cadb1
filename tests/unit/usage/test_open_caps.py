"""The share-link open caps (a pure rule) and the deal join's one-open-per-link-and-day."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from services.feedback import model as feedback_model
from services.usage import bots, model

CAPS = bots.OpenCaps(per_client=2, per_link=3)
BASE = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)


def open_event(n: int, client: str, seconds: float, share: str = "shr_1", **kw) -> dict:
    return {"event_id": f"e{n:03d}", "type": "customer_open", "share_id": share, "ip_hash": client,
            "occurred_at": model.iso(BASE + timedelta(seconds=seconds)), **kw}


def test_opens_beyond_the_per_client_and_per_link_caps_are_over():
    opens = [open_event(1, "a", 1), open_event(2, "a", 2), open_event(3, "a", 3),  # a's third: over
             open_event(4, "b", 4), open_event(5, "c", 5)]  # c: the link is full
    assert bots.opens_over_cap(opens, CAPS) == {"e003", "e005"}


def test_caps_are_per_link_and_utc_day_and_ignore_other_events():
    opens = [open_event(i, "a", i) for i in range(1, 4)]
    opens += [open_event(10 + i, "a", 86400 + i) for i in range(2)]  # next day: a fresh budget
    opens += [open_event(20 + i, "a", i, share="shr_2") for i in range(2)]  # another link
    opens += [{**open_event(30, "a", 5), "type": "page_view"}, {**open_event(31, "a", 6), "share_id": ""}]
    assert bots.opens_over_cap(opens, CAPS) == {"e003"}


def test_opens_without_an_address_share_one_client_budget_and_duplicates_count_once():
    opens = [open_event(1, "", 1), open_event(1, "", 1), open_event(2, "", 2), open_event(3, "", 3)]
    for o in opens:
        o.pop("ip_hash")
    assert bots.opens_over_cap(opens, CAPS) == {"e003"}


def _random_opens(rng: random.Random, count: int) -> list[dict]:
    return [open_event(i, rng.choice("abcdef"), rng.randrange(0, 500)) for i in range(count)]


def test_verdicts_do_not_depend_on_arrival_order():
    rng = random.Random(7)
    opens = _random_opens(rng, 60)
    expected = bots.opens_over_cap(opens, CAPS)
    for _ in range(20):
        rng.shuffle(opens)
        assert bots.opens_over_cap(opens, CAPS) == expected


def test_counted_so_far_plus_a_batch_gives_the_whole_history_verdict():
    """What the consumer relies on: it reads only the opens counted so far, never the over-cap ones."""
    rng = random.Random(11)
    caps = bots.OpenCaps(per_client=3, per_link=7)
    for _ in range(200):
        history = _random_opens(rng, rng.randrange(0, 40))
        batch = [open_event(100 + i, rng.choice("abcdefg"), rng.randrange(0, 500)) for i in range(rng.randrange(1, 10))]
        counted = [o for o in history if o["event_id"] not in bots.opens_over_cap(history, caps)]
        everything = bots.opens_over_cap(history + batch, caps)
        incremental = bots.opens_over_cap(counted + batch, caps)
        ids = {o["event_id"] for o in counted + batch}
        assert incremental == everything & ids


def _usage(n: int, seconds: float, share: str = "shr_1", kind: str = "customer_open") -> dict:
    return {"event_id": f"u{n:04d}", "type": kind, "asset_id": "A", "rep_id": "r", "opportunity_id": "O",
            "share_id": share, "occurred_at": feedback_model.iso(BASE + timedelta(seconds=seconds))}


def test_the_deal_join_counts_one_open_per_link_and_day_whatever_the_flood():
    deal = {"opportunity_id": "O", "account_id": "C", "stage": "won", "amount": 1.0, "currency": "EUR",
            "created_at": "2026-01-01T00:00:00.000Z", "closed_at": "2026-04-01T00:00:00.000Z", "version": 1}
    flood = [_usage(i, 60 + i) for i in range(200)]
    other = [_usage(500, 30, share="shr_2"), _usage(501, 86400 + 5), _usage(502, 90, kind="page_view")]
    events = flood + other
    touches = feedback_model.compute_touches(deal, events, timedelta(days=7), timedelta(0))
    touch = touches["A|O"]
    assert touch["counts"] == {"customer_open": 3, "page_view": 1}
    assert touch["first_touch_at"] == feedback_model.iso(BASE + timedelta(seconds=30))
    assert feedback_model.compute_touches(deal, list(reversed(events)), timedelta(days=7), timedelta(0)) == touches
