"""The content-gap RPCs (GetContentGaps, GetGapTopic, SetGapStatus): validation and protobuf forms.

The grouping itself is gap_topics.py; this module turns requests into its calls and its
topics into `ContentGap` messages, so the servicer only delegates.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from elasticsearch import Elasticsearch, NotFoundError
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import common_pb2, feedback_pb2
from services.common import errors, validation
from services.feedback import gap_topics, model, store
from services.feedback.gap_topics import Topic, Window
from services.feedback.stemming import Stemmer

MAX_LIMIT = 200
MAX_EVIDENCE = 500
STATUS_NAMES = {feedback_pb2.GAP_STATUS_NEW: "new", feedback_pb2.GAP_STATUS_PLANNED: "planned",
                feedback_pb2.GAP_STATUS_ANSWERED: "answered"}
STATUS_VALUES = {name: value for value, name in STATUS_NAMES.items()}
STAGE_VALUES = {common_pb2.BuyingStage.Name(v).removeprefix("BUYING_STAGE_").lower(): v
                for v in common_pb2.BuyingStage.values() if v}


def _ts(when: datetime | str | None) -> Timestamp | None:
    if not when:
        return None
    if isinstance(when, str):
        when = model.parse_iso(when)
    ts = Timestamp()
    ts.FromDatetime(when.astimezone(timezone.utc))
    return ts


def window_of(time_range: common_pb2.TimeRange) -> Window:
    start = validation.optional_timestamp(time_range, "start", "time_range.start")
    end = validation.optional_timestamp(time_range, "end", "time_range.end")
    if start and end and start >= end:
        raise errors.InvalidArgument("time_range", "start must be before end")
    return Window(start, end)


def topic_id_arg(value: str) -> str:
    topic_id = validation.identifier(value, "topic_id")
    if not topic_id.startswith("gt-"):
        raise errors.InvalidArgument("topic_id", "not a content-gap topic id (gt-...)")
    return topic_id


class GapReports:
    """The three RPCs over one Elasticsearch client and one stemmer (which remembers what the server offers)."""

    def __init__(self, es: Elasticsearch, names: store.Names) -> None:
        self.es = es
        self.names = names
        self.stemmer = Stemmer(es)

    def _client(self, timeout_s: float | None) -> Elasticsearch:
        return self.es.options(request_timeout=timeout_s) if timeout_s else self.es

    def content_gaps(self, request: feedback_pb2.GetContentGapsRequest, timeout_s: float | None
                     ) -> feedback_pb2.GetContentGapsResponse:
        window = window_of(request.time_range)
        if request.limit < 0 or request.limit > MAX_LIMIT:
            raise errors.InvalidArgument("limit", f"must be 0 to {MAX_LIMIT}")
        es = self._client(timeout_s)
        shown = gap_topics.topics(es, self.names, window, self.stemmer)[:request.limit or 20]
        now = datetime.now(timezone.utc)
        weeks = gap_topics.weekly(es, self.names, shown, window, now)
        return feedback_pb2.GetContentGapsResponse(gaps=[self._gap_pb(es, t, weeks.get(t.topic_id, []), now)
                                                         for t in shown])

    def _topic(self, es: Elasticsearch, topic_id: str, window: Window) -> Topic:
        found = gap_topics.topics(es, self.names, window, self.stemmer)
        topic = gap_topics.find(found, topic_id, gap_topics.load_statuses(es, self.names))
        if topic is None:
            raise errors.NotFound(f"no content-gap topic {topic_id} in this time range")
        return topic

    def gap_topic(self, request: feedback_pb2.GetGapTopicRequest, timeout_s: float | None
                  ) -> feedback_pb2.GetGapTopicResponse:
        topic_id = topic_id_arg(request.topic_id)
        window = window_of(request.time_range)
        if request.evidence_limit < 0 or request.evidence_limit > MAX_EVIDENCE:
            raise errors.InvalidArgument("evidence_limit", f"must be 0 to {MAX_EVIDENCE}")
        es = self._client(timeout_s)
        topic = self._topic(es, topic_id, window)
        now = datetime.now(timezone.utc)
        weeks = gap_topics.weekly(es, self.names, [topic], window, now).get(topic.topic_id, [])
        found = gap_topics.evidence(es, self.names, topic, window, request.evidence_limit or 50)
        return feedback_pb2.GetGapTopicResponse(
            topic=self._gap_pb(es, topic, weeks, now),
            searches=[feedback_pb2.GapSearch(query=d["query"], rep_id=d["rep_id"], occurred_at=_ts(d["occurred_at"]),
                                             result_count=int(d.get("result_count") or 0)) for d in found.searches],
            requests=[request_pb(d) for d in found.requests],
            lost_deals=[lost_deal_pb(d) for d in found.lost_deals],
            phrasings=sorted({gap_topics.display(p.text) or p.key for p in topic.phrasings}),
        )

    def set_status(self, request: feedback_pb2.SetGapStatusRequest, actor: str, timeout_s: float | None
                   ) -> feedback_pb2.SetGapStatusResponse:
        topic_id = topic_id_arg(request.topic_id)
        window = window_of(request.time_range)
        status = STATUS_NAMES.get(request.status)
        if status is None:
            raise errors.InvalidArgument("status", "one of GAP_STATUS_NEW, GAP_STATUS_PLANNED, GAP_STATUS_ANSWERED")
        asset_id = validation.identifier(request.asset_id, "asset_id", required=status == "answered")
        if asset_id and status != "answered":
            raise errors.InvalidArgument("asset_id", "only with GAP_STATUS_ANSWERED")
        es = self._client(timeout_s)
        asset = self._asset(es, asset_id) if asset_id else None
        topic = self._topic(es, topic_id, window)
        now = datetime.now(timezone.utc)
        doc = gap_topics.status_doc(topic, status, asset, actor, now)
        # Stored under the id the caller named (what the audit log records), with the topic's term sets.
        doc["topic_id"] = topic_id
        es.index(index=self.names.gap_status, id=topic_id, document=doc, refresh="wait_for")
        topic.status, topic.status_doc = status, doc
        weeks = gap_topics.weekly(es, self.names, [topic], window, now).get(topic.topic_id, [])
        return feedback_pb2.SetGapStatusResponse(topic=self._gap_pb(es, topic, weeks, now))

    def _asset(self, es: Elasticsearch, asset_id: str) -> dict[str, Any]:
        """The answering asset from this service's catalog copy; it must be known to count before and after."""
        try:
            asset = es.get(index=self.names.catalog, id=asset_id)["_source"]
        except NotFoundError:
            raise errors.NotFound(f"asset {asset_id} is not in the catalog") from None
        if not gap_topics.published_at(asset):
            raise errors.FailedPrecondition(f"asset {asset_id} has no publication or creation time")
        return {**asset, "asset_id": asset_id}

    def _gap_pb(self, es: Elasticsearch, topic: Topic, weeks: list[tuple[datetime, int]], now: datetime
                ) -> feedback_pb2.ContentGap:
        gap = feedback_pb2.ContentGap(
            topic=topic.normalized, example=topic.name, zero_result_searches=topic.searches, searching_reps=topic.reps,
            requests=topic.requests, lost_deals=topic.lost_deals, lost_revenue=topic.lost_revenue, score=topic.score,
            topic_id=topic.topic_id, name=topic.name, phrasings=len({p.text for p in topic.phrasings}),
            status=STATUS_VALUES.get(topic.status, feedback_pb2.GAP_STATUS_NEW),
            weekly=[feedback_pb2.WeekCount(week_start=_ts(start), count=count) for start, count in weeks],
            poor_result_searches=topic.poor_searches)
        doc = topic.status_doc or {}
        if topic.status == "answered" and doc.get("asset_id") and doc.get("published_at"):
            gap.answer.CopyFrom(answer_pb(doc, gap_topics.effect(es, self.names, topic,
                                                                 model.parse_iso(doc["published_at"]), now)))
        return gap


