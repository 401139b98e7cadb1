"""Actions on the rows selected in the unused-collateral report: retire, extend expiry, notify owners, promote.

Each action works asset by asset through the content service (whose state-changing RPCs are
audited there) and returns an `Outcome`: how many assets it changed and which failed, with
the reason, so the page can say exactly what happened. A failure of one asset never stops
the others; only an unreachable backend (UNAVAILABLE, a deadline) aborts the whole action,
because every further call would fail the same way.

Notifying owners sends email (services/common/mail.py) and changes no stored object, so it
is audited here, through the same audit log as the services, one entry per owner notified.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any, Callable, Iterable

import grpc
from google.protobuf import field_mask_pb2, timestamp_pb2

from collateral.v1 import common_pb2, content_pb2, usage_pb2
from services.common import audit, config, errors, mail
from services.portal import filters

MAX_SELECTED = 200
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ABORTING = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
REASON_EXPLANATIONS = {
    "NEVER_USED": "never used by anyone, and not shown in search in the window",
    "NEVER_SHOWN_IN_SEARCH": "used before, but neither used nor shown in search in the window",
    "SHOWN_NOT_OPENED": "shown in search results, but no rep opened it",
    "DOWNLOADED_NOT_SHARED": "viewed or downloaded by reps, but never shared with a customer",
    "SHARED_NOT_OPENED_BY_CUSTOMER": "shared with customers, but no customer opened it",
    "EXPIRED": "its expiry date has passed",
}

Rpc = Callable[[str, str, Any], Any]


@dataclass
class Outcome:
    """What one action did: `done` assets (or owners) changed, `failed` as (id, why)."""

    verb: str
    done: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def message(self) -> str:
        noun = "owner" if self.verb == "Notified" else "asset"
        text = f"{self.verb} {self.done} {noun}{'' if self.done == 1 else 's'}."
        if self.failed:
            text += " Failed: " + "; ".join(f"{what} ({why})" for what, why in self.failed[:10])
            text += f" and {len(self.failed) - 10} more." if len(self.failed) > 10 else "."
        return text


def selected_ids(values: Iterable[str], id_pattern: re.Pattern[str]) -> list[str]:
    """The selected asset ids, well-formed, deduplicated, at most MAX_SELECTED."""
    return list(dict.fromkeys(v for v in values if id_pattern.match(v)))[:MAX_SELECTED]


def _each(ids: list[str], outcome: Outcome, change: Callable[[str], None]) -> Outcome:
    for asset_id in ids:
        try:
            change(asset_id)
            outcome.done += 1
        except grpc.RpcError as exc:
            if exc.code() in ABORTING:
                raise
            outcome.failed.append((asset_id, exc.details() or exc.code().name.lower()))
    return outcome


def retire(rpc: Rpc, ids: list[str]) -> Outcome:
    return _each(ids, Outcome("Retired"), lambda a: rpc(
        "content", "RetireAsset", content_pb2.RetireAssetRequest(asset_id=a)))


def parse_day(value: str, today: date) -> date | None:
    """The new expiry day from the date picker, or None when it is missing, malformed or not in the future."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if day > today else None


def extend_expiry(rpc: Rpc, ids: list[str], day: date) -> Outcome:
    """Sets expires_at to the end of `day` (UTC) on each asset, at the version just read."""
    until = timestamp_pb2.Timestamp()
    until.FromDatetime(datetime.combine(day, time(23, 59, 59), timezone.utc))

    def change(asset_id: str) -> None:
        current = rpc("content", "GetAsset", content_pb2.GetAssetRequest(asset_id=asset_id)).asset
        rpc("content", "UpdateAsset", content_pb2.UpdateAssetRequest(
            asset=content_pb2.Asset(asset_id=asset_id, expires_at=until),
            update_mask=field_mask_pb2.FieldMask(paths=["expires_at"]), expected_version=current.version))

    return _each(ids, Outcome("Extended"), change)


