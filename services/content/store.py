"""The `collateral` index: mappings, document access with optimistic concurrency, and queries.

Reads and writes go through the alias, so `python -m services.content.reindex` can move
the catalog to a new index while the service runs. During such a copy the alias points
at two indices (the new one is the write index): reads then look in both and prefer the
write index, and a change to a document still only in the old index is written to the
new one with `op_type=create`, which the copy (also `create`) never overwrites.

Concurrency: every change is read -> mutate -> conditional write (`if_seq_no` /
`if_primary_term`); a lost race re-reads, and the mutation re-checks the client's
expected `version`, so two curators editing the same version get one success and one
FAILED_PRECONDITION.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping, Sequence

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError

from services.common import config, errors, es as es_common
from services.common.grpc_server import remaining_timeout
from services.content import highlight

log = logging.getLogger(__name__)

ALIAS_NAME = "collateral"

# Facet name -> index field. "status" is offered to curators only.
FACETS: dict[str, str] = {
    "type": "type",
    "buying_stage": "buying_stages",
    "industry": "industries",
    "region": "regions",
    "product": "products",
    "persona": "personas",
    "language": "language",
    "tag": "tags",
    "owner": "owner",
    "status": "status",
}
# Every value of a facet is returned (up to this bound), so each one can be picked: the
# vocabularies are small, and the portal folds the list after the first few values.
FACET_SIZE = 200
# Every facet value of a document in one keyword field ("industry=healthcare"), so the facets
# a search shows are one terms aggregation instead of one per facet: about half the cost at
# 100k assets (measured), because each matching document is visited once, not once per facet.
FACET_VALUES_FIELD = "facet_values"
FACET_VALUE_SEPARATOR = "="
FACET_VALUES_RECHECK_S = 60.0
MAX_RESULT_WINDOW = 10_000  # index setting: the deepest a relevance-sorted page (from + size) may reach
MAX_SUGGEST_INPUT = 300  # the longest title (model.MAX_TITLE)

# Ranking: final score = text relevance x a signal factor in [1, 1 + MAX_SIGNAL_BOOST]. The
# factor grows with log-damped usage and deal counts and with the win rate (the Wilson lower
# bound, so 2 wins out of 2 deals does not outrank 40 out of 60), and is capped, so signals
# reorder results whose text relevance is within 10% of each other and never overturn a
# clearly better text match.
USAGE_WEIGHT = 0.04
WIN_RATE_WEIGHT = 0.15
DEALS_WEIGHT = 0.02
MAX_SIGNAL_BOOST = 0.1

# `labels` holds the asset type, industries, personas, products and buying stages as words
# (derived in `indexable`), so "healthcare case study" matches the metadata, not only the text.
TEXT_FIELDS = ["title^4", "labels^3", "tags.text^3", "description^2", "body"]
PHRASE_FIELDS = ["title^3", "labels^2", "description"]
SOURCE_EXCLUDES = ["body", "suggest", "labels", FACET_VALUES_FIELD]
# Typo tolerance: words of 4-6 characters may have one edit, longer ones two; shorter words
# (CFO, CIO, ROI, SOC) must match exactly, or every persona would match every other one.
FUZZINESS = "AUTO:4,7"
# Speed: a query first runs exact (no typo variants to expand, and top-k skipping for the
# hits); only when it finds fewer than this many assets does it run again typo-tolerant.
FUZZY_FALLBACK_BELOW = 5
# Signals rescore the best this many text matches (per shard): a query that scores every
# match would keep Elasticsearch from skipping the ones that cannot reach the first page.
RESCORE_WINDOW = 100
PIN_BOOST = 10_000.0  # far above any BM25 score: a pinned asset outranks every unpinned match
# Every meaningful query word must match in some field, up to three words; longer queries
# may miss a quarter of them (rounded down).
MINIMUM_WORDS_MATCHED = "3<-25%"
# A word scores its best field plus this share of its other matching fields, so an asset
# that matches in title and description outranks one matching in the title alone.
TIE_BREAKER = 0.2
# A question carries words its answer does not contain ("which customers use us for fraud
# detection"): half of its meaningful words may be missing; ranking puts full matches first.
QUESTION_WORDS_MATCHED = "1<-50%"
QUESTION_STARTS = frozenset("what which who where when why how do does did is are any can could should have has".split())

# What reps call each asset type; indexed in `labels`.
TYPE_LABELS: dict[str, list[str]] = {
    "deck": ["deck", "slides", "presentation", "pitch deck"],
    "case_study": ["case study", "customer story", "customer reference"],
    "one_pager": ["one pager", "one-pager", "onepager"],
    "battle_card": ["battle card", "battlecard", "competitive"],
    "video": ["video", "demo video"],
    "whitepaper": ["whitepaper", "white paper"],
    "email_template": ["email template"],
    "roi_calculator": ["roi calculator", "business case"],
    "datasheet": ["datasheet", "data sheet"],
    "other": [],
    "webinar": ["webinar", "recording"],
    "demo_script": ["demo script"],
    "proposal_template": ["proposal template"],
}

# Words that carry no subject in a rep's question ("do we have a hipaa document"): dropped.
STOP_WORDS = frozenset("""
a an and are as at be been but by can could did do does for from had has have how i if in into is it its
me my no not of on or our ours should so such than that the their them then there these they this those
to us was we were what when where which who whom why will with would you your any some am
""".split())
# Generic words that may describe what is wanted but rarely appear in it ("document",
# "something about"): they add score when they match and are never required.
SOFT_WORDS = frozenset("""
document documents doc docs material materials content collateral asset assets file files info
information resource resources stuff something anything find show get need needs looking look give
use uses using used help compare comparison versus vs handle latest new good best
""".split())



def mappings(english: bool = False) -> dict[str, Any]:
    """Index mappings; `english` adds stemming when the server has analysis-common."""
    analyzer = "english" if english else "standard"
    # Offsets in the postings let the highlighter skip re-analysing the text (~15% faster
    # searches at 100k assets for ~10% more disk, measured).
    text = {"type": "text", "analyzer": analyzer, "index_options": "offsets"}
    keyword = {"type": "keyword", "ignore_above": 256}
    date = {"type": "date"}
    return {
        "dynamic": False,
        "properties": {
            "asset_id": {"type": "keyword"},
            "external_id": {"type": "keyword"},
            "title": {**text, "fields": {"raw": {"type": "keyword", "ignore_above": 512}}},
            "description": text,
            "body": text,
            "labels": {"type": "text", "analyzer": analyzer},
            "suggest": {
                "type": "completion",
                "analyzer": "simple",
                # The default (50) cuts long titles: a prefix past the 50th character matched nothing.
                "max_input_length": MAX_SUGGEST_INPUT,
                "contexts": [{"name": "status", "type": "category", "path": "status"}],
            },
            "type": keyword,
            FACET_VALUES_FIELD: {"type": "keyword", "ignore_above": 1024},
            "tags": {**keyword, "fields": {"text": text}},
            "products": keyword,
            "buying_stages": keyword,
            "pinned_stages": keyword,
            "personas": keyword,
            "industries": keyword,
            "regions": keyword,
            "language": keyword,
            "owner": keyword,
            "status": keyword,
            "expires_at": date,
            "created_at": date,
            "updated_at": date,
            "published_at": date,
            "version": {"type": "long"},
            "page_count": {"type": "integer"},
            "files": {"type": "object", "enabled": False},
            "signals": {
                "properties": {
                    "usage_score": {"type": "double"},
                    "win_rate_lower": {"type": "double"},
                    "deals_closed": {"type": "long"},
                    "usage_computed_at": date,
                    "feedback_computed_at": date,
                    "usage": {"type": "object", "enabled": False},
                    "wins": {"type": "object", "enabled": False},
                }
            },
        },
    }


def has_analysis_common(es: Elasticsearch) -> bool:
    """True on a full distribution (language analyzers available)."""
    try:
        nodes = es.nodes.info(metric="plugins")["nodes"]
        return bool(nodes) and all(
            any(m.get("name") == "analysis-common" for m in node.get("modules", [])) for node in nodes.values()
        )
    except Exception:  # noqa: BLE001 - unknown means "assume minimal"
        return False


def index_body(settings: config.Settings, es: Elasticsearch) -> dict[str, Any]:
    return es_common.index_body(settings, mappings(english=has_analysis_common(es)),
                                {"index": {"max_result_window": MAX_RESULT_WINDOW, "highlight.max_analyzed_offset": 1_000_000}})


def suggest_inputs(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Completion inputs: the title, the title from each later word (so 'pricing'
    completes 'Enterprise pricing deck'), and the tags."""
    title = doc.get("title", "")
    words = title.split()
    suffixes = [" ".join(words[i:]) for i in range(1, min(len(words), 8))]
    out = [{"input": [title[:MAX_SUGGEST_INPUT]], "weight": 10}]
    if suffixes:
        out.append({"input": [s[:MAX_SUGGEST_INPUT] for s in suffixes], "weight": 5})
    if doc.get("tags"):
        out.append({"input": list(doc["tags"])[:20], "weight": 3})
    return out


