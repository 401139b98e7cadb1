"""What reps use every day: search, the asset page, download, share, rate, their shares and requests."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import grpc
from flask import (Blueprint, Response, abort, current_app, flash, g, jsonify, redirect, render_template, request,
                   url_for)

from collateral.v1 import common_pb2, content_pb2, usage_pb2
from services.portal import feedback_api, helpers, opportunities, share_page
from services.portal import share_access_form
from services.portal.security import login_required, rpc

log = logging.getLogger(__name__)
bp = Blueprint("rep", __name__)

FILTER_ARGS = ("type", "buying_stage", "industry", "region", "product", "persona", "language", "tag", "status",
               "owner")
SORTS = [("relevance", "Best match"), ("newest", "Newest"), ("most_used", "Most used"),
         ("best_win_rate", "Best win rate")]
MAX_QUERY = 512


def _enum_values(enum: Any, prefix: str, keys: list[str]) -> list[int]:
    out = []
    for key in keys:
        try:
            out.append(enum.Value(prefix + key.upper()))
        except ValueError:
            continue
    return out


def search_request(args: Any, page_size: int = 12) -> content_pb2.SearchAssetsRequest:
    filters = content_pb2.SearchFilters(
        types=_enum_values(content_pb2.AssetType, "ASSET_TYPE_", args.getlist("type")),
        buying_stages=_enum_values(common_pb2.BuyingStage, "BUYING_STAGE_", args.getlist("buying_stage")),
        industries=args.getlist("industry")[:20], regions=args.getlist("region")[:20],
        products=args.getlist("product")[:20], personas=args.getlist("persona")[:20],
        languages=args.getlist("language")[:20], tags=args.getlist("tag")[:20],
        owners=args.getlist("owner")[:20],
        statuses=_enum_values(content_pb2.AssetStatus, "ASSET_STATUS_", args.getlist("status")),
    )
    sort = args.get("sort", "relevance")
    sort_value = content_pb2.SearchSort.Value("SEARCH_SORT_" + sort.upper()) \
        if sort in dict(SORTS) else content_pb2.SEARCH_SORT_RELEVANCE
    return content_pb2.SearchAssetsRequest(query=(args.get("q") or "").strip()[:MAX_QUERY], filters=filters,
                                           sort=sort_value, page_size=page_size,
                                           page_token=(args.get("page_token") or "")[:2000])


def record(events: list[usage_pb2.UsageEvent], timeout: float = 5.0) -> bool:
    """Record usage events as the signed-in user; False (logged, counted) when the usage service failed."""
    try:
        rpc("usage", "RecordEvents", usage_pb2.RecordEventsRequest(events=events), timeout=timeout)
        return True
    except grpc.RpcError as exc:
        log.warning("usage event not recorded", extra={"code": exc.code().name, "detail": exc.details()})
        return False


def rep_event(kind: int, asset_id: str, **fields: Any) -> usage_pb2.UsageEvent:
    return usage_pb2.UsageEvent(event_id=f"portal-{uuid.uuid4().hex}", type=kind, asset_id=asset_id,
                                rep_id=g.user.email, channel="portal", **fields)


@bp.get("/search")
@login_required
def search() -> Any:
    args = request.args
    if not g.user.is_curator and (args.getlist("status") or args.getlist("owner")):
        args = args.copy()
        args.poplist("status")
        args.poplist("owner")
    req = search_request(args)
    response = rpc("content", "SearchAssets", req)
    selected = {name: args.getlist(name) for name in FILTER_ARGS}
    keep = [(k, v) for k in ("q", "sort", *FILTER_ARGS) for v in args.getlist(k) if v]
    if helpers.wants_csv():
        return helpers.csv_response("search", ["asset_id", "title", "type", "stages", "updated"], [
            (h.asset.asset_id, h.asset.title, content_pb2.AssetType.Name(h.asset.type),
             " ".join(common_pb2.BuyingStage.Name(s) for s in h.asset.buying_stages), helpers.current_file(h.asset)
             and h.asset.update_time.ToJsonString()) for h in response.hits])
    return render_template(
        "search.html", response=response, q=req.query, sort=args.get("sort", "relevance"), sorts=SORTS,
        selected=selected, keep=keep, highlight=helpers.highlight, has_filters=any(selected.values()),
        content_pb2=content_pb2, page_token=args.get("page_token", ""), feedback_ready=feedback_api.available(),
        has_preview=helpers.previewable,
    )


@bp.get("/api/suggest")
@login_required
def suggest() -> Response:
    prefix = (request.args.get("q") or "").strip()
    if not prefix:
        return jsonify(suggestions=[])
    try:
        reply = rpc("content", "Suggest", content_pb2.SuggestRequest(prefix=prefix[:100], limit=8), timeout=3.0)
    except grpc.RpcError:
        return jsonify(suggestions=[])
    return jsonify(suggestions=[{"text": s.text, "asset_id": s.asset_id, "title": s.title}
                                for s in reply.suggestions])


@bp.get("/api/opportunities")
@login_required
def opportunity_options() -> Response:
    """The opportunity picker's options (templates/_macros.html opportunity_picker, app.js)."""
    return jsonify(opportunities=opportunities.picker_options(request.args.get("q") or ""))


