"""The portal's Flask application factory."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import grpc
from flask import Flask, Response, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from services.common import config, metrics
from services.portal import backends as backends_mod
from services.portal import filters, security, vocabularies
from services.portal import oidc as oidc_mod

log = logging.getLogger(__name__)

csrf = CSRFProtect()

ERROR_TEXT = {
    400: ("Bad request", "The request could not be understood. Check the form and try again."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing here. It may have been moved, retired or never existed."),
    405: ("Method not allowed", "This page does not accept that kind of request."),
    409: ("Conflict", "Someone else changed this in the meantime. Reload and try again."),
    410: ("Gone", "This page is no longer available."),
    413: ("Too large", "The upload is larger than the portal accepts."),
    429: ("Too many requests", "Slow down a little and try again."),
    500: ("Something went wrong", "An unexpected error happened on our side. It has been logged."),
    503: ("Temporarily unavailable", "A service the portal depends on is not answering. Try again in a minute."),
}

# gRPC status -> (HTTP status, whether the backend's message is safe to show)
GRPC_TO_HTTP = {
    grpc.StatusCode.NOT_FOUND: (404, False),
    grpc.StatusCode.PERMISSION_DENIED: (403, False),
    grpc.StatusCode.INVALID_ARGUMENT: (400, True),
    grpc.StatusCode.FAILED_PRECONDITION: (409, True),
    grpc.StatusCode.ALREADY_EXISTS: (409, True),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, False),
    grpc.StatusCode.UNAVAILABLE: (503, False),
    grpc.StatusCode.DEADLINE_EXCEEDED: (503, False),
}

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self' {files}; frame-ancestors 'none'")


def files_origin(settings: config.Settings) -> str:
    """Origin of presigned download URLs: Download forms redirect there, and browsers apply
    form-action to redirects."""
    endpoint = settings.s3_public_endpoint or settings.s3_endpoint
    if not endpoint:
        return "https://*.amazonaws.com"
    parsed = urlparse(endpoint)
    return f"{parsed.scheme}://{parsed.netloc}" if parsed.scheme and parsed.netloc else ""


def error_page(code: int, message: str | None = None) -> tuple[str, int]:
    title, text = ERROR_TEXT.get(code, ERROR_TEXT[500])
    return render_template("error.html", code=code, title=title, message=message or text), code


READINESS_CACHE_S = 2.0


class Readiness:
    """The portal's readiness: the gRPC health of every backend, checked in parallel.

    Each check has a short deadline, and the answer is cached for READINESS_CACHE_S,
    because every replica is probed every few seconds by kubelets and load balancers and
    that must not multiply into health calls on the services.
    """

    def __init__(self, backends: Any, timeout_s: float, ttl_s: float = READINESS_CACHE_S) -> None:
        self._backends = backends
        self._timeout_s = timeout_s
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._cached: dict[str, str] | None = None
        self._checked_at = 0.0

    def states(self) -> dict[str, str]:
        """Backend name -> SERVING, NOT_SERVING, UNREACHABLE, ..."""
        with self._lock:
            if self._cached is not None and time.monotonic() - self._checked_at < self._ttl_s:
                return self._cached
        names = list(backends_mod.SERVICES)
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            found = dict(zip(names, pool.map(lambda n: self._backends.health(n, timeout=self._timeout_s), names)))
        with self._lock:
            self._cached, self._checked_at = found, time.monotonic()
        return found


def create_app(settings: config.Settings | None = None, backends: Any = None, users: Any = None,
               sessions: Any = None, sign_in_guard: Any = None) -> Flask:
    """Build the portal. `backends` default to real gRPC clients; `users`, `sessions` and
    `sign_in_guard` to the account, session and failure-counter stores in Elasticsearch."""
    settings = settings or config.load()
    config.refuse_insecure_production(settings)
    app = Flask(__name__, static_folder="static", template_folder="templates")
    secure = settings.portal_cookie_secure or settings.portal_public_url.lower().startswith("https://")
    app.config.update(
        COLLATERAL=settings,
        SECRET_KEY=settings.portal_secret_key,
        SESSION_COOKIE_NAME="collateral_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.portal_session_max_age_s),
        WTF_CSRF_TIME_LIMIT=settings.portal_session_max_age_s,
        WTF_CSRF_SSL_STRICT=secure,
        MAX_CONTENT_LENGTH=settings.content_max_file_bytes + 1024 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
        JSON_SORT_KEYS=False,
    )
    app.jinja_env.autoescape = True
    # Sign-out may redirect to the OIDC provider's end-session endpoint, and browsers
    # apply form-action to a form's redirects.
    form_targets = " ".join(o for o in (files_origin(settings), oidc_mod.provider_origin(settings)) if o)
    csp = CSP.format(files=form_targets).replace(" ;", ";")
    filters.register(app)
    vocabularies.register(app)
    csrf.init_app(app)

    if backends is None:
        backends = backends_mod.Backends(settings)
    if users is None:
        from services.portal.users import UserStore

        users = UserStore(settings)
    if sessions is None:
        from services.portal.sessions import SessionStore

        sessions = SessionStore(settings, client=users.es)
    if sign_in_guard is None:
        from services.portal.throttle import FailureCounters, SignInGuard

        sign_in_guard = SignInGuard.from_settings(settings, FailureCounters(settings, client=users.es))
    app.extensions["collateral_backends"] = backends
    readiness = Readiness(backends, settings.health_probe_timeout_s)
    app.extensions["collateral_users"] = users
    app.extensions["collateral_sessions"] = sessions
    app.extensions["collateral_sign_in_guard"] = sign_in_guard
    app.extensions["collateral_oidc"] = oidc_mod.from_settings(settings, security.ROLES, app)

    from services.portal.views import core, marketer, public, reports, rep
    from services.portal.views import admin
    from services.portal.views import oidc as oidc_views
    from services.portal.views import notifications as notifications_views
    from services.portal.views import rooms

    app.register_blueprint(core.bp)
    app.register_blueprint(rep.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(marketer.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(oidc_views.bp)
    app.register_blueprint(notifications_views.bp)
    csrf.exempt(public.beacon)
    app.register_blueprint(rooms.bp)
    app.register_blueprint(rooms.public_bp)
    csrf.exempt(rooms.beacon)

    @app.get("/readyz")
    def readyz() -> Any:
        """Readiness: 200 when content, usage and feedback answer SERVING, else 503 naming
        what is down. /healthz stays the liveness check (the process serves requests)."""
        states = readiness.states()
        down = sorted(name for name, state in states.items() if state != "SERVING")
        body = {"ready": not down, "down": down, "backends": states}
        return body, 503 if down else 200, {"Cache-Control": "no-store"}

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        security.load_user()

    @app.after_request
    def _finish(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.PORTAL_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        if "started" in g:
            metrics.PORTAL_REQUEST_DURATION.labels(route).observe(time.perf_counter() - g.started)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if g.get("user") is not None or request.path.startswith("/s/"):
            headers.setdefault("Cache-Control", "private, no-store")
        if secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return error_page(400, "The form expired or was not sent from this site. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        code = exc.code or 500
        if code == 410:
            return error_page(410, exc.description if isinstance(exc.description, str) else None)
        return error_page(code)

    @app.errorhandler(grpc.RpcError)
    def _rpc(exc: grpc.RpcError) -> Any:
        code = exc.code() if hasattr(exc, "code") else None
        http, show = GRPC_TO_HTTP.get(code, (500, False))
        if http == 500:
            log.error("backend call failed", extra={"code": getattr(code, "name", "?"), "detail": exc.details()})
        message = exc.details() if show else None
        return error_page(http, message)

    @app.errorhandler(backends_mod.BackendMissing)
    def _missing(exc: Exception) -> Any:
        return error_page(503, str(exc))

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            return _http(exc)
        from services.common import es as es_helpers

        if es_helpers.is_unavailable(exc):
            return error_page(503, "The account store is not answering. Try again in a minute.")
        log.exception("unhandled error", extra={"path": request.path})
        return error_page(500)

    return app
