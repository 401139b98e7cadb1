"""Content gaps as topics: similar searches, requests and lost reasons grouped, with evidence and a status.

The inputs are *phrasings*: a distinct zero- or poor-result query (`search-misses`, by `query.raw`),
a content request's normalised topic (`content-requests.topic`) and a lost deal's lost
topic (`deals.lost_topic`). Each phrasing becomes a set of stemmed terms (lower case,
punctuation and stop words removed, `stemming.Stemmer`); phrasings with the same set are
one, and sets whose Jaccard similarity reaches `SIMILARITY` are joined, transitively
(single-link clustering, computed in a fixed order so the result never depends on the
order the index returns buckets in). A topic is named by its most frequent phrasing, and
its id is a hash of its smallest term set, so it stays the same while the topic grows.

A zero-result search (result_count 0, or none stored) and a poor-result search (a few
results) are separate evidence: a topic counts both, and its score weighs a poor-result
search at `POOR_SEARCH_WEIGHT`, below any zero-result search.

A marketer's status (new, planned, answered by an asset) is stored per topic in
`gap-status`, with every term set of the topic at the time: a topic later regrouped
under another id still finds its status through any shared term set.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Sequence

from elasticsearch import Elasticsearch

from services.feedback import model, store
from services.feedback.reports import Gap
from services.feedback.stemming import Stemmer

SIMILARITY = 0.5  # Jaccard similarity of two term sets at or above which they are one topic
BUCKETS = 5000  # distinct phrasings read per source
REPS_PER_PHRASING = 500
STATUSES = ("new", "planned", "answered")
EFFECT_WEEKS = 8  # weeks before (and at most after) an answering asset's publication
MAX_STATUS_DOCS = 10000
WEEK = timedelta(days=7)
CHART_MAX_WEEKS = 104
SEARCH, REQUEST, LOST = "search", "request", "lost"
# Score of each poor-result search: below a zero-result search's least (reports.GAP_WEIGHTS
# "extra_search", 0.25), since a rep who found a few assets was served, if thinly.
POOR_SEARCH_WEIGHT = 0.1
# Stored misses without a result count predate poor-result searches: all of them found nothing.
ZERO_RESULT_FILTER: dict[str, Any] = {"bool": {"must_not": [{"range": {"result_count": {"gt": 0}}}]}}
POOR_RESULT_FILTER: dict[str, Any] = {"range": {"result_count": {"gt": 0}}}
_SOURCE_ORDER = {SEARCH: 0, REQUEST: 1, LOST: 2}
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


# ---- text -----------------------------------------------------------------------------------------

def words(text: str) -> list[str]:
    """Lower-case words without punctuation, stop words or bare numbers ("Pricing-Deck for retail" -> pricing, deck, retail)."""
    return [w for w in _NON_WORD.split(text.lower()) if w and w not in model.STOP_WORDS and not w.isdigit()]


def display(text: str) -> str:
    """How a phrasing is shown and counted as a name: lower case, punctuation as spaces, spaces collapsed."""
    return " ".join(w for w in _NON_WORD.split(text.lower()) if w)


def term_key(terms: Iterable[str]) -> str:
    return " ".join(sorted(set(terms)))


# ---- clustering -----------------------------------------------------------------------------------

@dataclass
class Phrasing:
    """One distinct way a gap was expressed, with what it adds to its topic."""

    source: str  # search, request or lost
    key: str  # query.raw, the request topic or the lost topic: how its evidence is found again
    text: str  # what it says, for the name
    count: int = 0  # searches: the zero-result ones
    reps: frozenset[str] = frozenset()
    amount: float = 0.0
    terms: frozenset[str] = frozenset()
    poor: int = 0  # searches only: the poor-result ones


@dataclass
class Topic:
    topic_id: str
    name: str
    phrasings: list[Phrasing]
    term_keys: list[str]
    searches: int = 0  # zero-result
    poor_searches: int = 0
    reps: int = 0  # distinct reps of the zero-result searches
    requests: int = 0
    lost_deals: int = 0
    lost_revenue: float = 0.0
    status: str = "new"
    status_doc: dict[str, Any] | None = None

    @property
    def score(self) -> float:
        """The gap score of docs/feedback.md (reports.GAP_WEIGHTS, plus POOR_SEARCH_WEIGHT) over the topic's totals."""
        return Gap(self.name, searches=self.searches, reps=self.reps, requests=self.requests,
                   lost_deals=self.lost_deals).score + POOR_SEARCH_WEIGHT * self.poor_searches

    @property
    def normalized(self) -> str:
        """The name as the pre-topic reports keyed gaps: words sorted, stop words removed."""
        return model.normalize_topic(self.name) or self.name

    def keys_of(self, source: str) -> list[str]:
        return sorted({p.key for p in self.phrasings if p.source == source})


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def cluster(term_sets: Sequence[frozenset[str]], threshold: float = SIMILARITY) -> list[list[int]]:
    """Single-link clusters of term sets (indices into `term_sets`), each sorted, in order of their first member.

    Only sets sharing a term are compared (an inverted index), so the cost follows how
    many phrasings share words, not the square of all phrasings.
    """
    parent = list(range(len(term_sets)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_term: dict[str, list[int]] = defaultdict(list)
    for i, terms in enumerate(term_sets):
        for term in sorted(terms):
            by_term[term].append(i)
    for i, terms in enumerate(term_sets):
        candidates = sorted({j for term in terms for j in by_term[term] if j > i})
        for j in candidates:
            if jaccard(terms, term_sets[j]) >= threshold:
                a, b = root(i), root(j)
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(term_sets)):
        groups[root(i)].append(i)
    return [groups[r] for r in sorted(groups)]


def topic_id_of(term_keys: Iterable[str]) -> str:
    return "gt-" + hashlib.sha1(min(term_keys).encode()).hexdigest()[:16]


def name_of(phrasings: Sequence[Phrasing]) -> str:
    """The most frequent phrasing (searches before requests before lost reasons on ties, then the shortest)."""
    counts: dict[str, list[Any]] = {}
    for p in phrasings:
        text = display(p.text) or p.key
        entry = counts.setdefault(text, [0, _SOURCE_ORDER[p.source]])
        entry[0] += p.count + p.poor
        entry[1] = min(entry[1], _SOURCE_ORDER[p.source])
    return min(counts, key=lambda t: (-counts[t][0], counts[t][1], len(t), t))


def group(phrasings: Sequence[Phrasing], threshold: float = SIMILARITY) -> list[Topic]:
    """Topics from stemmed phrasings (`terms` set), with their totals; deterministic for any input order."""
    by_key: dict[str, list[Phrasing]] = defaultdict(list)
    for p in phrasings:
        if p.terms:
            by_key[term_key(p.terms)].append(p)
    keys = sorted(by_key)
    topics = []
    for members in cluster([frozenset(k.split(" ")) for k in keys], threshold):
        term_keys = [keys[i] for i in members]
        grouped = sorted((p for k in term_keys for p in by_key[k]), key=lambda p: (p.source, p.key))
        topics.append(_totals(Topic(topic_id_of(term_keys), name_of(grouped), grouped, term_keys)))
    return topics


def _totals(topic: Topic) -> Topic:
    reps: set[str] = set()
    for p in topic.phrasings:
        if p.source == SEARCH:
            topic.searches += p.count
            topic.poor_searches += p.poor
            reps |= p.reps
        elif p.source == REQUEST:
            topic.requests += p.count
        else:
            topic.lost_deals += p.count
            topic.lost_revenue += p.amount
    topic.reps = len(reps)
    return topic


def ranked(topics: Iterable[Topic]) -> list[Topic]:
    return sorted(topics, key=lambda t: (-t.score, -t.lost_revenue, t.name, t.topic_id))


# ---- reading the inputs ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    start: datetime | None
    end: datetime | None

    def filter(self, field_name: str) -> list[dict[str, Any]]:
        bounds = {}
        if self.start is not None:
            bounds["gte"] = model.iso(self.start)
        if self.end is not None:
            bounds["lt"] = model.iso(self.end)
        return [{"range": {field_name: bounds}}] if bounds else []


def _search_phrasings(es: Elasticsearch, names: store.Names, window: Window) -> list[Phrasing]:
    """Each distinct query with its zero-result searches (and their reps) and its poor-result searches."""
    buckets = es.search(
        index=names.misses, size=0, track_total_hits=False, query={"bool": {"filter": window.filter("occurred_at")}},
        aggs={"q": {"terms": {"field": "query.raw", "size": BUCKETS},
                    "aggs": {"zero": {"filter": ZERO_RESULT_FILTER,
                                      "aggs": {"reps": {"terms": {"field": "rep_id", "size": REPS_PER_PHRASING}}}},
                             "poor": {"filter": POOR_RESULT_FILTER}}}},
    )["aggregations"]["q"]["buckets"]
    return [Phrasing(SEARCH, b["key"], b["key"], b["zero"]["doc_count"],
                     frozenset(r["key"] for r in b["zero"]["reps"]["buckets"]), poor=b["poor"]["doc_count"])
            for b in buckets]


def _request_phrasings(es: Elasticsearch, names: store.Names, window: Window) -> list[Phrasing]:
    buckets = es.search(
        index=names.requests, size=0, track_total_hits=False, query={"bool": {"filter": window.filter("created_at")}},
        aggs={"t": {"terms": {"field": "topic", "size": BUCKETS}}},
    )["aggregations"]["t"]["buckets"]
    return [Phrasing(REQUEST, b["key"], b["key"], b["doc_count"]) for b in buckets]


def _lost_phrasings(es: Elasticsearch, names: store.Names, window: Window) -> list[Phrasing]:
    buckets = es.search(
        index=names.deals, size=0, track_total_hits=False,
        query={"bool": {"filter": [{"term": {"stage": "lost"}}, {"exists": {"field": "lost_topic"}},
                                   *window.filter("closed_at")]}},
        aggs={"t": {"terms": {"field": "lost_topic", "size": BUCKETS},
                    "aggs": {"amount": {"sum": {"field": "amount"}},
                             "ex": {"terms": {"field": "lost_reason.raw", "size": 1}}}}},
    )["aggregations"]["t"]["buckets"]
    return [Phrasing(LOST, b["key"], b["ex"]["buckets"][0]["key"] if b["ex"]["buckets"] else b["key"], b["doc_count"],
                     amount=float(b["amount"]["value"] or 0.0)) for b in buckets]


def stem_all(phrasings: list[Phrasing], stemmer: Stemmer) -> list[Phrasing]:
    """Each phrasing's `terms`: the stems of its words (requests and lost reasons by their stored topic words)."""
    split = [words(p.text if p.source == SEARCH else p.key) for p in phrasings]
    stems = stemmer.stems(w for ws in split for w in ws)
    for p, ws in zip(phrasings, split):
        p.terms = frozenset(stems[w] for w in ws)
    return phrasings


def topics(es: Elasticsearch, names: store.Names, window: Window, stemmer: Stemmer) -> list[Topic]:
    """Every topic of the window, ranked, with its stored status."""
    phrasings = [*_search_phrasings(es, names, window), *_request_phrasings(es, names, window),
                 *_lost_phrasings(es, names, window)]
    found = ranked(group(stem_all(phrasings, stemmer)))
    attach_statuses(found, load_statuses(es, names))
    return found


def find(found: Sequence[Topic], topic_id: str, statuses: Sequence[Mapping[str, Any]] = ()) -> Topic | None:
    """The topic with this id, or the one holding a term set stored with a status under this id (regrouped)."""
    for topic in found:
        if topic.topic_id == topic_id:
            return topic
    stored = next((s for s in statuses if s.get("topic_id") == topic_id), None)
    if stored:
        keys = set(stored.get("term_keys") or ())
        return next((t for t in found if keys & set(t.term_keys)), None)
    return None


# ---- status ---------------------------------------------------------------------------------------

def load_statuses(es: Elasticsearch, names: store.Names) -> list[dict[str, Any]]:
    hits = es.search(index=names.gap_status, size=MAX_STATUS_DOCS, query={"match_all": {}},
                     sort=[{"updated_at": "desc"}, {"topic_id": "asc"}])["hits"]["hits"]
    return [h["_source"] for h in hits]


def attach_statuses(found: Iterable[Topic], statuses: Sequence[Mapping[str, Any]]) -> None:
    """Each topic's status: stored under its id, else the newest one sharing a term set with it."""
    by_id = {s["topic_id"]: s for s in statuses}
    by_key: dict[str, Mapping[str, Any]] = {}
    for s in statuses:  # newest first: the first writer of a key wins
        for key in s.get("term_keys") or ():
            by_key.setdefault(key, s)
    for topic in found:
        doc = by_id.get(topic.topic_id) or next((by_key[k] for k in topic.term_keys if k in by_key), None)
        if doc:
            topic.status, topic.status_doc = doc["status"], dict(doc)


def status_doc(topic: Topic, status: str, asset: Mapping[str, Any] | None, actor: str, now: datetime) -> dict[str, Any]:
    return {"topic_id": topic.topic_id, "name": topic.name, "term_keys": topic.term_keys, "status": status,
            "asset_id": asset["asset_id"] if asset else None, "asset_title": (asset or {}).get("title"),
            "published_at": published_at(asset) if asset else None, "updated_by": actor, "updated_at": model.iso(now)}


def published_at(asset: Mapping[str, Any]) -> str | None:
    return asset.get("published_at") or asset.get("created_at")


# ---- evidence, weekly counts and the effect of an answer ------------------------------------------

def search_filter(topic: Topic) -> dict[str, Any]:
    """The topic's searches, zero- and poor-result alike (its evidence)."""
    return {"terms": {"query.raw": topic.keys_of(SEARCH) or ["\u0000none"]}}


def zero_result_filter(topic: Topic) -> dict[str, Any]:
    """The topic's zero-result searches: what the weekly and before/after counts follow."""
    return {"bool": {"filter": [search_filter(topic), ZERO_RESULT_FILTER]}}


def weekly(es: Elasticsearch, names: store.Names, found: Sequence[Topic], window: Window, now: datetime
           ) -> dict[str, list[tuple[datetime, int]]]:
    """Zero-result searches per calendar week (Monday, UTC) of each topic over the window, up to now.

    Without a start the chart covers 12 weeks, and never more than `CHART_MAX_WEEKS` (the
    most recent), so any range a client sends stays a bounded number of buckets.
    """
    end = min(window.end or now, now)
    start = max(window.start or end - 12 * WEEK, end - CHART_MAX_WEEKS * WEEK)
    if not found or start >= end:
        return {}
    aggs = {"topics": {"filters": {"filters": {t.topic_id: zero_result_filter(t) for t in found}},
                       "aggs": {"w": {"date_histogram": {
                           "field": "occurred_at", "calendar_interval": "week", "min_doc_count": 0,
                           "extended_bounds": {"min": model.iso(start), "max": model.iso(end - timedelta(milliseconds=1))}}}}}}
    per_topic = es.search(index=names.misses, size=0, track_total_hits=False,
                          query={"bool": {"filter": Window(start, end).filter("occurred_at")}},
                          aggs=aggs)["aggregations"]["topics"]["buckets"]
    return {topic_id: [(datetime.fromtimestamp(week["key"] / 1000, timezone.utc), week["doc_count"])
                       for week in counts["w"]["buckets"]]
            for topic_id, counts in per_topic.items()}


@dataclass
class Effect:
    published: datetime
    before: int
    after: int
    after_days: float
    weeks: list[tuple[datetime, int]] = field(default_factory=list)

    @property
    def before_per_week(self) -> float:
        return self.before / EFFECT_WEEKS

    @property
    def after_per_week(self) -> float:
        return self.after * 7 / max(self.after_days, 1.0)


def effect(es: Elasticsearch, names: store.Names, topic: Topic, published: datetime, now: datetime) -> Effect:
    """Zero-result searches for the topic per week from 8 weeks before the answer's publication to now (8 weeks at most)."""
    first = published - EFFECT_WEEKS * WEEK
    last = min(now, published + EFFECT_WEEKS * WEEK)
    starts = [published + n * WEEK for n in range(-EFFECT_WEEKS, EFFECT_WEEKS) if published + n * WEEK < last]
    ranges = [{"key": str(i), "from": model.iso(s), "to": model.iso(min(s + WEEK, last))} for i, s in enumerate(starts)]
    buckets = es.search(index=names.misses, size=0, track_total_hits=False,
                        query={"bool": {"filter": [zero_result_filter(topic), *Window(first, last).filter("occurred_at")]}},
                        aggs={"w": {"date_range": {"field": "occurred_at", "ranges": ranges, "keyed": True}}}
                        )["aggregations"]["w"]["buckets"] if ranges else {}
    weeks = [(s, int(buckets.get(str(i), {}).get("doc_count", 0))) for i, s in enumerate(starts)]
    before = sum(c for s, c in weeks if s < published)
    after = sum(c for s, c in weeks if s >= published)
    return Effect(published, before, after, max(0.0, (last - published).total_seconds() / 86400), weeks)


@dataclass
class Evidence:
    searches: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    lost_deals: list[dict[str, Any]]


def evidence(es: Elasticsearch, names: store.Names, topic: Topic, window: Window, limit: int) -> Evidence:
    """The newest searches (zero- and poor-result), requests and lost deals behind a topic (the totals are the topic's)."""
    def newest(index: str, terms: dict[str, Any], time_field: str, tiebreak: str,
               extra: Sequence[dict[str, Any]] = ()) -> list[dict]:
        query = {"bool": {"filter": [terms, *extra, *window.filter(time_field)]}}
        hits = es.search(index=index, size=limit, query=query, sort=[{time_field: "desc"}, {tiebreak: "asc"}],
                         track_total_hits=False)["hits"]["hits"]
        return [h["_source"] for h in hits]

    searches = (newest(names.misses, search_filter(topic), "occurred_at", "event_id")
                if topic.keys_of(SEARCH) else [])
    requests = (newest(names.requests, {"terms": {"topic": topic.keys_of(REQUEST)}}, "created_at", "request_id")
                if topic.keys_of(REQUEST) else [])
    lost = (newest(names.deals, {"terms": {"lost_topic": topic.keys_of(LOST)}}, "closed_at", "opportunity_id",
                   [{"term": {"stage": "lost"}}]) if topic.keys_of(LOST) else [])
    return Evidence(searches, requests, lost)


def topic_id_of_text(text: str, stemmer: Stemmer) -> str:
    """The id the topic of one phrasing has while it stands alone (what a new gap's first page links to)."""
    split = words(text)
    stems = stemmer.stems(split)
    return topic_id_of([term_key(stems[w] for w in split)])
