"""What a notification says on each channel, and how it is sent (email over SMTP, incoming webhooks).

Sending is split the way the notifications consumer needs it: `errors.Unavailable` means
"try again later, nothing is lost" (SMTP or webhook down, a timeout, a 5xx, 408 or 429),
`Refused` means "this message will never be accepted" (a 5xx SMTP answer, a 4xx from the
webhook, email not configured): the delivery is recorded as failed and the loop goes on.

Every message carries the id of what it delivers: email as its Message-ID, the webhook
post as an `Idempotency-Key` header (and `X-Collateral-Notification`), so a message sent
again after a crash between sending and recording it is recognisable by the receiver.
"""

from __future__ import annotations

import html
import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from services.common import config, errors, mail
from services.usage import notify_model as nm

USER_AGENT = "Collateral-Notifications/1"


class Refused(Exception):
    """The channel refused the message for good; retrying would not help."""


@dataclass(frozen=True)
class Open:
    """One notified customer open, as the channels describe it."""

    kind: str
    title: str
    opened_at: str  # RFC 3339, UTC
    share_id: str = ""
    room_id: str = ""
    opportunity_id: str = ""
    account_id: str = ""

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> "Open":
        return cls(kind=doc["kind"], title=doc.get("title") or doc.get("asset_id", ""), opened_at=doc["opened_at"],
                   share_id=doc.get("share_id", ""), room_id=doc.get("room_id", ""),
                   opportunity_id=doc.get("opportunity_id", ""), account_id=doc.get("account_id", ""))

    @property
    def who(self) -> str:
        """The customer side of the deal, as far as the link knows it."""
        if self.account_id:
            return f"Account {self.account_id}"
        if self.opportunity_id:
            return f"Opportunity {self.opportunity_id}"
        return "A customer"

    @property
    def what(self) -> str:
        return f"deal room \u201c{self.title}\u201d" if self.room_id else f"\u201c{self.title}\u201d"

    @property
    def when(self) -> str:
        return self.opened_at.replace("T", " ")[:16] + " UTC"


def summary(item: Open) -> str:
    """One line: who opened what, first time or again."""
    verb = "opened" if item.kind == nm.FIRST_OPEN else "opened again"
    suffix = " for the first time" if item.kind == nm.FIRST_OPEN else ""
    return f"{item.who} {verb} {item.what}{suffix} ({item.when})"


def digest_summary(items: Sequence[Open], day: str) -> str:
    return f"{len(items)} customer open{'s' if len(items) != 1 else ''} of your shared content on {day}"


# ---- email --------------------------------------------------------------------------------------

def email_for(to: str, items: Sequence[Open], message_id: str, portal_url: str, day: str | None = None) -> mail.Mail:
    """One open (immediate) or a day's opens (digest) as an email with text and HTML parts."""
    link = f"{portal_url.rstrip('/')}/notifications"
    if day is None:
        subject = summary(items[0]).rsplit(" (", 1)[0]
    else:
        subject = digest_summary(items, day)
    lines = [summary(i) for i in items]
    text = "\n".join(f"- {line}" for line in lines) + f"\n\nSee every notification: {link}\n"
    body = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    page = (f"<p>{html.escape(subject)}</p><ul>{body}</ul>"
            f"<p><a href=\"{html.escape(link)}\">See every notification in Collateral</a></p>")
    return mail.Mail(to=to, subject=subject, text=text, html=page, message_id=message_id_header(message_id))


def message_id_header(delivery: str) -> str:
    """The RFC 5322 Message-ID of a delivery: its deterministic id, so a resend carries the same one."""
    return f"<{delivery}@collateral>"


def send_email(settings: config.Settings, message: mail.Mail) -> None:
    try:
        mail.send(settings, message)
    except mail.MailDisabled as exc:
        raise Refused(str(exc)) from exc
    except mail.MailRefused as exc:
        raise Refused(str(exc)) from exc


# ---- webhooks -----------------------------------------------------------------------------------

def webhook_payload(fmt: str, items: Sequence[Open], portal_url: str, day: str | None = None) -> dict[str, Any]:
    """Slack: {"text": ...}; Teams (workflow webhook): a message with one Adaptive Card."""
    link = f"{portal_url.rstrip('/')}/notifications"
    title = summary(items[0]) if day is None else digest_summary(items, day)
    lines = [summary(i) for i in items] if day is not None else []
    if fmt == nm.TEAMS:
        body: list[dict[str, Any]] = [{"type": "TextBlock", "text": title, "wrap": True, "weight": "Bolder"}]
        body += [{"type": "TextBlock", "text": f"- {line}", "wrap": True, "spacing": "Small"} for line in lines]
        card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                "version": "1.4", "body": body,
                "actions": [{"type": "Action.OpenUrl", "title": "Open in Collateral", "url": link}]}
        return {"type": "message", "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}
    text = "\n".join([title, *(f"\u2022 {line}" for line in lines), f"<{link}|Open in Collateral>"])
    return {"text": text}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook answers the post itself; following a redirect could send it somewhere unintended."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects())


def check_public_host(url: str) -> None:
    """Refuse a webhook whose host resolves to an address inside the network (Refused, never retried).

    Reps type webhook URLs; without this a rep could make the notifications process post
    to internal services (metadata endpoints, admin ports) on their behalf. Checked when
    sending, since a host name can be pointed elsewhere after the settings were saved.
    """
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except OSError as exc:
        raise errors.Unavailable(f"webhook host {host!r} does not resolve: {exc}") from exc
    inside = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_global)
    if inside:
        raise Refused(f"webhook host {host!r} resolves to a non-public address ({', '.join(inside)}); "
                      "set COLLATERAL_USAGE_NOTIFY_WEBHOOK_PRIVATE_HOSTS=1 to allow receivers inside the network")


def post_webhook(url: str, payload: Mapping[str, Any], idempotency_key: str, timeout_s: float,
                 public_only: bool = False) -> None:
    """POST the JSON; 2xx is delivered, 408/429/5xx and network errors retry, other answers are refusals."""
    if public_only:
        check_public_host(url)
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        "Idempotency-Key": idempotency_key, "X-Collateral-Notification": idempotency_key})
    try:
        with _opener.open(request, timeout=timeout_s) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:  # refused, unreachable, timeout, TLS failure
        raise errors.Unavailable(f"webhook unreachable: {exc}") from exc
    if 200 <= status < 300:
        return
    if status in (408, 429) or status >= 500:
        raise errors.Unavailable(f"webhook answered {status}")
    raise Refused(f"webhook answered {status}")
