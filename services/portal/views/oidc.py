"""Sign-in through the OpenID Connect provider: /auth/oidc/login sends the browser there,
/auth/oidc/callback takes it back, checks everything and starts a portal session.

Every way a sign-in can fail at the provider or on the way back (the user cancels, a
stale or forged state, a used or expired code, a token that fails validation, a user
no role rule admits, the provider not answering) ends on a page that says what
happened and offers to start again, with a 4xx or 503 status: never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from joserfc.errors import JoseError

from services.common import metrics
from services.portal import security
from services.portal.oidc import OidcSignIn, Refused

log = logging.getLogger(__name__)

bp = Blueprint("oidc", __name__)

NEXT_KEY = "oidc_next"

CANCELLED = "Sign-in was cancelled or refused at {label}. You are not signed in."
STALE = ("This sign-in link is no longer valid: it was already used, it expired, or it was started in "
         "another browser. Start again.")
REJECTED = "{label} did not confirm the sign-in. Start again; if it keeps failing, tell your administrator."
BAD_TOKEN = "The identity token from {label} could not be verified, so you are not signed in. Start again."
UNREACHABLE = "{label} is not answering. Try again in a minute."


@bp.app_context_processor
def sign_in_options() -> dict[str, Any]:
    """What the sign-in page offers: the provider's button, the password form, or both."""
    client = current_app.extensions.get("collateral_oidc")
    return {"oidc_label": client.label if client is not None else "",
            "local_signin": current_app.config["COLLATERAL"].portal_local_signin}


def provider() -> OidcSignIn:
    found = current_app.extensions.get("collateral_oidc")
    if found is None:
        abort(404)
    return found


def callback_url() -> str:
    """The redirect URI registered at the provider: fixed from portal_public_url, never from
    the request's Host header, so a forged Host cannot steer the code elsewhere."""
    base = current_app.config["COLLATERAL"].portal_public_url.rstrip("/")
    return base + url_for("oidc.callback")


def failed(message: str, status: int, reason: str) -> Any:
    metrics.PORTAL_SIGN_INS.labels("failed").inc()
    log.info("OIDC sign-in failed", extra={"reason": reason})
    return render_template("sign_in_failed.html", message=message), status


@bp.get("/auth/oidc/login")
def login() -> Any:
    client = provider()
    # Also for someone already signed in: coming back replaces their session (another account).
    session[NEXT_KEY] = security.safe_next(request.args.get("next"))
    try:
        return client.authorize_redirect(callback_url())
    except (requests.RequestException, ValueError) as exc:
        log.warning("OIDC discovery failed", extra={"error": str(exc)})
        return failed(UNREACHABLE.format(label=client.label), 503, "unreachable")


@bp.get("/auth/oidc/callback")
def callback() -> Any:
    client = provider()
    label = client.label
    try:
        user, _token = client.finish()
    except MismatchingStateError:
        return failed(STALE, 400, "state")
    except OAuthError as exc:
        if exc.error == "access_denied":
            return failed(CANCELLED.format(label=label), 403, "access_denied")
        if exc.error == "invalid_grant":
            return failed(STALE, 400, "invalid_grant")
        return failed(REJECTED.format(label=label), 400, exc.error or "oauth")
    except (JoseError, AuthlibBaseError) as exc:
        log.warning("OIDC ID token rejected", extra={"error": repr(exc)})
        return failed(BAD_TOKEN.format(label=label), 400, "id_token")
    except Refused as exc:
        return failed(str(exc), 403, "refused")
    except (requests.RequestException, ValueError) as exc:
        log.warning("OIDC provider call failed", extra={"error": str(exc)})
        return failed(UNREACHABLE.format(label=label), 503, "unreachable")
    next_url = security.safe_next(session.get(NEXT_KEY))
    security.sign_in(user)
    session[security.OIDC_SESSION_KEY] = True  # sign-out also ends the provider's session
    return redirect(next_url)


def provider_logout_url() -> str | None:
    """Where sign-out sends a browser whose session began at the provider: its end-session
    endpoint when it advertises one (RP-initiated logout), else nowhere (None)."""
    client = current_app.extensions.get("collateral_oidc")
    if client is None or not session.get(security.OIDC_SESSION_KEY):
        return None
    back = current_app.config["COLLATERAL"].portal_public_url.rstrip("/") + url_for("core.login")
    return client.logout_url(back, None)
