"""Marketer reports: usage over time, top assets, unused collateral, and the feedback reports.

Every table has a CSV export (`?format=csv`) with the same rows as the page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request

from collateral.v1 import common_pb2, usage_pb2
from services.portal import charts, feedback_api, filters, helpers
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
    days = _days()
    window = common_pb2.TimeRange(start=helpers.days_ago(days))
    tops = {}
    for measure in ("customer_opens", "downloads", "shares"):
        reply = rpc("usage", "TopAssets", usage_pb2.TopAssetsRequest(
            measure=usage_pb2.UsageMeasure.Value("USAGE_MEASURE_" + measure.upper()), time_range=window, limit=8))
        tops[measure] = reply.assets
    return render_template("reports/index.html", tops=tops, days=days, windows=WINDOWS,
                           bar_chart=charts.bar_chart, measures=dict(MEASURES),
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
    chart = charts.line_chart([r[0][5:] for r in rows],
                              [(name, [r[i + 1] for r in rows]) for i, (_, name) in enumerate(COUNTED)],
                              f"Usage of {asset_id} per {'week' if interval == usage_pb2.USAGE_INTERVAL_WEEK else 'day'}")
    shares = rpc("usage", "ListShareLinks", usage_pb2.ListShareLinksRequest(asset_id=asset_id, page_size=50,
                                                                            include_inactive=True)).shares
    name = titles([asset_id]).get(asset_id, "")
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
    days = _days(90)
    reason = request.args.get("reason", "")
    reasons = []
    if reason:
        try:
            reasons = [usage_pb2.UnusedReason.Value("UNUSED_REASON_" + reason.upper())]
        except ValueError:
            reason = ""
    reply = rpc("usage", "ListUnusedAssets", usage_pb2.ListUnusedAssetsRequest(
        window=common_pb2.TimeRange(start=helpers.days_ago(days)), reasons=reasons,
        owner=(request.args.get("owner") or "")[:128], page_size=helpers.int_arg("page_size", 100, 1, 500),
        page_token=request.args.get("page_token", "")[:2000]))
    if helpers.wants_csv():
        return helpers.csv_response(f"unused-{days}d", [
            "asset_id", "title", "owner", "type", "reason", "published_at", "age_days", "impressions", "rep_uses",
            "shares", "last_used_at"], [
            (a.asset_id, a.title, a.owner, a.type, usage_pb2.UnusedReason.Name(a.reason),
             a.published_at.ToJsonString() if a.HasField("published_at") else "", a.age_days, a.impressions,
             a.rep_uses, a.shares, a.last_used_at.ToJsonString() if a.HasField("last_used_at") else "")
            for a in reply.assets])
    reason_names = [(usage_pb2.UnusedReason.Name(v)[len("UNUSED_REASON_"):].lower(),
                     filters.label(usage_pb2.UnusedReason.Name(v)))
                    for v in usage_pb2.UnusedReason.values() if v]
    return render_template("reports/unused.html", assets=reply.assets, next_token=reply.next_page_token, days=days,
                           windows=[(30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "1 year")],
                           reason=reason, reasons=reason_names, usage_pb2=usage_pb2)


@bp.get("/win-rates")
@curator_required
def win_rates() -> Any:
    data = feedback_api.win_rates(request.args) if feedback_api.available() else None
    if data is not None and helpers.wants_csv():
        return helpers.csv_response("win-rates", data["csv_header"], data["csv_rows"])
    chart = None
    if data and data["rates"]:
        chart = charts.interval_chart([(r.title or r.asset_id, r.win_rate_lower, r.win_rate, r.win_rate_upper)
                                       for r in data["rates"][:15] if r.closed],
                                      data["overall"].win_rate if data["overall"].won + data["overall"].lost else None,
                                      "Win rate with 95% interval; dashed line: all comparable deals")
    return render_template("reports/win_rates.html", data=data, windows=WINDOWS, days=_days(365), chart=chart)


@bp.get("/attribution")
@curator_required
def attribution() -> Any:
    data = feedback_api.attribution(request.args) if feedback_api.available() else None
    if data is not None and helpers.wants_csv():
        return helpers.csv_response("attribution", data["csv_header"], data["csv_rows"])
    chart = None
    if data and data["assets"]:
        shown = data["assets"][:10]
        models = [(name, key) for key, name in data["models"] if key != "markov" or data["markov_as_of"]]
        chart = charts.grouped_bar_chart([a.title or a.asset_id for a in shown],
                                         [(name, [getattr(a, key) for a in shown]) for name, key in models],
                                         "Attributed revenue per asset under each model")
    return render_template("reports/attribution.html", data=data, windows=WINDOWS, days=_days(365), chart=chart)


@bp.get("/gaps")
@curator_required
def gaps() -> Any:
    data = feedback_api.content_gaps(request.args) if feedback_api.available() else None
    if data is not None and helpers.wants_csv():
        return helpers.csv_response("content-gaps", data["csv_header"], data["csv_rows"])
    return render_template("reports/gaps.html", data=data, windows=WINDOWS, days=_days(90))


@bp.get("/feedback")
@curator_required
def rep_feedback() -> Any:
    data = feedback_api.rep_feedback(request.args) if feedback_api.available() else None
    if data is not None and helpers.wants_csv():
        return helpers.csv_response("rep-feedback", data["csv_header"], data["csv_rows"])
    names = titles([r.asset_id for r in data["ratings"]]) if data else {}
    return render_template("reports/feedback.html", data=data, names=names)
