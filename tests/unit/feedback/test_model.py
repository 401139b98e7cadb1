"""The deal contract and the pure join (compute_touches) without any server."""

import itertools
import random
from datetime import datetime, timedelta, timezone

import pytest

from services.common.consumer import InvalidEvent
from services.feedback import model

GRACE = timedelta(days=7)
NO_LOOKBACK = timedelta(0)  # the window starting at creation, as without sourcing


def deal(**over):
    d = {"event_id": "o1@1", "schema_version": 1, "occurred_at": "2026-01-21T00:00:00Z", "opportunity_id": "O1",
         "account_id": "A", "owner_rep_id": "r1", "stage": "won", "amount": 100, "currency": "USD",
         "created_at": "2026-01-01T00:00:00Z", "closed_at": "2026-01-21T00:00:00Z", "updated_at": "2026-01-21T00:00:00Z",
         "industry": " Healthcare ", "lost_reason": None}
    d.update(over)
    return d


def ev(event_id, asset, when, opp=None, account=None, type_="share"):
    e = {"event_id": event_id, "asset_id": asset, "occurred_at": when, "type": type_, "rep_id": "r"}
    if opp:
        e["opportunity_id"] = opp
    if account:
        e["account_id"] = account
    return e


def test_validate_deal_normalises():
    doc = model.validate_deal(deal())
    assert doc["industry"] == "healthcare"
    assert doc["version"] == int(datetime(2026, 1, 21, tzinfo=timezone.utc).timestamp() * 1000)
    assert doc["created_at"] == "2026-01-01T00:00:00.000Z"
    assert doc["lost_topic"] is None


def test_open_deals_ignore_closed_at_and_lost_topic():
    doc = model.validate_deal(deal(stage="open"))
    assert doc["closed_at"] is None
    lost = model.validate_deal(deal(stage="lost", lost_reason="Missing a SOC 2 report!"))
    assert lost["lost_topic"] == "report soc"


@pytest.mark.parametrize(
    "over,fragment",
    [
        ({"stage": "maybe"}, "stage"),
        ({"closed_at": None}, "closed_at"),
        ({"closed_at": "2025-12-01T00:00:00Z"}, "closed_at: before created_at"),
        ({"created_at": "2026-01-01T00:00:00"}, "created_at"),
        ({"amount": -1}, "amount"),
        ({"currency": "usd"}, "currency"),
        ({"updated_at": "2999-01-01T00:00:00Z"}, "updated_at"),
        ({"extra": 1}, "extra"),
    ],
)
def test_validate_deal_rejects(over, fragment):
    with pytest.raises(InvalidEvent) as err:
        model.validate_deal(deal(**over))
    assert fragment in err.value.detail


def test_field_of_names_the_field():
    for over, field in (({"stage": "maybe"}, "stage"), ({"updated_at": "2999-01-01T00:00:00Z"}, "updated_at")):
        with pytest.raises(InvalidEvent) as err:
            model.validate_deal(deal(**over))
        assert model.field_of(err.value)[0] == field
    d = deal()
    del d["created_at"]
    with pytest.raises(InvalidEvent) as err:
        model.validate_deal(d)
    assert model.field_of(err.value)[0] == "created_at"


def test_classified_usage_keeps_the_usage_services_verdict():
    """The join takes the usage service's verdict as given: it never re-classifies (one bot verdict)."""
    base = {"event_id": "e", "schema_version": 1, "occurred_at": "2026-01-01T00:00:00Z", "asset_id": "a", "rep_id": "r"}
    assert model.validate_classified(dict(base, type="customer_open", is_bot=True, bot_reason="fast_open"))["is_bot"]
    assert not model.validate_classified(dict(base, type="view", is_bot=False))["is_bot"]
    assert "opportunity_id" not in model.validate_classified(dict(base, type="view", is_bot=False, opportunity_id=" "))
    with pytest.raises(InvalidEvent):  # a verdict is part of the contract
        model.validate_classified(dict(base, type="view"))
    with pytest.raises(InvalidEvent):  # raw request fields never cross the contract
        model.validate_classified(dict(base, type="customer_open", is_bot=False, user_agent="curl/8"))


