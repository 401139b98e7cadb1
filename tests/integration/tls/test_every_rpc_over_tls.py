"""Every RPC of the API, called over TLS (mutual TLS for usage) with a sensible request.

The RPCs are listed from the generated descriptors, so an RPC added to the protos fails
here until it has a request below, and AuditService, which every server serves, is called
on each of them. A call passes when its handler answered: OK, or a status a handler gives
a request it refuses (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, ...). UNAVAILABLE
is what a failed handshake looks like (a server left in plaintext, an untrusted
certificate, a missing client certificate), and INTERNAL, UNKNOWN or DEADLINE_EXCEEDED
mean the call never completed; none of those passes. Requests the seeded data makes valid
must answer OK, so the call went all the way through the handler and back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import (audit_pb2, common_pb2, content_pb2, content_pb2_grpc, feedback_pb2, feedback_pb2_grpc,
                           usage_pb2, usage_pb2_grpc)
from services.common import config, grpc_channel
from services.common.consumer import ConsumerLoop
from services.feedback import gap_topics, stemming
from services.usage.consumer import UsageProcessor
from tests.conftest import wait_until
from tests.documents import make_pdf
from tests.integration.grpc_calls import call_method
from tests.integration.tls.conftest import Pki, client_settings

PROTO_MODULES = (content_pb2, usage_pb2, feedback_pb2, audit_pb2)
# Which test server serves each service; AuditService is served by every server.
SERVERS = {
    "collateral.v1.ContentService": ("content",),
    "collateral.v1.UsageService": ("usage",),
    "collateral.v1.FeedbackService": ("feedback",),
    "collateral.v1.AuditService": ("content", "usage", "feedback"),
}
# Statuses only a handler gives: the call crossed TLS, was authenticated and was answered.
HANDLER_ANSWERS = frozenset({
    grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED,
})
CALL_TIMEOUT_S = 30.0
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _services() -> list[ServiceDescriptor]:
    return [s for module in PROTO_MODULES for s in module.DESCRIPTOR.services_by_name.values()]


def _calls() -> list[tuple[ServiceDescriptor, MethodDescriptor, str]]:
    """(service, method, server) for every RPC of the API on every server that serves it."""
    return [(s, m, server) for s in _services() for m in s.methods for server in SERVERS.get(s.full_name, ("none",))]


def _ts(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# ---- seeded data -------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Seeds:
    """What the requests refer to, created over TLS before the calls; each mutating RPC has its own target
    so the calls pass in any order."""

    pdf: bytes
    published: str  # published, with a PDF; read, rendered, shared, rated
    draft: str  # draft with a PDF; receives uploads
    to_update: tuple[str, int]  # (asset id, version)
    to_publish: str  # draft with a PDF
    to_retire: str  # published
    to_restore: str  # retired
    upload_id: str  # a file PUT to a presigned URL, not completed yet
    term_to_update: tuple[str, int]  # (industry code, version)
    term_to_retire: str  # industry code
    share_token: str  # a share link of `published`
    share_to_revoke: str  # share id of another share link of `published`
    share_to_reveal: str = ""  # share id of the link of share_token (copied again)
    room_token: str = ""  # a deal room of `published`
    room_to_revoke: str = ""  # room id of another deal room of `published`
    room_to_reveal: str = ""  # room id of the deal room of room_token (copied again)
    gap_topic: str = ""  # a content-gap topic (a content request nobody else makes)


def _trusting_with_certificate(tls_env: config.Settings, pki: Pki) -> config.Settings:
    return client_settings(tls_env, grpc_tls_ca=pki.ca_crt, grpc_tls_client_cert=pki.client_crt,
                           grpc_tls_client_key=pki.client_key)


@pytest.fixture(scope="module")
def channels(tls_env: config.Settings, pki: Pki, tls_servers: dict[str, str], mtls_usage: str
             ) -> Iterator[dict[str, grpc.Channel]]:
    """TLS channels to the three servers, presenting the client certificate (usage requires it)."""
    settings = _trusting_with_certificate(tls_env, pki)
    addresses = {**tls_servers, "usage": mtls_usage}
    opened = {name: grpc_channel.channel(address, settings) for name, address in addresses.items()}
    yield opened
    for channel in opened.values():
        channel.close()


@pytest.fixture(scope="module")
def usage_consumer(tls_env: config.Settings) -> Iterator[ConsumerLoop]:
    """The usage consumer, so the usage service's catalog view learns the seeded assets (share links need it)."""
    loop = ConsumerLoop(UsageProcessor(tls_env), tls_env)
    thread = threading.Thread(target=loop.run, name="tls-usage-consumer", daemon=True)
    thread.start()
    yield loop
    loop.stop()
    thread.join(timeout=30)


