"""The rep's side of access controls of share links and deal rooms: the dialogs' fields and copying a link again.

The dialog offers a passcode always and a verified email only when this portal can
send email (COLLATERAL_SMTP_HOST): the usage service refuses a link asking for an email
it could never deliver a code to. The passcode goes to the usage service as typed and
is hashed there; the portal never stores it.
"""

from __future__ import annotations

import re
from typing import Any

import grpc
from flask import current_app, jsonify

from collateral.v1 import usage_pb2
from services.common import mail
from services.portal.security import rpc

DOMAIN_SPLIT_RE = re.compile(r"[\s,;]+")


def email_verification_available() -> bool:
    return mail.enabled(current_app.config["COLLATERAL"])


def request_fields(form: Any) -> dict[str, Any]:
    """CreateShareLinkRequest fields from the dialog (validated by the usage service)."""
    require_email = form.get("require_email") == "on" and email_verification_available()
    domains = [d for d in DOMAIN_SPLIT_RE.split(form.get("allowed_email_domains") or "") if d][:50]
    return {"passcode": (form.get("passcode") or "")[:200], "require_email_verification": require_email,
            "allowed_email_domains": domains if require_email else []}


COPY_ERRORS = {
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.INVALID_ARGUMENT: 404,
}


def copy_link(share_id: str) -> Any:
    """JSON {url} of an active link, for My shares' "Copy link"; {error} with the service's reason otherwise."""
    return reveal_as_json("RevealShareLink", usage_pb2.RevealShareLinkRequest(share_id=share_id), "s")


def copy_room_link(room_id: str) -> Any:
    """JSON {url} of an active deal room, for "Copy link" in My rooms and the room's page."""
    return reveal_as_json("RevealRoomLink", usage_pb2.RevealRoomLinkRequest(room_id=room_id), "r")


def reveal_as_json(method: str, request: Any, path: str) -> Any:
    """Calls a Reveal… RPC and answers {url: <portal>/<path>/<token>}, or {error} with the service's reason."""
    try:
        reply = rpc("usage", method, request)
    except grpc.RpcError as exc:
        status = COPY_ERRORS.get(exc.code())
        if status is None:
            raise
        return jsonify(error=exc.details() or "This link cannot be copied."), status
    url = f"{current_app.config['COLLATERAL'].portal_public_url.rstrip('/')}/{path}/{reply.token}"
    return jsonify(url=url), 200
