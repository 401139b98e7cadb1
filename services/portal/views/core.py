"""Sign-in and sign-out, the account page (password, sessions), health and the status page.

Prometheus metrics are not served here: this app is public (Ingress, share links), so the portal
exposes /metrics on a separate listener (services.portal.__main__.serve_metrics).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from services.common import audit, es as es_helpers, metrics
from services.common.errors import Unavailable
from services.portal import helpers, security
from services.portal.backends import SERVICES
from services.portal.throttle import SignInGuard, Verdict
from services.portal.users import MIN_PASSWORD, record_account_change

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process serves requests. Readiness (the backends) is /readyz."""
    return Response("ok\n", mimetype="text/plain")


@bp.get("/")
def index() -> Any:
    if g.user is None:
        return redirect(url_for("core.login"))
    return redirect(url_for("reports.index") if g.user.is_curator else url_for("rep.search"))


@bp.get("/status")
def status() -> Any:
    backends = current_app.extensions["collateral_backends"]
    names = list(SERVICES)
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        states = list(pool.map(backends.health, names))
    users = current_app.extensions["collateral_users"]
    try:
        accounts = "SERVING" if es_helpers.reachable(users.es) else "UNREACHABLE"
    except Exception:  # noqa: BLE001 - any failure means the account store is down
        accounts = "UNREACHABLE"
    rows = [{"name": n, "state": s, "address": backends.address(n)} for n, s in zip(names, states)]
    rows.append({"name": "accounts (Elasticsearch)", "state": accounts, "address": ""})
    show_addresses = g.user is not None and g.user.role == "admin"
    healthy = all(r["state"] == "SERVING" for r in rows)
    wants_json = request.args.get("format") == "json"
    if wants_json:
        return {"healthy": healthy, "services": {r["name"]: r["state"] for r in rows}}, 200 if healthy else 503
    return render_template("status.html", rows=rows, healthy=healthy, show_addresses=show_addresses), \
        200 if healthy else 503


THROTTLED_TEXT = {
    "delay": "Too many failed attempts for this account from here. Wait {s} seconds and try again.",
    "address": "Too many failed sign-ins from your network. Wait {s} seconds and try again.",
    "global": "The portal is busy checking sign-ins. Wait {s} seconds and try again.",
}


def guard() -> SignInGuard:
    return current_app.extensions["collateral_sign_in_guard"]


def throttled(verdict: Verdict, template: str, **context: Any) -> Any:
    """429 with Retry-After, before any password was checked."""
    metrics.PORTAL_SIGN_INS.labels("throttled").inc()
    metrics.PORTAL_SIGN_IN_THROTTLED.labels(verdict.rule).inc()
    error = THROTTLED_TEXT[verdict.rule].format(s=verdict.retry_after_header)
    body = render_template(template, error=error, **context)
    return body, 429, {"Retry-After": verdict.retry_after_header}


def check_password(email: str, password: str) -> tuple[Any, Verdict]:
    """(the user or None, the throttle's verdict): the one path every password check takes."""
    account, address = email.strip().lower()[:256], helpers.client_ip()
    verdict = guard().check(account, address)
    if not verdict.allowed:
        return None, verdict
    users = current_app.extensions["collateral_users"]
    user = users.authenticate(email, password) if email and password else None
    if user is None:
        guard().failed(account, address)
        metrics.PORTAL_SIGN_INS.labels("failed").inc()
    else:
        guard().succeeded(account, address)
    return user, verdict


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_url = security.safe_next(request.values.get("next"))
    if g.user is not None and request.method == "GET":
        return redirect(next_url)
    error = None
    email = ""
    if request.method == "POST":
        if not current_app.config["COLLATERAL"].portal_local_signin:
            abort(404)  # single sign-on only: no password is ever checked
        email = (request.form.get("email") or "").strip()
        user, verdict = check_password(email, request.form.get("password") or "")
        if not verdict.allowed:
            return throttled(verdict, "login.html", email=email, next=next_url)
        if user is not None:
            security.sign_in(user)
            return redirect(next_url)
        error = "Email or password is not right."
    return render_template("login.html", error=error, email=email, next=next_url), 401 if error else 200


@bp.post("/logout")
def logout() -> Any:
    from services.portal.views import oidc

    at_provider = oidc.provider_logout_url()
    security.sign_out()
    if at_provider:
        return redirect(at_provider)
    flash("You are signed out.", "info")
    return redirect(url_for("core.login"))


@bp.get("/account")
@security.login_required
def account() -> Any:
    return render_template("account.html")


NOT_RECORDED = "The change could not be recorded in the audit log, so nothing changed. Try again in a minute."


def own_account_change(command: str, change: Callable[[], Any]) -> Any:
    """Run a change the signed-in user makes to their own account through the audit log, like the
    account tool's `portal/users.<command>`, with the user as actor and their address as origin.

    Raises Unavailable when the change could not be recorded and so was not made.
    """
    settings = current_app.config["COLLATERAL"]
    users = current_app.extensions["collateral_users"]
    return record_account_change(
        users, audit.AuditLog(settings, client=users.es), audit.Actor(g.user.email, g.user.role),
        audit.Origin(peer=request.remote_addr or "", forwarded_for=helpers.client_ip()),
        f"portal/account.{command}", g.user.email, change)


@bp.post("/account/password")
@security.login_required
def change_password() -> Any:
    """Change one's own password: every other session of the account ends, this one is
    re-issued under a new id."""
    if g.user.via != "password":
        abort(404)
    current = request.form.get("current_password") or ""
    new = request.form.get("new_password") or ""
    errors: dict[str, str] = {}
    if new != (request.form.get("confirm_password") or ""):
        errors["confirm_password"] = "The two new passwords differ."
    elif not (MIN_PASSWORD <= len(new) <= 1024):
        errors["new_password"] = f"At least {MIN_PASSWORD} characters."
    if errors:
        return render_template("account.html", errors=errors), 400
    user, verdict = check_password(g.user.email, current)
    if not verdict.allowed:
        return throttled(verdict, "account.html", errors={})
    if user is None:
        return render_template("account.html", errors={"current_password": "This is not your current password."}), 400
    users = current_app.extensions["collateral_users"]
    try:
        own_account_change("passwd", lambda: users.set_password(user.email, new))
    except Unavailable:
        return render_template("account.html", errors={}, error=NOT_RECORDED), 503
    security.sign_in(user)
    flash("Password changed. Every other session of your account was signed out.", "info")
    return redirect(url_for("core.account"))


@bp.post("/account/sessions/revoke")
@security.login_required
def sign_out_elsewhere() -> Any:
    """End every other session of the signed-in account (a lost laptop, a shared computer)."""
    if g.user.via != "password":
        abort(404)
    keep = security.current_session_id()
    try:
        ended = own_account_change("revoke", lambda: security.sessions().revoke_user(g.user.email, keep=keep))
    except Unavailable:
        flash(NOT_RECORDED, "error")
        return redirect(url_for("core.account"))
    flash(f"Signed out {ended} other session{'s' if ended != 1 else ''}.", "info")
    return redirect(url_for("core.account"))
