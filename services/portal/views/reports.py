"""Marketer reports: usage over time, top assets, unused collateral, and the feedback reports.

Every table has a CSV export (`?format=csv`) with the same rows as the page.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import grpc
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from collateral.v1 import common_pb2, usage_pb2
from services.portal import charts, feedback_api, filters, helpers, overview, report_charts
from services.common import audit, mail
from services.portal import gap_pages, unused_actions, unused_report
from services.portal.security import curator_required, rpc
from services.portal.views.rep import titles

bp = Blueprint("reports", __name__, url_prefix="/reports")

MEASURES = [
    ("customer_opens", "Customer opens"), ("downloads", "Downloads"), ("shares", "Shares"), ("views", "Views"),
    ("unique_reps", "Distinct reps"), ("unique_accounts", "Distinct accounts"), ("seconds_read", "Seconds read"),
    ("total_events", "All events"),
]
WINDOWS = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]
COUNTED = [("view", "Views"), ("download", "Downloads"), ("share", "Shares"), ("customer_open", "Customer opens")]


def _days(default: int = 30) -> int:
    return helpers.int_arg("days", default, 1, 400)


def segment_from_args() -> common_pb2.SegmentFilter:
    a = request.args
    return common_pb2.SegmentFilter(industries=a.getlist("industry")[:20], regions=a.getlist("region")[:20],
                                    product_lines=a.getlist("product_line")[:20], teams=a.getlist("team")[:20],
                                    deal_size_bands=a.getlist("deal_size_band")[:20])


@bp.get("/")
@curator_required
def index() -> Any:
    """The overview: catalog adoption, active reps and movers against the previous period (overview.py)."""
    days = overview.period_days(_days(overview.DEFAULT_DAYS))
    window = common_pb2.TimeRange(start=helpers.days_ago(days))
    reply = rpc("usage", "GetAdoptionOverview", usage_pb2.GetAdoptionOverviewRequest(time_range=window,
                                                                                     movers_limit=5))
    if helpers.wants_csv():
        return helpers.csv_response(f"overview-{days}d", overview.CSV_HEADER, overview.csv_rows(reply))
    weeks = overview.weeks(reply.weeks)
    trend = charts.line_chart([w.label[5:] for w in weeks],
                              [("Used by reps %", [round(w.rep_share, 1) for w in weeks]),
                               ("Used by customers %", [round(w.customer_share, 1) for w in weeks])],
                              "Share of the published catalog used each week, in percent")
    tops = {}
    for measure in ("customer_opens", "downloads", "shares"):
        top_reply = rpc("usage", "TopAssets", usage_pb2.TopAssetsRequest(
            measure=usage_pb2.UsageMeasure.Value("USAGE_MEASURE_" + measure.upper()), time_range=window, limit=8))
        tops[measure] = top_reply.assets
    return render_template("reports/index.html", tops=tops, days=days, windows=overview.PERIODS,
                           measures=dict(MEASURES), reply=reply, headline=overview.headline(reply),
                           weeks=weeks, trend=trend, teams=overview.groups(reply.teams),
                           regions=overview.groups(reply.regions), mover_percent=overview.mover_percent,
                           feedback_ready=feedback_api.available())


@bp.get("/top")
@curator_required
def top() -> Any:
    days = _days()
    measure = request.args.get("measure", "customer_opens")
    if measure not in dict(MEASURES):
        measure = "customer_opens"
    reply = rpc("usage", "TopAssets", usage_pb2.TopAssetsRequest(
        measure=usage_pb2.UsageMeasure.Value("USAGE_MEASURE_" + measure.upper()),
        time_range=common_pb2.TimeRange(start=helpers.days_ago(days)), segment=segment_from_args(),
        asset_types=request.args.getlist("type")[:20], limit=helpers.int_arg("limit", 25, 1, 100)))
    if helpers.wants_csv():
        return helpers.csv_response(f"top-assets-{measure}-{days}d", ["rank", "asset_id", "title", measure],
                                    [(a.rank, a.asset_id, a.title, a.value) for a in reply.assets])
    return render_template("reports/top.html", assets=reply.assets, measure=measure, measures=MEASURES, days=days,
                           windows=WINDOWS, chart=charts.bar_chart([(a.title or a.asset_id, a.value)
                                                                    for a in reply.assets[:15]],
                                                                   dict(MEASURES)[measure]))


@bp.get("/assets/<asset_id>")
@curator_required
def asset_usage(asset_id: str) -> Any:
    if not helpers.ID_RE.match(asset_id):
        abort(404)
    days = _days()
    interval = usage_pb2.USAGE_INTERVAL_WEEK if request.args.get("interval") == "week" else usage_pb2.USAGE_INTERVAL_DAY
    reply = rpc("usage", "GetAssetUsage", usage_pb2.GetAssetUsageRequest(
        asset_id=asset_id, time_range=common_pb2.TimeRange(start=helpers.days_ago(days)), interval=interval))

    def count(summary: Any, kind: str) -> int:
        wanted = usage_pb2.UsageEventType.Value("USAGE_EVENT_TYPE_" + kind.upper())
        return sum(c.count for c in summary.counts if c.type == wanted)

    rows = [(filters.fmt_date(b.start), *[count(b.summary, k) for k, _ in COUNTED]) for b in reply.buckets]
    table = request.args.get("table", "")
    if helpers.wants_csv() and table == "pages":
        return helpers.csv_response(f"pages-{asset_id}-{days}d", ["page", "views", "seconds"],
                                    [(p.page, p.views, round(p.seconds, 1))
                                     for p in sorted(reply.pages, key=lambda p: p.page)])
    if helpers.wants_csv() and table == "shares":
        shared = rpc("usage", "ListShareLinks", usage_pb2.ListShareLinksRequest(
            asset_id=asset_id, page_size=100, include_inactive=True)).shares
        return helpers.csv_response(f"shares-{asset_id}", [
            "share_id", "rep_id", "opportunity_id", "account_id", "created_at", "state", "customer_opens",
            "bot_opens", "last_opened_at"], [
            (s.share_id, s.rep_id, s.opportunity_id, s.account_id, s.created_at.ToJsonString(),
             usage_pb2.ShareLinkState.Name(s.state), s.stats.customer_opens, s.stats.bot_opens,
             s.stats.last_opened_at.ToJsonString() if s.stats.HasField("last_opened_at") else "") for s in shared])
    if helpers.wants_csv():
        return helpers.csv_response(f"usage-{asset_id}-{days}d", ["bucket_start", *[k for k, _ in COUNTED],
                                                                  "unique_reps", "unique_accounts", "seconds_read",
                                                                  "bot_events"],
                                    [(*r, b.summary.unique_reps, b.summary.unique_accounts,
                                      round(b.summary.seconds_read, 1), b.summary.bot_events)
                                     for r, b in zip(rows, reply.buckets)])
    shares = rpc("usage", "ListShareLinks", usage_pb2.ListShareLinksRequest(asset_id=asset_id, page_size=50,
                                                                            include_inactive=True)).shares
    name = titles([asset_id]).get(asset_id, "")
    chart = report_charts.for_asset_usage(rows, COUNTED, name or asset_id,
                                          "week" if interval == usage_pb2.USAGE_INTERVAL_WEEK else "day")
    totals = {k: count(reply.totals, k) for k, _ in COUNTED}
    outcomes = feedback_api.asset_outcomes(asset_id, max(days, 365))
    return render_template("reports/asset_usage.html", reply=reply, asset_id=asset_id, title=name, days=days,
                           outcomes=outcomes,
                           windows=WINDOWS, chart=chart, totals=totals, counted=COUNTED, shares=shares,
                           interval="week" if interval == usage_pb2.USAGE_INTERVAL_WEEK else "day",
                           usage_pb2=usage_pb2)


@bp.get("/unused")
@curator_required
def unused() -> Any:
    """Unused collateral: summary by reason, filters, backend sort and paging (services/portal/unused_report.py)."""
    view = unused_report.View.of(request.args)
    reply = rpc("usage", "ListUnusedAssets", view.request(common_pb2.TimeRange(start=helpers.days_ago(view.days))))
    if helpers.wants_csv():
        return helpers.csv_response(f"unused-{view.days}d", [
            "asset_id", "title", "owner", "type", "reason", "published_at", "age_days", "impressions", "rep_uses",
            "shares", "last_used_at", "expires_at"], [
            (a.asset_id, a.title, a.owner, a.type, usage_pb2.UnusedReason.Name(a.reason),
             a.published_at.ToJsonString() if a.HasField("published_at") else "", a.age_days, a.impressions,
             a.rep_uses, a.shares, a.last_used_at.ToJsonString() if a.HasField("last_used_at") else "",
             a.expires_at.ToJsonString() if a.HasField("expires_at") else "")
            for a in reply.assets])
    return render_template("reports/unused.html", reply=reply, view=view, report=unused_report, usage_pb2=usage_pb2,
                           counts={usage_pb2.UnusedReason.Name(c.reason).removeprefix("UNUSED_REASON_").lower(): c.count
                                   for c in reply.reason_counts},
                           mail_enabled=mail.enabled(current_app.config["COLLATERAL"]),
                           tomorrow=(date.today() + timedelta(days=1)).isoformat())


@bp.post("/unused/<action>")
@curator_required
def unused_action(action: str) -> Any:
    """Retire, extend, notify or promote the selected rows, then back to the same view with what happened."""
    ids = unused_actions.selected_ids(request.form.getlist("asset_id"), helpers.ID_RE)
    back = url_for("reports.unused") + "?" + unused_report.View.of(request.form).query()
    if action not in ("retire", "extend", "notify", "promote"):
        abort(404)
    if not ids:
        flash("Select at least one asset.", "error")
        return redirect(back)
    outcome = _run_unused_action(action, ids)
    if outcome is not None:
        flash(outcome.message(), "error" if outcome.failed else "ok")
    return redirect(back)


def _run_unused_action(action: str, ids: list[str]) -> unused_actions.Outcome | None:
    if action == "retire":
        return unused_actions.retire(rpc, ids)
    if action == "extend":
        day = unused_actions.parse_day(request.form.get("expires_on", ""), date.today())
        if day is None:
            flash("Pick a new expiry date after today.", "error")
            return None
        return unused_actions.extend_expiry(rpc, ids, day)
    if action == "promote":
        stage = unused_actions.stage_value(request.form.get("stage", ""))
        if stage is None:
            flash("Pick the buying stage to promote the assets for.", "error")
            return None
        return unused_actions.promote(rpc, ids, stage)
    settings = current_app.config["COLLATERAL"]
    if not mail.enabled(settings):
        flash("Email is not configured: owners cannot be notified.", "error")
        return None
    reasons = unused_actions.reasons_from_form(request.form.getlist("reason_of"))
    users = current_app.extensions["collateral_users"]
    return unused_actions.notify_owners(
        rpc, settings, audit.AuditLog(settings, client=users.es), audit.Actor(g.user.email, g.user.role),
        audit.Origin(peer=request.remote_addr or "", forwarded_for=helpers.client_ip()), ids, reasons,
        url_for("reports.unused", _external=True))


@bp.get("/win-rates")
@curator_required
def win_rates() -> Any:
    data = feedback_api.win_rates(request.args) if feedback_api.available() else None
    if data is not None and helpers.wants_csv():
        return helpers.csv_response("win-rates", data["csv_header"], data["csv_rows"])
    chart = report_charts.for_win_rates(data)
    return render_template("reports/win_rates.html", data=data, windows=WINDOWS, days=_days(365), chart=chart)


@bp.get("/attribution")
@curator_required
def attribution() -> Any:
    data = feedback_api.attribution(request.args) if feedback_api.available() else None
    if data is not None and helpers.wants_csv():
        return helpers.csv_response("attribution", data["csv_header"], data["csv_rows"])
    chart = report_charts.for_attribution(data)
    return render_template("reports/attribution.html", data=data, windows=WINDOWS, days=_days(365), chart=chart)


@bp.get("/gaps")
@curator_required
def gaps() -> Any:
    days = _days(90)
    data = gap_pages.gap_list(days, helpers.int_arg("limit", 50, 1, 200)) if feedback_api.available() else None
    if data is not None and helpers.wants_csv():
        return helpers.csv_response("content-gaps", data["csv_header"], data["csv_rows"])
    return render_template("reports/gaps.html", data=data, windows=WINDOWS, days=days,
                           status_label=gap_pages.status_label)


@bp.get("/gaps/<topic_id>")
@curator_required
def gap_topic(topic_id: str) -> Any:
    if not feedback_api.available() or not helpers.ID_RE.match(topic_id):
        abort(404)
    days = _days(90)
    try:
        data = gap_pages.topic_page(topic_id, days)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            abort(404)
        raise
    return render_template("reports/gap_topic.html", data=data, windows=WINDOWS, days=days,
                           status_label=gap_pages.status_label)


@bp.post("/gaps/<topic_id>/status")
@curator_required
def gap_status(topic_id: str) -> Any:
    if not feedback_api.available() or not helpers.ID_RE.match(topic_id):
        abort(404)
    days = _days(90)
    problem = gap_pages.set_status(topic_id, days, request.form)
    flash(problem or "Status saved.", "error" if problem else "ok")
    return redirect(url_for("reports.gap_topic", topic_id=topic_id, days=days))


@bp.get("/feedback")
@curator_required
def rep_feedback() -> Any:
    data = feedback_api.rep_feedback(request.args) if feedback_api.available() else None
    if data is not None and helpers.wants_csv():
        return helpers.csv_response("rep-feedback", data["csv_header"], data["csv_rows"])
    names = titles([r.asset_id for r in data["ratings"]]) if data else {}
    return render_template("reports/feedback.html", data=data, names=names)
