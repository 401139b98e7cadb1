"""Every state-changing RPC leaves an audit record: who, what, when, from where, before and after.

The RPCs are enumerated from the proto descriptors: a read is named Get/List/Search/...
(audit.READ_PREFIXES), everything else changes state and must be audited by its server
(`spec.audited`) or be listed as ingestion in audit.NOT_AUDITED, and must have a case
below that calls it with valid input; so a new RPC without audit fails here.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import grpc
import pytest
from google.protobuf import field_mask_pb2

from collateral.v1 import audit_pb2, content_pb2, feedback_pb2, usage_pb2
from services.common import audit, es as es_helpers
from services.feedback import gap_topics, stemming
from tests.conftest import wait_until
from tests.documents import make_pdf

pytestmark = pytest.mark.integration

PDF = "application/pdf"
MARKETER = "audit-marketer@example.com"
REP = "audit-rep@example.com"
CLIENT = "203.0.113.7"  # the end user's address, as a portal forwards it
SERVICES = ("ContentService", "UsageService", "FeedbackService")


@dataclass
class Expect:
    """One final record a case must leave."""

    target_id: str
    before: Callable[[dict[str, Any] | None], bool]
    after: Callable[[dict[str, Any] | None], bool]
    outcome: str = "OK"
    actor: str = MARKETER
    role: str = "marketer"


class Ctx:
    """What a case needs: stubs, the marketer's and the rep's call metadata, fresh ids."""

    def __init__(self, stubs: dict[str, Any], as_user: Callable) -> None:
        self.content, self.usage, self.feedback = stubs["content"], stubs["usage"], stubs["feedback"]
        self.m = as_user("marketer", MARKETER, CLIENT)
        self.r = as_user("rep", REP, CLIENT)

    @staticmethod
    def uid(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    def asset(self, publish: bool = False) -> content_pb2.Asset:
        pdf = make_pdf("audited collateral")
        created = self.content.CreateAsset(content_pb2.CreateAssetRequest(
            asset_id=self.uid("aud"), asset=content_pb2.Asset(title="Audit asset", type=content_pb2.ASSET_TYPE_DECK),
            file_content=pdf, file_name="a.pdf", content_type=PDF), metadata=self.m).asset
        if publish:
            created = self.content.PublishAsset(content_pb2.PublishAssetRequest(asset_id=created.asset_id),
                                                metadata=self.m).asset
        return created

    def share(self) -> usage_pb2.CreateShareLinkResponse:
        asset_id = self.asset(publish=True).asset_id
        return wait_until(lambda: self.usage.CreateShareLink(usage_pb2.CreateShareLinkRequest(
            asset_id=asset_id, opportunity_id="opp-audit"), metadata=self.r), what="the usage catalog view")

    def term(self) -> content_pb2.Term:
        return self.content.CreateTerm(content_pb2.CreateTermRequest(term=content_pb2.Term(
            vocabulary="industry", code=self.uid("t"), label="Audit term")), metadata=self.m).term


def files_of(doc: dict[str, Any] | None) -> int:
    return len((doc or {}).get("files") or [])


# ---- one case per audited RPC: call it with valid input, say which records must exist ----------

def create_asset(c: Ctx) -> list[Expect]:
    asset_id = c.uid("aud")
    c.content.CreateAsset(content_pb2.CreateAssetRequest(
        asset_id=asset_id, asset=content_pb2.Asset(title="Created", type=content_pb2.ASSET_TYPE_DECK)), metadata=c.m)
    return [Expect(asset_id, lambda b: b is None, lambda a: a["title"] == "Created" and a["status"] == "draft")]


def update_asset(c: Ctx) -> list[Expect]:
    a = c.asset()
    c.content.UpdateAsset(content_pb2.UpdateAssetRequest(
        asset=content_pb2.Asset(asset_id=a.asset_id, title="Renamed"), expected_version=a.version,
        update_mask=field_mask_pb2.FieldMask(paths=["title"])), metadata=c.m)
    return [Expect(a.asset_id, lambda b: b["title"] == "Audit asset" and "body" not in b,
                   lambda x: x["title"] == "Renamed" and x["version"] == a.version + 1)]


def publish_asset(c: Ctx) -> list[Expect]:
    a = c.asset()
    c.content.PublishAsset(content_pb2.PublishAssetRequest(asset_id=a.asset_id), metadata=c.m)
    return [Expect(a.asset_id, lambda b: b["status"] == "draft", lambda x: x["status"] == "published")]


def retire_asset(c: Ctx) -> list[Expect]:
    a = c.asset(publish=True)
    c.content.RetireAsset(content_pb2.RetireAssetRequest(asset_id=a.asset_id), metadata=c.m)
    return [Expect(a.asset_id, lambda b: b["status"] == "published", lambda x: x["status"] == "retired")]


def restore_asset(c: Ctx) -> list[Expect]:
    a = c.asset(publish=True)
    c.content.RetireAsset(content_pb2.RetireAssetRequest(asset_id=a.asset_id), metadata=c.m)
    c.content.RestoreAsset(content_pb2.RestoreAssetRequest(asset_id=a.asset_id), metadata=c.m)
    return [Expect(a.asset_id, lambda b: b["status"] == "retired", lambda x: x["status"] == "draft")]


def upload_file(c: Ctx) -> list[Expect]:
    a = c.asset()
    pdf = make_pdf("second version")
    header = content_pb2.UploadFileHeader(asset_id=a.asset_id, file_name="v2.pdf", content_type=PDF,
                                          size_bytes=len(pdf), sha256=hashlib.sha256(pdf).hexdigest())
    c.content.UploadFile(iter([content_pb2.UploadFileRequest(header=header),
                               content_pb2.UploadFileRequest(chunk=pdf)]), metadata=c.m)
    return [Expect(a.asset_id, lambda b: files_of(b) == 1, lambda x: files_of(x) == 2)]


def _upload_url(c: Ctx, asset_id: str, pdf: bytes) -> content_pb2.CreateUploadUrlResponse:
    return c.content.CreateUploadUrl(content_pb2.CreateUploadUrlRequest(
        asset_id=asset_id, file_name="p.pdf", content_type=PDF, size_bytes=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest()), metadata=c.m)


def create_upload_url(c: Ctx) -> list[Expect]:
    a = c.asset()
    _upload_url(c, a.asset_id, make_pdf("presigned"))
    return [Expect(a.asset_id, lambda b: files_of(b) == 1, lambda x: files_of(x) == 1)]


def complete_upload(c: Ctx) -> list[Expect]:
    a = c.asset()
    pdf = make_pdf("presigned upload")
    ticket = _upload_url(c, a.asset_id, pdf)
    put = urllib.request.Request(ticket.upload_url, data=pdf, method="PUT", headers=dict(ticket.headers))
    with urllib.request.urlopen(put, timeout=10) as response:
        assert response.status == 200
    c.content.CompleteUpload(content_pb2.CompleteUploadRequest(upload_id=ticket.upload_id), metadata=c.m)
    return [Expect(a.asset_id, lambda b: files_of(b) == 1, lambda x: files_of(x) == 2)]


def import_assets(c: Ctx) -> list[Expect]:
    ids = [c.uid("imp"), c.uid("imp")]
    items = []
    for i, asset_id in enumerate(ids):
        pdf = make_pdf(f"imported {i}")
        items.append(content_pb2.ImportAssetItem(
            asset_id=asset_id, asset=content_pb2.Asset(title=f"Imported {i}", type=content_pb2.ASSET_TYPE_DECK),
            file_content=pdf, file_name="i.pdf", content_type=PDF, sha256=hashlib.sha256(pdf).hexdigest()))
    c.content.ImportAssets(content_pb2.ImportAssetsRequest(items=items), metadata=c.m)
    return [Expect(asset_id, lambda b: b is None, lambda x, i=i: x["title"] == f"Imported {i}", outcome="CREATED")
            for i, asset_id in enumerate(ids)]


def create_term(c: Ctx) -> list[Expect]:
    code = c.uid("t")
    c.content.CreateTerm(content_pb2.CreateTermRequest(term=content_pb2.Term(
        vocabulary="industry", code=code, label="New term")), metadata=c.m)
    return [Expect(f"industry.{code}", lambda b: b is None, lambda x: x["label"] == "New term")]


def update_term(c: Ctx) -> list[Expect]:
    term = c.term()
    c.content.UpdateTerm(content_pb2.UpdateTermRequest(
        term=content_pb2.Term(vocabulary="industry", code=term.code, label="Relabelled"),
        update_mask=field_mask_pb2.FieldMask(paths=["label"])), metadata=c.m)
    return [Expect(f"industry.{term.code}", lambda b: b["label"] == "Audit term", lambda x: x["label"] == "Relabelled")]


def retire_term(c: Ctx) -> list[Expect]:
    term = c.term()
    c.content.RetireTerm(content_pb2.RetireTermRequest(vocabulary="industry", code=term.code), metadata=c.m)
    return [Expect(f"industry.{term.code}", lambda b: not b.get("retired"), lambda x: x["retired"] is True)]


def create_share_link(c: Ctx) -> list[Expect]:
    share = c.share().share
    return [Expect(share.share_id, lambda b: b is None,
                   lambda x: x["asset_id"] == share.asset_id and x["rep_id"] == REP, actor=REP, role="rep")]


def revoke_share_link(c: Ctx) -> list[Expect]:
    share = c.share().share
    c.usage.RevokeShareLink(usage_pb2.RevokeShareLinkRequest(share_id=share.share_id), metadata=c.r)
    return [Expect(share.share_id, lambda b: not b.get("revoked_at"), lambda x: x["revoked_by"] == REP,
                   actor=REP, role="rep")]


def reveal_share_link(c: Ctx) -> list[Expect]:
    share = c.share().share
    c.usage.RevealShareLink(usage_pb2.RevealShareLinkRequest(share_id=share.share_id), metadata=c.r)
    return [Expect(share.share_id, lambda b: b["share_id"] == share.share_id and "passcode_hash" not in b,
                   lambda x: x["share_id"] == share.share_id, actor=REP, role="rep")]


def create_room(c: Ctx) -> list[Expect]:
    asset_id = c.asset(publish=True).asset_id
    room = wait_until(lambda: c.usage.CreateRoom(usage_pb2.CreateRoomRequest(
        title="Audit room", asset_ids=[asset_id]), metadata=c.r), what="the usage catalog view").room
    return [Expect(room.room_id, lambda b: b is None,
                   lambda x: x["asset_ids"] == [asset_id] and x["rep_id"] == REP, actor=REP, role="rep")]


def revoke_room(c: Ctx) -> list[Expect]:
    asset_id = c.asset(publish=True).asset_id
    room = wait_until(lambda: c.usage.CreateRoom(usage_pb2.CreateRoomRequest(
        title="Audit room", asset_ids=[asset_id]), metadata=c.r), what="the usage catalog view").room
    c.usage.RevokeRoom(usage_pb2.RevokeRoomRequest(room_id=room.room_id), metadata=c.r)
    return [Expect(room.room_id, lambda b: not b.get("revoked_at"), lambda x: x["revoked_by"] == REP,
                   actor=REP, role="rep")]


def reveal_room_link(c: Ctx) -> list[Expect]:
    asset_id = c.asset(publish=True).asset_id
    room = wait_until(lambda: c.usage.CreateRoom(usage_pb2.CreateRoomRequest(
        title="Audit room", asset_ids=[asset_id], passcode="audit-pass"), metadata=c.r),
        what="the usage catalog view").room
    c.usage.RevealRoomLink(usage_pb2.RevealRoomLinkRequest(room_id=room.room_id), metadata=c.r)
    return [Expect(room.room_id, lambda b: b["room_id"] == room.room_id and "passcode_hash" not in b,
                   lambda x: x["room_id"] == room.room_id and "passcode_hash" not in x, actor=REP, role="rep")]


def update_notification_settings(c: Ctx) -> list[Expect]:
    c.usage.UpdateNotificationSettings(usage_pb2.UpdateNotificationSettingsRequest(settings=usage_pb2.NotificationSettings(
        portal_enabled=True, webhook_enabled=True, webhook_url="https://hooks.example.com/audit")), metadata=c.r)
    return [Expect(REP, lambda b: b is None,
                   lambda x: x["rep_id"] == REP and x["webhook_url"] == "https://hooks.example.com/audit",
                   actor=REP, role="rep")]


def mark_notifications_read(c: Ctx) -> list[Expect]:
    c.usage.MarkNotificationsRead(usage_pb2.MarkNotificationsReadRequest(all=True), metadata=c.r)
    return [Expect(REP, lambda b: b["unread_count"] >= 0, lambda x: x == {"unread_count": 0}, actor=REP, role="rep")]


def submit_rating(c: Ctx) -> list[Expect]:
    asset_id = c.uid("rated")
    c.feedback.SubmitRating(feedback_pb2.SubmitRatingRequest(asset_id=asset_id, rating=4, comment="useful"),
                            metadata=c.r)
    return [Expect(f"{asset_id}|{REP}", lambda b: b is None, lambda x: x["rating"] == 4, actor=REP, role="rep")]


def submit_content_request(c: Ctx) -> list[Expect]:
    request_id = c.uid("req")
    c.feedback.SubmitContentRequest(feedback_pb2.SubmitContentRequestRequest(
        request_id=request_id, description="A battle card against Acme"), metadata=c.r)
    return [Expect(request_id, lambda b: b is None, lambda x: x["description"] == "A battle card against Acme",
                   actor=REP, role="rep")]


def set_gap_status(c: Ctx) -> list[Expect]:
    text = f"{''.join(ch for ch in c.uid('') if ch.isalpha())}x audit gap checklist"
    c.feedback.SubmitContentRequest(feedback_pb2.SubmitContentRequestRequest(description=text), metadata=c.r)
    topic_id = gap_topics.topic_id_of_text(text, stemming.Stemmer(None))
    c.feedback.SetGapStatus(feedback_pb2.SetGapStatusRequest(topic_id=topic_id, status=feedback_pb2.GAP_STATUS_PLANNED),
                            metadata=c.m)
    return [Expect(topic_id, lambda b: b is None, lambda x: x["status"] == "planned" and x["updated_by"] == MARKETER)]


CASES: dict[str, Callable[[Ctx], list[Expect]]] = {
    "collateral.v1.ContentService/CreateAsset": create_asset,
    "collateral.v1.ContentService/UpdateAsset": update_asset,
    "collateral.v1.ContentService/PublishAsset": publish_asset,
    "collateral.v1.ContentService/RetireAsset": retire_asset,
    "collateral.v1.ContentService/RestoreAsset": restore_asset,
    "collateral.v1.ContentService/UploadFile": upload_file,
    "collateral.v1.ContentService/CreateUploadUrl": create_upload_url,
    "collateral.v1.ContentService/CompleteUpload": complete_upload,
    "collateral.v1.ContentService/ImportAssets": import_assets,
    "collateral.v1.ContentService/CreateTerm": create_term,
    "collateral.v1.ContentService/UpdateTerm": update_term,
    "collateral.v1.ContentService/RetireTerm": retire_term,
    "collateral.v1.UsageService/CreateShareLink": create_share_link,
    "collateral.v1.UsageService/RevokeShareLink": revoke_share_link,
    "collateral.v1.UsageService/RevealShareLink": reveal_share_link,
    "collateral.v1.UsageService/CreateRoom": create_room,
    "collateral.v1.UsageService/RevokeRoom": revoke_room,
    "collateral.v1.UsageService/RevealRoomLink": reveal_room_link,
    "collateral.v1.UsageService/UpdateNotificationSettings": update_notification_settings,
    "collateral.v1.UsageService/MarkNotificationsRead": mark_notifications_read,
    "collateral.v1.FeedbackService/SubmitRating": submit_rating,
    "collateral.v1.FeedbackService/SubmitContentRequest": submit_content_request,
    "collateral.v1.FeedbackService/SetGapStatus": set_gap_status,
}


def test_every_state_changing_rpc_is_audited_and_has_a_case(servers):
    audited = {f"{name}/{method}" for name, server in servers.items() for method in server.spec.audited}
    changing = audit.state_changing_rpcs()
    assert audited | set(audit.NOT_AUDITED) == changing, "every state-changing RPC is audited or declared ingestion"
    assert not audited & set(audit.NOT_AUDITED)
    assert set(CASES) == audited, "every audited RPC has a case in this test"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("action", sorted(CASES))
def test_each_state_changing_rpc_leaves_a_record(action, stubs, as_user, usage_consumer, find_records):
    expects = CASES[action](Ctx(stubs, as_user))
    for expect in expects:
        records = find_records(action=action, target_id=expect.target_id)
        assert len(records) == 1, [r.id for r in records]
        record = records[0]
        assert (record.actor, record.actor_role) == (expect.actor, expect.role)
        assert record.forwarded_for == CLIENT and record.peer.startswith(("ipv4:", "ipv6:"))
        assert record.service == action.split(".")[2].split("Service")[0].lower()
        assert record.target_kind and record.outcome == expect.outcome and record.time
        assert record.phase == audit_pb2.AUDIT_PHASE_FINAL
        before = json.loads(record.before_json) if record.before_json else None
        after = json.loads(record.after_json) if record.after_json else None
        assert expect.before(before), record.before_json[:2000]
        assert expect.after(after), record.after_json[:2000]
        assert after is None or "body" not in after  # extracted text stays out of the log


def test_an_attempt_entry_precedes_each_change_and_shares_its_id(stubs, as_user, find_records):
    c = Ctx(stubs, as_user)
    expect = publish_asset(c)[0]
    action = "collateral.v1.ContentService/PublishAsset"
    final = find_records(action=action, target_id=expect.target_id)[0]
    both = find_records(expected=2, action=action, target_id=expect.target_id, include_attempts=True)
    attempt = next(r for r in both if r.phase == audit_pb2.AUDIT_PHASE_ATTEMPT)
    assert attempt.change_id == final.change_id and attempt.outcome == "attempted"
    assert json.loads(attempt.before_json)["status"] == "draft" and attempt.after_json == ""
    assert attempt.time <= final.time


def test_a_refused_change_is_recorded_with_its_status(stubs, as_user, find_records):
    c = Ctx(stubs, as_user)
    a = c.asset()
    with pytest.raises(grpc.RpcError) as err:
        c.content.PublishAsset(content_pb2.PublishAssetRequest(asset_id=a.asset_id, expected_version=a.version + 5),
                               metadata=c.m)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    record = find_records(action="collateral.v1.ContentService/PublishAsset", target_id=a.asset_id)[0]
    assert record.outcome == "FAILED_PRECONDITION" and record.before_json == record.after_json


def test_no_change_is_made_when_the_audit_log_cannot_be_written(stubs, as_user, servers, audit_env):
    """The attempt entry comes first: with the audit index refusing writes the call answers
    UNAVAILABLE and the asset stays as it was."""
    c = Ctx(stubs, as_user)
    a = c.asset()
    es = es_helpers.client(audit_env)
    alias = audit_env.index(audit.ALIAS_NAME)
    es.indices.put_settings(index=alias, settings={"index.blocks.write": True})
    try:
        with pytest.raises(grpc.RpcError) as err:
            c.content.PublishAsset(content_pb2.PublishAssetRequest(asset_id=a.asset_id), metadata=c.m)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        es.indices.put_settings(index=alias, settings={"index.blocks.write": False})
        es.close()
    stored = c.content.GetAsset(content_pb2.GetAssetRequest(asset_id=a.asset_id), metadata=c.m).asset
    assert stored.status == content_pb2.ASSET_STATUS_DRAFT and stored.version == a.version


@pytest.mark.parametrize("role", ["rep", "marketer", "service"])
def test_only_admins_read_the_audit_log_on_every_server(role, stubs, as_user):
    for service in SERVICES:
        with pytest.raises(grpc.RpcError) as err:
            stubs["audit"][service].ListAuditRecords(audit_pb2.ListAuditRecordsRequest(),
                                                     metadata=as_user(role, f"{role}-x"))
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        reply = stubs["audit"][service].ListAuditRecords(audit_pb2.ListAuditRecordsRequest(page_size=1),
                                                         metadata=as_user("admin", "root"))
        assert reply.total_size >= 0


def test_records_page_newest_first_and_tokens_belong_to_their_query(stubs, as_user, find_records):
    c = Ctx(stubs, as_user)
    for _ in range(3):
        c.asset()
    records = find_records(expected=3, actor=MARKETER, action="collateral.v1.ContentService/CreateAsset")
    admin = as_user("admin", "root")
    request = audit_pb2.ListAuditRecordsRequest(actor=MARKETER, action="collateral.v1.ContentService/CreateAsset",
                                                page_size=1)
    seen, token = [], ""
    for _ in range(3):
        reply = stubs["audit"]["UsageService"].ListAuditRecords(
            audit_pb2.ListAuditRecordsRequest(page_token=token, **{f: getattr(request, f) for f in (
                "actor", "action", "page_size")}), metadata=admin)
        seen += list(reply.records)
        token = reply.next_page_token
        assert token
    assert [r.id for r in seen] == [r.id for r in records[:3]]
    assert [r.time for r in seen] == sorted((r.time for r in seen), reverse=True)
    with pytest.raises(grpc.RpcError) as err:
        stubs["audit"]["UsageService"].ListAuditRecords(audit_pb2.ListAuditRecordsRequest(
            actor="someone-else", page_token=token, page_size=1), metadata=admin)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