def _asset(asset_id: str) -> Any:
    if not helpers.ID_RE.match(asset_id):
        abort(404)
    return rpc("content", "GetAsset", content_pb2.GetAssetRequest(asset_id=asset_id)).asset


@bp.get("/assets/<asset_id>")
@login_required
def asset(asset_id: str) -> Any:
    item = _asset(asset_id)
    events = [rep_event(usage_pb2.USAGE_EVENT_TYPE_VIEW, asset_id)]
    if request.args.get("sid"):
        events.append(rep_event(usage_pb2.USAGE_EVENT_TYPE_SEARCH_CLICK, asset_id))
    # Only reps' previews are usage: marketers checking their own catalog would inflate the numbers.
    if item.status == content_pb2.ASSET_STATUS_PUBLISHED and g.user.role == "rep":
        record(events, timeout=3.0)
    return render_asset(item)


def render_asset(item: Any, share_errors: dict[str, str] | None = None, form: Any = None, status: int = 200) -> Any:
    ratings = feedback_api.asset_ratings(item.asset_id) if feedback_api.available() else None
    return render_template(
        "asset.html", asset=item, file=helpers.current_file(item), previewable=helpers.previewable(item),
        preview_problem=helpers.preview_problem(item),
        share_errors=share_errors or {}, form=form or {}, content_pb2=content_pb2, ratings=ratings,
        feedback_ready=feedback_api.available(), default_days=current_app.config["COLLATERAL"].usage_share_ttl_days,
        email_verification=share_access_form.email_verification_available(),
    ), status


@bp.get("/assets/<asset_id>/pages/<int:page>.png")
@login_required
def page_image(asset_id: str, page: int) -> Response:
    if not helpers.ID_RE.match(asset_id) or not 1 <= page <= 10000:
        abort(404)
    width = helpers.int_arg("w", 1000, 200, 1600)
    reply = rpc("content", "RenderPage", content_pb2.RenderPageRequest(asset_id=asset_id, page=page, width=width),
                timeout=30.0)
    return Response(reply.png, mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})


@bp.post("/assets/<asset_id>/download")
@login_required
def download(asset_id: str) -> Any:
    if not helpers.ID_RE.match(asset_id):
        abort(404)
    # The URL first: an asset the rep may not download (retired, unknown) records nothing.
    reply = rpc("content", "GetDownloadUrl", content_pb2.GetDownloadUrlRequest(asset_id=asset_id))
    if g.user.is_curator and _asset(asset_id).status != content_pb2.ASSET_STATUS_PUBLISHED:
        # Curators may fetch drafts and retired files; that is catalog work, not usage.
        return redirect(reply.url, code=303)
    opportunity = (request.form.get("opportunity_id") or "").strip()
    fields = {"opportunity_id": opportunity} if opportunity and helpers.ID_RE.match(opportunity) else {}
    # A missed event is logged and counted (collateral_portal_backend_errors_total); the rep still gets the file.
    record([rep_event(usage_pb2.USAGE_EVENT_TYPE_DOWNLOAD, asset_id, **fields)])
    return redirect(reply.url, code=303)


