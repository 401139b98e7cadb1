"""The content service's managed vocabularies as pages use them: labels for codes, pickers.

Fetched once per request (ListVocabularies is one small read), so a renamed label shows on
the next page load everywhere. When the content service cannot answer, pages fall back to
showing raw codes rather than failing: labels are a nicety, the asset itself is not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable

import grpc
from flask import Flask, g

from collateral.v1 import content_pb2

log = logging.getLogger(__name__)

# Asset field -> vocabulary name (the search facet's name).
VOCABULARY_FIELDS = FIELD_VOCABULARY = {"type": "type", "buying_stages": "buying_stage", "industries": "industry",
                    "personas": "persona", "products": "product", "regions": "region"}
LIST_FIELDS = ("industries", "personas", "products", "regions")


@dataclass(frozen=True)
class Choice:
    """One option of a picker: a term (or a value the asset carries that no active term has)."""

    code: str
    label: str
    retired: bool = False
    unknown: bool = False


def all_vocabularies() -> list[Any]:
    """Every vocabulary with its retired terms, for this request; [] when the service is down."""
    if "vocabularies" not in g:
        from services.portal.security import rpc

        try:
            reply = rpc("content", "ListVocabularies", content_pb2.ListVocabulariesRequest(include_retired=True),
                        timeout=5.0)
            g.vocabularies = list(reply.vocabularies)
        except grpc.RpcError as exc:
            log.warning("vocabularies unavailable", extra={"code": exc.code().name})
            g.vocabularies = []
    return g.vocabularies


def _terms(vocabulary: str) -> list[Any]:
    return next((list(v.terms) for v in all_vocabularies() if v.name == vocabulary), [])


def term_label(code: str, vocabulary: str) -> str:
    """The label of `code` in `vocabulary`; the raw code when it is in no vocabulary."""
    for term in _terms(vocabulary):
        if term.code == code:
            return term.label
    return code


def value_label(value: str, facet: str) -> str:
    """What a page shows for a facet or filter value: its term's label, an enum's display name, or the raw value."""
    from services.portal.filters import facet_value

    if facet in VOCABULARY_FIELDS.values():
        found = term_label(value, facet)
        if found != value or facet not in ("type", "buying_stage"):
            return found
    return facet_value(value, facet)


def enum_label(number: int, vocabulary: str) -> str:
    """The label of an asset's type or buying stage (proto enum numbers)."""
    from collateral.v1 import common_pb2

    enum, prefix = ((content_pb2.AssetType, "ASSET_TYPE_") if vocabulary == "type"
                    else (common_pb2.BuyingStage, "BUYING_STAGE_"))
    try:
        code = enum.Name(int(number))[len(prefix):].lower()
    except ValueError:
        return str(number)
    return value_label(code, vocabulary)


def is_retired(code: str, vocabulary: str) -> bool:
    return any(t.code == code and t.retired for t in _terms(vocabulary))


def choices(vocabulary: str, current: Iterable[str] = ()) -> list[Choice]:
    """Active terms, plus the values the asset carries already (retired or unknown), so an edit keeps them."""
    current = [c for c in current if c]
    terms = _terms(vocabulary) or _enum_fallback(vocabulary)
    out = [Choice(t.code, t.label) for t in terms if not t.retired]
    known = {t.code: t for t in terms}
    for code in current:
        if any(c.code == code for c in out):
            continue
        term = known.get(code)
        out.append(Choice(code, term.label if term else code, retired=term is not None, unknown=term is None))
    return out


def _enum_fallback(vocabulary: str) -> list[Any]:
    """Type and buying stage pickers keep working while the vocabularies cannot be read."""
    from services.portal.filters import ASSET_TYPES, BUYING_STAGES

    pairs = {"type": ASSET_TYPES, "buying_stage": BUYING_STAGES}.get(vocabulary, [])
    return [content_pb2.Term(vocabulary=vocabulary, code=code, label=label) for code, label in pairs]


def register(app: Flask) -> None:
    app.jinja_env.filters.update(term_label=term_label, value_label=value_label, enum_label=enum_label)
    # Facets show this many values, then a "Show all N" toggle with the rest.
    app.jinja_env.globals.update(vocab_choices=choices, term_retired=is_retired, FACET_FOLD=8)