def _create(content: content_pb2_grpc.ContentServiceStub, metadata: Any, pdf: bytes | None, title: str) -> Any:
    asset = content_pb2.Asset(title=title, type=content_pb2.ASSET_TYPE_DECK, industries=["healthcare"])
    request = content_pb2.CreateAssetRequest(asset_id=_new_id("tls"), asset=asset)
    if pdf is not None:
        request.file_content, request.file_name, request.content_type = pdf, "tls.pdf", "application/pdf"
    return content.CreateAsset(request, metadata=metadata, timeout=CALL_TIMEOUT_S).asset


def _seed_assets(content: content_pb2_grpc.ContentServiceStub, metadata: Any, pdf: bytes) -> dict[str, Any]:
    published, to_retire, to_restore = (_create(content, metadata, pdf, f"TLS {n} deck")
                                        for n in ("published", "retire", "restore"))
    for asset in (published, to_retire, to_restore):
        content.PublishAsset(content_pb2.PublishAssetRequest(asset_id=asset.asset_id), metadata=metadata,
                             timeout=CALL_TIMEOUT_S)
    content.RetireAsset(content_pb2.RetireAssetRequest(asset_id=to_restore.asset_id), metadata=metadata,
                        timeout=CALL_TIMEOUT_S)
    to_update = _create(content, metadata, None, "TLS draft to update")
    return dict(published=published.asset_id, to_retire=to_retire.asset_id, to_restore=to_restore.asset_id,
                draft=_create(content, metadata, pdf, "TLS draft").asset_id,
                to_publish=_create(content, metadata, pdf, "TLS draft to publish").asset_id,
                to_update=(to_update.asset_id, to_update.version))


def _presigned_upload(content: content_pb2_grpc.ContentServiceStub, metadata: Any, asset_id: str, pdf: bytes) -> str:
    """An upload id whose object is in S3, ready for CompleteUpload."""
    ticket = content.CreateUploadUrl(content_pb2.CreateUploadUrlRequest(
        asset_id=asset_id, file_name="tls.pdf", content_type="application/pdf", size_bytes=len(pdf), sha256=_sha(pdf)),
        metadata=metadata, timeout=CALL_TIMEOUT_S)
    put = urllib.request.Request(ticket.upload_url, data=pdf, method="PUT", headers=dict(ticket.headers))
    with urllib.request.urlopen(put, timeout=CALL_TIMEOUT_S) as answer:
        assert answer.status == 200
    return ticket.upload_id


def _seed_term(content: content_pb2_grpc.ContentServiceStub, metadata: Any) -> content_pb2.Term:
    term = content_pb2.Term(vocabulary="industry", code=_new_id("tls"), label="TLS industry")
    return content.CreateTerm(content_pb2.CreateTermRequest(term=term), metadata=metadata, timeout=CALL_TIMEOUT_S).term


def _seed_share(usage: usage_pb2_grpc.UsageServiceStub, metadata: Any, asset_id: str) -> Any:
    """A share link, once the usage service knows the asset (through the consumer)."""
    request = usage_pb2.CreateShareLinkRequest(asset_id=asset_id, opportunity_id="opp-tls")
    return wait_until(lambda: usage.CreateShareLink(request, metadata=metadata, timeout=CALL_TIMEOUT_S), 90,
                      what="a share link of the seeded asset")


@pytest.fixture(scope="module")
def seeds(channels: dict[str, grpc.Channel], usage_consumer: ConsumerLoop, call_as: Callable[..., Any]) -> Seeds:
    content = content_pb2_grpc.ContentServiceStub(channels["content"])
    usage = usage_pb2_grpc.UsageServiceStub(channels["usage"])
    admin = call_as("admin")
    pdf = make_pdf("collateral over TLS")
    assets = _seed_assets(content, admin, pdf)
    term_to_update, term_to_retire = _seed_term(content, admin), _seed_term(content, admin)
    share = _seed_share(usage, admin, assets["published"])
    other_share = _seed_share(usage, admin, assets["published"])
    room, other_room = (usage.CreateRoom(usage_pb2.CreateRoomRequest(title="TLS room", asset_ids=[assets["published"]]),
                                         metadata=admin, timeout=CALL_TIMEOUT_S) for _ in range(2))
    gap_topic = _seed_gap_topic(feedback_pb2_grpc.FeedbackServiceStub(channels["feedback"]), call_as("rep"))
    return Seeds(gap_topic=gap_topic, room_token=room.token, room_to_revoke=other_room.room.room_id, pdf=pdf, **assets, upload_id=_presigned_upload(content, admin, assets["draft"], pdf),
                 term_to_update=(term_to_update.code, term_to_update.version), term_to_retire=term_to_retire.code,
                 share_token=share.token, share_to_revoke=other_share.share.share_id,
                 share_to_reveal=share.share.share_id, room_to_reveal=room.room.room_id)


