"""Account names by id (GetAccounts) from deals sent through Kafka and the real join: the name of
the most recently updated named deal wins, reps see their own deals' accounts, curators all."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import grpc
import pytest

from collateral.v1 import feedback_pb2
from services.common import topics
from tests.integration.feedback.conftest import produce

pytestmark = pytest.mark.integration

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def deal(opp: str, rep: str, account: str, updated_minutes_ago: int, account_name: str | None = None,
         version: int = 1) -> dict[str, Any]:
    """An open deal snapshot as a CRM connector writes it; `account_name` None sends no name."""
    updated = NOW - timedelta(minutes=updated_minutes_ago)
    doc: dict[str, Any] = {
        "event_id": f"{opp}-{version}", "schema_version": 1, "occurred_at": iso(updated), "opportunity_id": opp,
        "account_id": account, "owner_rep_id": rep, "stage": "open", "amount": 1000.0, "currency": "USD",
        "created_at": iso(NOW - timedelta(days=20)), "updated_at": iso(updated)}
    if account_name is not None:
        doc["account_name"] = account_name
    return doc


@pytest.fixture(scope="module")
def accounts(feedback_settings, feedback_consumer) -> dict[str, str]:
    """Two reps' deals on shared and own accounts, renamed over time; returns the ids by role."""
    u = uuid.uuid4().hex[:8]
    ids = {"rep_a": f"rep-a-{u}@demo.local", "rep_b": f"rep-b-{u}@demo.local",
           "shared": f"acct-shared-{u}", "b_only": f"acct-b-{u}", "unnamed": f"acct-unnamed-{u}"}
    a, b, shared = ids["rep_a"], ids["rep_b"], ids["shared"]
    raw = [
        # Rep A's deals on the shared account: a newer snapshot renames the first deal, the
        # newest deal has no name (it must not hide the name), and the newer rename is sent first.
        deal(f"opp-a1-{u}", a, shared, 30, "Globex Corp (renamed)", version=2),
        deal(f"opp-a1-{u}", a, shared, 300, "Globex Corp", version=1),
        deal(f"opp-a2-{u}", a, shared, 120, "Globex Corporation"),
        deal(f"opp-a3-{u}", a, shared, 5),
        # Rep B's deal on the same account is the most recently updated named one overall.
        deal(f"opp-b1-{u}", b, shared, 10, "Globex Industries"),
        deal(f"opp-b2-{u}", b, ids["b_only"], 60, "Initech"),
        deal(f"opp-a4-{u}", a, ids["unnamed"], 60),
    ]
    produce(feedback_settings, topics.DEALS, [(d["opportunity_id"], d) for d in raw])
    feedback_consumer.wait_idle()
    return ids


def names(feedback, metadata, ids: list[str]) -> list[tuple[str, str]]:
    reply = feedback.GetAccounts(feedback_pb2.GetAccountsRequest(account_ids=ids), metadata=metadata)
    return [(acc.account_id, acc.account_name) for acc in reply.accounts]


def asked(accounts: dict[str, str]) -> list[str]:
    """Request order with an unknown id, an unnamed account and a repeat."""
    return [accounts["b_only"], "acct-the-crm-never-sent", accounts["unnamed"], accounts["shared"],
            accounts["b_only"]]


def test_a_rep_gets_the_latest_name_among_their_own_deals(accounts, feedback, call_as):
    assert names(feedback, call_as("rep", accounts["rep_a"]), asked(accounts)) == [
        (accounts["shared"], "Globex Corp (renamed)")]


def test_another_rep_sees_only_accounts_of_their_deals(accounts, feedback, call_as):
    assert names(feedback, call_as("rep", accounts["rep_b"]), asked(accounts)) == [
        (accounts["b_only"], "Initech"), (accounts["shared"], "Globex Industries")]


@pytest.mark.parametrize("role", ["marketer", "admin"])
def test_curators_get_the_latest_name_across_every_rep(accounts, feedback, call_as, role):
    metadata = call_as(role)
    reply = feedback.GetAccounts(feedback_pb2.GetAccountsRequest(account_ids=asked(accounts)), metadata=metadata)
    assert [(acc.account_id, acc.account_name) for acc in reply.accounts] == [
        (accounts["b_only"], "Initech"), (accounts["shared"], "Globex Industries")]
    shared = reply.accounts[1]
    assert shared.name_updated_at.ToDatetime(tzinfo=timezone.utc) == NOW - timedelta(minutes=10)


def test_curators_look_up_every_reps_opportunities_by_id(accounts, feedback, call_as):
    opp = f"opp-b2-{accounts['b_only'].removeprefix('acct-b-')}"
    reply = feedback.GetOpportunities(feedback_pb2.GetOpportunitiesRequest(opportunity_ids=[opp]),
                                      metadata=call_as("marketer"))
    assert [(o.opportunity_id, o.account_name) for o in reply.opportunities] == [(opp, "Initech")]


@pytest.mark.parametrize("ids, field", [
    ([f"acct-{i}" for i in range(101)], "account_ids"),
    (["ok", "x" * 129], "account_ids[1]"),
    (["ok", ""], "account_ids[1]"),
])
def test_bad_lookups_name_the_field(accounts, feedback, call_as, ids, field):
    with pytest.raises(grpc.RpcError) as bad:
        names(feedback, call_as("rep", accounts["rep_a"]), ids)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in bad.value.details()


def test_no_ids_is_an_empty_answer(feedback, call_as):
    assert names(feedback, call_as("rep", "nobody@demo.local"), []) == []
