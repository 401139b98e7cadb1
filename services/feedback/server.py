"""The feedback gRPC service: outcome ingest, closed-loop reports, rep feedback, gaps.

Outcome ingest validates with the same contract the consumer applies to JSON written
straight to Kafka (model.validate_deal), produces, and returns after the broker's
acknowledgement; only the consumer writes deals and touches, so every source of
outcomes goes through the same versioned upsert and the same join.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import datetime, timezone
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import common_pb2, feedback_pb2, feedback_pb2_grpc
from services.common import (auth, config, errors, es as es_util, grpc_server, kafka_io, metrics, pagination, topics,
                             validation)
from services.common.consumer import InvalidEvent
from services.common import audit
from services.common.grpc_server import remaining_timeout
from services.feedback import attribution, gap_rpc, markov, model, opportunities, reports, store

log = logging.getLogger(__name__)

ES_TIMEOUT_S = 30.0
KAFKA_TIMEOUT_S = 15.0
MAX_ID = validation.MAX_ID_CHARS
STAGES = {feedback_pb2.DEAL_STAGE_OPEN: "open", feedback_pb2.DEAL_STAGE_WON: "won", feedback_pb2.DEAL_STAGE_LOST: "lost"}
STAGE_NAMES = {v: common_pb2.BuyingStage.Name(v).removeprefix("BUYING_STAGE_").lower()
               for v in common_pb2.BuyingStage.values() if v}
STAGE_VALUES = {n: v for v, n in STAGE_NAMES.items()}
MODEL_NAMES = {feedback_pb2.ATTRIBUTION_MODEL_FIRST_TOUCH: "first_touch", feedback_pb2.ATTRIBUTION_MODEL_LAST_TOUCH: "last_touch",
               feedback_pb2.ATTRIBUTION_MODEL_LINEAR: "linear", feedback_pb2.ATTRIBUTION_MODEL_TIME_DECAY: "time_decay",
               feedback_pb2.ATTRIBUTION_MODEL_U_SHAPED: "u_shaped", feedback_pb2.ATTRIBUTION_MODEL_W_SHAPED: "w_shaped",
               feedback_pb2.ATTRIBUTION_MODEL_MARKOV: "markov", feedback_pb2.ATTRIBUTION_MODEL_UNSPECIFIED: "linear"}
_EVENT_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._:@/+=-]")

INGEST = frozenset({auth.Role.SERVICE, auth.Role.ADMIN})
REPS = frozenset({auth.Role.REP, auth.Role.ADMIN})
ACCESS = {
    "RecordDealOutcomes": INGEST,
    "GetWinRates": auth.CURATORS,
    "ListAssetWinRates": auth.CURATORS,
    "GetAttribution": auth.CURATORS,
    "GetAssetScorecards": auth.CURATORS,
    "GetContentGaps": auth.CURATORS,
    "GetGapTopic": auth.CURATORS,
    "SetGapStatus": auth.CURATORS,
    "ListFeedback": auth.CURATORS,
    "SubmitRating": REPS,
    "SubmitContentRequest": REPS,
    "ListContentRequests": auth.ANY_USER,
    "ListOpportunities": auth.ANY_USER,
    "GetOpportunities": auth.ANY_USER,
    "GetAccounts": auth.ANY_USER,
}


def _ts(when: datetime | None) -> Timestamp | None:
    if when is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(when.astimezone(timezone.utc))
    return ts


def _ts_iso(value: str | None) -> Timestamp | None:
    return _ts(model.parse_iso(value)) if value else None


def _text(value: str, field: str, limit: int, required: bool = False) -> str:
    return validation.text(value, field, limit, required)


def _iso(o: feedback_pb2.DealOutcome, name: str, field: str) -> str | None:
    when = validation.optional_timestamp(o, name, f"{field}.{name}")
    return model.iso(when) if when else None


def outcome_dict(o: feedback_pb2.DealOutcome, received: datetime, field: str = "outcome") -> dict[str, Any]:
    """The JSON contract form of a proto outcome (then validated by model.validate_deal).

    `field` is the outcome's path in the request (`outcomes[3]`), for INVALID_ARGUMENT on its times.
    """
    validation.finite(o.amount, f"{field}.amount")
    updated = _iso(o, "updated_at", field)
    d: dict[str, Any] = {
        "event_id": o.event_id or _EVENT_ID_UNSAFE.sub("_", f"{o.opportunity_id}@{updated}")[:128],
        "schema_version": model.SCHEMA_VERSION,
        "occurred_at": updated or model.iso(received),
        "received_at": model.iso(received),
        "opportunity_id": o.opportunity_id,
        "account_id": o.account_id,
        "owner_rep_id": o.owner_rep_id,
        "stage": STAGES.get(o.stage, "unspecified"),
        "amount": o.amount,
        "currency": o.currency,
    }
    if o.HasField("created_at"):
        d["created_at"] = _iso(o, "created_at", field)
    if updated:
        d["updated_at"] = updated
    if o.HasField("closed_at") and o.stage != feedback_pb2.DEAL_STAGE_OPEN:
        d["closed_at"] = _iso(o, "closed_at", field)
    if o.lost_reason:
        d["lost_reason"] = o.lost_reason
    for name in (*model.SEGMENT_FIELDS, *model.NAME_FIELDS):
        if getattr(o, name):
            d[name] = getattr(o, name)
    return d


def invalid_field(exc: InvalidEvent, prefix: str) -> errors.InvalidArgument:
    """Turn a contract violation into INVALID_ARGUMENT on the offending field."""
    field, message = model.field_of(exc)
    return errors.InvalidArgument(f"{prefix}.{field}" if field else prefix, message)


def _filters(time_range: common_pb2.TimeRange, segment: common_pb2.SegmentFilter) -> reports.Filters:
    start = validation.optional_timestamp(time_range, "start", "time_range.start")
    end = validation.optional_timestamp(time_range, "end", "time_range.end")
    if start and end and start >= end:
        raise errors.InvalidArgument("time_range", "start must be before end")
    seg: dict[str, list[str]] = {}
    for proto_name, field_name in reports.SEGMENT_FIELDS.items():
        values = validation.labels(getattr(segment, proto_name), f"segment.{proto_name}")
        if values:
            seg[field_name] = values
    return reports.Filters(start, end, seg)


def _asset_ids(values: Any, field: str = "asset_ids", limit: int = validation.MAX_BATCH_IDS) -> list[str]:
    if not values:
        raise errors.InvalidArgument(field, "at least one asset id is required")
    if len(values) > limit:
        raise errors.InvalidArgument(field, f"at most {limit} asset ids")
    return [validation.identifier(v, f"{field}[{i}]") for i, v in enumerate(values)]


def _offset(secret: str, token: str) -> int:
    """The row offset inside a report page token (0 for the first page)."""
    cursor = pagination.decode(secret, token)
    if cursor is None:
        return 0
    offset = cursor.get("o") if isinstance(cursor, dict) else None
    if type(offset) is not int or offset < 0:
        raise errors.InvalidArgument("page_token", "malformed page token")
    return offset


STAGE_OF_NAME = {name: value for value, name in STAGES.items()}


def opportunity_pb(doc: dict[str, Any]) -> feedback_pb2.Opportunity:
    return feedback_pb2.Opportunity(
        opportunity_id=doc["opportunity_id"], opportunity_name=doc.get("opportunity_name") or "",
        account_id=doc.get("account_id") or "", account_name=doc.get("account_name") or "",
        amount=float(doc.get("amount") or 0.0), currency=doc.get("currency") or "",
        stage=STAGE_OF_NAME.get(doc.get("stage") or "", feedback_pb2.DEAL_STAGE_UNSPECIFIED),
        created_at=_ts_iso(doc.get("created_at")), owner_rep_id=doc.get("owner_rep_id") or "")


def _stage_names(values: Any) -> tuple[str, ...]:
    """The stage filter of ListOpportunities as stored names; none given means open only."""
    names = []
    for i, value in enumerate(values):
        if value not in STAGES:
            raise errors.InvalidArgument(f"stages[{i}]", "unknown or unspecified deal stage")
        names.append(STAGES[value])
    return tuple(dict.fromkeys(names)) or opportunities.DEFAULT_STAGES


def win_rate_pb(row: reports.WinRate, title: str = "") -> feedback_pb2.AssetWinRate:
    t = row.touched
    return feedback_pb2.AssetWinRate(
        asset_id=row.asset_id, title=title, deals_touched=t.total, won=t.won, lost=t.lost, open=t.open,
        closed=t.closed, win_rate=row.win_rate, win_rate_lower=row.lower, win_rate_upper=row.upper,
        baseline_closed=row.baseline.closed, baseline_won=row.baseline.won, baseline_win_rate=row.baseline_win_rate,
        lift=row.lift, lift_ratio=row.lift_ratio, z=row.z, p_value=row.p_value, q_value=row.q_value,
        significant=row.significant, ranked=row.ranked, influenced_revenue=t.won_amount, rep_adjusted_odds_ratio=row.rep_odds_ratio,
        rep_adjusted_p_value=row.rep_p_value,
    )


class FeedbackServicer(feedback_pb2_grpc.FeedbackServiceServicer):
    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.es = es_util.client(settings)
        self.names = store.Names.of(settings)
        self.reports = reports.Reports(self.es, settings, self.names)
        self.gaps = gap_rpc.GapReports(self.es, self.names)
        self.producer = kafka_io.Producer(settings, client_id="feedback-ingest")
        self.deals_topic = topics.DEALS.name(settings)

    def _baseline_pb(self, overall: reports.Counts) -> feedback_pb2.WinRateBaseline:
        return feedback_pb2.WinRateBaseline(
            deals=overall.total, won=overall.won, lost=overall.lost, open=overall.open,
            win_rate=overall.won / overall.closed if overall.closed else 0.0,
            min_closed_deals=self.settings.feedback_min_closed_deals,
            significance_level=self.settings.feedback_significance_level,
        )

    # ---- ingest ----------------------------------------------------------------------------------
    def RecordDealOutcomes(self, request: feedback_pb2.RecordDealOutcomesRequest, context: grpc.ServicerContext):
        if not request.outcomes:
            raise errors.InvalidArgument("outcomes", "at least one outcome is required")
        if len(request.outcomes) > self.settings.feedback_max_batch:
            raise errors.InvalidArgument("outcomes", f"at most {self.settings.feedback_max_batch} outcomes per call")
        now = datetime.now(timezone.utc)
        records = []
        ids = []
        for i, outcome in enumerate(request.outcomes):
            d = outcome_dict(outcome, now, f"outcomes[{i}]")
            try:
                model.validate_deal(d, now)
            except InvalidEvent as exc:
                raise invalid_field(exc, f"outcomes[{i}]") from None
            ids.append(d["event_id"])
            records.append(kafka_io.Record(self.deals_topic, d["opportunity_id"], json.dumps(d).encode()))
        self.producer.send_and_wait(records, timeout_s=remaining_timeout(KAFKA_TIMEOUT_S))
        metrics.FEEDBACK_OUTCOMES_RECORDED.inc(len(records))
        return feedback_pb2.RecordDealOutcomesResponse(event_ids=ids, received_at=_ts(now))

    # ---- win rates -----------------------------------------------------------------------------------
    def GetWinRates(self, request: feedback_pb2.GetWinRatesRequest, context: grpc.ServicerContext):
        ids = _asset_ids(request.asset_ids)
        filters = _filters(request.time_range, request.segment)
        timeout = remaining_timeout(ES_TIMEOUT_S)
        overall, rows = self.reports.win_rates(filters, ids, timeout)
        self.reports.rep_adjusted(filters, rows, timeout)
        titles = self.reports.titles(ids, timeout)
        return feedback_pb2.GetWinRatesResponse(rates=[win_rate_pb(r, titles.get(r.asset_id, "")) for r in rows],
                                                overall=self._baseline_pb(overall))

    def ListAssetWinRates(self, request: feedback_pb2.ListAssetWinRatesRequest, context: grpc.ServicerContext):
        filters = _filters(request.time_range, request.segment)
        size = pagination.clamp_page_size(request.page_size)
        offset = _offset(self.settings.auth_secret, request.page_token)
        timeout = remaining_timeout(ES_TIMEOUT_S)
        overall, rows = self.reports.win_rates(filters, None, timeout)
        if request.significant_positive_only:
            rows = [r for r in rows if r.significant and r.lift > 0]
        if request.ranked_only:
            rows = [r for r in rows if r.ranked]
        key = {
            feedback_pb2.WIN_RATE_ORDER_WIN_RATE_LOWER: lambda r: r.lower,
            feedback_pb2.WIN_RATE_ORDER_DEALS_TOUCHED: lambda r: float(r.touched.total),
            feedback_pb2.WIN_RATE_ORDER_INFLUENCED_REVENUE: lambda r: r.touched.won_amount,
        }.get(request.order_by, lambda r: r.lift)
        rows.sort(key=lambda r: (not r.ranked, -key(r), r.asset_id))
        page = rows[offset:offset + size]
        titles = self.reports.titles([r.asset_id for r in page], timeout)
        next_token = pagination.encode(self.settings.auth_secret, {"o": offset + size}) if offset + size < len(rows) else ""
        return feedback_pb2.ListAssetWinRatesResponse(
            rates=[win_rate_pb(r, titles.get(r.asset_id, "")) for r in page], overall=self._baseline_pb(overall),
            total_size=len(rows), next_page_token=next_token,
        )

    # ---- attribution ---------------------------------------------------------------------------------
    def GetAttribution(self, request: feedback_pb2.GetAttributionRequest, context: grpc.ServicerContext):
        filters = _filters(request.time_range, request.segment)
        half_life = request.half_life_days or attribution.DEFAULT_HALF_LIFE_DAYS
        if not (0 < half_life <= 365):
            raise errors.InvalidArgument("half_life_days", "must be in (0, 365]")
        if request.order_by not in MODEL_NAMES:
            raise errors.InvalidArgument("order_by", "unknown attribution model")
        size = pagination.clamp_page_size(request.page_size)
        offset = _offset(self.settings.auth_secret, request.page_token)
        timeout = remaining_timeout(ES_TIMEOUT_S)
        table = self.reports.attribution(filters, half_life, timeout)
        chain = markov.select(filters, markov.stored(self.es, self.names, markov.candidate_keys(filters), timeout))
        markov_revenue: dict[str, float] = dict(chain["credits"]) if chain else {}
        order = MODEL_NAMES[request.order_by]

        def revenue(asset: str) -> float:
            if order == "markov":
                return markov_revenue.get(asset, 0.0)
            return table.assets[asset].revenue.get(order, 0.0) if asset in table.assets else 0.0

        assets = sorted(set(table.assets) | set(markov_revenue), key=lambda a: (-revenue(a), a))
        page = assets[offset:offset + size]
        titles = self.reports.titles(page, timeout)
        rows = []
        for a in page:
            row = table.assets.get(a, reports.AssetCredit())
            rows.append(feedback_pb2.AssetAttribution(
                asset_id=a, title=titles.get(a, ""), influenced_revenue=row.influenced_revenue, won_deals=row.won_deals,
                sourced_revenue=row.sourced_revenue, sourced_deals=row.sourced_deals,
                markov=markov_revenue.get(a, 0.0), **{m: row.revenue.get(m, 0.0) for m in attribution.MODELS},
            ))
        next_token = pagination.encode(self.settings.auth_secret, {"o": offset + size}) if offset + size < len(assets) else ""
        return feedback_pb2.GetAttributionResponse(
            assets=rows, won_deals=table.won_deals, attributed_total=table.attributed_total, half_life_days=half_life,
            markov_paths=int(chain["paths"]) if chain else 0, total_size=len(assets), next_page_token=next_token,
            markov_as_of=_ts_iso(chain["as_of"]) if chain else None, markov_scope=chain["scope"] if chain else "",
            markov_attributed_total=float(chain["attributed_total"]) if chain else 0.0,
        )

    # ---- scorecards ----------------------------------------------------------------------------------
    def GetAssetScorecards(self, request: feedback_pb2.GetAssetScorecardsRequest, context: grpc.ServicerContext):
        ids = _asset_ids(request.asset_ids)
        timeout = remaining_timeout(ES_TIMEOUT_S)
        now = datetime.now(timezone.utc)
        _, rows = self.reports.win_rates(reports.Filters(), ids, timeout)
        catalog = self.reports.catalog(ids, timeout)
        usage = self.reports.usage_90d(ids, now, timeout)
        ratings = self.reports.rating_summaries(ids, timeout)
        revenue = self.reports.sourced_and_influenced(ids, timeout)
        cards = []
        for row in rows:
            entry = catalog.get(row.asset_id, {})
            updated_raw = entry.get("updated_at") or entry.get("published_at") or entry.get("created_at")
            updated = model.parse_iso(updated_raw) if updated_raw else None
            uses, reps = usage.get(row.asset_id, (0, 0))
            dist = ratings.get(row.asset_id, [0] * 5)
            card = reports.scorecard(uses, row, dist, updated, now)
            cards.append(feedback_pb2.AssetScorecard(
                asset_id=row.asset_id, title=entry.get("title", ""), uses_90d=uses, reps_90d=reps,
                win_rate=win_rate_pb(row, entry.get("title", "")), ratings=sum(dist), average_rating=card.average_rating,
                updated_at=_ts(updated), age_days=card.age_days, usage_score=card.usage, win_score=card.win,
                rating_score=card.rating, freshness_score=card.freshness, score=card.score,
                status=entry.get("status", ""), sourced_revenue=revenue.get(row.asset_id, (0.0, 0.0))[0],
                influenced_revenue=revenue.get(row.asset_id, (0.0, 0.0))[1],
            ))
        return feedback_pb2.GetAssetScorecardsResponse(scorecards=cards)

    # ---- rep feedback -------------------------------------------------------------------------------
    def SubmitRating(self, request: feedback_pb2.SubmitRatingRequest, context: grpc.ServicerContext):
        principal = auth.current_principal()
        asset_id = _text(request.asset_id, "asset_id", MAX_ID, required=True)
        if not 1 <= request.rating <= 5:
            raise errors.InvalidArgument("rating", "must be 1 to 5")
        comment = _text(request.comment, "comment", 2000)
        opp = _text(request.opportunity_id, "opportunity_id", MAX_ID)
        now = datetime.now(timezone.utc)
        doc = {"asset_id": asset_id, "rep_id": principal.subject, "rating": request.rating, "comment": comment or None,
               "opportunity_id": opp or None, "rated_at": model.iso(now)}
        outcome = es_util.bulk(self.es, [{"action": {"index": {"_index": self.names.ratings,
                                                               "_id": f"{asset_id}|{principal.subject}"}},
                                          "source": doc}], refresh="wait_for", timeout_s=remaining_timeout(ES_TIMEOUT_S))
        if outcome.rejected:
            raise errors.InvalidArgument("comment", outcome.rejected[0][1])
        metrics.FEEDBACK_SUBMISSIONS.labels("rating").inc()
        return feedback_pb2.SubmitRatingResponse(rating=self._rating_pb(doc))

    @staticmethod
    def _rating_pb(doc: dict[str, Any]) -> feedback_pb2.Rating:
        return feedback_pb2.Rating(asset_id=doc["asset_id"], rep_id=doc["rep_id"], rating=doc["rating"],
                                   comment=doc.get("comment") or "", opportunity_id=doc.get("opportunity_id") or "",
                                   rated_at=_ts_iso(doc.get("rated_at")))

    def SubmitContentRequest(self, request: feedback_pb2.SubmitContentRequestRequest, context: grpc.ServicerContext):
        principal = auth.current_principal()
        description = _text(request.description, "description", 2000, required=True)
        if len(description) < 3:
            raise errors.InvalidArgument("description", "at least 3 characters")
        if request.buying_stage and request.buying_stage not in STAGE_NAMES:
            raise errors.InvalidArgument("buying_stage", "unknown buying stage")
        persona = _text(request.persona, "persona", MAX_ID)
        product = _text(request.product, "product", MAX_ID)
        lost = _text(request.lost_opportunity_id, "lost_opportunity_id", MAX_ID)
        request_id = _text(request.request_id, "request_id", MAX_ID)
        if request_id and _EVENT_ID_UNSAFE.search(request_id):
            raise errors.InvalidArgument("request_id", "letters, digits and ._:@/+=- only")
        request_id = request_id or f"req-{uuid.uuid4().hex}"
        doc = {
            "request_id": request_id, "rep_id": principal.subject, "description": description,
            "topic": model.normalize_topic(description) or description.lower()[:200],
            "buying_stage": STAGE_NAMES.get(request.buying_stage), "persona": persona.lower() or None,
            "product": product.lower() or None, "lost_opportunity_id": lost or None,
            "created_at": model.iso(datetime.now(timezone.utc)),
        }
        outcome = es_util.bulk(self.es, [{"action": {"create": {"_index": self.names.requests, "_id": request_id}},
                                          "source": doc}], refresh="wait_for", timeout_s=remaining_timeout(ES_TIMEOUT_S))
        if outcome.conflicts:  # a retry of the same request id: return what is stored
            stored = self.es.get(index=self.names.requests, id=request_id)["_source"]
            if stored["rep_id"] != principal.subject:
                raise errors.AlreadyExists(f"request id {request_id} is taken")
            doc = stored
        else:
            metrics.FEEDBACK_SUBMISSIONS.labels("content_request").inc()
        return feedback_pb2.SubmitContentRequestResponse(request=self._request_pb(doc))

    @staticmethod
    def _request_pb(doc: dict[str, Any]) -> feedback_pb2.ContentRequest:
        return feedback_pb2.ContentRequest(
            request_id=doc["request_id"], rep_id=doc["rep_id"], description=doc["description"],
            buying_stage=STAGE_VALUES.get(doc.get("buying_stage") or "", 0), persona=doc.get("persona") or "",
            product=doc.get("product") or "", lost_opportunity_id=doc.get("lost_opportunity_id") or "",
            created_at=_ts_iso(doc.get("created_at")), topic=doc.get("topic") or "",
        )

    def _page(self, index: str, query: dict[str, Any], sort_field: str, tiebreak: list[str], size: int,
              token: str) -> tuple[list[dict], str]:
        after = pagination.decode(self.settings.auth_secret, token)
        kwargs: dict[str, Any] = {"index": index, "query": query, "size": size + 1,
                                  "sort": [{sort_field: "desc"}, *({f: "asc"} for f in tiebreak)]}
        if after:
            # The sort values of the previous page's last hit: the date in ms, then the tiebreak ids.
            if not (isinstance(after, list) and len(after) == 1 + len(tiebreak) and type(after[0]) is int
                    and all(isinstance(v, str) and len(v) <= MAX_ID for v in after[1:])):
                raise errors.InvalidArgument("page_token", "malformed page token")
            kwargs["search_after"] = after
        hits = self.es.options(request_timeout=remaining_timeout(ES_TIMEOUT_S)).search(**kwargs)["hits"]["hits"]
        more = len(hits) > size
        hits = hits[:size]
        next_token = pagination.encode(self.settings.auth_secret, hits[-1]["sort"]) if more and hits else ""
        return [h["_source"] for h in hits], next_token

    def ListFeedback(self, request: feedback_pb2.ListFeedbackRequest, context: grpc.ServicerContext):
        size = pagination.clamp_page_size(request.page_size)
        asset_id = _text(request.asset_id, "asset_id", MAX_ID)
        filters: list[dict[str, Any]] = []
        if asset_id:
            filters.append({"term": {"asset_id": asset_id}})
        if request.with_comment_only:
            filters.append({"exists": {"field": "comment"}})
        docs, next_token = self._page(self.names.ratings, {"bool": {"filter": filters}}, "rated_at", ["asset_id", "rep_id"],
                                     size, request.page_token)
        response = feedback_pb2.ListFeedbackResponse(ratings=[self._rating_pb(d) for d in docs], next_page_token=next_token)
        if asset_id:
            dist = self.reports.rating_summaries([asset_id], remaining_timeout(ES_TIMEOUT_S)).get(asset_id, [0] * 5)
            n = sum(dist)
            response.summary.CopyFrom(feedback_pb2.RatingSummary(
                asset_id=asset_id, count=n, average=sum((i + 1) * c for i, c in enumerate(dist)) / n if n else 0.0,
                distribution=dist))
        return response

    def ListContentRequests(self, request: feedback_pb2.ListContentRequestsRequest, context: grpc.ServicerContext):
        principal = auth.current_principal()
        size = pagination.clamp_page_size(request.page_size)
        query: dict[str, Any] = {"match_all": {}} if principal.is_curator else {"term": {"rep_id": principal.subject}}
        docs, next_token = self._page(self.names.requests, query, "created_at", ["request_id"], size, request.page_token)
        return feedback_pb2.ListContentRequestsResponse(requests=[self._request_pb(d) for d in docs],
                                                        next_page_token=next_token)

    def GetContentGaps(self, request: feedback_pb2.GetContentGapsRequest, context: grpc.ServicerContext):
        return self.gaps.content_gaps(request, remaining_timeout(ES_TIMEOUT_S))

    def GetGapTopic(self, request: feedback_pb2.GetGapTopicRequest, context: grpc.ServicerContext):
        return self.gaps.gap_topic(request, remaining_timeout(ES_TIMEOUT_S))

    def SetGapStatus(self, request: feedback_pb2.SetGapStatusRequest, context: grpc.ServicerContext):
        return self.gaps.set_status(request, auth.current_principal().subject, remaining_timeout(ES_TIMEOUT_S))


    # ---- opportunities (share pickers) ------------------------------------------------------------
    def ListOpportunities(self, request: feedback_pb2.ListOpportunitiesRequest, context: grpc.ServicerContext):
        scope = opportunities.scope_of(auth.current_principal(), request.rep_id)
        text = _text(request.query, "query", opportunities.MAX_QUERY_CHARS)
        stages = _stage_names(request.stages)
        size = pagination.clamp_page_size(request.page_size)
        after = opportunities.cursor_of(pagination.decode(self.settings.auth_secret, request.page_token))
        docs, last = opportunities.search(self.es, self.names.deals, opportunities.search_query(scope, text, stages),
                                          size, after, remaining_timeout(ES_TIMEOUT_S))
        next_token = pagination.encode(self.settings.auth_secret, last) if last else ""
        return feedback_pb2.ListOpportunitiesResponse(opportunities=[opportunity_pb(d) for d in docs],
                                                      next_page_token=next_token)

    def GetOpportunities(self, request: feedback_pb2.GetOpportunitiesRequest, context: grpc.ServicerContext):
        ids = request.opportunity_ids
        if len(ids) > opportunities.MAX_LOOKUP_IDS:
            raise errors.InvalidArgument("opportunity_ids", f"at most {opportunities.MAX_LOOKUP_IDS} ids")
        checked = [validation.identifier(v, f"opportunity_ids[{i}]") for i, v in enumerate(ids)]
        scope = opportunities.lookup_scope(auth.current_principal())
        docs = opportunities.lookup(self.es, self.names.deals, scope, checked, remaining_timeout(ES_TIMEOUT_S))
        return feedback_pb2.GetOpportunitiesResponse(opportunities=[opportunity_pb(d) for d in docs])

    def GetAccounts(self, request: feedback_pb2.GetAccountsRequest, context: grpc.ServicerContext):
        ids = request.account_ids
        if len(ids) > opportunities.MAX_LOOKUP_IDS:
            raise errors.InvalidArgument("account_ids", f"at most {opportunities.MAX_LOOKUP_IDS} ids")
        checked = [validation.identifier(v, f"account_ids[{i}]") for i, v in enumerate(ids)]
        scope = opportunities.lookup_scope(auth.current_principal())
        docs = opportunities.account_names(self.es, self.names.deals, scope, checked, remaining_timeout(ES_TIMEOUT_S))
        return feedback_pb2.GetAccountsResponse(accounts=[feedback_pb2.CrmAccount(
            account_id=d["account_id"], account_name=d["account_name"], name_updated_at=_ts_iso(d.get("updated_at")))
            for d in docs])


# Health names `collateral.v1.FeedbackService/<capability>`; the server's status follows
# ingest (CRM outcomes), which needs only Kafka.
CAPABILITIES = {
    "ingest": grpc_server.Capability.of({"kafka"}, {"RecordDealOutcomes"}),
    "reports": grpc_server.Capability.of({"elasticsearch"}, {
        "GetWinRates", "ListAssetWinRates", "GetAttribution", "GetAssetScorecards", "GetContentGaps", "GetGapTopic",
        "ListFeedback", "ListContentRequests", "ListOpportunities", "GetOpportunities",
        "GetAccounts"}),
    "feedback": grpc_server.Capability.of({"elasticsearch"}, {"SubmitRating", "SubmitContentRequest", "SetGapStatus"}),
}


def audited(servicer: FeedbackServicer) -> dict[str, audit.Audited]:
    """How rep feedback is recorded in the audit log (RecordDealOutcomes is ingestion: audit.NOT_AUDITED)."""

    def stored(index: str) -> audit.Loader:
        return lambda doc_id: servicer.es.get(index=index, id=doc_id)["_source"]

    def rating_of(request: Any) -> list[str]:
        return [f"{request.asset_id}|{auth.current_principal().subject}"] if request.asset_id else []

    return {
        "SubmitRating": audit.Audited("rating", stored(servicer.names.ratings), rating_of),
        "SubmitContentRequest": audit.Audited("content_request", stored(servicer.names.requests),
                                              audit.field_of("request_id"),
                                              audit.response_field("request", "request_id")),
        "SetGapStatus": audit.Audited("gap_status", stored(servicer.names.gap_status), audit.field_of("topic_id")),
    }


def build_spec(settings: config.Settings) -> grpc_server.ServiceSpec:
    """The feedback server; it contacts no dependency here (the health loop sets them up)."""
    servicer = FeedbackServicer(settings)
    kafka_probe = kafka_io.TopicsProbe(settings, [servicer.deals_topic], settings.health_probe_timeout_s)

    def register(server: grpc.Server) -> None:
        feedback_pb2_grpc.add_FeedbackServiceServicer_to_server(servicer, server)

    return grpc_server.ServiceSpec(
        name="feedback",
        full_name="collateral.v1.FeedbackService",
        register=register,
        access=ACCESS,
        audited=audited(servicer),
        default_port=50053,
        default_metrics_port=9466,
        probes={"elasticsearch": lambda: es_util.reachable(servicer.es, settings.health_probe_timeout_s),
                "kafka": kafka_probe},
        set_up={"kafka": lambda: topics.ensure_all(settings),
                "elasticsearch": lambda: store.ensure(servicer.es, settings, servicer.names)},
        capabilities=CAPABILITIES,
        core="ingest",
        on_shutdown=[servicer.producer.close, kafka_probe.close],
    )