def promote(rpc: Rpc, ids: list[str], stage: int) -> Outcome:
    """Pins each asset in search for `stage` (content: pinned_stages), keeping its other pins."""
    def change(asset_id: str) -> None:
        current = rpc("content", "GetAsset", content_pb2.GetAssetRequest(asset_id=asset_id)).asset
        stages = list(dict.fromkeys([*current.pinned_stages, stage]))
        rpc("content", "UpdateAsset", content_pb2.UpdateAssetRequest(
            asset=content_pb2.Asset(asset_id=asset_id, pinned_stages=stages),
            update_mask=field_mask_pb2.FieldMask(paths=["pinned_stages"]), expected_version=current.version))

    return _each(ids, Outcome("Promoted"), change)


def stage_value(name: str) -> int | None:
    """A buying stage from the form ("decision"), or None."""
    try:
        value = common_pb2.BuyingStage.Value("BUYING_STAGE_" + name.upper())
    except ValueError:
        return None
    return value or None


@dataclass(frozen=True)
class Listed:
    """One selected asset as the owner's email names it."""

    asset_id: str
    title: str
    owner: str
    reason: str


def owners_mail(sender: str, owner: str, assets: list[Listed], report_url: str) -> mail.Mail:
    """The email to one owner: each of their selected assets and why it counts as unused."""
    lines = [f"{sender} looked at the unused-collateral report and asks you to review these assets:", ""]
    for a in assets:
        if a.reason in REASON_EXPLANATIONS:
            why = f"{filters.label('UNUSED_REASON_' + a.reason)}, {REASON_EXPLANATIONS[a.reason]}"
        else:
            why = "no customer-facing use in the report's window"
        lines.append(f"- {a.title} ({a.asset_id}): {why}.")
    lines += ["", "Update, re-target or retire them so reps find what works.", "", f"The report: {report_url}"]
    count = len(assets)
    return mail.Mail(to=owner, subject=f"{count} of your assets {'is' if count == 1 else 'are'} unused",
                     text="\n".join(lines))


def notify_owners(rpc: Rpc, settings: config.Settings, audit_log: audit.AuditLog, actor: audit.Actor,
                  origin: audit.Origin, ids: list[str], reasons: dict[str, str], report_url: str) -> Outcome:
    """One email per owner of the selected assets, listing them with the reason each is unused.

    The owner and title come from the content service (never from the form), so the action
    can only write to the owners of the assets; the reason comes from the report row.
    """
    outcome = Outcome("Notified")
    by_owner: dict[str, list[Listed]] = defaultdict(list)
    for asset_id in ids:
        try:
            asset = rpc("content", "GetAsset", content_pb2.GetAssetRequest(asset_id=asset_id)).asset
        except grpc.RpcError as exc:
            if exc.code() in ABORTING:
                raise
            outcome.failed.append((asset_id, exc.details() or exc.code().name.lower()))
            continue
        by_owner[asset.owner].append(Listed(asset_id, asset.title or asset_id, asset.owner,
                                            reasons.get(asset_id, "")))
    for owner, assets in sorted(by_owner.items()):
        if not EMAIL_RE.match(owner):
            outcome.failed.append((owner or "(no owner)", "the owner has no email address"))
            continue
        message = owners_mail(actor.subject, owner, assets, report_url)
        try:
            audit.record_change(audit_log, actor, origin, "portal", "portal/unused.NotifyOwner", "asset_owner", owner,
                                lambda _owner, listed=assets: {"asset_ids": [a.asset_id for a in listed]},
                                lambda m=message: mail.send(settings, m))
            outcome.done += 1
        except mail.MailRefused as exc:
            outcome.failed.append((owner, f"refused by the mail server: {exc}"))
        except errors.Unavailable as exc:
            outcome.failed.append((owner, f"unavailable, nothing sent; try again: {exc}"))
    return outcome


def reasons_from_form(values: Iterable[str]) -> dict[str, str]:
    """asset id -> reason from the rows' "<asset_id>:<REASON>" fields (ids may hold colons; reasons never)."""
    known = set(reason_names())
    pairs = (value.rpartition(":") for value in values)
    return {asset_id: reason for asset_id, _, reason in pairs if asset_id and reason in known}


def reason_names() -> list[str]:
    """Every unused reason name ("NEVER_USED", ...), in enum order."""
    return [usage_pb2.UnusedReason.Name(v).removeprefix("UNUSED_REASON_") for v in usage_pb2.UnusedReason.values() if v]
