"""Facet counts from the one `facet_values` field, against a brute-force count on the real Elasticsearch.

A catalog written before the field existed is counted one aggregation per facet until
`python -m services.content.reindex` has run; the counts are the same either way, and when
the one-field aggregation could not return every value it asks again per facet.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from collateral.v1 import content_pb2
from services.common import es as es_common
from services.content import model, reindex, store
from tests.conftest import isolated

pytestmark = pytest.mark.integration

INDUSTRIES = ["healthcare", "retail", "banking", "energy"]
REGIONS = ["emea", "amer", "apac"]
TYPES = [content_pb2.ASSET_TYPE_DECK, content_pb2.ASSET_TYPE_CASE_STUDY, content_pb2.ASSET_TYPE_ONE_PAGER]
SEARCHES: list[tuple[str, dict[str, list[str]]]] = [
    ("", {}),
    ("", {"industry": ["healthcare"]}),
    ("pricing", {"industry": ["healthcare", "retail"], "region": ["emea"]}),
    ("pricing", {"type": ["deck"], "tag": ["t1"]}),
]


def catalog(rng: random.Random) -> list[dict[str, Any]]:
    docs = []
    for i in range(120):
        doc = model.new_doc(f"facet-{i:03d}", content_pb2.Asset(
            title=f"Asset {i}", description="pricing guide" if i % 3 else "onboarding", type=rng.choice(TYPES),
            tags=rng.sample([f"t{k}" for k in range(12)], 2), industries=rng.sample(INDUSTRIES, rng.randint(0, 2)),
            regions=rng.sample(REGIONS, 1)), f"owner-{i % 4}@example.com")
        doc["status"] = "draft" if i % 10 == 0 else "published"
        docs.append(doc)
    return docs


def expected(docs: list[dict[str, Any]], query: str, filters: dict[str, list[str]]) -> dict[str, list[tuple[str, int]]]:
    """Each facet counted over the visible matches that pass every filter but its own."""
    def values(doc: dict[str, Any], facet: str) -> list[str]:
        value = doc.get(store.FACETS[facet])
        return [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]

    matches = [d for d in docs if d["status"] == "published" and (not query or query in d["description"])]
    out = {}
    for facet in [f for f in store.FACETS if f != "status"]:
        passing = [d for d in matches if all(set(values(d, other)) & set(wanted)
                                             for other, wanted in filters.items() if other != facet)]
        counts = Counter(v for d in passing for v in values(d, facet))
        out[facet] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:store.FACET_SIZE]
    return out


def facets_of(index: store.Store, query: str, filters: dict[str, list[str]]) -> tuple[dict[str, Any], dict[str, Any]]:
    found = index.search_assets(query, filters, curator=False, sort=store.RELEVANCE, size=5, fuzzy=False)
    return dict(store.facet_counts(found.aggregations)), found.aggregations


def test_one_field_facets_match_a_brute_force_count_before_and_after_the_reindex(stack, monkeypatch):
    settings = isolated(stack, "facets")
    index = store.Store(settings)
    index.ensure()
    docs = catalog(random.Random(11))
    # Written by a version without the field: no `facet_values` in the documents.
    operations = [{"action": {"index": {"_index": index.alias, "_id": d["asset_id"]}},
                   "source": {k: v for k, v in store.indexable(d).items() if k != store.FACET_VALUES_FIELD}}
                  for d in docs]
    es_common.bulk(index.es, operations, refresh=True)
    try:
        assert not index.facet_values_indexed()
        for query, filters in SEARCHES:
            counted, aggregations = facets_of(index, query, filters)
            assert store.FACET_VALUES_FIELD not in aggregations  # one aggregation per facet
            assert counted == expected(docs, query, filters), (query, filters)

        reindex.run(settings, show_progress=False)
        index = store.Store(settings)
        assert index.facet_values_indexed()
        for query, filters in SEARCHES:
            counted, aggregations = facets_of(index, query, filters)
            assert set(aggregations) == {store.FACET_VALUES_FIELD, *filters}  # one, plus each filtered facet
            assert counted == expected(docs, query, filters), (query, filters)

        # Too many distinct values for one aggregation's buckets: asked again per facet, still exact.
        monkeypatch.setattr(store, "FACET_SIZE", 2)
        for query, filters in SEARCHES:
            counted, aggregations = facets_of(index, query, filters)
            if not filters:  # 20 buckets for 30 values; a filtered search's few matches may fit
                assert store.FACET_VALUES_FIELD not in aggregations
            assert counted == expected(docs, query, filters), (query, filters)
    finally:
        for name in es_common.concrete_indices(index.es, index.alias):
            index.es.indices.delete(index=name, ignore_unavailable=True)
