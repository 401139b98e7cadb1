"""The audit log's pure logic: which RPCs are changes, the read query, what a record keeps."""

from __future__ import annotations

import json

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import audit_pb2, content_pb2, usage_pb2
from services.common import audit, errors


@pytest.mark.parametrize("name,changing", [
    ("GetAsset", False), ("ListAssets", False), ("SearchAssets", False), ("Suggest", False), ("RenderPage", False),
    ("TopAssets", False), ("ResolveShareLink", False), ("ListAuditRecords", False),
    ("CreateAsset", True), ("RetireTerm", True), ("ImportAssets", True), ("SubmitRating", True),
    ("RevokeShareLink", True), ("RecordEvents", True), ("DeleteAsset", True),
])
def test_an_rpc_is_a_change_unless_named_as_a_read(name, changing):
    assert audit.is_state_changing(name) is changing


def test_ingestion_rpcs_are_the_only_changes_not_audited():
    assert set(audit.NOT_AUDITED) == {"collateral.v1.UsageService/RecordEvents",
                                      "collateral.v1.FeedbackService/RecordDealOutcomes"}


def test_the_default_query_lists_final_entries_only():
    query = audit.build_query(audit_pb2.ListAuditRecordsRequest())
    assert query == {"bool": {"filter": [{"term": {"phase": "final"}}]}}
    assert audit.build_query(audit_pb2.ListAuditRecordsRequest(include_attempts=True)) == {"bool": {"filter": []}}


def test_filters_become_exact_terms_and_a_half_open_time_range():
    request = audit_pb2.ListAuditRecordsRequest(actor="a@x", action="collateral.v1.ContentService/UpdateAsset",
                                                target_kind="asset", target_id="deck-1", outcome="OK")
    request.time_range.start.FromSeconds(1_700_000_000)
    request.time_range.end.FromSeconds(1_700_086_400)
    filters = audit.build_query(request)["bool"]["filter"]
    assert {"term": {"actor": "a@x"}} in filters and {"term": {"target_id": "deck-1"}} in filters
    assert {"term": {"outcome": "OK"}} in filters and {"term": {"target_kind": "asset"}} in filters
    assert {"range": {"time": {"gte": 1_700_000_000_000, "lt": 1_700_086_400_000, "format": "epoch_millis"}}} in filters


def test_bad_filters_are_invalid_argument_on_their_field():
    with pytest.raises(errors.InvalidArgument) as err:
        audit.build_query(audit_pb2.ListAuditRecordsRequest(actor="x" * 5000))
    assert err.value.field == "actor"
    request = audit_pb2.ListAuditRecordsRequest()
    request.time_range.start.CopyFrom(Timestamp(seconds=-99_999_999_999))
    with pytest.raises(errors.InvalidArgument) as err:
        audit.build_query(request)
    assert err.value.field == "time_range.start"


def test_before_and_after_leave_out_extracted_text_and_secrets():
    stored = {"asset_id": "a", "title": "T", "body": "x" * 10_000, "suggest": ["t"], "password_hash": "scrypt:..."}
    assert audit.sanitized(stored) == {"asset_id": "a", "title": "T"}
    assert audit.sanitized(None) is None


def test_an_entry_round_trips_into_a_record():
    entry = audit.Entry("c1", audit.FINAL, audit.Actor("m@x", "marketer"), audit.Origin("ipv4:10.0.0.2:5", "203.0.113.7"),
                        "content", "collateral.v1.ContentService/UpdateAsset", "asset", "deck-1", audit.OK,
                        before={"title": "Old", "body": "text"}, after={"title": "New"})
    record = audit.record_of(entry.document())
    assert (record.change_id, record.phase, record.actor, record.actor_role) == \
        ("c1", audit_pb2.AUDIT_PHASE_FINAL, "m@x", "marketer")
    assert (record.peer, record.forwarded_for, record.target_kind, record.target_id, record.outcome) == \
        ("ipv4:10.0.0.2:5", "203.0.113.7", "asset", "deck-1", "OK")
    assert json.loads(record.before_json) == {"title": "Old"} and json.loads(record.after_json) == {"title": "New"}
    assert record.time.endswith("Z") and len(record.id) == 32
    attempt = audit.record_of({**entry.document(), "phase": audit.ATTEMPT, "after": None})
    assert attempt.phase == audit_pb2.AUDIT_PHASE_ATTEMPT and attempt.after_json == ""


def test_targets_are_read_from_the_request_or_the_response():
    assert audit.field_of("asset", "asset_id")(content_pb2.UpdateAssetRequest(
        asset=content_pb2.Asset(asset_id="deck-1"))) == ["deck-1"]
    assert audit.field_of("asset_id")(content_pb2.CreateAssetRequest()) == []
    response = usage_pb2.CreateShareLinkResponse(share=usage_pb2.ShareLink(share_id="s1"))
    assert audit.response_field("share", "share_id")(None, response) == [("s1", "OK")]


def test_command_line_tools_act_as_system():
    assert audit.system_actor("services.portal.users") == audit.Actor("cli:services.portal.users", "system")


class _RefusesAfter:
    """An audit log that stores `stored` entries, then refuses every later one."""

    def __init__(self, stored: int) -> None:
        self.stored = stored
        self.entries: list[audit.Entry] = []

    def append(self, entry: audit.Entry) -> None:
        if len(self.entries) >= self.stored:
            raise errors.Unavailable("the audit log cannot be written")
        self.entries.append(entry)


def _record(log: _RefusesAfter, changed: list[str]) -> str:
    return audit.record_change(log, audit.system_actor("tool"), audit.Origin(peer="host:h"), "portal",  # type: ignore[arg-type]
                               "portal/users.passwd", "user", "a@example.com", lambda _id: {"v": len(changed)},
                               lambda: changed.append("done") or "result")


def test_a_change_whose_final_entry_is_refused_still_reports_what_it_did() -> None:
    changed: list[str] = []
    log = _RefusesAfter(stored=1)
    assert _record(log, changed) == "result"
    assert changed == ["done"]
    assert [e.phase for e in log.entries] == [audit.ATTEMPT]


def test_no_change_is_made_when_its_attempt_entry_is_refused() -> None:
    changed: list[str] = []
    with pytest.raises(errors.Unavailable):
        _record(_RefusesAfter(stored=0), changed)
    assert changed == []