@bp.post("/assets/<asset_id>/share")
@login_required
def share(asset_id: str) -> Any:
    item = _asset(asset_id)
    form = request.form
    opportunity = (form.get("opportunity_id") or "").strip()
    account = (form.get("account_id") or "").strip()
    errors: dict[str, str] = {}
    try:
        days = int(form.get("expires_days") or 30)
        if not 1 <= days <= 365:
            raise ValueError
    except ValueError:
        errors["expires_at"] = "Choose between 1 and 365 days."
        days = 30
    if not opportunity and not account:
        errors["opportunity_id"] = "Enter the opportunity or the account this is for."
    cta = share_page.CTA_CHOICES.get(form.get("call_to_action") or "")
    if cta is None:
        errors["call_to_action"] = "Choose one of the calls to action offered."
    for name, value in (("opportunity_id", opportunity), ("account_id", account)):
        if value and not helpers.ID_RE.match(value):
            errors[name] = "Letters, digits and . _ : @ - only (at most 128)."
    if errors:
        return render_asset(item, errors, form, 400)
    req = usage_pb2.CreateShareLinkRequest(
        asset_id=asset_id, opportunity_id=opportunity, account_id=account,
        expires_at=helpers.timestamp(datetime.now(timezone.utc) + timedelta(days=days)),
        allow_download=form.get("allow_download") == "on", recipient_note=(form.get("recipient_note") or "")[:500],
        customer_message=(form.get("customer_message") or "")[:2000],
        channel="portal", call_to_action=cta, meeting_url=share_page.meeting_url_of(form, cta),
        **share_access_form.request_fields(form))
    try:
        reply = rpc("usage", "CreateShareLink", req)
    except grpc.RpcError as exc:
        if helpers.is_invalid(exc):
            return render_asset(item, helpers.violations(exc), form, 400)
        raise
    url = f"{current_app.config['COLLATERAL'].portal_public_url.rstrip('/')}/s/{reply.token}"
    return render_template("share_created.html", asset=item, share=reply.share, url=url,
                           deal_names=opportunities.deal_names([reply.share.opportunity_id], [reply.share.account_id]))


@bp.post("/assets/<asset_id>/rate")
@login_required
def rate(asset_id: str) -> Any:
    item = _asset(asset_id)
    try:
        stars = int(request.form.get("rating") or 0)
    except ValueError:
        stars = 0
    if not 1 <= stars <= 5:
        flash("Pick from 1 to 5 stars.", "error")
        return redirect(url_for("rep.asset", asset_id=asset_id) + "#feedback")
    try:
        feedback_api.submit_rating(item.asset_id, stars, (request.form.get("comment") or "")[:2000],
                                   (request.form.get("opportunity_id") or "").strip()[:128])
    except grpc.RpcError as exc:
        if helpers.is_invalid(exc):
            flash("; ".join(helpers.violations(exc).values()), "error")
            return redirect(url_for("rep.asset", asset_id=asset_id) + "#feedback")
        raise
    flash("Thanks: your rating was saved.", "ok")
    return redirect(url_for("rep.asset", asset_id=asset_id) + "#feedback")


@bp.post("/requests")
@login_required
def request_content() -> Any:
    form = request.form
    text = (form.get("description") or "").strip()
    query = (form.get("query") or "").strip()[:512]
    if not text and not query:
        flash("Describe what you need.", "error")
        return redirect(url_for("rep.search", q=query))
    try:
        feedback_api.request_content(query=query, description=text[:2000] or query,
                                     opportunity_id=(form.get("opportunity_id") or "").strip()[:128],
                                     buying_stage=(form.get("buying_stage") or "").strip(),
                                     persona=(form.get("persona") or "").strip()[:128],
                                     product=(form.get("product") or "").strip()[:128])
    except grpc.RpcError as exc:
        if helpers.is_invalid(exc):
            flash("; ".join(helpers.violations(exc).values()), "error")
            return redirect(url_for("rep.search", q=query))
        raise
    flash("Request sent to marketing. You can follow it under My requests.", "ok")
    return redirect(url_for("rep.my_requests"))


@bp.get("/requests")
@login_required
def my_requests() -> Any:
    items, next_token = feedback_api.my_requests(request.args.get("page_token", "")) \
        if feedback_api.available() else ([], "")
    if helpers.wants_csv():
        return helpers.csv_response("content-requests", ["created_at", "rep_id", "description", "topic", "persona",
                                                         "product"],
                                    [(r["created"].ToJsonString(), r["rep"], r["description"], r["topic"],
                                      r["persona"], r["product"]) for r in items])
    return render_template("my_requests.html", items=items, next_token=next_token,
                           feedback_ready=feedback_api.available())


