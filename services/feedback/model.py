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
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from services.common import events
from services.common.consumer import InvalidEvent

SCHEMA_VERSION = 1
DEAL_SCHEMA = "deal-outcome.v1.json"
CLASSIFIED_SCHEMA = "usage-classified.v1.json"
MAX_DEAL_BYTES = 16 * 1024
MAX_USAGE_BYTES = 64 * 1024
MAX_TOUCH_TIMES = 200  # touchpoint times kept per touch for attribution (the newest are dropped beyond it)
STAGES = ("open", "won", "lost")
SEGMENT_FIELDS = ("industry", "region", "product_line", "deal_size_band", "team")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def iso(when: datetime) -> str:
    """Canonical timestamp form stored everywhere: UTC, milliseconds, Z."""
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def to_ms(when: datetime) -> int:
    return int(round(when.timestamp() * 1000))


def _label(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    return text or None


# ---- deal outcomes -------------------------------------------------------------------

def validate_deal(raw: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """A deal outcome (JSON contract) as the stored `deals` document; raises InvalidEvent.

    On top of the schema: timestamps carry a zone, updated_at/occurred_at are not in the
    future, closed_at is not before created_at, and open deals carry no closed_at.
    """
    events.validate(DEAL_SCHEMA, dict(raw))
    events.check_finite(raw, ("amount",))
    created = events.parse_time(raw["created_at"], "created_at")
    updated = events.parse_time(raw["updated_at"], "updated_at")
    if updated < EPOCH:
        raise InvalidEvent("schema", "updated_at: before 1970-01-01 (it is the snapshot's version, in ms since then)")
    occurred = events.parse_time(raw["occurred_at"], "occurred_at")
    events.check_not_future(updated, "updated_at", now)
    events.check_not_future(occurred, "occurred_at", now)
    closed: datetime | None = None
    if raw["stage"] != "open":
        closed = events.parse_time(raw["closed_at"], "closed_at")
        if closed < created:
            raise InvalidEvent("schema", "closed_at: before created_at")
    doc: dict[str, Any] = {
        "event_id": raw["event_id"],
        "opportunity_id": raw["opportunity_id"],
        "account_id": raw["account_id"],
        "owner_rep_id": raw["owner_rep_id"],
        "stage": raw["stage"],
        "amount": float(raw["amount"]),
        "currency": raw["currency"],
        "created_at": iso(created),
        "closed_at": iso(closed) if closed else None,
        "updated_at": iso(updated),
        "version": to_ms(updated),
        "lost_reason": (raw.get("lost_reason") or "").strip()[:500] or None,
    }
    doc["lost_topic"] = normalize_topic(doc["lost_reason"]) or None if doc["lost_reason"] and doc["stage"] == "lost" else None
    for name in SEGMENT_FIELDS:
        doc[name] = _label(raw.get(name))
    if raw.get("received_at"):
        doc["received_at"] = iso(events.parse_time(raw["received_at"], "received_at"))
    return doc


def field_of(exc: InvalidEvent) -> tuple[str, str]:
    """(field, message) of a contract violation; field "" when it names none.

    Details come as "field: message", "(root): 'x' is a required property" or
    "field <value> is more than ... ahead"; all three name the field.
    """
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
    what the join needs, with the usage service's bot verdict as given: the join never
    classifies on its own, so the usage and win-rate reports agree on every open."""
    if not _plainly_classified(raw):
        events.validate(CLASSIFIED_SCHEMA, dict(raw))
    occurred = events.parse_time(raw["occurred_at"], "occurred_at")
    events.check_not_future(occurred, "occurred_at", now)
    doc: dict[str, Any] = {
        "event_id": raw["event_id"],
        "type": raw["type"],
        "asset_id": raw["asset_id"],
        "rep_id": raw["rep_id"],
        "occurred_at": iso(occurred),
    }
    for name in ("opportunity_id", "account_id", "share_id", "channel"):
        value = str(raw.get(name) or "").strip()
        if value:
            doc[name] = value
    doc["is_bot"] = bool(raw["is_bot"])
    return doc


_CLASSIFIED_TYPES = frozenset({"view", "download", "share", "customer_open", "page_view", "search_click",
                               "email_attach", "present", "customer_download"})
_CLASSIFIED_STRINGS = {"event_id": 128, "occurred_at": 40, "type": 32, "asset_id": 128, "rep_id": 128,
                       "opportunity_id": 128, "account_id": 128, "share_id": 128, "channel": 64, "bot_reason": 64}
_CLASSIFIED_REQUIRED = ("event_id", "occurred_at", "type", "asset_id", "rep_id")


def _plainly_classified(raw: Mapping[str, Any]) -> bool:
    """A fast check that accepts only what usage-classified.v1 accepts (False may still be valid:
    the JSON Schema then decides). Validation dominated the router's cost per event."""
    for name, value in raw.items():
        limit = _CLASSIFIED_STRINGS.get(name)
        if limit is not None:
            if type(value) is not str or len(value) > limit or (not value and name != "occurred_at"):
                return False
        elif name == "is_bot":
            if type(value) is not bool:
                return False
        elif name != "schema_version":
            return False
    return (raw.get("schema_version") == 1 and type(raw.get("schema_version")) is int and "is_bot" in raw
            and all(name in raw for name in _CLASSIFIED_REQUIRED) and raw["type"] in _CLASSIFIED_TYPES)


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


def compute_touches(deal: Mapping[str, Any], raw_events: Iterable[Mapping[str, Any]],
                    grace: timedelta, lookback: timedelta) -> dict[str, dict[str, Any]]:
    """{touch_id: touch document} for one opportunity, from its candidate raw events.

    Deterministic: the output depends only on the set of events (duplicates by event_id
    collapse) and the deal, never on the order they are given in. A touch counts every
    touchpoint of the window; `sourcing_count` of them fall before the opportunity's
    creation (sourcing), the rest from creation to close + grace (influencing).
    """
    win = window(deal, grace, lookback)
    per_asset: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    opened: set[tuple[str, str]] = set()
    for ev in sorted(raw_events, key=lambda e: (e["occurred_at"], e["event_id"])):
        if ev["event_id"] in seen or ev.get("is_bot") or not matches(ev, deal):
            continue
        seen.add(ev["event_id"])
        at = parse_iso(ev["occurred_at"])
        if not in_window(at, win) or repeat_open(ev, opened):
            continue
        entry = per_asset.setdefault(ev["asset_id"], {"times": [], "counts": {}, "sourcing": 0})
        entry["times"].append(at)
        entry["sourcing"] += is_sourcing(at, win)
        entry["counts"][ev["type"]] = entry["counts"].get(ev["type"], 0) + 1
    touches: dict[str, dict[str, Any]] = {}
    for asset_id, entry in per_asset.items():
        times = sorted(entry["times"])
        doc: dict[str, Any] = {name: deal.get(name) for name in DEAL_FIELDS_ON_TOUCH}
        doc.update(
            asset_id=asset_id,
            deal_version=deal["version"],
            first_touch_at=iso(times[0]),
            last_touch_at=iso(times[-1]),
            touch_count=len(times),
            sourcing=entry["sourcing"] > 0,
            sourcing_count=entry["sourcing"],
            influencing=entry["sourcing"] < len(times),
            influenced_amount=deal.get("amount") if entry["sourcing"] < len(times) else 0.0,
            counts=dict(sorted(entry["counts"].items())),
            times=[iso(t) for t in times[:MAX_TOUCH_TIMES]],
        )
        touches[touch_id(asset_id, deal["opportunity_id"])] = doc
    return touches


# ---- text normalisation for content gaps ---------------------------------------------------

_STOP = frozenset(
    "a an and are as at be by for from has have how i in is it its me my need of on or our the their them "
    "there this to us we what where which with you your any some about no not missing lack lacking without".split()
)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalize_topic(text: str, max_words: int = 12) -> str:
    """Lower case, punctuation and stop words removed, words de-duplicated and sorted.

    "ROI calculator for Healthcare?" and "healthcare roi calculator" become the same
    key, so a zero-result search, an explicit request and a lost reason about the same
    thing add up in the content-gaps ranking.
    """
    words = [w for w in _NON_WORD.split(text.lower()) if w and w not in _STOP and not w.isdigit()]
    return " ".join(sorted(set(words))[:max_words])
