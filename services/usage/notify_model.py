"""Customer-open notifications: ids, the notify-or-not decision and rep preferences, as pure logic.

Everything here is a function of its arguments (no clock, no store), so the delivery
guarantee rests on values a replay recomputes identically: a notification's id is a hash
of what it is about (the link or room, the kind, the opening event), a channel delivery's
id extends it with the channel, and a digest's id names the rep, channel and UTC day.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping
from urllib.parse import urlsplit

from services.common import errors

FIRST_OPEN = "first_open"
REOPEN = "reopen"
KINDS = (FIRST_OPEN, REOPEN)

PORTAL, EMAIL, WEBHOOK = "portal", "email", "webhook"
SENT_CHANNELS = (EMAIL, WEBHOOK)  # channels that send a message (the portal list is the stored notification)

IMMEDIATE, DIGEST = "immediate", "digest"
DELIVERIES = (IMMEDIATE, DIGEST)

SLACK, TEAMS = "slack", "teams"
FORMATS = (SLACK, TEAMS)

# Delivery states: pending until sent; failed when refused for good; cancelled when the open
# turned out to be a bot before anything was sent.
PENDING, SENT, FAILED, CANCELLED = "pending", "sent", "failed", "cancelled"

MAX_EMAIL_CHARS = 254
MAX_URL_CHARS = 2048
_EMAIL_RE = re.compile(r"^[^@\s<>\"',;()\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def notification_id(target_id: str, kind: str, event_id: str) -> str:
    """Same link or room, same kind, same opening event: same id, however often it is replayed."""
    return "ntf_" + _digest(target_id, kind, event_id)


def delivery_id(notification: str, channel: str) -> str:
    return f"{notification}.{channel}"


def digest_id(rep_id: str, channel: str, day: str) -> str:
    """One digest per rep, channel and UTC day."""
    return "dig_" + _digest(rep_id, channel, day)


def kind_of(opened_at: datetime, latest_earlier_open: datetime | None, quiet_period: timedelta) -> str | None:
    """Why this open notifies, or None: first open ever, or the first after `quiet_period` without opens.

    Measured in event time (occurred_at), so a replay or a late consumer decides the same,
    and tests need no clock.
    """
    if latest_earlier_open is None:
        return FIRST_OPEN
    if opened_at - latest_earlier_open >= quiet_period:
        return REOPEN
    return None




# ---- preferences ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preferences:
    """How one rep wants to hear about customer opens (stored per rep; these defaults until changed)."""

    rep_id: str
    portal_enabled: bool = True
    email_enabled: bool = False
    email: str = ""
    email_delivery: str = IMMEDIATE
    webhook_enabled: bool = False
    webhook_url: str = ""
    webhook_format: str = SLACK
    webhook_delivery: str = IMMEDIATE
    updated_at: str = ""

    @classmethod
    def of(cls, rep_id: str, doc: Mapping[str, Any] | None) -> "Preferences":
        if not doc:
            return cls(rep_id=rep_id)
        known = {k: doc[k] for k in cls.__dataclass_fields__ if k in doc and k != "rep_id"}
        return cls(rep_id=rep_id, **known)

    def document(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def email_address(self) -> str:
        """The address email goes to: the one set, else the rep id when it is an address."""
        if self.email:
            return self.email
        return self.rep_id if is_email(self.rep_id) else ""

    def channels(self) -> dict[str, str]:
        """{sent channel: delivery} of the channels that are on and have somewhere to go."""
        out: dict[str, str] = {}
        if self.email_enabled and self.email_address():
            out[EMAIL] = self.email_delivery
        if self.webhook_enabled and self.webhook_url:
            out[WEBHOOK] = self.webhook_delivery
        return out


def is_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL_CHARS and bool(_EMAIL_RE.match(value))


def check_email(value: str, field: str) -> str:
    value = value.strip()
    if not is_email(value):
        raise errors.InvalidArgument(field, "must be an email address such as name@example.com")
    return value


def check_webhook_url(value: str, field: str, production: bool) -> str:
    """An absolute https URL (http only outside production mode, for receivers on a laptop), without credentials."""
    value = value.strip()
    if len(value) > MAX_URL_CHARS:
        raise errors.InvalidArgument(field, f"at most {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a malformed port
    except ValueError:
        raise errors.InvalidArgument(field, "must be a valid URL") from None
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        raise errors.InvalidArgument(field, "must start with https://" if production
                                     else "must start with https:// (or http:// outside production)")
    if not parts.hostname or any(c.isspace() for c in value):
        raise errors.InvalidArgument(field, "must be an absolute URL with a host name")
    if parts.username or parts.password:
        raise errors.InvalidArgument(field, "must not contain a user name or password")
    del port
    return value


def validated(rep_id: str, given: Mapping[str, Any], production: bool, now_iso: str) -> Preferences:
    """New preferences from a request's fields (`settings.<name>` paths in errors)."""
    delivery = {name: given.get(name) or IMMEDIATE for name in ("email_delivery", "webhook_delivery")}
    for name, value in delivery.items():
        if value not in DELIVERIES:
            raise errors.InvalidArgument(f"settings.{name}", "must be immediate or daily digest")
    webhook_format = given.get("webhook_format") or SLACK
    if webhook_format not in FORMATS:
        raise errors.InvalidArgument("settings.webhook_format", "must be slack or teams")
    email = str(given.get("email") or "").strip()
    if email:
        email = check_email(email, "settings.email")
    elif given.get("email_enabled") and not is_email(rep_id):
        raise errors.InvalidArgument("settings.email", "an address is required to turn email on")
    url = str(given.get("webhook_url") or "").strip()
    if url:
        url = check_webhook_url(url, "settings.webhook_url", production)
    elif given.get("webhook_enabled"):
        raise errors.InvalidArgument("settings.webhook_url", "a URL is required to turn the webhook on")
    return Preferences(rep_id=rep_id, portal_enabled=bool(given.get("portal_enabled")),
                       email_enabled=bool(given.get("email_enabled")), email=email,
                       email_delivery=delivery["email_delivery"], webhook_enabled=bool(given.get("webhook_enabled")),
                       webhook_url=url, webhook_format=webhook_format, webhook_delivery=delivery["webhook_delivery"],
                       updated_at=now_iso)