def test_the_join_does_not_import_the_usage_service():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(model))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(name and name.startswith("services.usage") for name in imported)


def test_window_and_matching():
    d = model.validate_deal(deal())
    events = [
        ev("1", "X", "2025-12-31T23:59:59Z", opp="O1"),  # before creation
        ev("2", "X", "2026-01-01T00:00:00Z", opp="O1"),  # at creation
        ev("3", "Y", "2026-01-28T00:00:00Z", account="A"),  # close + grace exactly
        ev("4", "Y", "2026-01-28T00:00:01Z", account="A"),  # after grace
        ev("5", "Z", "2026-01-10T00:00:00Z", opp="O2", account="A"),  # names another opportunity
        ev("6", "Z", "2026-01-10T00:00:00Z", account="B"),
    ]
    touches = model.compute_touches(d, events, GRACE, NO_LOOKBACK)
    assert set(touches) == {"X|O1", "Y|O1"}
    assert touches["X|O1"]["first_touch_at"] == "2026-01-01T00:00:00.000Z"
    assert touches["Y|O1"]["touch_count"] == 1


def test_open_deal_window_has_no_end():
    d = model.validate_deal(deal(stage="open"))
    touches = model.compute_touches(d, [ev("1", "X", "2026-06-01T00:00:00Z", account="A")], GRACE, NO_LOOKBACK)
    assert set(touches) == {"X|O1"}


def test_compute_touches_is_order_and_duplicate_independent():
    d = model.validate_deal(deal())
    rng = random.Random(3)
    events = [ev(f"e{i}", rng.choice("XYZ"), f"2026-01-{rng.randrange(1, 28):02d}T{rng.randrange(24):02d}:00:00Z",
                 opp=rng.choice(["O1", None]), account="A", type_=rng.choice(["view", "share"])) for i in range(30)]
    expected = model.compute_touches(d, events, GRACE, NO_LOOKBACK)
    for _ in range(20):
        shuffled = events + rng.sample(events, 10)  # duplicates
        rng.shuffle(shuffled)
        assert model.compute_touches(d, shuffled, GRACE, NO_LOOKBACK) == expected


def test_touch_carries_deal_state():
    d = model.validate_deal(deal(amount=250, region="EMEA", team="north"))
    t = model.compute_touches(d, [ev("1", "X", "2026-01-05T00:00:00Z", opp="O1", type_="view"),
                                  ev("2", "X", "2026-01-03T00:00:00Z", opp="O1")], GRACE, NO_LOOKBACK)["X|O1"]
    assert (t["stage"], t["amount"], t["region"], t["team"]) == ("won", 250.0, "emea", "north")
    assert t["counts"] == {"share": 1, "view": 1}
    assert t["times"] == ["2026-01-03T00:00:00.000Z", "2026-01-05T00:00:00.000Z"]


@pytest.mark.parametrize(
    "a,b",
    [("ROI calculator for Healthcare?", "healthcare roi calculator"), ("The SOC 2 report", "soc report"),
     ("Battle-card: Kubernetes", "kubernetes battle card")],
)
def test_normalize_topic(a, b):
    assert model.normalize_topic(a) == model.normalize_topic(b)


def test_permutations_of_small_set():
    d = model.validate_deal(deal())
    events = [ev("1", "X", "2026-01-02T00:00:00Z", opp="O1"), ev("2", "X", "2026-01-02T00:00:00Z", account="A"),
              ev("3", "Y", "2026-01-03T00:00:00Z", account="A")]
    results = {repr(sorted(model.compute_touches(d, list(p), GRACE, NO_LOOKBACK).items())) for p in itertools.permutations(events)}
    assert len(results) == 1
