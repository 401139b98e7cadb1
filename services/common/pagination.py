"""Opaque, tamper-evident page tokens.

A token is the URL-safe base64 of a JSON cursor (for example an Elasticsearch
`search_after` tuple) plus an HMAC, so a client cannot forge a cursor and a malformed
token is reported as INVALID_ARGUMENT on `page_token` rather than crashing a query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from services.common.errors import InvalidArgument

_SIG_BYTES = 12


def encode(secret: str, cursor: Any) -> str:
    body = json.dumps(cursor, separators=(",", ":"), sort_keys=True).encode()
    sig = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:_SIG_BYTES]
    return base64.urlsafe_b64encode(sig + body).decode().rstrip("=")


def decode(secret: str, token: str, field: str = "page_token") -> Any:
    """The cursor inside `token`; None for an empty token (first page)."""
    if not token:
        return None
    if len(token) > 4096:
        raise InvalidArgument(field, "page token too long")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise InvalidArgument(field, "malformed page token") from None
    sig, body = raw[:_SIG_BYTES], raw[_SIG_BYTES:]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:_SIG_BYTES]
    if not hmac.compare_digest(sig, expected):
        raise InvalidArgument(field, "malformed page token")
    try:
        return json.loads(body)
    except ValueError:
        raise InvalidArgument(field, "malformed page token") from None


def clamp_page_size(requested: int, default: int = 20, maximum: int = 100, field: str = "page_size") -> int:
    if requested < 0:
        raise InvalidArgument(field, "must not be negative")
    if requested == 0:
        return default
    if requested > maximum:
        raise InvalidArgument(field, f"must be at most {maximum}")
    return requested
