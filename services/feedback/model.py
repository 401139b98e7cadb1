"""Deal outcomes, join-relevant usage events and touches: validation and the pure join.

Everything here is a pure function of its inputs, which is what makes the join provably
order-independent: the consumer stores the raw inputs idempotently (usage events by
event_id, deals by version) and then recomputes each affected opportunity's touches
with `compute_touches` from the stored raw events and the current deal state. Whatever
order the inputs arrived in, the final stored inputs are the same, hence so are the
touches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from services.common.contracts import classified, deal as deal_contract, times
from services.common.contracts.errors import InvalidEvent

SCHEMA_VERSION = 1
DEAL_SCHEMA = deal_contract.SCHEMA
CLASSIFIED_SCHEMA = classified.SCHEMA
MAX_DEAL_BYTES = deal_contract.MAX_BYTES
MAX_USAGE_BYTES = classified.MAX_BYTES
MAX_TOUCH_TIMES = 200  # touchpoint times kept per touch for attribution (the newest are dropped beyond it)
STAGES = ("open", "won", "lost")
SEGMENT_FIELDS = deal_contract.SEGMENT_FIELDS
NAME_FIELDS = deal_contract.NAME_FIELDS
EPOCH = times.EPOCH


iso = times.format_iso
parse_iso = times.parse_stored
to_ms = times.to_ms


# ---- deal outcomes -------------------------------------------------------------------

def validate_deal(raw: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """A deal outcome (JSON contract) as the stored `deals` document (contracts.deal); raises InvalidEvent."""
    return deal_contract.parse(raw, normalize_topic, now)  # type: ignore[return-value]


def field_of(exc: InvalidEvent) -> tuple[str, str]:
    """(field, message) of a contract violation; field "" when it names none.

    Contract errors carry their field; details written by hand or by jsonschema (the CSV
    importer's every-violation listing) come as "field: message", "(root): 'x' is a required
    property" or "field <value> is more than ... ahead"; all three name the field.
    """
    if exc.field is not None:
        return ("" if exc.field == "(root)" else exc.field), exc.message
    field, _, message = exc.detail.partition(": ")
    if not message or " " in field:
        first = exc.detail.split(" ", 1)[0]
        field, message = (first, exc.detail) if re.fullmatch(r"[a-z_]+", first) else ("(root)", exc.detail)
    if field == "(root)":
        match = re.match(r"'([a-z_]+)' is a required property", message)
        field = match.group(1) if match else ""
    return field, message


# ---- usage events ---------------------------------------------------------------------

def validate_classified(raw: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """A classified usage event (usage.classified.v1, the usage service's contract) reduced to
    what the join needs, with the usage service's bot verdict as given (contracts.classified)."""
    return classified.parse(raw, now)[0]  # type: ignore[return-value]


def joinable(doc: Mapping[str, Any]) -> bool:
    """Only events naming an opportunity or an account can ever join a deal."""
    return bool(doc.get("opportunity_id") or doc.get("account_id")) and not doc.get("is_bot")


# ---- the join ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """An opportunity's join window: [created - lookback, created) sources it, [created, end] influences it."""

    start: datetime  # created_at - sourcing lookback: the earliest usage that counts
    created: datetime  # the opportunity's created_at: touchpoints before it are sourcing
    end: datetime | None  # closed_at + grace; None: the deal is open, the window has no end yet


def window(deal: Mapping[str, Any], grace: timedelta, lookback: timedelta) -> Window:
    """The window of `deal`; `window(...).start` is where the join looks for candidate events."""
    created = parse_iso(deal["created_at"])
    closed = deal.get("closed_at")
    return Window(created - lookback, created,
                  parse_iso(closed) + grace if closed and deal.get("stage") != "open" else None)


def in_window(occurred: datetime, win: Window) -> bool:
    return occurred >= win.start and (win.end is None or occurred <= win.end)


def is_sourcing(occurred: datetime, win: Window) -> bool:
    """A touchpoint in the lookback before the opportunity existed: content that sourced it."""
    return win.start <= occurred < win.created


def matches(event: Mapping[str, Any], deal: Mapping[str, Any]) -> bool:
    """Does `event` belong to `deal` (before the time window is applied)?

    An event naming an opportunity belongs to that opportunity only; an event naming only
    an account belongs to every opportunity of that account (the window then keeps the
    ones open at the time).
    """
    opp = event.get("opportunity_id")
    if opp:
        return opp == deal["opportunity_id"]
    return bool(event.get("account_id")) and event.get("account_id") == deal["account_id"]


def repeat_open(event: Mapping[str, Any], opened: set[tuple[str, str]]) -> bool:
    """True for a customer open of a share link that already has an open that UTC day.

    Anyone holding a link can post opens with fresh visit ids; the usage service caps
    them per client, which needs the client's address hash this join does not keep.
    So here a link's opens are one touchpoint per day: the earliest (events are seen
    in time order), whatever the flood. Records the open in `opened`.
    """
    if event.get("type") != "customer_open" or not event.get("share_id"):
        return False
    key = (str(event["share_id"]), str(event["occurred_at"])[:10])
    if key in opened:
        return True
    opened.add(key)
    return False


def touch_id(asset_id: str, opportunity_id: str) -> str:
    return f"{asset_id}|{opportunity_id}"


DEAL_FIELDS_ON_TOUCH = ("opportunity_id", "account_id", "owner_rep_id", "stage", "amount", "currency",
                        "created_at", "closed_at", *SEGMENT_FIELDS)


_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _time_axis(win: Window, events: list[Mapping[str, Any]]) -> tuple[Any, Any, Any, Any, Any]:
    """(to_time, fmt, start, created, end) for compute_touches' comparisons and output.

    Stored and routed times are canonical (`iso`: UTC, milliseconds, Z), whose string order is
    time order, so when every event time and window bound is canonical the join compares and
    stores the strings themselves instead of parsing and re-formatting each (the join's largest
    cost per event); otherwise it parses them, with the same results.
    """
    bounds = [win.start, win.created] + ([win.end] if win.end is not None else [])
    if all(b.microsecond % 1000 == 0 for b in bounds) and all(_CANONICAL.fullmatch(e["occurred_at"]) for e in events):
        end = iso(win.end) if win.end is not None else None
        return (lambda value: value), (lambda value: value), iso(win.start), iso(win.created), end
    return parse_iso, iso, win.start, win.created, win.end


def compute_touches(deal: Mapping[str, Any], raw_events: Iterable[Mapping[str, Any]],
                    grace: timedelta, lookback: timedelta) -> dict[str, dict[str, Any]]:
    """{touch_id: touch document} for one opportunity, from its candidate raw events.

    Deterministic: the output depends only on the set of events (duplicates by event_id
    collapse) and the deal, never on the order they are given in. A touch counts every
    touchpoint of the window; `sourcing_count` of them fall before the opportunity's
    creation (sourcing), the rest from creation to close + grace (influencing).
    """
    win = window(deal, grace, lookback)
    ordered = sorted(raw_events, key=lambda e: (e["occurred_at"], e["event_id"]))
    to_time, fmt, start, created, end = _time_axis(win, ordered)
    per_asset: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    opened: set[tuple[str, str]] = set()
    for ev in ordered:
        if ev["event_id"] in seen or ev.get("is_bot") or not matches(ev, deal):
            continue
        seen.add(ev["event_id"])
        at = to_time(ev["occurred_at"])
        if at < start or (end is not None and at > end) or repeat_open(ev, opened):
            continue
        entry = per_asset.setdefault(ev["asset_id"], {"times": [], "counts": {}, "sourcing": 0})
        entry["times"].append(at)
        entry["sourcing"] += at < created  # start <= at: a sourcing touchpoint (is_sourcing)
        entry["counts"][ev["type"]] = entry["counts"].get(ev["type"], 0) + 1
    touches: dict[str, dict[str, Any]] = {}
    for asset_id, entry in per_asset.items():
        times = sorted(entry["times"])
        doc: dict[str, Any] = {name: deal.get(name) for name in DEAL_FIELDS_ON_TOUCH}
        doc.update(
            asset_id=asset_id,
            deal_version=deal["version"],
            first_touch_at=fmt(times[0]),
            last_touch_at=fmt(times[-1]),
            touch_count=len(times),
            sourcing=entry["sourcing"] > 0,
            sourcing_count=entry["sourcing"],
            influencing=entry["sourcing"] < len(times),
            influenced_amount=deal.get("amount") if entry["sourcing"] < len(times) else 0.0,
            counts=dict(sorted(entry["counts"].items())),
            times=[fmt(t) for t in times[:MAX_TOUCH_TIMES]],
        )
        touches[touch_id(asset_id, deal["opportunity_id"])] = doc
    return touches


# ---- text normalisation for content gaps ---------------------------------------------------

_STOP = frozenset(
    "a an and are as at be by for from has have how i in is it its me my need of on or our the their them "
    "there this to us we what where which with you your any some about no not missing lack lacking without".split()
)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
STOP_WORDS = _STOP  # also the content-gap topics' (gap_topics.py)


def normalize_topic(text: str, max_words: int = 12) -> str:
    """Lower case, punctuation and stop words removed, words de-duplicated and sorted.

    "ROI calculator for Healthcare?" and "healthcare roi calculator" become the same
    key, so a zero-result search, an explicit request and a lost reason about the same
    thing add up in the content-gaps ranking.
    """
    words = [w for w in _NON_WORD.split(text.lower()) if w and w not in _STOP and not w.isdigit()]
    return " ".join(sorted(set(words))[:max_words])
