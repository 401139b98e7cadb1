"""Sign-in, health, metrics and the status page."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.common import es as es_helpers, metrics
from services.portal import security
from services.portal.backends import SERVICES

bp = Blueprint("core", __name__)

MAX_FAILURES = 10
FAILURE_WINDOW_S = 300.0


class SignInThrottle:
    """Refuses sign-in for an (email, address) pair after too many recent failures.

    Per process (each replica keeps its own count): it slows password guessing down
    without a shared store; an SSO proxy in front is the stronger answer.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], list[float]] = {}

    def blocked(self, key: tuple[str, str]) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(key, []) if now - t < FAILURE_WINDOW_S]
            if recent:
                self._failures[key] = recent
            else:
                self._failures.pop(key, None)
            return len(recent) >= MAX_FAILURES

    def failed(self, key: tuple[str, str]) -> None:
        with self._lock:
            if len(self._failures) > 100_000:  # bounded memory under a spray of addresses
                self._failures.clear()
            self._failures.setdefault(key, []).append(time.monotonic())

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)


throttle = SignInThrottle()


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness and readiness: the process serves requests (backends are shown on /status)."""
    return Response("ok\n", mimetype="text/plain")


@bp.get("/metrics")
def prometheus() -> Response:
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


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


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_url = security.safe_next(request.values.get("next"))
    if g.user is not None and request.method == "GET":
        return redirect(next_url)
    error = None
    email = ""
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()
        password = request.form.get("password") or ""
        key = (email.lower()[:256], request.remote_addr or "")
        if throttle.blocked(key):
            metrics.PORTAL_SIGN_INS.labels("throttled").inc()
            return render_template("login.html", error="Too many failed attempts. Wait a few minutes and try again.",
                                   email=email, next=next_url), 429
        users = current_app.extensions["collateral_users"]
        user = users.authenticate(email, password) if email and password else None
        if user is not None:
            throttle.succeeded(key)
            security.sign_in(user)
            return redirect(next_url)
        throttle.failed(key)
        metrics.PORTAL_SIGN_INS.labels("failed").inc()
        error = "Email or password is not right."
    return render_template("login.html", error=error, email=email, next=next_url), 401 if error else 200


@bp.post("/logout")
def logout() -> Any:
    security.sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("core.login"))