def _seed_gap_topic(feedback: Any, rep: Any) -> str:
    text = "Quokka onboarding guide over TLS"
    feedback.SubmitContentRequest(feedback_pb2.SubmitContentRequestRequest(description=text), metadata=rep,
                                  timeout=CALL_TIMEOUT_S)
    return gap_topics.topic_id_of_text(text, stemming.Stemmer(None))


# ---- one request per RPC ---------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Case:
    """How to call one RPC: as whom, with which request (a list for client streams)."""

    role: str
    request: Callable[[Seeds], Any]


def _last_30_days() -> common_pb2.TimeRange:
    return common_pb2.TimeRange(start=_ts(NOW - timedelta(days=30)), end=_ts(NOW + timedelta(minutes=1)))


def _import_item(s: Seeds) -> content_pb2.ImportAssetItem:
    asset = content_pb2.Asset(title="TLS import", type=content_pb2.ASSET_TYPE_ONE_PAGER)
    return content_pb2.ImportAssetItem(
        asset_id=_new_id("tls-import"), asset=asset, file_content=s.pdf, file_name="import.pdf",
        content_type="application/pdf", sha256=_sha(s.pdf))


def _upload_stream(s: Seeds) -> list[content_pb2.UploadFileRequest]:
    header = content_pb2.UploadFileHeader(asset_id=s.draft, file_name="stream.pdf", content_type="application/pdf",
                                          size_bytes=len(s.pdf), sha256=_sha(s.pdf))
    half = len(s.pdf) // 2
    return [content_pb2.UploadFileRequest(header=header), content_pb2.UploadFileRequest(chunk=s.pdf[:half]),
            content_pb2.UploadFileRequest(chunk=s.pdf[half:])]


def _won_deal() -> feedback_pb2.DealOutcome:
    return feedback_pb2.DealOutcome(
        opportunity_id=_new_id("opp-tls"), account_id="acct-tls", owner_rep_id="rep-tls",
        stage=feedback_pb2.DEAL_STAGE_WON, amount=1200.0, currency="EUR", created_at=_ts(NOW - timedelta(days=30)),
        closed_at=_ts(NOW - timedelta(days=1)), updated_at=_ts(NOW - timedelta(hours=1)), industry="Retail",
        region="EMEA", team="north")


