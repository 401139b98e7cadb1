"""Deal outcomes in: gRPC ingest (validation, roles, broker ack), raw Kafka, the DLQ, the CSV importer."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from kafka import KafkaConsumer

from collateral.v1 import feedback_pb2
from services.common import grpc_server, topics
from tests.conftest import process_env
from tests.integration.feedback.conftest import produce, wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def ts(when: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(when)
    return t


NOW = datetime.now(timezone.utc).replace(microsecond=0)


def outcome(opp: str, **overrides) -> feedback_pb2.DealOutcome:
    fields = dict(opportunity_id=opp, account_id="acct-ingest", owner_rep_id="rep-9", stage=feedback_pb2.DEAL_STAGE_WON,
                  amount=1200.0, currency="EUR", created_at=ts(NOW - timedelta(days=30)), closed_at=ts(NOW - timedelta(days=1)),
                  updated_at=ts(NOW - timedelta(hours=1)), industry="Retail", region="EMEA", team="north")
    fields.update(overrides)
    return feedback_pb2.DealOutcome(**fields)


def get_deal(es, names, opp):
    es.indices.refresh(index=names.deals)
    found = es.options(ignore_status=404).get(index=names.deals, id=opp)
    return found["_source"] if found.get("found") else None


def test_record_outcomes_reach_the_deals_index(feedback, call_as, feedback_consumer, feedback_es, feedback_names):
    opp = f"opp-{uuid.uuid4().hex[:8]}"
    response = feedback.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(outcomes=[outcome(opp)]),
                                           metadata=call_as("service", "crm-connector"))
    assert len(response.event_ids) == 1 and response.event_ids[0].startswith(opp + "@")
    deal = wait_until(lambda: get_deal(feedback_es, feedback_names, opp), what="the deal")
    # An account never seen in usage is kept; segment labels are normalised to lower case.
    assert deal["stage"] == "won" and deal["amount"] == 1200.0 and deal["account_id"] == "acct-ingest"
    assert deal["industry"] == "retail" and deal["region"] == "emea"
    # An older snapshot never overwrites a newer one; a newer one does.
    old = outcome(opp, stage=feedback_pb2.DEAL_STAGE_LOST, updated_at=ts(NOW - timedelta(hours=2)))
    new = outcome(opp, amount=1500.0, updated_at=ts(NOW - timedelta(minutes=5)))
    feedback.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(outcomes=[new, old]), metadata=call_as("admin"))
    wait_until(lambda: (get_deal(feedback_es, feedback_names, opp) or {}).get("amount") == 1500.0, what="the newer amount")
    feedback_consumer.wait_idle()
    assert get_deal(feedback_es, feedback_names, opp)["stage"] == "won"


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"opportunity_id": ""}, "outcomes[0].opportunity_id"),
        ({"stage": feedback_pb2.DEAL_STAGE_UNSPECIFIED}, "outcomes[0].stage"),
        ({"currency": "euro"}, "outcomes[0].currency"),
        ({"amount": -5.0}, "outcomes[0].amount"),
        ({"closed_at": ts(NOW - timedelta(days=60))}, "outcomes[0].closed_at"),
        ({"updated_at": ts(NOW + timedelta(days=2))}, "outcomes[0].updated_at"),
        ({"account_id": "a" * 200}, "outcomes[0].account_id"),
    ],
)
def test_bad_outcomes_are_invalid_argument_naming_the_field(feedback, call_as, overrides, field):
    with pytest.raises(grpc.RpcError) as err:
        feedback.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(outcomes=[outcome("opp-bad", **overrides)]),
                                    metadata=call_as("service"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in grpc_server.field_violations(err.value)] == [field]


def test_missing_created_at_and_closed_at_are_named(feedback, call_as):
    missing_created = outcome("opp-bad")
    missing_created.ClearField("created_at")
    missing_closed = outcome("opp-bad")
    missing_closed.ClearField("closed_at")
    for bad, field in ((missing_created, "outcomes[0].created_at"), (missing_closed, "outcomes[0].closed_at")):
        with pytest.raises(grpc.RpcError) as err:
            feedback.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(outcomes=[bad]), metadata=call_as("service"))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert [f for f, _ in grpc_server.field_violations(err.value)] == [field]
    with pytest.raises(grpc.RpcError) as err:
        feedback.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(), metadata=call_as("service"))
    assert [f for f, _ in grpc_server.field_violations(err.value)] == ["outcomes"]


@pytest.mark.parametrize("role", ["rep", "marketer"])
def test_only_integrations_and_admins_submit_outcomes(feedback, call_as, role):
    with pytest.raises(grpc.RpcError) as err:
        feedback.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(outcomes=[outcome("x")]), metadata=call_as(role))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_roles_on_reports_and_feedback(feedback, call_as):
    with pytest.raises(grpc.RpcError) as err:
        feedback.ListAssetWinRates(feedback_pb2.ListAssetWinRatesRequest(), metadata=call_as("rep"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        feedback.SubmitRating(feedback_pb2.SubmitRatingRequest(asset_id="a", rating=5), metadata=call_as("service"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        feedback.GetContentGaps(feedback_pb2.GetContentGapsRequest())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_raw_kafka_outcomes_and_dead_letters(feedback_settings, feedback_consumer, feedback_es, feedback_names):
    opp = f"opp-{uuid.uuid4().hex[:8]}"
    good = {"event_id": f"{opp}-1", "schema_version": 1, "occurred_at": "2026-03-01T10:00:00Z", "opportunity_id": opp,
            "account_id": "never-seen-account", "owner_rep_id": "rep-3", "stage": "lost", "amount": 10,
            "currency": "USD", "created_at": "2026-02-01T00:00:00Z", "closed_at": "2026-03-01T00:00:00Z",
            "updated_at": "2026-03-01T10:00:00Z", "lost_reason": "Pricing"}
    bad_schema = dict(good, event_id=f"{opp}-2", stage="maybe")
    no_close = {k: v for k, v in good.items() if k != "closed_at"} | {"event_id": f"{opp}-3"}
    produce(feedback_settings, topics.DEALS, [(opp, good), (opp, b"{not json"), (opp, bad_schema), (opp, no_close)])
    dlq = KafkaConsumer(topics.DEALS_DLQ.name(feedback_settings), bootstrap_servers=feedback_settings.kafka_bootstrap,
                        auto_offset_reset="earliest", consumer_timeout_ms=1000)
    try:
        found: dict[bytes, dict[str, bytes]] = {}

        def dead_letters() -> bool:
            for record in dlq:
                if record.key == opp.encode():
                    found[record.value] = dict(record.headers)
            return len(found) >= 3

        wait_until(dead_letters, what="three dead letters")
    finally:
        dlq.close()
    reasons = sorted(h["dlq.reason"].decode() for h in found.values())
    assert reasons == ["bad_json", "schema", "schema"]
    details = " ".join(h["dlq.detail"].decode() for h in found.values())
    assert "stage" in details and "closed_at" in details
    assert b"{not json" in found
    deal = wait_until(lambda: get_deal(feedback_es, feedback_names, opp), what="the good deal")
    assert deal["stage"] == "lost" and deal["lost_topic"] == "pricing"


def test_importer_reports_row_errors(tmp_path, feedback_settings, feedback_consumer, feedback_es, feedback_names):
    opp = f"imp-{uuid.uuid4().hex[:6]}"
    csv_path = tmp_path / "outcomes.csv"
    csv_path.write_text(
        "opportunity_id,account_id,owner_rep_id,stage,amount,currency,created_at,closed_at,updated_at,lost_reason,industry\n"
        f"{opp}-1,acc-1,rep-1,won,1000,USD,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z,2025-02-01T00:00:00Z,,Retail\n"
        f"{opp}-2,acc-2,rep-1,lost,abc,USD,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z,2025-02-01T00:00:00Z,Price,\n"
        f"{opp}-3,acc-3,rep-2,won,10,USD,2025-01-01T00:00:00Z,,2025-02-01T00:00:00Z,,\n"
        f"{opp}-4,acc-4,rep-2,open,10,USD,2025-01-01T00:00:00Z,,2025-02-01T00:00:00Z,,\n"
    )
    env = process_env(feedback_settings)
    proc = subprocess.run([sys.executable, "-m", "services.feedback.importer", str(csv_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "2 outcomes produced" in proc.stdout
    assert "row 3: amount: not a number: 'abc'" in proc.stderr
    assert "row 4: closed_at: 'closed_at' is a required property" in proc.stderr
    wait_until(lambda: get_deal(feedback_es, feedback_names, f"{opp}-1"), what="the imported deal")
    assert get_deal(feedback_es, feedback_names, f"{opp}-4")["stage"] == "open" or wait_until(
        lambda: get_deal(feedback_es, feedback_names, f"{opp}-4"))
