"""Deal rooms in the portal: reps create, list, follow and revoke them; customers open /r/<token>.

A room is one link to several assets. The customer's page lists the room's assets and
shows one at a time in the shared page viewer (templates/_viewer.html, static/share.js),
at /r/<token>/<n> for the room's n-th asset: the asset id never comes from the browser,
only a position inside the room the token resolves to. Each asset view is its own visit,
so opens and reading time are recorded per asset, with the room id, exactly the way a
share link records them (see views/public.py); a room's asset is capped like a link.

A room may ask for a passcode and a verified email like a share link: the same access
gate (access_gate.py) guards its page, page images, beacons and downloads, and the
verified address goes on the room's customer events as viewer_email.
"""

from __future__ import annotations

import json
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc
from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request,
                   url_for)
from google.protobuf.duration_pb2 import Duration

from collateral.v1 import content_pb2, usage_pb2
from services.common import metrics
from services.portal import access_gate, helpers, opportunities, share_access_form, share_page
from services.portal.security import login_required, rpc, rpc_as
from services.portal.views import public
from services.portal.views.rep import titles

log = logging.getLogger(__name__)
bp = Blueprint("rooms", __name__)
public_bp = Blueprint("rooms_public", __name__)

MAX_ASSETS = 50
MAX_TITLE = 200
MAX_NOTE = 2000
EXPIRY_DAYS = (7, 14, 30, 60, 90, 180, 365)
FORM_FIELDS = {"title": "title", "note": "note", "opportunity_id": "opportunity_id", "account_id": "account_id",
               "expires_in": "expires_days", "passcode": "passcode", "allowed_email_domains": "allowed_email_domains"}


# ---- rep pages ---------------------------------------------------------------------------

def selected_assets(form: Any) -> list[str]:
    """The ticked assets in the rep's order: by the number typed next to each, then by position."""
    ticked = [a for a in dict.fromkeys(form.getlist("asset")) if helpers.ID_RE.match(a)]

    def rank(item: tuple[int, str]) -> tuple[int, int]:
        position, asset_id = item
        try:
            return int(form.get(f"order-{asset_id}") or 1000), position
        except ValueError:
            return 1000, position

    return [a for _, a in sorted(enumerate(ticked), key=rank)][:MAX_ASSETS + 1]


def _candidates(query: str, selected: list[str]) -> list[tuple[str, str]]:
    """(asset id, title) rows of the picker: the ticked assets first, then published search hits."""
    names = titles(selected)
    rows = [(a, names.get(a) or a) for a in selected]
    # Reps only ever find published assets; curators must ask for them (drafts cannot be in a room).
    statuses = [content_pb2.ASSET_STATUS_PUBLISHED] if g.user.is_curator else []
    req = content_pb2.SearchAssetsRequest(query=query[:512], page_size=24,
                                          filters=content_pb2.SearchFilters(statuses=statuses))
    try:
        hits = rpc("content", "SearchAssets", req).hits
    except grpc.RpcError as exc:
        log.warning("room picker search failed", extra={"code": exc.code().name})
        hits = []
    rows += [(h.asset.asset_id, h.asset.title) for h in hits if h.asset.asset_id not in selected]
    return rows


