"""The portal's use of the feedback service: ratings, content requests and the closed-loop reports.

Each report function returns a plain dict the template renders and the CSV export
writes (`csv_header`, `csv_rows`), so the page and its export always agree.
"""

from __future__ import annotations

import uuid
from datetime import timezone
from typing import Any

import grpc
from flask import g

from collateral.v1 import common_pb2
from services.portal import backends, helpers
from services.portal.security import rpc

ATTRIBUTION_MODELS = [
    ("first_touch", "First touch"), ("last_touch", "Last touch"), ("linear", "Linear"),
    ("time_decay", "Time decay"), ("u_shaped", "U-shaped"), ("w_shaped", "W-shaped"), ("markov", "Markov"),
]
WIN_ORDERS = [("lift", "Lift"), ("win_rate_lower", "Win rate (lower bound)"), ("deals_touched", "Deals touched"),
              ("influenced_revenue", "Influenced revenue")]


def available() -> bool:
    return backends.proto("feedback") is not None


def _pb() -> Any:
    pb = backends.proto("feedback")
    if pb is None:
        raise backends.BackendMissing("the feedback service API is not part of this build")
    return pb


def _window(args: Any, default_days: int) -> common_pb2.TimeRange:
    days = helpers.int_arg("days", default_days, 1, 3650)
    return common_pb2.TimeRange(start=helpers.days_ago(days))


def _segment(args: Any) -> common_pb2.SegmentFilter:
    return common_pb2.SegmentFilter(industries=[v for v in args.getlist("industry") if v][:20],
                                    regions=[v for v in args.getlist("region") if v][:20],
                                    product_lines=[v for v in args.getlist("product_line") if v][:20],
                                    teams=[v for v in args.getlist("team") if v][:20],
                                    deal_size_bands=[v for v in args.getlist("deal_size_band") if v][:20])


# ---- rep actions ---------------------------------------------------------------------


def submit_rating(asset_id: str, rating: int, comment: str, opportunity_id: str) -> None:
    pb = _pb()
    rpc("feedback", "SubmitRating", pb.SubmitRatingRequest(asset_id=asset_id, rating=rating, comment=comment,
                                                           opportunity_id=opportunity_id))


def asset_ratings(asset_id: str) -> dict[str, Any] | None:
    """Rating summary and recent comments of one asset (curators only; None for reps or on failure)."""
    if g.user is None or not g.user.is_curator:
        return None
    pb = _pb()
    try:
        reply = rpc("feedback", "ListFeedback", pb.ListFeedbackRequest(asset_id=asset_id, page_size=5), timeout=3.0)
    except grpc.RpcError:
        return None
    s = reply.summary
    summary = f"{s.average:.1f} ★ average from {s.count} rating{'s' if s.count != 1 else ''}" if s.count else \
        "No ratings yet."
    comments = [{"rating": r.rating, "comment": r.comment, "who": r.rep_id, "when": r.rated_at}
                for r in reply.ratings if r.comment]
    return {"summary": summary, "comments": comments}


def request_content(query: str, description: str, opportunity_id: str, buying_stage: str = "", persona: str = "",
                    product: str = "") -> None:
    pb = _pb()
    text = description if not query or query.lower() in description.lower() else f"{description} (searched: {query})"
    try:
        stage = common_pb2.BuyingStage.Value("BUYING_STAGE_" + buying_stage.upper()) if buying_stage else 0
    except ValueError:
        stage = 0
    rpc("feedback", "SubmitContentRequest", pb.SubmitContentRequestRequest(
        description=text[:2000], lost_opportunity_id=opportunity_id, buying_stage=stage, persona=persona,
        product=product, request_id=f"req-{uuid.uuid4().hex}"))


def my_requests(page_token: str) -> tuple[list[dict[str, Any]], str]:
    pb = _pb()
    reply = rpc("feedback", "ListContentRequests", pb.ListContentRequestsRequest(page_size=50,
                                                                               page_token=page_token[:2000]))
    items = [{"created": r.created_at, "description": r.description, "topic": r.topic, "rep": r.rep_id,
              "stage": common_pb2.BuyingStage.Name(r.buying_stage) if r.buying_stage else "",
              "persona": r.persona, "product": r.product} for r in reply.requests]
    return items, reply.next_page_token


# ---- reports -------------------------------------------------------------------------------


