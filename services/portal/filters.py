"""Jinja filters and labels: how enums, times, sizes and rates read on a page."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Flask

from services.common.contracts import times

ASSET_TYPES = [
    ("deck", "Deck"), ("case_study", "Case study"), ("one_pager", "One-pager"), ("battle_card", "Battle card"),
    ("video", "Video"), ("whitepaper", "Whitepaper"), ("email_template", "Email template"),
    ("roi_calculator", "ROI calculator"), ("datasheet", "Datasheet"), ("webinar", "Webinar"),
    ("demo_script", "Demo script"), ("proposal_template", "Proposal template"), ("other", "Other"),
]
BUYING_STAGES = [
    ("awareness", "Awareness"), ("consideration", "Consideration"), ("decision", "Decision"),
    ("onboarding", "Onboarding"), ("expansion", "Expansion"),
]
STATUSES = [("draft", "Draft"), ("published", "Published"), ("retired", "Retired")]
FACET_LABELS = {
    "type": "Type", "buying_stage": "Buying stage", "industry": "Industry", "region": "Region",
    "product": "Product", "persona": "Persona", "language": "Language", "tag": "Tag", "owner": "Owner",
    "status": "Status",
}
_LABELS = dict(ASSET_TYPES) | dict(BUYING_STAGES) | dict(STATUSES)


def enum_key(full_name: str, prefix: str) -> str:
    """'ASSET_TYPE_CASE_STUDY', 'ASSET_TYPE_' -> 'case_study'."""
    return full_name[len(prefix):].lower() if full_name.startswith(prefix) else full_name.lower()


def label(value: Any) -> str:
    """Display name of an enum value name ('ASSET_TYPE_CASE_STUDY', 'case_study' -> 'Case study')."""
    text = str(value)
    for prefix in ("ASSET_TYPE_", "BUYING_STAGE_", "ASSET_STATUS_", "SHARE_LINK_STATE_", "UNUSED_REASON_",
                   "USAGE_EVENT_TYPE_"):
        if text.startswith(prefix):
            text = text[len(prefix):].lower()
            break
    return _LABELS.get(text, text.replace("_", " ").capitalize())


def stage(value: int) -> str:
    """Display name of a BuyingStage number."""
    from collateral.v1 import common_pb2

    try:
        return label(common_pb2.BuyingStage.Name(int(value)))
    except ValueError:
        return str(value)


ENUM_FACETS = frozenset({"type", "buying_stage", "status"})


def facet_value(value: str, facet: str) -> str:
    """Enum facets get their display names; free-text values (industries, personas...) show as stored."""
    return label(value) if facet in ENUM_FACETS else value


def to_datetime(ts: Any) -> datetime | None:
    """A protobuf Timestamp (unset -> None), datetime or ISO string as an aware datetime."""
    if ts is None:
        return None
    if isinstance(ts, datetime):
        return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
    if isinstance(ts, str):
        if not ts:
            return None
        return times.parse_stored(ts)
    if hasattr(ts, "seconds"):
        if ts.seconds == 0 and ts.nanos == 0:
            return None
        return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, tz=timezone.utc)
    return None


def fmt_time(ts: Any, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    dt = to_datetime(ts)
    return dt.strftime(fmt) if dt else "—"


def fmt_date(ts: Any) -> str:
    return fmt_time(ts, "%Y-%m-%d")


def ago(ts: Any) -> str:
    dt = to_datetime(ts)
    if dt is None:
        return "never"
    seconds = (datetime.now(timezone.utc) - dt).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"in {n} {unit}" if future else f"{n} {unit} ago"
    return "just now"


def file_size(n: int | float) -> str:
    n = float(n or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def pct(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "—"
    return f"{x * 100:.{digits}f}%"


def p_value(x: float | None, relation: bool = False) -> str:
    """A p- or q-value to 3 significant figures; "< 0.001" below that, never a bare "0.000".

    With `relation` the value reads after a symbol in running text: "= 0.0123" or "< 0.001".
    """
    if x is None:
        return "—"
    if x < 0.001:
        return "< 0.001"
    return f"= {x:#.3g}" if relation else f"{x:#.3g}"


def plural(n: float | None, singular: str, plural_form: str | None = None) -> str:
    """A count with its noun in the right number: "1 event", "2 events", "0 events", "1,200 events".

    `plural_form` is for nouns that do not just take an "s" ("1 opportunity", "2 opportunities").
    """
    count = float(n or 0)
    number = f"{count:,.0f}" if count.is_integer() else f"{count:,.12g}"
    noun = singular if count == 1 else (plural_form or singular + "s")
    return f"{number} {noun}"


def money(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.0f}"


def seconds_text(s: float | None) -> str:
    s = float(s or 0)
    if s < 60:
        return f"{s:.0f} s"
    return f"{int(s // 60)} min {int(s % 60)} s"


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        label=label, time=fmt_time, date=fmt_date, ago=ago, filesize=file_size, pct=pct, money=money,
        seconds=seconds_text, stage=stage, facet_value=facet_value, p_value=p_value, plural=plural,
    )
    app.jinja_env.globals.update(ASSET_TYPES=ASSET_TYPES, BUYING_STAGES=BUYING_STAGES, FACET_LABELS=FACET_LABELS,
                                 STATUSES=STATUSES)