def render_form(form: Any, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    selected = selected_assets(form)
    query = (form.get("q") or "").strip()
    return render_template(
        "rooms_new.html", form=form, errors=errors or {}, selected=selected, query=query,
        candidates=_candidates(query, selected), expiry_days=EXPIRY_DAYS, max_assets=MAX_ASSETS,
        default_days=current_app.config["COLLATERAL"].usage_share_ttl_days, share_errors=errors or {},
        email_verification=share_access_form.email_verification_available()), status


@bp.get("/rooms/new")
@login_required
def new_room() -> Any:
    if "csrf_token" in request.args:  # the picker's Search button submits the whole form by GET
        args = request.args.copy()
        args.poplist("csrf_token")
        return redirect(url_for("rooms.new_room", **args.to_dict(flat=False)))
    return render_form(request.args)


def _form_errors(form: Any, assets: list[str]) -> tuple[dict[str, str], int]:
    errors: dict[str, str] = {}
    if not (form.get("title") or "").strip():
        errors["title"] = "Give the room a title."
    if not assets:
        errors["asset_ids"] = "Tick at least one asset."
    elif len(assets) > MAX_ASSETS:
        errors["asset_ids"] = f"At most {MAX_ASSETS} assets."
    try:
        days = int(form.get("expires_days") or current_app.config["COLLATERAL"].usage_share_ttl_days)
        if not 1 <= days <= 365:
            raise ValueError
    except ValueError:
        errors["expires_days"] = "Choose between 1 and 365 days."
        days = 30
    for name in ("opportunity_id", "account_id"):
        value = (form.get(name) or "").strip()
        if value and not helpers.ID_RE.match(value):
            errors[name] = "Letters, digits and . _ : @ - only (at most 128)."
    return errors, days


def _form_field(field: str) -> str:
    """A CreateRoom violation's field path -> the form field that shows it."""
    base = field.split("[", 1)[0]
    return "asset_ids" if base == "asset_ids" else FORM_FIELDS.get(base, "")


@bp.post("/rooms")
@login_required
def create_room() -> Any:
    form = request.form
    assets = selected_assets(form)
    errors, days = _form_errors(form, assets)
    if errors:
        return render_form(form, errors, 400)
    req = usage_pb2.CreateRoomRequest(
        title=form.get("title", "")[:MAX_TITLE + 1], note=form.get("note", "")[:MAX_NOTE + 1], asset_ids=assets,
        opportunity_id=(form.get("opportunity_id") or "").strip(), account_id=(form.get("account_id") or "").strip(),
        expires_in=Duration(seconds=int(timedelta(days=days).total_seconds())),
        allow_download=form.get("allow_download") == "on", **share_access_form.request_fields(form))
    try:
        reply = rpc("usage", "CreateRoom", req)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:  # e.g. email verification without email configured
            return render_form(form, {"_form": exc.details() or "The room could not be created."}, 400)
        if helpers.is_invalid(exc) or exc.code() == grpc.StatusCode.NOT_FOUND:
            return render_form(form, helpers.violations(exc, _form_field), 400)
        raise
    return render_template("rooms_created.html", room=reply.room, url=room_url(reply.token),
                           names=titles(list(reply.room.asset_ids)), deal_names=room_deal_names([reply.room]))


def room_url(token: str) -> str:
    return f"{current_app.config['COLLATERAL'].portal_public_url.rstrip('/')}/r/{token}"


@bp.get("/rooms")
@login_required
def my_rooms() -> Any:
    req = usage_pb2.ListRoomsRequest(page_size=helpers.int_arg("page_size", 25, 1, 100),
                                     page_token=request.args.get("page_token", "")[:2000], include_inactive=True)
    if g.user.role == "admin":  # admins would otherwise see everyone's rooms here
        req.rep_id = g.user.email
    reply = rpc("usage", "ListRooms", req)
    names = titles([a for r in reply.rooms for a in r.asset_ids])
    return render_template("rooms.html", rooms=reply.rooms, names=names, next_token=reply.next_page_token,
                           deal_names=room_deal_names(reply.rooms), usage_pb2=usage_pb2)


def room_deal_names(rooms: Any) -> opportunities.DealNames:
    """The CRM names of the rooms' opportunities and accounts (ids when the feedback service is down)."""
    return opportunities.deal_names((r.opportunity_id for r in rooms), (r.account_id for r in rooms))


def _room_id(room_id: str) -> str:
    if not helpers.ID_RE.match(room_id):
        abort(404)
    return room_id


@bp.get("/rooms/<room_id>")
@login_required
def room_detail(room_id: str) -> Any:
    reply = rpc("usage", "GetRoomEngagement", usage_pb2.GetRoomEngagementRequest(room_id=_room_id(room_id)))
    longest = max((p.seconds for a in reply.assets for p in a.pages), default=0.0)
    return render_template("rooms_detail.html", room=reply.room, assets=reply.assets, longest=longest,
                           viewer_emails=list(reply.viewer_emails), deal_names=room_deal_names([reply.room]),
                           usage_pb2=usage_pb2)


@bp.post("/rooms/<room_id>/copy")
@login_required
def copy_room_link(room_id: str) -> Any:
    """An active room's URL again (JSON), for the Copy link button of My rooms and the room's page."""
    return share_access_form.copy_room_link(_room_id(room_id))


@bp.post("/rooms/<room_id>/revoke")
@login_required
def revoke_room(room_id: str) -> Any:
    rpc("usage", "RevokeRoom", usage_pb2.RevokeRoomRequest(room_id=_room_id(room_id)))
    flash("The room no longer opens.", "ok")
    return redirect(url_for("rooms.my_rooms"))


# ---- the customer's room -----------------------------------------------------------------

def resolve(token: str) -> Any:
    """The active room of `token`; 404 when unknown, public.LinkGone (410 page) when expired or revoked."""
    return _resolve(token).room


def _resolve(token: str, passcode: str = "") -> Any:
    """ResolveRoom as the portal; with `passcode`, the service also says whether it opens the room."""
    return public.resolve_token("ResolveRoom", token, usage_pb2.ResolveRoomRequest(token=token, passcode=passcode))


def requirements(room: Any) -> access_gate.Requirements:
    """What the room asks of a customer before it shows anything: THE place rooms meet the access gate.

    The requirements set here apply to the room's page, images, beacons and downloads at
    once; passing the gate opens every asset of the room (one mark for the room).
    """
    return access_gate.Requirements(key=f"room:{room.room_id}", passcode=room.passcode_required,
                                    email=room.email_verification_required,
                                    allowed_domains=tuple(room.allowed_email_domains))


def passcode_checker(token: str) -> Any:
    """Asks the usage service whether a passcode opens the room (the hash never leaves it)."""
    def check(passcode: str) -> bool:
        return bool(_resolve(token, passcode).passcode_accepted)
    return check


def asset_at(room: Any, n: int) -> str:
    """The room's n-th asset (1-based); 404 outside the room."""
    if not 1 <= n <= len(room.asset_ids):
        abort(404)
    return room.asset_ids[n - 1]


def as_owner(room: Any, method: str, req: Any, timeout: float = 10.0) -> Any:
    """Content calls on behalf of the rep who created the room (reps may read published assets)."""
    return rpc_as("content", method, req, room.rep_id, "rep", timeout=timeout)


def room_assets(room: Any) -> list[Any]:
    """The room's assets as the content service has them now; None for one withdrawn since (kept in place)."""
    backends = current_app.extensions["collateral_backends"]

    def one(asset_id: str) -> Any:
        try:
            return backends.call("content", "GetAsset", content_pb2.GetAssetRequest(asset_id=asset_id),
                                 subject=room.rep_id, role="rep", timeout=10.0).asset
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
                return None
            raise

    with ThreadPoolExecutor(max_workers=min(8, len(room.asset_ids))) as pool:
        return list(pool.map(one, room.asset_ids))


def sender(room: Any) -> share_page.Sender:
    name = share_page.display_name(room.rep_id, public.rep_account_name(room.rep_id))
    return share_page.Sender(name=name, initials=share_page.initials(name),
                             colour=share_page.avatar_colour(room.rep_id), message=room.note.strip())


@public_bp.errorhandler(public.LinkGone)
def _gone(exc: public.LinkGone) -> Any:
    """Expired, revoked or withdrawn: the share link's friendly 410 page."""
    return render_template("share_gone.html", state=exc.state), 410


def no_store(resp: Response) -> Response:
    resp.headers["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@public_bp.route("/r/<token>", methods=["GET", "POST"])
def view(token: str) -> Any:
    return view_asset(token, 1)


@public_bp.route("/r/<token>/<int:n>", methods=["GET", "POST"])
def view_asset(token: str, n: int) -> Any:
    room = resolve(token)
    gate = access_gate.guard(requirements(room), passcode_checker(token), sender=sender(room).name)
    if gate is not None:
        return gate
    asset_id = asset_at(room, n)
    assets = room_assets(room)
    current = assets[n - 1]
    if current is None:
        raise public.LinkGone("withdrawn")
    metrics.PORTAL_SHARE_VISITS.labels("shown").inc()
    return no_store(Response(render_template(
        "room_view.html", token=token, room=room, assets=assets, n=n, asset=current, asset_id=asset_id,
        file=helpers.current_file(current), previewable=helpers.previewable(current), visit=secrets.token_hex(16),
        sender=sender(room))))


@public_bp.get("/r/<token>/<int:n>/pages/<int:page>.png")
def page_image(token: str, n: int, page: int) -> Response:
    room = resolve(token)
    access_gate.require(requirements(room))
    asset_id = asset_at(room, n)
    if not 1 <= page <= 10000:
        abort(404)
    width = helpers.int_arg("w", 1000, 200, 1600)
    reply = as_owner(room, "RenderPage", content_pb2.RenderPageRequest(asset_id=asset_id, page=page, width=width),
                     timeout=30.0)
    return Response(reply.png, mimetype="image/png",
                    headers={"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"})


@dataclass(frozen=True)
class Beacon:
    """One report of the viewer's script: an open, or seconds on a page."""

    kind: str
    visit: str
    page: int = 0
    seconds: float = 0.0
    seq: int = 0


def read_beacon() -> Beacon:
    """The request's beacon, bounded like a share link's (400 for anything malformed)."""
    if (request.content_length or 0) > public.MAX_BEACON_BYTES:
        abort(413)
    try:
        data = json.loads(request.get_data(cache=False, as_text=True)[:public.MAX_BEACON_BYTES] or "{}")
    except ValueError:
        abort(400)
    if not isinstance(data, dict):
        abort(400)
    visit, kind = str(data.get("visit", "")), data.get("kind")
    if not public.VISIT_RE.match(visit) or kind not in ("open", "page"):
        abort(400)
    if kind == "open":
        return Beacon("open", visit)
    try:
        page, seconds, seq = int(data.get("page", 0)), float(data.get("seconds", 0)), int(data.get("seq", 0))
    except (TypeError, ValueError):
        abort(400)
    if not 1 <= page <= 10000 or not 0 <= seq <= 100000 or not seconds == seconds:
        abort(400)
    return Beacon("page", visit, page, max(0.0, min(public.MAX_PAGE_SECONDS, seconds)), seq)


def room_event(room: Any, asset_id: str, n: int, kind: int, visit: str, suffix: str,
               **fields: Any) -> usage_pb2.UsageEvent:
    """A customer event of the room's n-th asset: room id and asset id, the room's rep and deal."""
    headers = {h: request.headers[h][:200] for h in public.FORWARDED_HEADERS if h in request.headers}
    return usage_pb2.UsageEvent(
        event_id=f"{room.room_id}-{n}-{visit}-{suffix}"[:128], type=kind, asset_id=asset_id, rep_id=room.rep_id,
        opportunity_id=room.opportunity_id, account_id=room.account_id, room_id=room.room_id, channel="room",
        user_agent=request.headers.get("User-Agent", "")[:512], ip=helpers.client_ip(), headers=headers,
        viewer_email=access_gate.viewer_email(requirements(room)), **fields)


@public_bp.post("/r/<token>/<int:n>/beacon")
def beacon(token: str, n: int) -> Response:
    """Opens and page times of one asset of a room (CSRF-exempt like the share link's beacon, bounded the same way)."""
    beacon_ = read_beacon()
    try:
        room = resolve(token)
    except public.LinkGone:
        return Response(status=410)
    access_gate.require(requirements(room))
    asset_id = asset_at(room, n)
    if beacon_.kind == "open":
        per_client = current_app.config["COLLATERAL"].usage_share_opens_per_client_day
        if not public.open_limiter().admit(f"{room.room_id}/{asset_id}", helpers.client_ip(), beacon_.visit,
                                           per_client):
            metrics.PORTAL_SHARE_VISITS.labels("beacon_over_cap").inc()
            return Response(status=429)
        event = room_event(room, asset_id, n, usage_pb2.USAGE_EVENT_TYPE_CUSTOMER_OPEN, beacon_.visit, "open")
        metrics.PORTAL_SHARE_VISITS.labels("beacon_open").inc()
    else:
        if beacon_.seconds < 0.5:
            return Response(status=204)
        event = room_event(room, asset_id, n, usage_pb2.USAGE_EVENT_TYPE_PAGE_VIEW, beacon_.visit,
                           f"p{beacon_.page}-{beacon_.seq}", page=beacon_.page, seconds=round(beacon_.seconds, 2))
        metrics.PORTAL_SHARE_VISITS.labels("page_view").inc()
    public.record([event])
    return Response(status=204)


@public_bp.post("/r/<token>/<int:n>/download")
def download(token: str, n: int) -> Any:
    room = resolve(token)
    access_gate.require(requirements(room))
    if not room.allow_download:
        abort(403)
    asset_id = asset_at(room, n)
    reply = as_owner(room, "GetDownloadUrl", content_pb2.GetDownloadUrlRequest(asset_id=asset_id))
    visit = request.form.get("visit", "")
    visit = visit if public.VISIT_RE.match(visit) else secrets.token_hex(16)
    try:
        public.record([room_event(room, asset_id, n, usage_pb2.USAGE_EVENT_TYPE_CUSTOMER_DOWNLOAD, visit,
                                  f"dl-{secrets.token_hex(4)}")])
    except grpc.RpcError as exc:
        log.warning("customer download in a room not recorded", extra={"code": exc.code().name})
    return Response(status=303, headers={"Location": reply.url, "Referrer-Policy": "no-referrer"})