def labels(doc: Mapping[str, Any]) -> list[str]:
    """The metadata as searchable words: type names, industries, personas, products, stages."""
    out = list(TYPE_LABELS.get(doc.get("type") or "", []))
    for key in ("industries", "personas", "products", "buying_stages"):
        out += [str(v) for v in doc.get(key) or []]
    return out


def facet_values(doc: Mapping[str, Any]) -> list[str]:
    """Every facet value of the document as "facet=value" (see FACET_VALUES_FIELD)."""
    out = []
    for facet, field_name in FACETS.items():
        value = doc.get(field_name)
        for v in value if isinstance(value, list) else [value] if value not in (None, "") else []:
            out.append(f"{facet}{FACET_VALUE_SEPARATOR}{v}")
    return out


def indexable(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The document as indexed: with its derived fields (completion inputs, labels, facet
    values) recomputed."""
    out = dict(doc)
    out["suggest"] = suggest_inputs(doc)
    out["labels"] = labels(doc)
    out[FACET_VALUES_FIELD] = facet_values(doc)
    return out


@dataclass
class Located:
    doc: dict[str, Any]
    index: str
    seq_no: int
    primary_term: int
    in_write_index: bool


class Store:
    """Asset documents behind the alias."""

    def __init__(self, settings: config.Settings, es: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = es or es_common.client(settings)
        self.alias = settings.index(ALIAS_NAME)
        self._facet_values_checked: tuple[float, bool] | None = None

    def ensure(self) -> str:
        index = es_common.ensure_alias(self.es, self.alias, index_body(self.settings, self.es))
        self.add_new_fields()
        return index

    def add_new_fields(self) -> None:
        """Add fields introduced since an index was created (such as `labels`) to its mapping.

        New writes then index them at once; `python -m services.content.reindex` fills them
        in for documents written before. Only missing fields are added (with the analyzer
        the index already uses), so this is a no-op on current indices.
        """
        for name, index in self.es.indices.get_mapping(index=self.alias).items():
            properties = index["mappings"].get("properties", {})
            analyzer = properties.get("title", {}).get("analyzer", "standard")
            missing = {field: spec for field, spec in mappings(english=analyzer == "english")["properties"].items()
                       if field not in properties}
            if missing:
                log.info("adding fields %s to the mapping of %s", sorted(missing), name)
                self.es.indices.put_mapping(index=name, properties=missing)

    def _es(self) -> Elasticsearch:
        return self.es.options(request_timeout=remaining_timeout(self.settings.es_request_timeout_s))

    # ---- reads ---------------------------------------------------------------------
    @es_common.timed("get")
    def get(self, asset_id: str, with_body: bool = True) -> Located | None:
        """The current document; `with_body=False` for reads that will not write it back."""
        excludes = ["suggest"] if with_body else ["suggest", "body"]
        try:
            hit = self._es().get(index=self.alias, id=asset_id, source_excludes=excludes)
            return Located(hit["_source"], hit["_index"], hit["_seq_no"], hit["_primary_term"], True)
        except NotFoundError:
            return None
        except ApiError as exc:
            if exc.meta.status != 400 or "more than one" not in str(exc):
                raise
        return self._get_during_reindex(asset_id, excludes)

    def _get_during_reindex(self, asset_id: str, excludes: list[str]) -> Located | None:
        aliases = self._es().indices.get_alias(name=self.alias)
        write = next((i for i, a in aliases.items() if a["aliases"][self.alias].get("is_write_index")), max(aliases))
        docs = self._es().mget(docs=[{"_index": i, "_id": asset_id} for i in sorted(aliases)],
                               source_excludes=excludes)["docs"]
        found = [d for d in docs if d.get("found")]
        if not found:
            return None
        best = next((d for d in found if d["_index"] == write), found[-1])
        return Located(best["_source"], best["_index"], best["_seq_no"], best["_primary_term"], best["_index"] == write)

    @es_common.timed("mget")
    def get_many(self, asset_ids: Sequence[str], with_body: bool = False) -> dict[str, Located]:
        """Current documents of many assets (write index preferred during a reindex);
        `with_body=True` for reads that will be written back."""
        if not asset_ids:
            return {}
        aliases = self._es().indices.get_alias(name=self.alias)
        write = next((i for i, a in aliases.items() if a["aliases"][self.alias].get("is_write_index")), max(aliases))
        docs = self._es().mget(docs=[{"_index": i, "_id": a} for i in sorted(aliases) for a in asset_ids],
                               source_excludes=["suggest"] if with_body else ["suggest", "body"])["docs"]
        out: dict[str, Located] = {}
        for d in docs:
            if d.get("found") and (d["_id"] not in out or d["_index"] == write):
                out[d["_id"]] = Located(d["_source"], d["_index"], d["_seq_no"], d["_primary_term"], d["_index"] == write)
        return out

    def require(self, asset_id: str) -> Located:
        loc = self.get(asset_id)
        if loc is None:
            raise errors.NotFound(f"asset {asset_id} not found")
        return loc

    # ---- writes ----------------------------------------------------------------------
    @es_common.timed("create")
    def create(self, doc: dict[str, Any], refresh: str | bool = "wait_for") -> None:
        asset_id = doc["asset_id"]
        if self.get(asset_id) is not None:
            raise errors.AlreadyExists(f"asset {asset_id} already exists")
        try:
            self._es().create(index=self.alias, id=asset_id, document=indexable(doc), refresh=refresh)
        except ConflictError:
            raise errors.AlreadyExists(f"asset {asset_id} already exists") from None

    @es_common.timed("update")
    def update(self, asset_id: str, mutate: Callable[[dict[str, Any]], dict[str, Any] | None],
               refresh: str | bool = "wait_for", attempts: int = 8) -> tuple[dict[str, Any], bool]:
        """Read, mutate, write conditionally; retry lost races. Returns (doc, changed).

        `mutate` gets a copy of the current document and returns the new one, or None for
        "nothing to change"; it raises (FailedPrecondition, InvalidArgument) to refuse.
        """
        for _ in range(attempts):
            loc = self.require(asset_id)
            new = mutate(json.loads(json.dumps(loc.doc)))
            if new is None:
                return loc.doc, False
            try:
                if loc.in_write_index:
                    self._es().index(index=self.alias, id=asset_id, document=indexable(new), if_seq_no=loc.seq_no,
                                     if_primary_term=loc.primary_term, refresh=refresh)
                else:
                    self._es().create(index=self.alias, id=asset_id, document=indexable(new), refresh=refresh)
                return new, True
            except (ConflictError, NotFoundError):
                continue  # someone else wrote first (or the write index moved): re-read
        raise errors.Unavailable(f"asset {asset_id} is changing too often; retry")

    def write_many(self, writes: Sequence[tuple[dict[str, Any], Located | None]]) -> dict[str, str]:
        """One bulk request, no refresh: each (new doc, what it was read as) is written conditionally.

        A doc read as None is created (`create`, so a concurrent creator wins); one read
        from the write index is indexed with `if_seq_no`/`if_primary_term`; one still only in
        the old index during a reindex is created in the new one. Returns asset id -> reason
        for every write that did not land ("conflict" for a lost race, so the caller re-reads).
        """
        operations = []
        for doc, loc in writes:
            action: dict[str, Any] = {"_index": self.alias, "_id": doc["asset_id"]}
            if loc is not None and loc.in_write_index:
                action.update(if_seq_no=loc.seq_no, if_primary_term=loc.primary_term)
                operations.append({"action": {"index": action}, "source": indexable(doc)})
            else:
                operations.append({"action": {"create": action}, "source": indexable(doc)})
        outcome = es_common.bulk(self.es, operations, refresh=False,
                                 timeout_s=remaining_timeout(self.settings.es_request_timeout_s))
        failed = {writes[position][0]["asset_id"]: "conflict" for position in outcome.conflicts}
        failed.update({writes[position][0]["asset_id"]: reason for position, reason in outcome.rejected})
        return failed

    @es_common.timed("refresh")
    def refresh(self) -> None:
        """Make every write so far searchable (what `refresh=wait_for` does per write, once for all)."""
        self._es().indices.refresh(index=self.alias)

    @es_common.timed("delete")
    def delete(self, asset_id: str) -> None:
        """Remove a document (only used to undo a create whose file could not be stored)."""
        for index in es_common.concrete_indices(self.es, self.alias):
            try:
                self._es().delete(index=index, id=asset_id, refresh="wait_for")
            except NotFoundError:
                pass

    # ---- queries -----------------------------------------------------------------------
    @es_common.timed("search")
    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._es().search(index=self.alias, **body)

    @es_common.timed("search_assets")
    def search_assets(self, query: str, filters: Mapping[str, Sequence[str]], curator: bool, sort: str, size: int,
                      search_after: list[Any] | None = None, offset: int = 0, include_expired: bool = False,
                      facets: bool = True, signals: bool = True, fuzzy: bool | None = None,
                      also: Sequence[tuple[str, dict[str, Any]]] = ()) -> "SearchOutcome":
        """One page of a search, its total and (`facets`) facet counts: the hits and the counts
        are two requests of one `_msearch`, run in parallel.

        `fuzzy=None` decides: the query runs exact, and again typo-tolerant when exact
        matching finds fewer than FUZZY_FALLBACK_BELOW assets (a misspelt word matches
        nothing exactly). Later pages pass the first page's choice. `also` are (index, body)
        searches sent in the first `_msearch` too, saving round trips; their responses are in
        `SearchOutcome.also`.
        """
        one_field = facets and self.facet_values_indexed()

        def counts_request(tolerant: bool, one: bool) -> tuple[str | None, dict[str, Any]]:
            return None, build_counts(query, filters, curator, include_expired, facets, tolerant, one)

        def page_and_counts(tolerant: bool) -> list[tuple[str | None, dict[str, Any]]]:
            return [(None, build_search(query, filters, curator, sort, size, search_after, include_expired, signals,
                                        tolerant, offset)), counts_request(tolerant, one_field)]

        tolerant = bool(fuzzy)
        hits, counts, *answers = self._msearch([*page_and_counts(tolerant), *also])
        if fuzzy is None and query and int(counts["hits"]["total"]["value"]) < FUZZY_FALLBACK_BELOW:
            tolerant = True
            hits, counts = self._msearch(page_and_counts(tolerant))
        if not facets_complete(counts.get("aggregations", {})):
            [counts] = self._msearch([counts_request(tolerant, False)])
        found = hits["hits"]["hits"]
        if query:
            highlight.add_to_hits(found, query_words(query).text or query, singular)
        return SearchOutcome(found, int(counts["hits"]["total"]["value"]), counts.get("aggregations", {}), tolerant,
                             answers)

    def facet_values_indexed(self) -> bool:
        """Whether every document behind the alias has FACET_VALUES_FIELD (it has once the
        catalog was written or reindexed by this version), checked at most once a minute.

        Until then facets are counted one aggregation per facet, exactly as before, and a
        warning says to run `python -m services.content.reindex`.
        """
        now = time.monotonic()
        if self._facet_values_checked is None or now - self._facet_values_checked[0] > FACET_VALUES_RECHECK_S:
            missing = self._es().count(index=self.alias, query={"bool": {"must_not": {
                "exists": {"field": FACET_VALUES_FIELD}}}})["count"]
            if missing:
                log.warning("%d assets lack %s: facets are counted the slower way until "
                            "`python -m services.content.reindex` has run", missing, FACET_VALUES_FIELD)
            self._facet_values_checked = (now, not missing)
        return self._facet_values_checked[1]

    def _msearch(self, searches: Sequence[tuple[str | None, dict[str, Any]]]) -> list[dict[str, Any]]:
        """The responses of one `_msearch` of (index, body) pairs (None: the catalog); a failed
        one raises (UNAVAILABLE when retryable)."""
        lines: list[dict[str, Any]] = []
        for index, body in searches:
            lines += [{"index": index} if index else {}, body]
        responses = self._es().msearch(index=self.alias, searches=lines)["responses"]
        for response in responses:
            if "error" in response:
                status = int(response.get("status", 500))
                reason = json.dumps(response["error"])[:500]
                if status in es_common.RETRYABLE_STATUS:
                    raise errors.Unavailable(f"Elasticsearch search failed ({status}): {reason}")
                raise RuntimeError(f"Elasticsearch search failed ({status}): {reason}")
        return list(responses)


@dataclass
class SearchOutcome:
    """What `Store.search_assets` found: the page's raw hits, the exact total, the facet
    aggregations (empty without facets), whether the typo-tolerant query ran, and the
    responses of the searches passed as `also`."""

    hits: list[dict[str, Any]]
    total: int
    aggregations: dict[str, Any]
    fuzzy: bool
    also: list[dict[str, Any]] = field(default_factory=list)


# ---- query building (pure) -----------------------------------------------------------------

def expiry_cutoff(now: datetime | None = None) -> str:
    """The instant assets must outlive to be shown: the next whole UTC minute.

    A literal instant instead of Elasticsearch's `now` keeps the count-and-facet request
    cacheable (its shard request cache skips any request that reads `now`), so a repeated
    search, or the next page of one, reuses its counts until the minute or the index
    changes. Rounding up hides an asset up to a minute before it expires, never after.
    """
    now = now or datetime.now(timezone.utc)
    floor = now.astimezone(timezone.utc).replace(second=0, microsecond=0)
    return (floor + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def visibility_filter(curator: bool, include_expired: bool = False, now: datetime | None = None
                      ) -> list[dict[str, Any]]:
    """What the caller may see: reps only published, unexpired assets (checked at query
    time, so expiry needs no background job)."""
    unexpired = {"bool": {"should": [
        {"bool": {"must_not": {"exists": {"field": "expires_at"}}}},
        {"range": {"expires_at": {"gt": expiry_cutoff(now)}}},
    ], "minimum_should_match": 1}}
    if curator:
        return [] if include_expired else [unexpired]
    return [{"term": {"status": "published"}}, unexpired]


def filter_clauses(filters: Mapping[str, Sequence[str]]) -> dict[str, dict[str, Any]]:
    """facet name -> terms clause, for the non-empty filters (`expiry` -> its date range)."""
    return {name: expiry_clause(values[0]) if name == "expiry" else {"terms": {FACETS[name]: list(values)}}
            for name, values in filters.items() if values}


EXPIRING_SOON_DAYS = 30


def expiry_clause(window: str, now: datetime | None = None) -> dict[str, Any]:
    """Assets in one expiry window: expiring_soon, expired or no_expiry.

    The same minute-rounded cutoff as `visibility_filter`, so "expired" here is exactly
    what reps no longer see.
    """
    cutoff = expiry_cutoff(now)
    if window == "no_expiry":
        return {"bool": {"must_not": {"exists": {"field": "expires_at"}}}}
    if window == "expired":
        return {"range": {"expires_at": {"lte": cutoff}}}
    soon = (now or datetime.now(timezone.utc)) + timedelta(days=EXPIRING_SOON_DAYS)
    return {"range": {"expires_at": {"gt": cutoff, "lte": soon.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}}}


@dataclass(frozen=True)
class QueryWords:
    """A query split into what must match (`required`, `phrases`) and what may (`optional`)."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    phrases: tuple[str, ...]
    question: bool = False

    @property
    def text(self) -> str:
        """The meaningful words, for phrase boosts and highlighting."""
        return " ".join(self.phrases + self.required)


_PHRASE_RE = re.compile(r'"([^"]+)"')
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def query_words(query: str) -> QueryWords:
    """Split a query: quoted phrases, required words (stop words dropped) and soft words.

    A question such as "do we have a hipaa compliance document" keeps "hipaa compliance"
    as required and "document" as optional. When nothing meaningful is left (a query of
    stop words only) every word is required, so the query still means something.
    """
    phrases = tuple(p.strip() for p in _PHRASE_RE.findall(query) if _WORD_RE.search(p))
    rest = _PHRASE_RE.sub(" ", query)
    words = [w.lower() for w in _WORD_RE.findall(rest)]
    words = list(dict.fromkeys(words))
    required = [w for w in words if w not in STOP_WORDS and w not in SOFT_WORDS]
    optional = [w for w in words if w in SOFT_WORDS]
    question = bool(words) and (words[0] in QUESTION_STARTS or query.rstrip().endswith("?"))
    if not required and not phrases:
        required, optional, question = (optional or words), [], False
    return QueryWords(tuple(required), tuple(optional), phrases, question)


def singular(word: str) -> str:
    """English plural to singular, minimally ("studies" -> "study", "customers" -> "customer",
    "videos" -> "video"; "status", "boss" unchanged): the minimal Elasticsearch distribution
    has no stemmer, and fuzziness does not bridge "case studies" and "case study"."""
    if len(word) < 3 or not word.endswith("s") or word[-2] in "us":
        return word
    if word.endswith("ies") and len(word) > 4 and word[-4] not in "ae":
        return word[:-3] + "y"
    if word[-2] == "e" and word[-3] in "iaoe":
        return word
    return word[:-1]


def word_query(word: str, fuzzy: bool, tie_breaker: float = TIE_BREAKER) -> dict[str, Any]:
    """One query word (or its singular) matched in any text field; `fuzzy` also lets it match
    with a typo (FUZZINESS), exact matches then scoring twice a typo match."""
    exact = " ".join(dict.fromkeys([word, singular(word)]))
    exact_match = {"multi_match": {"query": exact, "fields": TEXT_FIELDS, "type": "best_fields",
                                   "tie_breaker": tie_breaker, "boost": 2}}
    if not fuzzy:
        return exact_match
    return {"dis_max": {"queries": [
        exact_match,
        {"multi_match": {"query": word, "fields": TEXT_FIELDS, "type": "best_fields", "tie_breaker": tie_breaker,
                         "fuzziness": FUZZINESS, "prefix_length": 1}},
    ]}}


def text_query(query: str, fuzzy: bool = False, candidates: bool = False) -> dict[str, Any]:
    """Relevance: every meaningful word must match in some field (across fields), phrases
    match exactly, and the words as a phrase in the title, labels or description rank first.
    `fuzzy` lets words match with a typo (the fallback when exact matching finds too little).

    Matching per word rather than per field is what makes "case study healthcare" find
    healthcare case studies (type and industry are in `labels`) instead of any document
    whose body says "case study".

    `candidates` matches exactly the same assets with a cheaper score (a word's best field
    only, no phrase or soft-word bonus), which lets Elasticsearch skip whatever cannot reach
    the first RESCORE_WINDOW; `text_rescore` then scores those with this full query.
    """
    if not query:
        return {"match_all": {}}
    words = query_words(query)
    tie_breaker = 0.0 if candidates else TIE_BREAKER
    must: list[dict[str, Any]] = [
        {"multi_match": {"query": p, "fields": TEXT_FIELDS, "type": "phrase"}} for p in words.phrases]
    if words.required:
        must.append({"bool": {"should": [word_query(w, fuzzy, tie_breaker) for w in words.required],
                              "minimum_should_match": QUESTION_WORDS_MATCHED if words.question
                              else MINIMUM_WORDS_MATCHED}})
    if candidates:
        return {"bool": {"must": must}}
    should: list[dict[str, Any]] = [word_query(w, fuzzy) for w in words.optional]
    if len(words.required) + len(words.phrases) > 1:
        should.append({"multi_match": {"query": words.text, "fields": PHRASE_FIELDS, "type": "phrase", "slop": 2,
                                       "boost": 2}})
    return {"bool": {"must": must, "should": should}}


def text_rescore(query: str, fuzzy: bool, pinned: dict[str, Any] | None, signals: bool) -> dict[str, Any]:
    """Score the best RESCORE_WINDOW candidates with the full text query (plus the pin bonus),
    times the signal factor when `signals`, replacing the candidates' cheaper score.

    At 100k assets the relevance-sorted hits request took 4.1 ms this way against 4.7 ms with
    the full query on every match (measured): a word's other fields (`tie_breaker`) and the
    phrase bonus keep Elasticsearch from skipping documents, the candidate score (best field
    only) lets it skip. The ranking is the
    full query's as long as its best results are among the window's candidates, which the
    judged relevance set checks (nDCG@10 unchanged to the third decimal).
    """
    full = text_query(query, fuzzy)
    if pinned:
        full = {"bool": {"must": [full], "should": [pinned]}}
    return {"window_size": RESCORE_WINDOW, "query": {
        "rescore_query": signal_factor(full) if signals else full, "query_weight": 0, "rescore_query_weight": 1,
        "score_mode": "total"}}


def signal_factor(of: dict[str, Any] | None = None) -> dict[str, Any]:
    """The signal factor in [1, 1 + MAX_SIGNAL_BOOST] of a document, as a query score
    (function_score, no scripts): log-damped usage and deal counts and the win rate. With
    `of`, that query's score times the factor."""
    return {"function_score": {
        "query": of or {"match_all": {}},
        "functions": [
            {"weight": 1},
            {"field_value_factor": {"field": "signals.usage_score", "modifier": "log1p", "missing": 0},
             "weight": USAGE_WEIGHT},
            {"field_value_factor": {"field": "signals.win_rate_lower", "missing": 0}, "weight": WIN_RATE_WEIGHT},
            {"field_value_factor": {"field": "signals.deals_closed", "modifier": "log1p", "missing": 0},
             "weight": DEALS_WEIGHT},
        ],
        "score_mode": "sum",
        "max_boost": 1 + MAX_SIGNAL_BOOST,
        "boost_mode": "multiply" if of else "replace",
    }}


def signal_rescore() -> dict[str, Any]:
    """Blend relevance with usage and win-rate signals: the text score of the best
    RESCORE_WINDOW matches is multiplied by the signal factor, so signals break near-ties only.

    A rescore (rather than wrapping the query) leaves the main query free to skip documents
    that cannot reach the window, and reads the signal fields of the window only.
    """
    return {"window_size": RESCORE_WINDOW, "query": {
        "rescore_query": signal_factor(), "query_weight": 1, "rescore_query_weight": 1, "score_mode": "multiply"}}


def pin_boost(filters: Mapping[str, Sequence[str]]) -> dict[str, Any] | None:
    """A score bonus for assets pinned to a stage the search filters by, or None without a stage filter.

    PIN_BOOST dwarfs any text score times the signal factor, so pinned assets come first
    and keep their text order among themselves; without a stage filter nothing is pinned.
    """
    stages = list(filters.get("buying_stage") or [])
    if not stages:
        return None
    return {"constant_score": {"filter": {"terms": {"pinned_stages": stages}}, "boost": PIN_BOOST}}


# Field sorts, paged with `search_after`; relevance is the score order, paged by offset
# (a rescore cannot be combined with an explicit sort).
SORTS: dict[str, list[Any]] = {
    "newest": [{"published_at": {"order": "desc", "missing": "_last"}}, {"created_at": "desc"}, {"asset_id": "asc"}],
    # Numeric sorts use -1 for "no signal yet" (real values are >= 0) so every sort value
    # is a finite JSON number that fits in a page token.
    "most_used": [{"signals.usage_score": {"order": "desc", "missing": -1}}, "_score", {"asset_id": "asc"}],
    "best_win_rate": [{"signals.win_rate_lower": {"order": "desc", "missing": -1}},
                      {"signals.deals_closed": {"order": "desc", "missing": -1}}, "_score", {"asset_id": "asc"}],
}
RELEVANCE = "relevance"


def build_search(query: str, filters: Mapping[str, Sequence[str]], curator: bool, sort: str, size: int,
                 search_after: list[Any] | None = None, include_expired: bool = False,
                 signals: bool = True, fuzzy: bool = False, offset: int = 0) -> dict[str, Any]:
    """The request for one page of hits; `signals=False` ranks by text alone (relevance
    measurements), `fuzzy` makes it typo-tolerant. `build_counts` gives its total and facets.

    It counts nothing (`track_total_hits: false`) and aggregates nothing, so Elasticsearch
    only scores the documents that can still make the page (top-k skipping).
    """
    ranked = sort == RELEVANCE and bool(query)
    body: dict[str, Any] = {
        "query": {"bool": {"must": [text_query(query, fuzzy, candidates=ranked)],
                           "filter": visibility_filter(curator, include_expired) + list(filter_clauses(filters).values())}},
        "size": size,
        "track_total_hits": False,
        "_source": {"excludes": SOURCE_EXCLUDES},
    }
    if sort == RELEVANCE:
        pinned = pin_boost(filters)
        if pinned:
            body["query"]["bool"]["should"] = [pinned]
        if offset:
            body["from"] = offset
        if ranked:
            body["rescore"] = text_rescore(query, fuzzy, pinned, signals)
        elif signals:
            body["rescore"] = signal_rescore()
    else:
        # No `track_scores`: scoring every match just to report it cost as much as the search
        # (the response's score is for the relevance sort only).
        body["sort"] = SORTS[sort]
        if search_after is not None:
            body["search_after"] = search_after
    if query:
        # The body only: the title and description are highlighted from the hits' source
        # (`highlight.add_to_hits`), for a fraction of what Elasticsearch's highlighter costs.
        body["highlight"] = {
            "pre_tags": ["<em>"], "post_tags": ["</em>"], "encoder": "html",
            "max_analyzed_offset": 999_999,
            # Highlight exact matches only: highlighting the fuzzy query re-expands every
            # typo variant per document and cost ~15x the search itself (measured).
            "highlight_query": {"match": {"body": " ".join(sorted(highlight.query_terms(
                query_words(query).text or query, singular)))}},
            "fields": {"body": {"fragment_size": 160, "number_of_fragments": 2}},
        }
    return body


def build_counts(query: str, filters: Mapping[str, Sequence[str]], curator: bool, include_expired: bool = False,
                 facets: bool = True, fuzzy: bool = False, one_field: bool = False) -> dict[str, Any]:
    """The request for the exact total and (`facets`) the facet counts of a search.

    The text query runs as a filter (matched, never scored). Filters go in `post_filter` and
    each facet aggregation applies every filter but its own, so a facet shows how many
    results picking another value would give (multi-select faceting); the total honours all
    filters. With `one_field` (the index has FACET_VALUES_FIELD for every document) the
    facets without a filter of their own, which all apply the same filters, are counted by
    one aggregation over that field; a facet the search filters by keeps its own.
    """
    clauses = filter_clauses(filters)
    body: dict[str, Any] = {
        "query": {"bool": {"filter": [text_query(query, fuzzy, candidates=True),
                                      *visibility_filter(curator, include_expired)]}},
        "size": 0,
        "track_total_hits": True,
    }
    if clauses:
        body["post_filter"] = {"bool": {"filter": list(clauses.values())}}
    wanted = [f for f in FACETS if curator or f != "status"] if facets else []
    aggs: dict[str, Any] = {}
    shared = [f for f in wanted if f not in clauses] if one_field else []
    if shared:
        aggs[FACET_VALUES_FIELD] = filtered_terms(
            list(clauses.values()),
            # Every value comes back, also of the facets it does not serve (their buckets are
            # skipped by `facet_counts`): an `include` pattern doubled the aggregation's cost.
            {"field": FACET_VALUES_FIELD, "size": FACET_SIZE * len(FACETS)},
            meta={"facets": shared})
    for facet in [f for f in wanted if f not in shared]:
        aggs[facet] = filtered_terms([c for name, c in clauses.items() if name != facet],
                                     {"field": FACETS[facet], "size": FACET_SIZE})
    if aggs:
        body["aggs"] = aggs
    return body


def filtered_terms(clauses: list[dict[str, Any]], terms: dict[str, Any],
                   meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """A terms aggregation over the matches that pass `clauses` (nested as "values" in a
    `filter` aggregation when there are clauses: an unneeded `match_all` filter costs a pass
    over the matches, about 0.2 ms per facet at 100k assets). `facet_buckets` reads both."""
    agg: dict[str, Any] = ({"filter": {"bool": {"filter": clauses}}, "aggs": {"values": {"terms": terms}}}
                           if clauses else {"terms": terms})
    if meta:
        agg["meta"] = meta
    return agg


def build_list(curator: bool, statuses: Sequence[str], owner: str, size: int,
               search_after: list[Any] | None) -> dict[str, Any]:
    filters: list[dict[str, Any]] = list(visibility_filter(curator, include_expired=True) if curator
                                         else visibility_filter(False))
    if statuses:
        filters.append({"terms": {"status": list(statuses)}})
    if owner:
        filters.append({"term": {"owner": owner}})
    body: dict[str, Any] = {
        "query": {"bool": {"filter": filters}},
        "size": size,
        "sort": [{"updated_at": "desc"}, {"asset_id": "asc"}],
        "track_total_hits": True,
        "_source": {"excludes": SOURCE_EXCLUDES},
    }
    if search_after is not None:
        body["search_after"] = search_after
    return body


def build_suggest(prefix: str, limit: int, curator: bool) -> dict[str, Any]:
    completion: dict[str, Any] = {
        "field": "suggest",
        "size": limit * 5,  # room for dropping expired assets and several inputs of one asset
        "skip_duplicates": True,
        "fuzzy": {"fuzziness": "AUTO", "prefix_length": 1},
    }
    # Context-enabled completion fields require contexts in every query.
    completion["contexts"] = {"status": ["published"] if not curator else ["draft", "published", "retired"]}
    return {"suggest": {"titles": {"prefix": prefix, "completion": completion}},
            "_source": ["asset_id", "title", "status", "expires_at"]}


def pick_suggestions(options: Iterable[Mapping[str, Any]], limit: int,
                     visible: Callable[[Mapping[str, Any]], bool]) -> list[tuple[str, str]]:
    """(asset_id, full title) of the completion options, best first: one per asset, and one
    per title (case-insensitive), since several assets often share a title and one asset
    matches through its title, its inner words and its tags. The completion option's own
    text is only the input that matched (a suffix, a tag), so the title comes from the source.
    """
    out: list[tuple[str, str]] = []
    seen_assets: set[str] = set()
    seen_titles: set[str] = set()
    for option in options:
        source = option.get("_source") or {}
        asset_id = str(source.get("asset_id") or option.get("_id", ""))
        title = str(source.get("title") or option.get("text", ""))
        key = " ".join(title.lower().split())
        if asset_id in seen_assets or key in seen_titles or not visible(source):
            continue
        seen_assets.add(asset_id)
        seen_titles.add(key)
        out.append((asset_id, title))
        if len(out) >= limit:
            break
    return out


def fingerprint(*parts: Any) -> str:
    """Binds a page token to the query it came from."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def facet_buckets(aggregation: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The buckets of a `filtered_terms` aggregation."""
    return aggregation.get("values", aggregation)["buckets"]


def facets_complete(aggregations: Mapping[str, Any]) -> bool:
    """False when the one-field facet aggregation left values out: more distinct values
    matched than it returns, so a facet with fewer than FACET_SIZE values may lack some
    (then the counts are asked again, one aggregation per facet)."""
    shared = aggregations.get(FACET_VALUES_FIELD)
    return shared is None or int(shared.get("values", shared).get("sum_other_doc_count", 0)) == 0


def facet_counts(aggregations: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, int]]]]:
    """(facet, [(value, count), ...]) in FACETS order, each facet's values by count then value."""
    found: dict[str, list[tuple[str, int]]] = {}
    if shared := aggregations.get(FACET_VALUES_FIELD):
        found = {facet: [] for facet in shared.get("meta", {}).get("facets", [])}
        for b in facet_buckets(shared):
            facet, _, value = str(b["key"]).partition(FACET_VALUE_SEPARATOR)
            if facet in found and len(found[facet]) < FACET_SIZE:
                found[facet].append((value, int(b["doc_count"])))
    for facet in FACETS:
        if facet in aggregations:
            found[facet] = [(str(b["key"]), int(b["doc_count"])) for b in facet_buckets(aggregations[facet])]
    return [(facet, found[facet]) for facet in FACETS if facet in found]


def dedupe_hits(hits: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """During a reindex the alias spans two indices; show each asset once."""
    seen: set[str] = set()
    out = []
    for hit in hits:
        if hit["_id"] not in seen:
            seen.add(hit["_id"])
            out.append(hit)
    return out