C, U, F, A = content_pb2, usage_pb2, feedback_pb2, audit_pb2
CASES: dict[str, Case] = {
    # content
    "ContentService.CreateAsset": Case("marketer", lambda s: C.CreateAssetRequest(
        asset_id=_new_id("tls-new"), asset=C.Asset(title="TLS new deck", type=C.ASSET_TYPE_DECK), file_content=s.pdf,
        file_name="new.pdf", content_type="application/pdf", sha256=_sha(s.pdf))),
    "ContentService.GetAsset": Case("rep", lambda s: C.GetAssetRequest(asset_id=s.published)),
    "ContentService.UpdateAsset": Case("marketer", lambda s: C.UpdateAssetRequest(
        asset=C.Asset(asset_id=s.to_update[0], title="TLS draft, updated"),
        update_mask=field_mask_pb2.FieldMask(paths=["title"]), expected_version=s.to_update[1])),
    "ContentService.PublishAsset": Case("marketer", lambda s: C.PublishAssetRequest(asset_id=s.to_publish)),
    "ContentService.RetireAsset": Case("marketer", lambda s: C.RetireAssetRequest(asset_id=s.to_retire)),
    "ContentService.RestoreAsset": Case("marketer", lambda s: C.RestoreAssetRequest(asset_id=s.to_restore)),
    "ContentService.ListAssets": Case("marketer", lambda s: C.ListAssetsRequest(page_size=5)),
    "ContentService.UploadFile": Case("marketer", _upload_stream),
    "ContentService.CreateUploadUrl": Case("marketer", lambda s: C.CreateUploadUrlRequest(
        asset_id=s.draft, file_name="later.pdf", content_type="application/pdf", size_bytes=len(s.pdf),
        sha256=_sha(s.pdf))),
    "ContentService.CompleteUpload": Case("marketer", lambda s: C.CompleteUploadRequest(upload_id=s.upload_id)),
    "ContentService.GetDownloadUrl": Case("rep", lambda s: C.GetDownloadUrlRequest(asset_id=s.published)),
    "ContentService.RenderPage": Case("rep", lambda s: C.RenderPageRequest(asset_id=s.published, page=1, width=200)),
    "ContentService.SearchAssets": Case("rep", lambda s: C.SearchAssetsRequest(query="deck", page_size=5)),
    "ContentService.Suggest": Case("rep", lambda s: C.SuggestRequest(prefix="TLS", limit=5)),
    "ContentService.ListVocabularies": Case("rep", lambda s: C.ListVocabulariesRequest()),
    "ContentService.CreateTerm": Case("marketer", lambda s: C.CreateTermRequest(
        term=C.Term(vocabulary="industry", code=_new_id("tls"), label="TLS created industry"))),
    "ContentService.UpdateTerm": Case("marketer", lambda s: C.UpdateTermRequest(
        term=C.Term(vocabulary="industry", code=s.term_to_update[0], label="TLS industry, renamed"),
        update_mask=field_mask_pb2.FieldMask(paths=["label"]), expected_version=s.term_to_update[1])),
    "ContentService.RetireTerm": Case("marketer", lambda s: C.RetireTermRequest(vocabulary="industry",
                                                                              code=s.term_to_retire)),
    "ContentService.ImportAssets": Case("admin", lambda s: C.ImportAssetsRequest(items=[_import_item(s)])),
    # usage
    "UsageService.RecordEvents": Case("service", lambda s: U.RecordEventsRequest(events=[U.UsageEvent(
        event_id=_new_id("tls-event"), type=U.USAGE_EVENT_TYPE_VIEW, asset_id=s.published, rep_id="rep-tls",
        occurred_at=_ts(NOW))])),
    "UsageService.CreateShareLink": Case("rep", lambda s: U.CreateShareLinkRequest(
        asset_id=s.published, opportunity_id="opp-tls", recipient_note="over TLS")),
    "UsageService.ResolveShareLink": Case("service", lambda s: U.ResolveShareLinkRequest(token=s.share_token)),
    "UsageService.RevokeShareLink": Case("admin", lambda s: U.RevokeShareLinkRequest(share_id=s.share_to_revoke)),
    "UsageService.ListShareLinks": Case("admin", lambda s: U.ListShareLinksRequest(page_size=5)),
    "UsageService.RevealShareLink": Case("admin", lambda s: U.RevealShareLinkRequest(share_id=s.share_to_reveal)),
    "UsageService.GetAssetUsage": Case("marketer", lambda s: U.GetAssetUsageRequest(
        asset_id=s.published, time_range=_last_30_days(), interval=U.USAGE_INTERVAL_DAY)),
    "UsageService.TopAssets": Case("marketer", lambda s: U.TopAssetsRequest(
        measure=U.USAGE_MEASURE_VIEWS, time_range=_last_30_days(), limit=5)),
    "UsageService.ListUnusedAssets": Case("marketer", lambda s: U.ListUnusedAssetsRequest(page_size=5)),
    "UsageService.GetAdoptionOverview": Case("marketer", lambda s: U.GetAdoptionOverviewRequest(
        time_range=_last_30_days(), movers_limit=5)),
    "UsageService.CreateRoom": Case("rep", lambda s: U.CreateRoomRequest(title="Over TLS", asset_ids=[s.published])),
    "UsageService.ResolveRoom": Case("service", lambda s: U.ResolveRoomRequest(token=s.room_token)),
    "UsageService.RevokeRoom": Case("admin", lambda s: U.RevokeRoomRequest(room_id=s.room_to_revoke)),
    "UsageService.ListRooms": Case("rep", lambda s: U.ListRoomsRequest(page_size=5)),
    "UsageService.GetRoomEngagement": Case("admin", lambda s: U.GetRoomEngagementRequest(room_id=s.room_to_revoke)),
    "UsageService.RevealRoomLink": Case("admin", lambda s: U.RevealRoomLinkRequest(room_id=s.room_to_reveal)),
    "UsageService.ListHotAccounts": Case("rep", lambda s: U.ListHotAccountsRequest(window_days=7, page_size=5)),
    "UsageService.GetNotificationSettings": Case("rep", lambda s: U.GetNotificationSettingsRequest()),
    "UsageService.UpdateNotificationSettings": Case("rep", lambda s: U.UpdateNotificationSettingsRequest(
        settings=U.NotificationSettings(portal_enabled=True, webhook_enabled=True,
                                        webhook_url="https://hooks.example.com/tls"))),
    "UsageService.ListNotifications": Case("rep", lambda s: U.ListNotificationsRequest(page_size=5)),
    "UsageService.MarkNotificationsRead": Case("rep", lambda s: U.MarkNotificationsReadRequest(all=True)),
    # feedback
    "FeedbackService.RecordDealOutcomes": Case("service", lambda s: F.RecordDealOutcomesRequest(
        outcomes=[_won_deal()])),
    "FeedbackService.GetWinRates": Case("marketer", lambda s: F.GetWinRatesRequest(asset_ids=[s.published])),
    "FeedbackService.ListAssetWinRates": Case("marketer", lambda s: F.ListAssetWinRatesRequest(page_size=5)),
    "FeedbackService.GetAttribution": Case("marketer", lambda s: F.GetAttributionRequest(page_size=5)),
    "FeedbackService.GetAssetScorecards": Case("marketer", lambda s: F.GetAssetScorecardsRequest(
        asset_ids=[s.published])),
    "FeedbackService.SubmitRating": Case("rep", lambda s: F.SubmitRatingRequest(
        asset_id=s.published, rating=5, comment="clear over TLS")),
    "FeedbackService.SubmitContentRequest": Case("rep", lambda s: F.SubmitContentRequestRequest(
        description="A TLS deployment checklist", buying_stage=common_pb2.BUYING_STAGE_DECISION)),
    "FeedbackService.ListFeedback": Case("marketer", lambda s: F.ListFeedbackRequest(asset_id=s.published,
                                                                                     page_size=5)),
    "FeedbackService.ListContentRequests": Case("rep", lambda s: F.ListContentRequestsRequest(page_size=5)),
    "FeedbackService.GetContentGaps": Case("marketer", lambda s: F.GetContentGapsRequest(limit=5)),
    "FeedbackService.GetGapTopic": Case("marketer", lambda s: F.GetGapTopicRequest(topic_id=s.gap_topic)),
    "FeedbackService.SetGapStatus": Case("marketer", lambda s: F.SetGapStatusRequest(
        topic_id=s.gap_topic, status=F.GAP_STATUS_PLANNED)),
    "FeedbackService.ListOpportunities": Case("rep", lambda s: F.ListOpportunitiesRequest(query="tls", page_size=5)),
    "FeedbackService.GetOpportunities": Case("rep", lambda s: F.GetOpportunitiesRequest(opportunity_ids=["opp-tls"])),
    "FeedbackService.GetAccounts": Case("rep", lambda s: F.GetAccountsRequest(account_ids=["acct-tls"])),
    # audit, on every server
    "AuditService.ListAuditRecords": Case("admin", lambda s: A.ListAuditRecordsRequest(page_size=5)),
}


