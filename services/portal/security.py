"""Who is signed in, and what they may do.

A user is signed in by the session cookie (signed by Flask, HttpOnly, SameSite=Lax,
Secure over HTTPS) after a password check against `portal-users`, or, when
configured, by an identity header set by an SSO proxy; that header is believed only
from the proxy addresses listed in `portal_trusted_proxies`, so a client cannot
forge it by talking to the portal directly. Role checks are server-side decorators;
the services check the same role again on the token the portal mints per request.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlparse

from flask import abort, current_app, g, redirect, request, session, url_for

from services.common import metrics

ROLES = ("rep", "marketer", "admin")
CURATOR_ROLES = ("marketer", "admin")


@dataclass(frozen=True)
class CurrentUser:
    email: str
    name: str
    role: str
    via: str = "password"  # password | sso

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
    data = session.get("user")
    if isinstance(data, dict) and data.get("role") in ROLES and data.get("email"):
        g.user = CurrentUser(email=data["email"], name=data.get("name") or data["email"], role=data["role"])


def sign_in(user: Any) -> None:
    session.clear()  # no session fixation: a fresh session for the signed-in user
    session.permanent = True
    session["user"] = {"email": user.email, "name": user.name, "role": user.role}
    metrics.PORTAL_SIGN_INS.labels("ok").inc()


def sign_out() -> None:
    session.clear()


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
