"""The shared Elasticsearch client decodes responses with orjson and encodes requests as before."""

from __future__ import annotations

import json
import math

from elasticsearch.serializer import JsonSerializer

from services.common import config, es as es_util


def _client_serializer(mimetype: str):
    return es_util.client(config.load(namespace="unit")).transport.serializers.get_serializer(mimetype)


def test_responses_in_compatibility_mode_and_plain_json_use_the_orjson_decoder() -> None:
    for mimetype in ("application/json", "application/vnd.elasticsearch+json"):
        assert isinstance(_client_serializer(mimetype), es_util.OrjsonDecodingSerializer)


def test_decoding_matches_the_standard_library_on_aggregation_responses() -> None:
    body = {"took": 3, "aggregations": {"a": {"buckets": [
        {"key": "asset-00001", "doc_count": 12, "amount": {"value": 1234567.8901234567}},
        {"key": "é|ü", "doc_count": 0, "amount": {"value": None}},
        {"key": "x", "doc_count": 2**53 + 1, "amount": {"value": 1e-300}},
    ]}}}
    raw = json.dumps(body).encode()
    decoded = es_util.OrjsonDecodingSerializer().loads(raw)
    assert decoded == json.loads(raw)
    assert es_util.OrjsonDecodingSerializer().loads(b"") is None  # empty bodies stay None


def test_encoding_is_the_standard_librarys() -> None:
    doc = {"amount": math.nan, "n": 1, "d": {"k": [1.5, "s"]}}
    assert es_util.OrjsonDecodingSerializer().dumps(doc) == JsonSerializer().dumps(doc)
