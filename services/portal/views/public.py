"""Tracked share links: what a customer sees at /s/<token>, without signing in.

The token is the only key: every route here resolves it with the usage service (as
the `service` role) and serves that link's asset alone; the asset id never comes from
the browser. Opens are counted only when the viewer's JavaScript beacon fires, so
link scanners, chat unfurlers and prefetchers (HEAD requests, no JavaScript) never
become "the customer opened it"; the usage service classifies the user agent and
timing of the beacon as a second line of defence.

A link may ask for a passcode or a verified email first: the access gate
(access_gate.py) answers the page until the customer has passed, and every other
route of the link (page images, beacons, downloads) refuses with 403 until then.
Customer events carry the verified email, so the rep sees who opened a forwarded link.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any

import grpc
from flask import Blueprint, Response, abort, current_app, render_template, request

from collateral.v1 import content_pb2, usage_pb2
from services.common import metrics
from services.portal import helpers, share_page
from services.portal.access_gate import Requirements
from services.portal.security import rpc_as
from services.portal import access_gate

log = logging.getLogger(__name__)
bp = Blueprint("public", __name__)

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,200}$")
VISIT_RE = re.compile(r"^[a-f0-9]{32}$")
PORTAL_SUBJECT = "portal"
FORWARDED_HEADERS = ("sec-purpose", "purpose", "x-purpose", "x-moz", "sec-fetch-purpose", "from")
MAX_BEACON_BYTES = 2048
MAX_PAGE_SECONDS = 3600.0


class OpenLimiter:
    """Visits whose open this portal process records, per (link, client address, UTC day).

    The first line against open floods (fresh visit ids from one client): beyond
    `usage_share_opens_per_client_day` distinct visits, opens are refused before they
    reach Kafka. Each process counts alone, so the usage consumer applies the same cap
    (and a per-link one) to the stored events; this only keeps the flood out of the
    pipeline. Memory is bounded: the least recently used keys are forgotten first.
    """

    MAX_KEYS = 50_000

    def __init__(self) -> None:
        self._visits: OrderedDict[tuple[str, str, str], set[str]] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, share_id: str, client: str, visit: str, per_client: int) -> bool:
        """True when `visit` may record its open: already admitted, or under the cap."""
        key = (share_id, client, datetime.now(timezone.utc).date().isoformat())
        with self._lock:
            visits = self._visits.pop(key, set())
            self._visits[key] = visits
            while len(self._visits) > self.MAX_KEYS:
                self._visits.popitem(last=False)
            if visit in visits:
                return True
            if len(visits) >= per_client:
                return False
            visits.add(visit)
            return True


def open_limiter() -> OpenLimiter:
    return current_app.extensions.setdefault("share_open_limiter", OpenLimiter())


class LinkGone(Exception):
    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


def resolve(token: str) -> Any:
    """The active share link of `token`; 404 when unknown, LinkGone when expired or revoked."""
    return resolve_token("ResolveShareLink", token, usage_pb2.ResolveShareLinkRequest(token=token)).share


def resolve_token(method: str, token: str, request: Any) -> Any:
    """A customer token (share link or deal room) resolved as the portal: 404 when the token is
    malformed or unknown, LinkGone (the 410 page) when what it opens was revoked or expired."""
    if not TOKEN_RE.match(token):
        metrics.PORTAL_SHARE_VISITS.labels("not_found").inc()
        abort(404)
    try:
        return rpc_as("usage", method, request, PORTAL_SUBJECT, "service")
    except grpc.RpcError as exc:
        if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            metrics.PORTAL_SHARE_VISITS.labels("not_found").inc()
            abort(404)
        if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:
            state = "revoked" if "revoked" in (exc.details() or "") else "expired"
            metrics.PORTAL_SHARE_VISITS.labels(state).inc()
            raise LinkGone(state) from None
        raise


def as_owner(share: Any, method: str, req: Any, timeout: float = 10.0) -> Any:
    """Content calls on behalf of the rep who shared the link (reps may read published assets)."""
    return rpc_as("content", method, req, share.rep_id, "rep", timeout=timeout)


@bp.errorhandler(LinkGone)
def _gone(exc: LinkGone) -> Any:
    return render_template("share_gone.html", state=exc.state), 410


def customer_event(share: Any, kind: int, visit: str, suffix: str, **fields: Any) -> usage_pb2.UsageEvent:
    headers = {h: request.headers[h][:200] for h in FORWARDED_HEADERS if h in request.headers}
    return usage_pb2.UsageEvent(
        event_id=f"{share.share_id}-{visit}-{suffix}"[:128], type=kind, asset_id=share.asset_id,
        rep_id=share.rep_id, opportunity_id=share.opportunity_id, account_id=share.account_id,
        share_id=share.share_id, channel="share_link", user_agent=request.headers.get("User-Agent", "")[:512],
        ip=helpers.client_ip(), headers=headers, viewer_email=access_gate.viewer_email(Requirements.of_share(share)),
        **fields)


def record(events: list[usage_pb2.UsageEvent]) -> None:
    rpc_as("usage", "RecordEvents", usage_pb2.RecordEventsRequest(events=events), PORTAL_SUBJECT, "service",
           timeout=5.0)


def rep_account_name(rep_id: str) -> str | None:
    """The name on the rep's portal account; None without one (single sign-on) or when the
    account store does not answer: the page then shows a name made from the address
    rather than failing the customer."""
    try:
        user = current_app.extensions["collateral_users"].get(rep_id)
    except Exception:  # noqa: BLE001 - a missing name never blocks the document
        log.warning("rep name lookup failed", exc_info=True)
        return None
    return user.name if user is not None else None


def passcode_checker(token: str) -> Any:
    """Asks the usage service whether a passcode opens the link (the hash never leaves it)."""
    def check(passcode: str) -> bool:
        return rpc_as("usage", "ResolveShareLink", usage_pb2.ResolveShareLinkRequest(token=token, passcode=passcode),
                      PORTAL_SUBJECT, "service").passcode_accepted
    return check


@bp.route("/s/<token>", methods=["GET", "POST"])
def view(token: str) -> Any:
    share = resolve(token)
    gate = access_gate.guard(Requirements.of_share(share), passcode_checker(token),
                             sender=rep_account_name(share.rep_id) or share.rep_id)
    if gate is not None:
        return gate  # the customer has not passed the link's passcode or email check yet
    try:
        asset = as_owner(share, "GetAsset", content_pb2.GetAssetRequest(asset_id=share.asset_id)).asset
    except grpc.RpcError as exc:
        if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
            raise LinkGone("withdrawn") from None
        raise
    metrics.PORTAL_SHARE_VISITS.labels("shown").inc()
    resp = Response(render_template(
        "share_view.html", token=token, share=share, asset=asset, file=helpers.current_file(asset),
        previewable=helpers.previewable(asset), visit=secrets.token_hex(16),
        sender=share_page.sender(share, rep_account_name(share.rep_id)),
        cta=share_page.call_to_action(share, asset.title)))
    resp.headers["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    return resp


@bp.get("/s/<token>/pages/<int:page>.png")
def page_image(token: str, page: int) -> Response:
    share = resolve(token)
    access_gate.require(Requirements.of_share(share))
    if not 1 <= page <= 10000:
        abort(404)
    width = helpers.int_arg("w", 1000, 200, 1600)
    reply = as_owner(share, "RenderPage",
                     content_pb2.RenderPageRequest(asset_id=share.asset_id, page=page, width=width), timeout=30.0)
    return Response(reply.png, mimetype="image/png",
                    headers={"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"})


@bp.post("/s/<token>/beacon")
def beacon(token: str) -> Response:
    """The viewer's JavaScript reports an open (once per visit) and the seconds spent on each page.

    CSRF-exempt (navigator.sendBeacon cannot carry a form token); what it may do is
    bounded by the token in the URL: events for that link's asset only, one open per
    visit (the open's event id is derived from the link and the visit), a capped
    number of visits per client and day (429 beyond it), clamped page numbers and
    durations.
    """
    if (request.content_length or 0) > MAX_BEACON_BYTES:
        abort(413)
    try:
        data = json.loads(request.get_data(cache=False, as_text=True)[:MAX_BEACON_BYTES] or "{}")
    except ValueError:
        abort(400)
    if not isinstance(data, dict):
        abort(400)
    visit = str(data.get("visit", ""))
    kind = data.get("kind")
    if not VISIT_RE.match(visit) or kind not in ("open", "page"):
        abort(400)
    try:
        share = resolve(token)
    except LinkGone:
        return Response(status=410)
    access_gate.require(Requirements.of_share(share))
    if kind == "open":
        per_client = current_app.config["COLLATERAL"].usage_share_opens_per_client_day
        if not open_limiter().admit(share.share_id, helpers.client_ip(), visit, per_client):
            metrics.PORTAL_SHARE_VISITS.labels("beacon_over_cap").inc()
            return Response(status=429)
        event = customer_event(share, usage_pb2.USAGE_EVENT_TYPE_CUSTOMER_OPEN, visit, "open")
        metrics.PORTAL_SHARE_VISITS.labels("beacon_open").inc()
    else:
        try:
            page = int(data.get("page", 0))
            seconds = float(data.get("seconds", 0))
            seq = int(data.get("seq", 0))
        except (TypeError, ValueError):
            abort(400)
        if not 1 <= page <= 10000 or not 0 <= seq <= 100000 or not seconds == seconds:
            abort(400)
        seconds = max(0.0, min(MAX_PAGE_SECONDS, seconds))
        if seconds < 0.5:
            return Response(status=204)
        event = customer_event(share, usage_pb2.USAGE_EVENT_TYPE_PAGE_VIEW, visit, f"p{page}-{seq}", page=page,
                               seconds=round(seconds, 2))
        metrics.PORTAL_SHARE_VISITS.labels("page_view").inc()
    record([event])
    return Response(status=204)


@bp.post("/s/<token>/download")
def download(token: str) -> Any:
    share = resolve(token)
    access_gate.require(Requirements.of_share(share))
    if not share.allow_download:
        abort(403)
    reply = as_owner(share, "GetDownloadUrl", content_pb2.GetDownloadUrlRequest(asset_id=share.asset_id))
    visit = request.form.get("visit", "")
    visit = visit if VISIT_RE.match(visit) else secrets.token_hex(16)
    try:
        record([customer_event(share, usage_pb2.USAGE_EVENT_TYPE_CUSTOMER_DOWNLOAD, visit,
                               f"dl-{secrets.token_hex(4)}")])
    except grpc.RpcError as exc:
        log.warning("customer download not recorded", extra={"code": exc.code().name})
    resp = Response(status=303, headers={"Location": reply.url, "Referrer-Policy": "no-referrer"})
    return resp
