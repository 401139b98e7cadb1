"""The catalog's expiry filter of SearchAssets: expiring within 30 days, expired, no expiry."""

from __future__ import annotations

import time

import grpc
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2

from collateral.v1 import content_pb2

from tests.integration.content.content_helpers import code_of

pytestmark = pytest.mark.integration

DAY = 86400


def _at(offset_s: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=int(time.time()) + offset_s)


def _found(stub, metadata, tag: str, window: int) -> set[str]:
    reply = stub.SearchAssets(content_pb2.SearchAssetsRequest(
        filters=content_pb2.SearchFilters(tags=[tag], expiry=window, include_expired=True)), metadata=metadata)
    return {h.asset.title for h in reply.hits}


def test_expiry_windows(stub, call_as, new_asset, unique):
    m = call_as("marketer")
    new_asset("soon", tags=[unique], expires_at=_at(10 * DAY))
    new_asset("later", tags=[unique], expires_at=_at(90 * DAY))
    new_asset("never", tags=[unique])
    gone = new_asset("gone", tags=[unique], expires_at=_at(5 * DAY))
    stub.UpdateAsset(content_pb2.UpdateAssetRequest(
        asset=content_pb2.Asset(asset_id=gone.asset_id, expires_at=_at(-DAY)),
        update_mask=field_mask_pb2.FieldMask(paths=["expires_at"]), expected_version=gone.version), metadata=m)
    assert _found(stub, m, unique, content_pb2.EXPIRY_WINDOW_UNSPECIFIED) == {"soon", "later", "never", "gone"}
    assert _found(stub, m, unique, content_pb2.EXPIRY_WINDOW_EXPIRING_SOON) == {"soon"}
    assert _found(stub, m, unique, content_pb2.EXPIRY_WINDOW_EXPIRED) == {"gone"}
    assert _found(stub, m, unique, content_pb2.EXPIRY_WINDOW_NO_EXPIRY) == {"never"}
    # Expired implies include_expired: a curator need not ask twice.
    reply = stub.SearchAssets(content_pb2.SearchAssetsRequest(filters=content_pb2.SearchFilters(
        tags=[unique], expiry=content_pb2.EXPIRY_WINDOW_EXPIRED)), metadata=m)
    assert [h.asset.title for h in reply.hits] == ["gone"]


def test_expiry_filter_is_for_curators_and_checked(stub, call_as):
    rep = content_pb2.SearchAssetsRequest(filters=content_pb2.SearchFilters(
        expiry=content_pb2.EXPIRY_WINDOW_EXPIRING_SOON))
    code, _ = code_of(lambda: stub.SearchAssets(rep, metadata=call_as("rep")))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    bad = content_pb2.SearchAssetsRequest(filters=content_pb2.SearchFilters(expiry=99))
    code, violations = code_of(lambda: stub.SearchAssets(bad, metadata=call_as("marketer")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and violations[0][0] == "filters.expiry"


def test_catalog_upkeep_searches_publish_no_search_event(stub, call_as, new_asset, unique, stack):
    """Curators browsing drafts, retired or expired assets are not reps searching: no impression, no gap."""
    from services.common import topics
    from tests.integration.content.content_helpers import read_topic

    new_asset(f"Upkeep {unique}")
    m = call_as("marketer", "catalog-upkeep")
    for filters in (content_pb2.SearchFilters(include_expired=True),
                    content_pb2.SearchFilters(statuses=[content_pb2.ASSET_STATUS_DRAFT]),
                    content_pb2.SearchFilters(expiry=content_pb2.EXPIRY_WINDOW_NO_EXPIRY)):
        stub.SearchAssets(content_pb2.SearchAssetsRequest(query=f"{unique} upkeep", filters=filters), metadata=m)
    # Published after the upkeep searches by the same publisher: once it is on the topic, they would be too.
    rep_search = stub.SearchAssets(content_pb2.SearchAssetsRequest(query=unique), metadata=call_as("rep"))
    events = read_topic(stack, topics.SEARCHES.name(stack), lambda e: unique in e["query"])
    assert [e["search_id"] for e in events] == [rep_search.search_id]