def titles(asset_ids: list[str]) -> dict[str, str]:
    """Asset titles for a page of rows (one GetAsset each, in parallel; unknown ids keep their id)."""
    unique = list(dict.fromkeys(a for a in asset_ids if a))
    user = g.user
    backends = current_app.extensions["collateral_backends"]

    def one(asset_id: str) -> str:
        try:
            return backends.call("content", "GetAsset", content_pb2.GetAssetRequest(asset_id=asset_id),
                                 subject=user.email, role=user.role, timeout=5.0).asset.title
        except grpc.RpcError:
            return ""

    if not unique:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(unique))) as pool:
        return dict(zip(unique, pool.map(one, unique)))


@bp.get("/shares")
@login_required
def my_shares() -> Any:
    req = usage_pb2.ListShareLinksRequest(page_size=helpers.int_arg("page_size", 25, 1, 100),
                                          page_token=request.args.get("page_token", "")[:2000],
                                          include_inactive=True)
    if g.user.is_curator:  # curators would otherwise see everyone's links here
        req.rep_id = g.user.email
    reply = rpc("usage", "ListShareLinks", req)
    names = titles([s.asset_id for s in reply.shares])
    deals = opportunities.by_id(s.opportunity_id for s in reply.shares)
    if helpers.wants_csv():
        return helpers.csv_response("my-shares", [
            "share_id", "asset_id", "title", "opportunity_id", "account_id", "created_at", "expires_at", "state",
            "customer_opens", "bot_opens", "first_opened_at", "last_opened_at", "seconds_read", "opportunity_name",
            "account_name"], [
            (s.share_id, s.asset_id, names.get(s.asset_id, ""), s.opportunity_id, s.account_id,
             s.created_at.ToJsonString(), s.expires_at.ToJsonString(), usage_pb2.ShareLinkState.Name(s.state),
             s.stats.customer_opens, s.stats.bot_opens,
             s.stats.first_opened_at.ToJsonString() if s.stats.HasField("first_opened_at") else "",
             s.stats.last_opened_at.ToJsonString() if s.stats.HasField("last_opened_at") else "",
             round(sum(p.seconds for p in s.stats.pages), 1),
             *_deal_names(deals.get(s.opportunity_id))) for s in reply.shares])
    return render_template("my_shares.html", shares=reply.shares, names=names, next_token=reply.next_page_token,
                           usage_pb2=usage_pb2, deals=deals)


def _deal_names(deal: Any) -> tuple[str, str]:
    """(opportunity name, account name) of a share's deal for the CSV; empty when unknown."""
    return (deal.opportunity_name, deal.account_name) if deal is not None else ("", "")


@bp.post("/shares/<share_id>/copy")
@login_required
def copy_share_link(share_id: str) -> Any:
    """An active link's URL again (JSON), for the Copy link button of My shares."""
    if not helpers.ID_RE.match(share_id):
        abort(404)
    return share_access_form.copy_link(share_id)


@bp.post("/shares/<share_id>/revoke")
@login_required
def revoke(share_id: str) -> Any:
    if not helpers.ID_RE.match(share_id):
        abort(404)
    rpc("usage", "RevokeShareLink", usage_pb2.RevokeShareLinkRequest(share_id=share_id))
    flash("The link no longer works.", "ok")
    return redirect(url_for("rep.my_shares"))


HOT_WINDOWS = [(7, "7 days"), (14, "14 days"), (30, "30 days")]


@bp.get("/hot-accounts")
@login_required
def hot_accounts() -> Any:
    """Accounts whose customers read the rep's links lately, most engaged time first; curators pick a rep or all."""
    days = helpers.int_arg("days", 7, 1, 30)
    days = days if days in dict(HOT_WINDOWS) else 7
    rep_id = (request.args.get("rep") or "").strip()[:128] if g.user.is_curator else ""
    reply = rpc("usage", "ListHotAccounts", usage_pb2.ListHotAccountsRequest(
        window_days=days, rep_id=rep_id, page_size=helpers.int_arg("page_size", 20, 1, 100),
        page_token=request.args.get("page_token", "")[:2000]))
    reps = sorted(u.email for u in current_app.extensions["collateral_users"].list()
                  if u.role == "rep" and not u.disabled) if g.user.is_curator else []
    deal_names = opportunities.deal_names((a.opportunity_id for a in reply.accounts if not a.account_id),
                                          (a.account_id for a in reply.accounts))
    return render_template("hot_accounts.html", accounts=reply.accounts, next_token=reply.next_page_token,
                           deal_names=deal_names, days=days, windows=HOT_WINDOWS, rep_id=rep_id, reps=reps)
