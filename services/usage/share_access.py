"""Access controls of share links, and tokens their owners can copy again.

Tokens. A link's token is an HMAC-SHA256 of its public `share_id` under
`share_link_secret` (256 bits, unguessable without the secret). Only the token's
SHA-256 is stored (the share document's `_id`, so resolving stays one realtime GET);
the server can derive the token again for the link's owner (RevealShareLink) without
keeping it anywhere. Links made before tokens were derived (random tokens), or before
the secret was rotated, keep working but cannot be copied again: `can_reveal` tells
them apart by comparing the derived token's hash with the stored `_id`.

Access controls (optional per link): a passcode, kept only as a scrypt hash (as the
portal's account passwords), and a verified email: the portal's access gate sends a
one-time code and records the verified address on the customer's events, optionally
limited to the email domains the rep lists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from services.common import errors

MIN_PASSCODE_CHARS, MAX_PASSCODE_CHARS = 4, 64
MAX_EMAIL_DOMAINS = 20
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
PASSCODE_HASH_METHOD = "scrypt"
# Stored fields that are secret (hashes); never returned, never written to the audit log.
SECRET_FIELDS = ("passcode_hash",)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


SHARE_LINK, DEAL_ROOM = "share-link", "deal-room"  # what a token opens: keeps the two kinds' tokens apart


def derive_token(secret: str, share_id: str, kind: str = SHARE_LINK) -> str:
    """The token of a link (or, with kind DEAL_ROOM, of a room by its room_id): HMAC-SHA256, URL-safe base64.

    Reproducible by the server alone, unguessable without the secret (43 characters).
    Rotating the secret leaves existing links working (resolution only hashes the token),
    but they can no longer be copied again.
    """
    digest = hmac.new(secret.encode(), kind.encode() + b":" + share_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def secret_id(secret: str) -> str:
    """A public fingerprint of the secret, stored on each link it derived: tells, without the
    document id, whether the current secret can derive the link's token again."""
    return hmac.new(secret.encode(), b"share-link-secret-id", hashlib.sha256).hexdigest()[:16]


def revealable(secret: str, doc: dict[str, Any]) -> bool:
    """Whether RevealShareLink can return this link's token (derived under the current secret)."""
    return doc.get("token_secret_id") == secret_id(secret)


def can_reveal(secret: str, doc_id: str, share_id: str, kind: str = SHARE_LINK) -> bool:
    """Whether the stored link's (or room's) token is the derived one (not a legacy random token; same secret)."""
    return hmac.compare_digest(token_hash(derive_token(secret, share_id, kind)), doc_id)


def check_passcode(passcode: str, field: str = "passcode") -> str:
    """A passcode the rep sets: 4 to 64 characters, no leading or trailing spaces (invisible when typed)."""
    if passcode != passcode.strip():
        raise errors.InvalidArgument(field, "no leading or trailing spaces")
    if not MIN_PASSCODE_CHARS <= len(passcode) <= MAX_PASSCODE_CHARS:
        raise errors.InvalidArgument(field, f"{MIN_PASSCODE_CHARS} to {MAX_PASSCODE_CHARS} characters")
    return passcode


def hash_passcode(passcode: str) -> str:
    return generate_password_hash(passcode, method=PASSCODE_HASH_METHOD)


def passcode_matches(doc: dict[str, Any], passcode: str) -> bool:
    """Whether `passcode` opens the link; False for a link without a passcode (nothing to accept)."""
    stored = doc.get("passcode_hash")
    if not stored or not passcode or len(passcode) > MAX_PASSCODE_CHARS:
        return False
    return check_password_hash(stored, passcode)


def normalize_domains(domains: list[str], field: str = "allowed_email_domains") -> list[str]:
    """Lower-case, de-duplicated email domains (a leading `@` dropped); INVALID_ARGUMENT names the entry."""
    if len(domains) > MAX_EMAIL_DOMAINS:
        raise errors.InvalidArgument(field, f"at most {MAX_EMAIL_DOMAINS} domains")
    out: list[str] = []
    for i, raw in enumerate(domains):
        domain = raw.strip().lower().removeprefix("@")
        if not DOMAIN_RE.match(domain):
            raise errors.InvalidArgument(f"{field}[{i}]", "not an email domain such as example.com")
        if domain not in out:
            out.append(domain)
    return out


def email_allowed(email: str, domains: list[str] | tuple[str, ...]) -> bool:
    """Whether `email` belongs to one of `domains` (that exact domain); any address when none are listed."""
    if not domains:
        return True
    return email.rsplit("@", 1)[-1].lower() in domains


def access_fields(passcode: str, require_email: bool, domains: list[str], mail_enabled: bool) -> dict[str, Any]:
    """The stored access controls of a new link (hashes only), checked.

    Asking for a verified email while this server can send no email would lock every
    customer out: FAILED_PRECONDITION. Domains without email verification would
    restrict nothing: INVALID_ARGUMENT.
    """
    fields: dict[str, Any] = {}
    if passcode:
        fields["passcode_hash"] = hash_passcode(check_passcode(passcode))
    allowed = normalize_domains(list(domains))
    if allowed and not require_email:
        raise errors.InvalidArgument("allowed_email_domains", "only with require_email_verification")
    if require_email:
        if not mail_enabled:
            raise errors.FailedPrecondition("email verification needs email, which is not configured on this "
                                            "server (COLLATERAL_SMTP_HOST)")
        fields["email_verification"] = True
        if allowed:
            fields["allowed_email_domains"] = allowed
    return fields


def public_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """What a ShareLink message says about the link's access controls: booleans and domains, never a hash."""
    return {"passcode_required": bool(doc.get("passcode_hash")),
            "email_verification_required": bool(doc.get("email_verification")),
            "allowed_email_domains": list(doc.get("allowed_email_domains") or [])}
