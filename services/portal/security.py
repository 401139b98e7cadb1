"""Who is signed in, and what they may do.

A user is signed in by a session after a password check against `portal-users`: the
cookie (signed by Flask, HttpOnly, SameSite=Lax, Secure over HTTPS) carries a random
session id, and the session itself lives in `portal-sessions` (sessions.py), so
sign-out and a password change end it on every replica. Or, when configured, by an
identity header set by an SSO proxy; that header is believed only from the proxy
addresses listed in `portal_trusted_proxies`, so a client cannot forge it by talking
to the portal directly. Role checks are server-side decorators; the services check
the same role again on the token the portal mints per request.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlparse

from flask import abort, current_app, g, redirect, request, session, url_for

from services.common import metrics
from services.portal.sessions import SessionStore

ROLES = ("rep", "marketer", "admin")
CURATOR_ROLES = ("marketer", "admin")
# Routes that never look at the user: they keep answering (and cost no session lookup)
# whatever the state of the session store.
ANONYMOUS_ENDPOINTS = frozenset({"static", "core.healthz", "readyz"})
# Set (in the signed cookie) on sessions that began at the OpenID Connect provider.
OIDC_SESSION_KEY = "via_oidc"


@dataclass(frozen=True)
class CurrentUser:
    email: str
    name: str
    role: str
    via: str = "password"  # password | sso (trusted proxy header) | oidc

    @property
    def is_curator(self) -> bool:
        return self.role in CURATOR_ROLES


def trusted_proxy(remote: str | None) -> bool:
    """Whether the peer is one of portal_trusted_proxies (IPs or CIDRs)."""
    allowed = [p.strip() for p in current_app.config["COLLATERAL"].portal_trusted_proxies.split(",") if p.strip()]
    if not remote or not allowed:
        return False
    try:
        addr = ipaddress.ip_address(remote)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if addr in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def load_user() -> None:
    """before_request: put the signed-in user (or None) on g.user."""
    settings = current_app.config["COLLATERAL"]
    g.user = None
    header = settings.portal_trusted_user_header
    if header and request.headers.get(header) and trusted_proxy(request.remote_addr):
        email = request.headers[header].strip().lower()[:256]
        role = "rep"
        if settings.portal_trusted_role_header:
            role = request.headers.get(settings.portal_trusted_role_header, "rep").strip().lower()
            if role not in ROLES:
                abort(403)
        g.user = CurrentUser(email=email, name=email.split("@")[0], role=role, via="sso")
        return
    if request.endpoint in ANONYMOUS_ENDPOINTS:
        return
    session.pop("user", None)  # cookies from before server-side sessions carry no session id
    session_id = session.get("sid")
    if not isinstance(session_id, str):
        return
    record = sessions().resolve(session_id)
    if record is None or record.role not in ROLES:
        session.pop("sid", None)
        return
    g.user = CurrentUser(email=record.email, name=record.name, role=record.role,
                         via="oidc" if session.get(OIDC_SESSION_KEY) else "password")


def sessions() -> SessionStore:
    return current_app.extensions["collateral_sessions"]


def sign_in(user: Any) -> None:
    """Start a new server-side session under a new id; a session this browser had is ended,
    so an id planted or seen before sign-in never becomes a signed-in session."""
    store = sessions()
    previous = session.get("sid")
    if isinstance(previous, str):
        store.end(previous, "replaced")
    session.clear()
    session.permanent = True
    session["sid"] = store.create(user.email, user.name, user.role)
    metrics.PORTAL_SIGN_INS.labels("ok").inc()


def sign_out() -> None:
    """End the session in the store, not only in this browser: a copied cookie dies too."""
    session_id = session.get("sid")
    if isinstance(session_id, str):
        sessions().end(session_id, "sign_out")
    session.clear()


def current_session_id() -> str | None:
    session_id = session.get("sid")
    return session_id if isinstance(session_id, str) else None


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: no open redirect through ?next=."""
    if not target:
        return url_for("core.index")
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("core.index")
    return target


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("core.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def roles_required(*roles: str) -> Callable:
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                return redirect(url_for("core.login", next=request.full_path.rstrip("?")))
            if g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


curator_required = roles_required(*CURATOR_ROLES)


def rpc(service: str, method: str, request_msg: Any, timeout: float = 10.0) -> Any:
    """Call a backend as the signed-in user."""
    user = g.user
    return current_app.extensions["collateral_backends"].call(
        service, method, request_msg, subject=user.email, role=user.role, timeout=timeout)


def rpc_as(service: str, method: str, request_msg: Any, subject: str, role: str, timeout: float = 10.0) -> Any:
    """Call a backend as someone else (the service role for share-link customers)."""
    return current_app.extensions["collateral_backends"].call(
        service, method, request_msg, subject=subject, role=role, timeout=timeout)
