"""The content-gaps report: topics with their status, the weekly chart, the drill-down and the status form.

Each function returns a plain dict the templates render (and the list's CSV export
writes), like services/portal/feedback_api.py; every call goes to the feedback service
(GetContentGaps, GetGapTopic, SetGapStatus), plus content's Suggest for the asset picker.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any

import grpc

from collateral.v1 import common_pb2, content_pb2, feedback_pb2
from services.portal import helpers, report_charts
from services.portal.security import rpc

CHART_TOPICS = 5
STATUS_LABELS = {feedback_pb2.GAP_STATUS_NEW: "New", feedback_pb2.GAP_STATUS_PLANNED: "Planned",
                 feedback_pb2.GAP_STATUS_ANSWERED: "Answered"}
STATUS_OF_FORM = {"new": feedback_pb2.GAP_STATUS_NEW, "planned": feedback_pb2.GAP_STATUS_PLANNED,
                  "answered": feedback_pb2.GAP_STATUS_ANSWERED}
CSV_HEADER = ["topic_id", "name", "status", "answered_by", "zero_result_searches", "searching_reps", "requests",
              "lost_deals", "lost_revenue", "score", "phrasings", "poor_result_searches"]


def window(days: int) -> common_pb2.TimeRange:
    return common_pb2.TimeRange(start=helpers.days_ago(days))


def status_label(status: int) -> str:
    return STATUS_LABELS.get(status, "New")


def _day(ts: Any) -> str:
    return ts.ToDatetime(timezone.utc).date().isoformat()


def gap_list(days: int, limit: int) -> dict[str, Any]:
    """The ranked topics, the chart of the top ones and the CSV rows."""
    reply = rpc("feedback", "GetContentGaps", feedback_pb2.GetContentGapsRequest(time_range=window(days), limit=limit))
    rows = [[g.topic_id, g.name, status_label(g.status).lower(), g.answer.asset_id, g.zero_result_searches,
             g.searching_reps, g.requests, g.lost_deals, g.lost_revenue, g.score, g.phrasings, g.poor_result_searches]
            for g in reply.gaps]
    return {"gaps": reply.gaps, "chart": weekly_chart(reply.gaps), "csv_header": CSV_HEADER, "csv_rows": rows}


def weekly_chart(gaps: Any) -> report_charts.ReportChart | None:
    """Zero-result searches per week of the top topics (by searches) as lines, with the numbers as a table."""
    top = sorted((g for g in gaps if g.zero_result_searches and g.weekly), key=lambda g: -g.zero_result_searches)
    top = top[:CHART_TOPICS]
    if not top:
        return None
    weeks = [_day(w.week_start) for w in top[0].weekly]
    series = [(g.name, [float(w.count) for w in g.weekly]) for g in top]
    busiest = max(top, key=lambda g: g.zero_result_searches)
    summary = (f"Zero-result searches per week for the {len(top)} most searched content gaps, {weeks[0]} to "
               f"{weeks[-1]}. Most searched: {busiest.name}, {busiest.zero_result_searches} searches; latest week: "
               + ", ".join(f"{name} {values[-1]:g}" for name, values in series) + ".")
    svg = report_charts.time_series_svg([w[5:] for w in weeks], series, summary, False,
                                        lambda k, i, v: f"{series[k][0]}, week of {weeks[i]}: {v:g}")
    rows = [[week, *[f"{values[i]:g}" for _, values in series]] for i, week in enumerate(weeks)]
    return report_charts.ReportChart(svg, "Zero-result searches per week (weeks start on Monday).",
                                     ["Week", *[name for name, _ in series]], rows)


def topic_page(topic_id: str, days: int) -> dict[str, Any]:
    """The drill-down: the topic, its evidence, the before/after table and the asset picker's suggestions."""
    reply = rpc("feedback", "GetGapTopic", feedback_pb2.GetGapTopicRequest(topic_id=topic_id, time_range=window(days),
                                                                            evidence_limit=100))
    topic = reply.topic
    return {"topic": topic, "searches": reply.searches, "requests": reply.requests, "lost_deals": reply.lost_deals,
            "phrasings": reply.phrasings, "chart": weekly_chart([topic]),
            "effect": effect_rows(topic.answer) if topic.HasField("answer") else [],
            "suggested_assets": suggested_assets(topic.name)}


def effect_rows(answer: feedback_pb2.GapAnswer) -> list[tuple[str, str, int]]:
    """(week start, before/after, zero-result searches) per week around the answer's publication."""
    published = answer.published_at.ToDatetime(timezone.utc)
    return [(_day(w.week_start), "after" if w.week_start.ToDatetime(timezone.utc) >= published else "before", w.count)
            for w in answer.weeks]


def suggested_assets(name: str) -> list[tuple[str, str]]:
    """Assets whose titles start like the topic's name (content Suggest: no search is recorded), for the picker."""
    seen: dict[str, str] = {}
    for prefix in dict.fromkeys([name[:100], name.split(" ")[0][:100]]):
        if not prefix:
            continue
        try:
            reply = rpc("content", "Suggest", content_pb2.SuggestRequest(prefix=prefix, limit=8), timeout=3.0)
        except grpc.RpcError:
            return list(seen.items())
        for s in reply.suggestions:
            seen.setdefault(s.asset_id, s.title)
    return list(seen.items())[:8]


def set_status(topic_id: str, days: int, form: Any) -> str | None:
    """SetGapStatus from the drill-down's form; an error message for the marketer, or None when stored."""
    status = STATUS_OF_FORM.get(form.get("status", ""))
    if status is None:
        return "Choose a status."
    asset_id = (form.get("asset_id") or form.get("picked_asset_id") or "").strip()[:128]
    if status == feedback_pb2.GAP_STATUS_ANSWERED and not asset_id:
        return "Choose the asset that answers this topic, or enter its id."
    try:
        rpc("feedback", "SetGapStatus", feedback_pb2.SetGapStatusRequest(
            topic_id=topic_id, status=status, asset_id=asset_id if status == feedback_pb2.GAP_STATUS_ANSWERED else "",
            time_range=window(days)))
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return f"Not found: {exc.details()}"
        if helpers.is_invalid(exc):
            return f"Not saved: {exc.details()}"
        raise
    return None
