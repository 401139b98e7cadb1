"""CRM names on deals (with and without them, through Kafka and the real join) and the reps'
opportunity pickers: ListOpportunities (isolation, name search, open only, paging) and
GetOpportunities (names of share links' ids)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import feedback_pb2
from services.common import es as es_util, topics
from services.feedback import store
from tests.conftest import isolated
from tests.integration.feedback.conftest import produce, wait_until

pytestmark = pytest.mark.integration

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def ts(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


def snapshot(opp: str, rep: str, account: str, days_old: int, stage: str = "open", **names: str) -> dict[str, Any]:
    """A deal as a CRM connector writes it to Kafka; `names` holds the optional display names."""
    created = NOW - timedelta(days=days_old)
    doc: dict[str, Any] = {
        "event_id": f"{opp}-1", "schema_version": 1, "occurred_at": iso(NOW - timedelta(hours=1)),
        "opportunity_id": opp, "account_id": account, "owner_rep_id": rep, "stage": stage, "amount": 1000.0 * days_old,
        "currency": "USD", "created_at": iso(created), "updated_at": iso(NOW - timedelta(hours=1)),
    }
    if stage != "open":
        doc["closed_at"] = iso(NOW - timedelta(days=1))
    doc.update(names)
    return doc


@pytest.fixture(scope="module")
def deals(feedback, call_as, feedback_settings, feedback_consumer) -> dict[str, str]:
    """Two reps' deals: named and unnamed, open and closed, through Kafka and RecordDealOutcomes,
    plus usage touching an unnamed and a named deal; returns {role: id} and the rep ids."""
    u = uuid.uuid4().hex[:8]
    ids = {"rep_a": f"rep-a-{u}@demo.local", "rep_b": f"rep-b-{u}@demo.local"}
    ids.update({key: f"opp-{key}-{u}" for key in ("acme", "globex", "won", "unnamed", "initech", "b_acme")})
    a, b = ids["rep_a"], ids["rep_b"]
    raw = [
        snapshot(ids["acme"], a, f"acct-acme-{u}", 10, opportunity_name="Acme Renewal 2027",
                 account_name="  Acme   Corporation "),
        snapshot(ids["globex"], a, f"acct-globex-{u}", 9, opportunity_name="Globex Expansion",
                 account_name="Globex Industries"),
        snapshot(ids["won"], a, f"acct-acme-{u}", 30, stage="won", opportunity_name="Acme Upsell",
                 account_name="Acme Corporation"),
        snapshot(ids["unnamed"], a, f"acct-old-{u}", 8),  # an integrator that never sends names
        snapshot(ids["b_acme"], b, f"acct-acmeh-{u}", 5, opportunity_name="Acme Subsidiary Deal",
                 account_name="Acme Holdings"),
    ]
    produce(feedback_settings, topics.DEALS, [(d["opportunity_id"], d) for d in raw])
    named = feedback_pb2.DealOutcome(
        opportunity_id=ids["initech"], account_id=f"acct-initech-{u}", owner_rep_id=a,
        stage=feedback_pb2.DEAL_STAGE_OPEN, amount=5000.0, currency="USD", created_at=ts(NOW - timedelta(days=7)),
        updated_at=ts(NOW - timedelta(hours=1)), opportunity_name="Initech Pilot", account_name="Initech")
    feedback.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(outcomes=[named]),
                                metadata=call_as("service", "crm-connector"))
    uses = [(f"asset-{u}", {"event_id": f"use-{opp}", "schema_version": 1, "occurred_at": iso(NOW - timedelta(days=2)),
                            "type": "share", "asset_id": f"asset-{u}", "rep_id": a, "opportunity_id": opp})
            for opp in (ids["unnamed"], ids["acme"])]
    produce(feedback_settings, topics.USAGE, uses)
    feedback_consumer.wait_idle()
    return ids


def listed(feedback, metadata, **request: Any) -> list[str]:
    reply = feedback.ListOpportunities(feedback_pb2.ListOpportunitiesRequest(**request), metadata=metadata)
    return [o.opportunity_id for o in reply.opportunities]


def test_names_are_stored_and_old_snapshots_still_join(deals, feedback_es, feedback_names):
    feedback_es.indices.refresh(index=f"{feedback_names.deals},{feedback_names.touches}")
    acme = feedback_es.get(index=feedback_names.deals, id=deals["acme"])["_source"]
    assert (acme["opportunity_name"], acme["account_name"]) == ("Acme Renewal 2027", "Acme Corporation")
    unnamed = feedback_es.get(index=feedback_names.deals, id=deals["unnamed"])["_source"]
    assert unnamed["opportunity_name"] is None and unnamed["account_name"] is None
    touched = feedback_es.search(index=feedback_names.touches, size=10,
                                 query={"terms": {"opportunity_id": [deals["unnamed"], deals["acme"]]}})["hits"]["hits"]
    assert sorted(h["_source"]["opportunity_id"] for h in touched) == sorted([deals["unnamed"], deals["acme"]])


def test_a_rep_lists_only_their_own_open_opportunities_newest_first(deals, feedback, call_as):
    assert listed(feedback, call_as("rep", deals["rep_a"])) == [
        deals["initech"], deals["unnamed"], deals["globex"], deals["acme"]]
    assert listed(feedback, call_as("rep", deals["rep_b"])) == [deals["b_acme"]]
    closed = listed(feedback, call_as("rep", deals["rep_a"]), stages=[feedback_pb2.DEAL_STAGE_WON])
    assert closed == [deals["won"]]


def test_names_come_back_with_each_opportunity(deals, feedback, call_as):
    reply = feedback.ListOpportunities(feedback_pb2.ListOpportunitiesRequest(query="initech"),
                                       metadata=call_as("rep", deals["rep_a"]))
    (found,) = reply.opportunities
    assert (found.opportunity_name, found.account_name, found.amount, found.currency) == (
        "Initech Pilot", "Initech", 5000.0, "USD")
    assert found.stage == feedback_pb2.DEAL_STAGE_OPEN and found.owner_rep_id == deals["rep_a"]
    assert found.created_at.ToDatetime(tzinfo=timezone.utc) == NOW - timedelta(days=7)


@pytest.mark.parametrize("query, expected", [
    ("acme", ["acme"]),                 # account name word; rep B's Acme deal and the won one stay out
    ("ACM", ["acme"]),                  # prefix, any case
    ("renewal ac", ["acme"]),           # every word, across opportunity and account names
    ("glob ind", ["globex"]),
    ("corporation", ["acme"]),          # blanks in the CRM's name collapsed, words still match
    ("industries acme", []),            # both words must match one deal
    ("cme", []),                        # words match from their start only
])
def test_search_by_opportunity_or_account_name(deals, feedback, call_as, query, expected):
    assert listed(feedback, call_as("rep", deals["rep_a"]), query=query) == [deals[k] for k in expected]


def test_a_pasted_id_finds_the_deal_even_without_names(deals, feedback, call_as):
    assert listed(feedback, call_as("rep", deals["rep_a"]), query=deals["unnamed"]) == [deals["unnamed"]]


def test_paging_visits_every_opportunity_once(deals, feedback, call_as):
    metadata = call_as("rep", deals["rep_a"])
    seen: list[str] = []
    token = ""
    for _ in range(10):
        reply = feedback.ListOpportunities(feedback_pb2.ListOpportunitiesRequest(page_size=3, page_token=token),
                                           metadata=metadata)
        seen += [o.opportunity_id for o in reply.opportunities]
        token = reply.next_page_token
        if not token:
            break
    assert seen == [deals["initech"], deals["unnamed"], deals["globex"], deals["acme"]]


def test_only_admins_list_another_reps_opportunities(deals, feedback, call_as):
    with pytest.raises(grpc.RpcError) as denied:
        listed(feedback, call_as("rep", deals["rep_b"]), rep_id=deals["rep_a"])
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert listed(feedback, call_as("admin"), rep_id=deals["rep_b"]) == [deals["b_acme"]]
    everyone = listed(feedback, call_as("admin"), query="acme")
    assert deals["b_acme"] in everyone and deals["acme"] in everyone


@pytest.mark.parametrize("request_kwargs, field", [
    ({"stages": [feedback_pb2.DEAL_STAGE_UNSPECIFIED]}, "stages[0]"),
    ({"stages": [feedback_pb2.DEAL_STAGE_OPEN, 42]}, "stages[1]"),
    ({"query": "x" * 257}, "query"),
    ({"page_size": 101}, "page_size"),
    ({"page_token": "not-a-token"}, "page_token"),
])
def test_bad_list_requests_name_the_field(deals, feedback, call_as, request_kwargs, field):
    with pytest.raises(grpc.RpcError) as bad:
        listed(feedback, call_as("rep", deals["rep_a"]), **request_kwargs)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in bad.value.details()


def test_lookup_by_ids_returns_the_callers_own_in_request_order(deals, feedback, call_as):
    ids = [deals["globex"], "opp-the-crm-never-sent", deals["b_acme"], deals["unnamed"], deals["globex"]]
    reply = feedback.GetOpportunities(feedback_pb2.GetOpportunitiesRequest(opportunity_ids=ids),
                                      metadata=call_as("rep", deals["rep_a"]))
    assert [(o.opportunity_id, o.opportunity_name) for o in reply.opportunities] == [
        (deals["globex"], "Globex Expansion"), (deals["unnamed"], "")]
    admin = feedback.GetOpportunities(feedback_pb2.GetOpportunitiesRequest(opportunity_ids=ids),
                                      metadata=call_as("admin"))
    assert [o.opportunity_id for o in admin.opportunities] == [deals["globex"], deals["b_acme"], deals["unnamed"]]
    with pytest.raises(grpc.RpcError) as bad:
        feedback.GetOpportunities(feedback_pb2.GetOpportunitiesRequest(opportunity_ids=["ok", "x" * 129]),
                                  metadata=call_as("rep", deals["rep_a"]))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "opportunity_ids[1]" in bad.value.details()


def mapped_fields(es: Any, alias: str) -> dict[str, Any]:
    return es.indices.get_mapping(index=alias).body.popitem()[1]["mappings"]["properties"]


def test_an_index_created_before_names_gets_them_at_start_up(stack):
    """A deals index made with the mapping of earlier releases gains the name fields in place."""
    settings = isolated(stack, "fo")
    names = store.Names.of(settings)
    es = es_util.client(settings)
    legacy = {"dynamic": "strict", "properties": {k: v for k, v in store.DEALS["properties"].items()
                                                   if k not in ("opportunity_name", "account_name", "names")}}
    try:
        es_util.ensure_alias(es, names.deals, es_util.index_body(settings, legacy))
        assert "opportunity_name" not in mapped_fields(es, names.deals)
        store.ensure(es, settings, names)
        fields = mapped_fields(es, names.deals)
        assert {"opportunity_name", "account_name", "names"} <= set(fields)
        es.index(index=names.deals, id="o1", refresh=True,
                 document={"opportunity_id": "o1", "opportunity_name": "Umbrella Rollout", "account_name": "Umbrella"})
        hits = es.search(index=names.deals, query={"match_bool_prefix": {"names": "umbrel"}})["hits"]["hits"]
        assert [h["_id"] for h in hits] == ["o1"]
    finally:
        es.options(ignore_status=404).indices.delete(index=f"{settings.namespace}-feedback-*")
        es.close()