def test_every_rpc_of_the_api_has_a_request_here():
    """An RPC added to the protos (or a service no server here serves) fails until it is called over TLS."""
    listed = {f"{s.name}.{m.name}" for s in _services() for m in s.methods}
    assert listed == set(CASES), f"missing: {sorted(listed - set(CASES))}, stale: {sorted(set(CASES) - listed)}"
    assert {s.full_name for s in _services()} == set(SERVERS)


# ---- the calls -------------------------------------------------------------------------------

@pytest.mark.parametrize("service,method,server", _calls(), ids=lambda v: getattr(v, "name", v))
def test_every_rpc_is_answered_by_its_handler_over_tls(service: ServiceDescriptor, method: MethodDescriptor,
                                                       server: str, channels: dict[str, grpc.Channel], seeds: Seeds,
                                                       call_as: Callable[..., Any]):
    assert server in channels, f"no server of this suite serves {service.full_name}"
    case = CASES[f"{service.name}.{method.name}"]
    code, details = call_method(channels[server], service, method, case.request(seeds), call_as(case.role),
                                CALL_TIMEOUT_S, parse_response=True)
    assert code in HANDLER_ANSWERS, f"{service.name}.{method.name} on {server} over TLS: {code.name} {details}"
    assert code == grpc.StatusCode.OK, (f"{service.name}.{method.name} on {server} refused a request the seeded "
                                        f"data makes valid: {code.name} {details}")