def win_rates(args: Any) -> dict[str, Any]:
    pb = _pb()
    order = args.get("order", "lift")
    if order not in dict(WIN_ORDERS):
        order = "lift"
    reply = rpc("feedback", "ListAssetWinRates", pb.ListAssetWinRatesRequest(
        time_range=_window(args, 365), segment=_segment(args),
        order_by=pb.WinRateOrder.Value("WIN_RATE_ORDER_" + order.upper()),
        significant_positive_only=args.get("significant") == "1", ranked_only=args.get("ranked") == "1",
        page_size=helpers.int_arg("page_size", 50, 1, 100), page_token=(args.get("page_token") or "")[:2000]))
    header = ["asset_id", "title", "deals_touched", "won", "lost", "open", "win_rate", "win_rate_lower",
              "win_rate_upper", "baseline_closed", "baseline_win_rate", "lift", "lift_ratio", "p_value",
              "q_value", "significant", "ranked", "influenced_revenue"]
    rows = [[getattr(r, h) for h in header] for r in reply.rates]
    return {"rates": reply.rates, "overall": reply.overall, "total": reply.total_size,
            "next_token": reply.next_page_token, "order": order, "orders": WIN_ORDERS,
            "csv_header": header, "csv_rows": rows}


def attribution(args: Any) -> dict[str, Any]:
    pb = _pb()
    order = args.get("order", "linear")
    if order not in dict(ATTRIBUTION_MODELS):
        order = "linear"
    try:
        half_life = float(args.get("half_life") or 7)
    except ValueError:
        half_life = 7.0
    half_life = max(0.5, min(365.0, half_life))
    reply = rpc("feedback", "GetAttribution", pb.GetAttributionRequest(
        time_range=_window(args, 365), segment=_segment(args), half_life_days=half_life,
        order_by=pb.AttributionModel.Value("ATTRIBUTION_MODEL_" + order.upper()),
        page_size=helpers.int_arg("page_size", 50, 1, 100), page_token=(args.get("page_token") or "")[:2000]))
    header = ["asset_id", "title", *[m for m, _ in ATTRIBUTION_MODELS], "sourced_revenue", "sourced_deals",
              "influenced_revenue", "won_deals"]
    rows = [[getattr(a, h) for h in header] for a in reply.assets]
    markov_as_of = reply.markov_as_of.ToDatetime(tzinfo=timezone.utc) if reply.HasField("markov_as_of") else None
    return {"assets": reply.assets, "won_deals": reply.won_deals, "total": reply.attributed_total,
            "half_life": reply.half_life_days or half_life, "models": ATTRIBUTION_MODELS, "order": order,
            "markov_as_of": markov_as_of, "markov_scope": reply.markov_scope,
            "next_token": reply.next_page_token, "csv_header": header, "csv_rows": rows}


def rep_feedback(args: Any) -> dict[str, Any]:
    pb = _pb()
    reply = rpc("feedback", "ListFeedback", pb.ListFeedbackRequest(
        asset_id=(args.get("asset_id") or "")[:128], with_comment_only=args.get("comments") == "1",
        page_size=helpers.int_arg("page_size", 50, 1, 100), page_token=(args.get("page_token") or "")[:2000]))
    header = ["rated_at", "asset_id", "rep_id", "rating", "comment", "opportunity_id"]
    rows = [[r.rated_at.ToJsonString() if r.HasField("rated_at") else "", r.asset_id, r.rep_id, r.rating, r.comment,
             r.opportunity_id] for r in reply.ratings]
    return {"ratings": reply.ratings, "next_token": reply.next_page_token, "summary": reply.summary,
            "csv_header": header, "csv_rows": rows}


def asset_outcomes(asset_id: str, days: int) -> dict[str, Any] | None:
    """Win rate (with the rep-adjusted effect) and scorecard of one asset; None when feedback cannot answer."""
    if not available():
        return None
    pb = _pb()
    try:
        rates = rpc("feedback", "GetWinRates", pb.GetWinRatesRequest(
            asset_ids=[asset_id], time_range=common_pb2.TimeRange(start=helpers.days_ago(days))), timeout=5.0)
        cards = rpc("feedback", "GetAssetScorecards", pb.GetAssetScorecardsRequest(asset_ids=[asset_id]), timeout=5.0)
    except grpc.RpcError:
        return None
    return {"rate": rates.rates[0] if rates.rates else None, "overall": rates.overall,
            "card": cards.scorecards[0] if cards.scorecards else None}
