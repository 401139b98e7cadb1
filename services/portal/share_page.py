"""What the customer page of a share link shows around the document: who sent it and the next step.

Pure functions of the resolved link, the rep's account and the asset title, so the
rules (initials, colour, the reply address and subject) are unit-tested without a
browser. The rep's display name comes from the portal's own accounts; a rep who signs
in through a proxy or single sign-on has no account here, so the name then falls back
to the part of the address before the "@".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from collateral.v1 import usage_pb2

AVATAR_COLOURS = 8  # .avatar-0 … .avatar-7 in app.css
_WORD_SPLIT = re.compile(r"[\s._+-]+")


@dataclass(frozen=True)
class Sender:
    """The sender card: display name, initials in a coloured circle, the rep's message."""

    name: str
    initials: str
    colour: int
    message: str


@dataclass(frozen=True)
class CallToAction:
    """The button under the sender card: its label and where it leads (already validated by the usage service)."""

    kind: str  # "reply_email" or "book_meeting"
    label: str
    href: str
    external: bool


def display_name(rep_id: str, account_name: str | None) -> str:
    """The rep's name as the customer should read it ("rita.rep@x" without an account: "Rita Rep")."""
    if account_name and account_name.strip():
        return account_name.strip()
    local = rep_id.split("@", 1)[0]
    words = [w for w in _WORD_SPLIT.split(local) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or rep_id


def initials(name: str) -> str:
    """Up to two letters: first and last word ("Rita M. Rep" -> "RR"; "Cher" -> "C")."""
    words = [w for w in _WORD_SPLIT.split(name) if w and w[0].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def avatar_colour(rep_id: str) -> int:
    """A stable colour per rep, so a customer who gets links from two reps tells them apart."""
    return hashlib.sha256(rep_id.encode()).digest()[0] % AVATAR_COLOURS


def sender(share: Any, account_name: str | None) -> Sender:
    name = display_name(share.rep_id, account_name)
    return Sender(name=name, initials=initials(name), colour=avatar_colour(share.rep_id),
                  message=share.customer_message.strip())


def mailto(address: str, subject: str) -> str:
    """mailto: link with a percent-encoded subject (RFC 6068); the address is kept readable."""
    return f"mailto:{quote(address, safe='@')}?subject={quote(subject, safe='')}"


def call_to_action(share: Any, asset_title: str) -> CallToAction | None:
    """The link's call to action, or None when the rep chose none."""
    if share.call_to_action == usage_pb2.SHARE_CALL_TO_ACTION_REPLY_EMAIL:
        return CallToAction("reply_email", "Reply by email", mailto(share.rep_id, asset_title), external=False)
    if share.call_to_action == usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING and share.meeting_url:
        return CallToAction("book_meeting", "Book a meeting", share.meeting_url, external=True)
    return None


# The share dialog's choices (form value -> CreateShareLinkRequest.call_to_action).
CTA_CHOICES = {"": usage_pb2.SHARE_CALL_TO_ACTION_UNSPECIFIED,
               "reply_email": usage_pb2.SHARE_CALL_TO_ACTION_REPLY_EMAIL,
               "book_meeting": usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING}


def meeting_url_of(form: Any, cta: int | None) -> str:
    """The dialog's meeting link, only when "book a meeting" is chosen: a link typed and then
    abandoned for another choice is dropped rather than refused."""
    if cta != usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING:
        return ""
    return (form.get("meeting_url") or "").strip()[:4096]
