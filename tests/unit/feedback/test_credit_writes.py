"""When the join stage writes credit documents: only the ones whose content changed."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import orjson

from services.feedback import credits, model
from services.feedback.writes import Writes
from tests.unit.feedback.test_sourcing_and_credits import T0, deal, ev

GRACE, LOOKBACK = timedelta(days=7), timedelta(days=90)


def _credits(events):
    d = deal()
    return credits.credit_documents(d, model.compute_touches(d, events, GRACE, LOOKBACK))


def _staged(new, old):
    writes = Writes()
    counts = credits.stage_writes(writes, SimpleNamespace(credits="credits-index"),
                                  {cid: orjson.dumps(doc) for cid, doc in new.items()},
                                  {cid: hash(orjson.dumps(doc)) for cid, doc in old.items()})
    actions = [line.split(b"\n")[0].decode() for line in writes.lines]
    return counts, actions


def test_unchanged_credits_are_not_rewritten():
    first = _credits([ev("1", "A", T0 + timedelta(days=1), opp="O1"), ev("2", "B", T0 + timedelta(days=2), opp="O1")])
    again = _credits([ev("2", "B", T0 + timedelta(days=2), opp="O1"), ev("1", "A", T0 + timedelta(days=1), opp="O1")])
    assert again == first and len(first) == 2
    assert _staged(again, first) == ((0, 0), [])


def test_changed_new_and_gone_credits_are_written_once_each():
    old = _credits([ev("1", "A", T0 + timedelta(days=1), opp="O1"), ev("2", "B", T0 + timedelta(days=2), opp="O1")])
    # A third touchpoint on C: every position-based credit of A and B changes, C is new.
    new = _credits([ev("1", "A", T0 + timedelta(days=1), opp="O1"), ev("2", "B", T0 + timedelta(days=2), opp="O1"),
                    ev("3", "C", T0 + timedelta(days=3), opp="O1")])
    (written, deleted), actions = _staged(new, old)
    assert (written, deleted) == (3, 0) and all('"index"' in a for a in actions)
    assert sorted(a.split('"_id":"')[1].split('"')[0] for a in actions) == sorted(new)
    # The deal turns lost: all of its credits go.
    (written, deleted), actions = _staged({}, new)
    assert (written, deleted) == (0, 3) and all('"delete"' in a for a in actions)


def test_an_input_that_changes_no_touchpoint_writes_no_credit():
    """An event after close + grace is no touchpoint: the recomputed credits equal the stored ones."""
    base = [ev("1", "A", T0 + timedelta(days=1), opp="O1"), ev("2", "B", T0 + timedelta(days=2), opp="O1")]
    old = _credits(base)
    outside = base + [ev("9", "A", T0 + timedelta(days=400), opp="O1")]  # after close + grace: not a touchpoint
    assert _staged(_credits(outside), old) == ((0, 0), [])