def answer_pb(doc: Mapping[str, Any], effect: gap_topics.Effect) -> feedback_pb2.GapAnswer:
    return feedback_pb2.GapAnswer(
        asset_id=doc["asset_id"], asset_title=doc.get("asset_title") or "", published_at=_ts(effect.published),
        searches_before=effect.before, searches_after=effect.after, before_per_week=effect.before_per_week,
        after_per_week=effect.after_per_week,
        weeks=[feedback_pb2.WeekCount(week_start=_ts(start), count=count) for start, count in effect.weeks])


def request_pb(doc: Mapping[str, Any]) -> feedback_pb2.ContentRequest:
    return feedback_pb2.ContentRequest(
        request_id=doc["request_id"], rep_id=doc["rep_id"], description=doc["description"],
        buying_stage=STAGE_VALUES.get(doc.get("buying_stage") or "", 0), persona=doc.get("persona") or "",
        product=doc.get("product") or "", lost_opportunity_id=doc.get("lost_opportunity_id") or "",
        created_at=_ts(doc.get("created_at")), topic=doc.get("topic") or "")


def lost_deal_pb(doc: Mapping[str, Any]) -> feedback_pb2.GapLostDeal:
    return feedback_pb2.GapLostDeal(
        opportunity_id=doc["opportunity_id"], opportunity_name=doc.get("opportunity_name") or "",
        account_name=doc.get("account_name") or "", amount=float(doc.get("amount") or 0.0),
        currency=doc.get("currency") or "", lost_reason=doc.get("lost_reason") or "", closed_at=_ts(doc.get("closed_at")))
