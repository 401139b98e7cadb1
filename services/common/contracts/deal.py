"""deals.v1 (schemas/deal-outcome.v1.json): a CRM opportunity's full current snapshot.

On top of the schema: timestamps are RFC 3339 with a zone, updated_at (the snapshot's
version, in milliseconds since 1970) and occurred_at are not in the future, closed_at is
not before created_at, and an open deal's closed_at is ignored. The optional display names
(opportunity_name, account_name) have their blanks collapsed; a blank name is no name.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, Mapping, TypedDict

from services.common.contracts import schema, times
from services.common.contracts.errors import schema_error

SCHEMA = "deal-outcome.v1.json"
MAX_BYTES = 16 * 1024
SEGMENT_FIELDS = ("industry", "region", "product_line", "deal_size_band", "team")
NAME_FIELDS = ("opportunity_name", "account_name")  # optional CRM display names, kept as sent (trimmed)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


class Deal(TypedDict, total=False):
    """The stored `deals` document: canonical times, `version` = updated_at in ms, segments lower case."""

    event_id: str
    opportunity_id: str
    account_id: str
    opportunity_name: str | None
    account_name: str | None
    owner_rep_id: str
    stage: str
    amount: float
    currency: str
    created_at: str
    closed_at: str | None
    updated_at: str
    version: int
    lost_reason: str | None
    lost_topic: str | None
    industry: str | None
    region: str | None
    product_line: str | None
    deal_size_band: str | None
    team: str | None
    received_at: str


def parse(raw: Mapping[str, Any], topic_of: Any, now: datetime | None = None) -> Deal:
    """A deal outcome as the stored document; `topic_of(text)` normalises a lost reason into a gap topic."""
    schema.validate(SCHEMA, raw)
    amount = raw["amount"]
    if type(amount) is float and not math.isfinite(amount):  # protobuf doubles can be NaN; the schema lets it by
        raise schema_error("amount", f"must be a finite number, got {amount!r}")
    created = times.parse(raw["created_at"], "created_at")
    updated = times.parse(raw["updated_at"], "updated_at")
    if updated < times.EPOCH:
        raise schema_error("updated_at", "before 1970-01-01 (it is the snapshot's version, in ms since then)")
    occurred = times.parse(raw["occurred_at"], "occurred_at")
    times.check_not_future(updated, "updated_at", now)
    times.check_not_future(occurred, "occurred_at", now)
    closed: datetime | None = None
    if raw["stage"] != "open":
        closed = times.parse(raw["closed_at"], "closed_at")
        if closed < created:
            raise schema_error("closed_at", "before created_at")
    lost_reason = (raw.get("lost_reason") or "").strip()[:500] or None
    doc: Deal = {
        "event_id": raw["event_id"], "opportunity_id": raw["opportunity_id"], "account_id": raw["account_id"],
        "owner_rep_id": raw["owner_rep_id"], "stage": raw["stage"], "amount": float(amount),
        "currency": raw["currency"], "created_at": times.format_iso(created),
        "closed_at": times.format_iso(closed) if closed else None, "updated_at": times.format_iso(updated),
        "version": times.to_ms(updated), "lost_reason": lost_reason,
        "lost_topic": (topic_of(lost_reason) or None) if lost_reason and raw["stage"] == "lost" else None,
    }
    for name in SEGMENT_FIELDS:
        doc[name] = _label(raw.get(name))  # type: ignore[literal-required]
    for name in NAME_FIELDS:
        doc[name] = _display_name(raw.get(name))  # type: ignore[literal-required]
    if "received_at" in raw:
        doc["received_at"] = times.parse_to_canonical(raw["received_at"], "received_at")[1]
    return doc


def _display_name(value: Any) -> str | None:
    """A CRM name as shown to people: surrounding blanks trimmed, case kept; blank is no name."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _label(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    return text or None
