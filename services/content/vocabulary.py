"""Managed vocabularies: the codes assets may carry in their categorical fields, with labels.

Asset type, buying stage, industry, persona, product and region are each a vocabulary of
terms (code + label + optional description and order). Assets store codes, so facets,
filters and catalog events stay stable while marketers rename labels; pages and facets show
the labels. New values must be active terms, so a typo ("helthcare") is refused instead of
becoming a facet value nobody can find. A retired term stays valid on the assets that
already carry it (they keep it through later edits) but cannot be picked again.

Terms live in the small `<namespace>-vocabulary` index (behind its alias); the service's
store setup creates it and seeds the defaults below with `op_type=create`, so a restart never
overwrites a marketer's edits. Type and buying stage are enums in the API: their codes are
fixed, only their labels, descriptions, order and retirement change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from collateral.v1 import content_pb2
from services.common import config, errors, es as es_common
from services.common.errors import InvalidArgument
from services.common.grpc_server import remaining_timeout
from services.content import model

ALIAS_NAME = "vocabulary"
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_LABEL = 100
MAX_DESCRIPTION = 500
MAX_ORDER = 10_000
MAX_TERMS = 1_000  # per vocabulary; facets ask for up to FACET_VALUES values
MUTABLE_TERM_FIELDS = ("label", "description", "order")
WHERE_TO_LOOK = "valid values: ListVocabularies, or Manage > Vocabularies in the portal"


@dataclass(frozen=True)
class Spec:
    """One vocabulary: its name (the search facet's), label, asset field and default terms."""

    name: str
    label: str
    asset_field: str
    defaults: tuple[tuple[str, str], ...]
    fixed_codes: bool = False


SPECS: tuple[Spec, ...] = (
    Spec("type", "Type", "type", (
        ("deck", "Deck"), ("case_study", "Case study"), ("one_pager", "One-pager"), ("battle_card", "Battle card"),
        ("video", "Video"), ("whitepaper", "Whitepaper"), ("email_template", "Email template"),
        ("roi_calculator", "ROI calculator"), ("datasheet", "Datasheet"), ("webinar", "Webinar"),
        ("demo_script", "Demo script"), ("proposal_template", "Proposal template"), ("other", "Other")),
        fixed_codes=True),
    Spec("buying_stage", "Buying stage", "buying_stages", (
        ("awareness", "Awareness"), ("consideration", "Consideration"), ("decision", "Decision"),
        ("onboarding", "Onboarding"), ("expansion", "Expansion")), fixed_codes=True),
    Spec("industry", "Industry", "industries", (
        ("healthcare", "Healthcare"), ("financial-services", "Financial services"), ("insurance", "Insurance"),
        ("manufacturing", "Manufacturing"), ("retail", "Retail"), ("software", "Software"),
        ("public-sector", "Public sector"), ("education", "Education"), ("energy", "Energy and utilities"),
        ("life-sciences", "Life sciences"), ("telecommunications", "Telecommunications"),
        ("media", "Media and entertainment"), ("transportation", "Transportation and logistics"))),
    Spec("persona", "Persona", "personas", (
        ("cfo", "CFO"), ("cio", "CIO"), ("cto", "CTO"), ("ciso", "CISO"), ("vp-sales", "VP of Sales"),
        ("it-director", "IT director"), ("it-admin", "IT administrator"), ("procurement", "Procurement"),
        ("end-user", "End user"))),
    Spec("product", "Product", "products", (
        ("analytics", "Analytics"), ("platform", "Platform"), ("security", "Security"),
        ("integrations", "Integrations"))),
    Spec("region", "Region", "regions", (
        ("na", "North America"), ("amer", "Americas"), ("latam", "Latin America"), ("emea", "EMEA"),
        ("apac", "APAC"))),
)
BY_NAME: dict[str, Spec] = {s.name: s for s in SPECS}
BY_FIELD: dict[str, Spec] = {s.asset_field: s for s in SPECS}


# ---- validation (pure) ------------------------------------------------------------------

def check_vocabulary(name: str, field_path: str = "term.vocabulary") -> Spec:
    if not name:
        raise InvalidArgument(field_path, "is required")
    if name not in BY_NAME:
        raise InvalidArgument(field_path, f"unknown vocabulary {name[:64]!r}; one of {', '.join(BY_NAME)}")
    return BY_NAME[name]


def check_code(code: str, field_path: str = "term.code") -> str:
    if not code:
        raise InvalidArgument(field_path, "is required")
    if not CODE_RE.match(code):
        raise InvalidArgument(field_path, "must be 1-64 of a-z 0-9 - _, starting with a letter or digit "
                                          "(e.g. 'financial-services')")
    return code


def check_label(label: str, field_path: str = "term.label") -> str:
    text = " ".join(label.split())
    if not text:
        raise InvalidArgument(field_path, "must not be empty")
    if len(text) > MAX_LABEL:
        raise InvalidArgument(field_path, f"at most {MAX_LABEL} characters")
    return text


def check_description(text: str, field_path: str = "term.description") -> str:
    if len(text) > MAX_DESCRIPTION:
        raise InvalidArgument(field_path, f"at most {MAX_DESCRIPTION} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise InvalidArgument(field_path, "must not contain control characters")
    return text.strip()


def check_order(order: int, field_path: str = "term.order") -> int:
    if not 0 <= order <= MAX_ORDER:
        raise InvalidArgument(field_path, f"must be between 0 and {MAX_ORDER}")
    return order


def term_doc(spec: Spec, code: str, label: str, description: str = "", order: int = 0,
             actor: str = "") -> dict[str, Any]:
    """A new term as indexed."""
    now = model.now_iso()
    return {"vocabulary": spec.name, "code": code, "label": label, "description": description, "order": order,
            "retired": False, "version": 1, "created_at": now, "updated_at": now, "updated_by": actor}


def new_term(term: content_pb2.Term, actor: str) -> dict[str, Any]:
    """The validated document of a CreateTerm request."""
    spec = check_vocabulary(term.vocabulary)
    code = check_code(term.code)
    if spec.fixed_codes and code not in dict(spec.defaults):
        raise InvalidArgument("term.code", f"the codes of {spec.name} are the API's enum values "
                                           f"({', '.join(dict(spec.defaults))}); rename their labels instead")
    return term_doc(spec, code, check_label(term.label), check_description(term.description),
                    check_order(term.order), actor)


def apply_term_mask(doc: dict[str, Any], term: content_pb2.Term, paths: Sequence[str], actor: str
                    ) -> dict[str, Any] | None:
    """The term after UpdateTerm's masked fields changed, or None when nothing changes."""
    changed = dict(doc)
    for path in paths:
        if path == "label":
            changed["label"] = check_label(term.label)
        elif path == "description":
            changed["description"] = check_description(term.description)
        elif path == "order":
            changed["order"] = check_order(term.order)
    if all(changed.get(p) == doc.get(p) for p in paths):
        return None
    changed["version"] = int(doc.get("version", 0)) + 1
    changed["updated_at"] = model.now_iso()
    changed["updated_by"] = actor
    return changed


def check_mask(paths: Sequence[str]) -> list[str]:
    if not paths:
        raise InvalidArgument("update_mask", f"name at least one of {', '.join(MUTABLE_TERM_FIELDS)}")
    for path in paths:
        if path not in MUTABLE_TERM_FIELDS:
            raise InvalidArgument("update_mask", f"unknown or read-only field {path[:64]!r}; "
                                                 f"one of {', '.join(MUTABLE_TERM_FIELDS)}")
    return list(dict.fromkeys(paths))


def term_to_proto(doc: Mapping[str, Any]) -> content_pb2.Term:
    out = content_pb2.Term(vocabulary=doc["vocabulary"], code=doc["code"], label=doc.get("label", ""),
                           description=doc.get("description", "") or "", order=int(doc.get("order") or 0),
                           retired=bool(doc.get("retired")), version=int(doc.get("version") or 0))
    if ts := model.iso_to_ts(doc.get("updated_at")):
        out.update_time.CopyFrom(ts)
    return out


def sort_key(doc: Mapping[str, Any]) -> tuple[int, str, str]:
    return int(doc.get("order") or 0), str(doc.get("label", "")).lower(), str(doc["code"])


# ---- the terms of every vocabulary, for validation and labels --------------------------------

@dataclass
class Terms:
    """Every term by vocabulary and code; answers "which code is this value" and "what is its label"."""

    by_vocabulary: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def of(cls, docs: Iterable[Mapping[str, Any]]) -> "Terms":
        out: dict[str, dict[str, dict[str, Any]]] = {s.name: {} for s in SPECS}
        for doc in docs:
            if doc.get("vocabulary") in out:
                out[doc["vocabulary"]][doc["code"]] = dict(doc)
        # Enum codes are valid even before their terms are stored (fixed vocabularies).
        for spec in SPECS:
            if spec.fixed_codes:
                for order, (code, label) in enumerate(spec.defaults):
                    out[spec.name].setdefault(code, {**term_doc(spec, code, label, order=order * 10), "version": 0})
        return cls(out)

    def terms(self, vocabulary: str, include_retired: bool = True) -> list[dict[str, Any]]:
        docs = self.by_vocabulary.get(vocabulary, {}).values()
        return sorted((d for d in docs if include_retired or not d.get("retired")), key=sort_key)

    def term(self, vocabulary: str, code: str) -> dict[str, Any] | None:
        return self.by_vocabulary.get(vocabulary, {}).get(code)

    def label(self, vocabulary: str, code: str) -> str:
        """The term's label; empty for a value in no vocabulary (the caller shows the raw code)."""
        term = self.term(vocabulary, code)
        return str(term["label"]) if term else ""

    def resolve(self, vocabulary: str, value: str) -> dict[str, Any] | None:
        """The term a client's value names: its code, or its label, case and spacing ignored."""
        wanted = " ".join(value.split()).lower()
        terms = self.by_vocabulary.get(vocabulary, {})
        if wanted in terms:
            return terms[wanted]
        return next((t for t in terms.values() if str(t.get("label", "")).lower() == wanted), None)


def _refusal(spec: Spec, terms: Terms, value: str, retired: bool) -> str:
    active = [t["code"] for t in terms.terms(spec.name, include_retired=False)]
    shown = ", ".join(active[:30]) + (", ..." if len(active) > 30 else "")
    why = "is a retired term" if retired else "is not a term"
    return f"{value[:100]!r} {why} of the {spec.name} vocabulary ({shown}; {WHERE_TO_LOOK})"


def check_values(doc: dict[str, Any], terms: Terms, asset_fields: Iterable[str],
                 previous: Mapping[str, Any] | None = None, prefix: str = "asset") -> dict[str, Any]:
    """`doc` with its vocabulary fields as codes; INVALID_ARGUMENT naming the field and value otherwise.

    A value the asset already carried (`previous`) may stay even when it is retired or in no
    vocabulary (stored before vocabularies existed), so editing one field never forces a
    marketer to clean up another.
    """
    previous = previous or {}
    for asset_field in asset_fields:
        spec = BY_FIELD.get(asset_field)
        if spec is None:
            continue
        had = previous.get(asset_field)
        kept = set(had if isinstance(had, list) else [had] if had else [])
        if asset_field == "type":
            if doc.get("type"):
                doc["type"] = _checked(spec, terms, doc["type"], kept, f"{prefix}.type")
            continue
        values = [_checked(spec, terms, v, kept, f"{prefix}.{asset_field}[{i}]")
                  for i, v in enumerate(doc.get(asset_field) or [])]
        doc[asset_field] = list(dict.fromkeys(values))
    return doc


def _checked(spec: Spec, terms: Terms, value: str, kept: set[str], field_path: str) -> str:
    if value in kept:
        return value
    term = terms.resolve(spec.name, value)
    if term is not None and term["code"] in kept:
        return str(term["code"])
    if term is None or term.get("retired"):
        raise InvalidArgument(field_path, _refusal(spec, terms, value, term is not None))
    return str(term["code"])


# ---- storage ---------------------------------------------------------------------------------

def mappings() -> dict[str, Any]:
    keyword = {"type": "keyword"}
    return {"dynamic": False, "properties": {
        "vocabulary": keyword, "code": keyword, "label": {"type": "keyword", "ignore_above": 256},
        "description": {"type": "text"}, "order": {"type": "integer"}, "retired": {"type": "boolean"},
        "version": {"type": "long"}, "created_at": {"type": "date"}, "updated_at": {"type": "date"},
        "updated_by": keyword,
    }}


def doc_id(vocabulary: str, code: str) -> str:
    return f"{vocabulary}.{code}"


# The request all_terms sends (also batched into SearchAssets' `_msearch`).
ALL_TERMS: dict[str, Any] = {"size": len(SPECS) * MAX_TERMS, "query": {"match_all": {}},
                             "sort": [{"vocabulary": "asc"}, {"code": "asc"}]}


class VocabularyStore:
    """Terms in `<namespace>-vocabulary`, read whole (a few hundred documents at most)."""

    def __init__(self, settings: config.Settings, es: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = es or es_common.client(settings)
        self.alias = settings.index(ALIAS_NAME)

    def _es(self) -> Elasticsearch:
        return self.es.options(request_timeout=remaining_timeout(self.settings.es_request_timeout_s))

    def ensure(self) -> None:
        """Create the index (idempotent) and seed the default terms without touching stored ones."""
        es_common.ensure_alias(self.es, self.alias, es_common.index_body(self.settings, mappings()))
        operations: list[dict[str, Any]] = []
        for spec in SPECS:
            for order, (code, label) in enumerate(spec.defaults):
                operations += [{"create": {"_index": self.alias, "_id": doc_id(spec.name, code)}},
                               term_doc(spec, code, label, order=order * 10, actor="defaults")]
        result = self.es.bulk(operations=operations, refresh="wait_for")
        failed = [i for i in result["items"] if i["create"].get("status") not in (200, 201, 409)]
        if failed:
            raise RuntimeError(f"seeding vocabulary terms failed: {failed[0]['create'].get('error')}")

    @es_common.timed("search")
    def all_terms(self) -> Terms:
        return Terms.of(h["_source"] for h in self._es().search(index=self.alias, **ALL_TERMS)["hits"]["hits"])

    @es_common.timed("create")
    def create(self, doc: dict[str, Any]) -> dict[str, Any]:
        if len(self.all_terms().terms(doc["vocabulary"])) >= MAX_TERMS:
            raise errors.FailedPrecondition(f"the {doc['vocabulary']} vocabulary already has {MAX_TERMS} terms")
        try:
            self._es().create(index=self.alias, id=doc_id(doc["vocabulary"], doc["code"]), document=doc,
                              refresh="wait_for")
        except ConflictError:
            raise errors.AlreadyExists(f"term {doc['code']!r} already exists in the {doc['vocabulary']} "
                                       "vocabulary (perhaps retired)") from None
        return doc

    @es_common.timed("update")
    def update(self, vocabulary: str, code: str,
               mutate: Callable[[dict[str, Any]], dict[str, Any] | None], attempts: int = 8) -> dict[str, Any]:
        """Read, mutate, write conditionally (a lost race re-reads); NOT_FOUND for an unknown term."""
        for _ in range(attempts):
            try:
                hit = self._es().get(index=self.alias, id=doc_id(vocabulary, code))
            except NotFoundError:
                hit = None
            if hit is None or not hit.get("found", True):
                raise errors.NotFound(f"term {code!r} not found in the {vocabulary} vocabulary")
            new = mutate(dict(hit["_source"]))
            if new is None:
                return dict(hit["_source"])
            try:
                self._es().index(index=self.alias, id=doc_id(vocabulary, code), document=new,
                                 if_seq_no=hit["_seq_no"], if_primary_term=hit["_primary_term"], refresh="wait_for")
                return new
            except ConflictError:
                continue
        raise errors.Unavailable(f"term {code!r} is changing too often; retry")
