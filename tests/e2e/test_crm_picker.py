"""CRM-linked shares: the rep finds the opportunity by typing part of its account's name in the
share dialog, picks it with the keyboard, creates the link, and My shares shows the names."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import feedback_pb2, feedback_pb2_grpc
from tests.e2e.conftest import USERS, screenshot, sign_in, wait_until

pytestmark = pytest.mark.e2e


def _ts(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


@pytest.fixture(scope="module")
def crm_deals(system) -> dict[str, str]:
    """Open deals of the signed-in rep (two accounts) and one of another rep, sent as a CRM would."""
    u = uuid.uuid4().hex[:6]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    rep, other = USERS["rep"][0], USERS["rep2"][0]
    word = f"Zanzibar{u}"
    deals = {
        "mine": (f"opp-crm-{u}-1", rep, f"{word} Logistics", "Fleet Renewal 2027"),
        "mine_other_account": (f"opp-crm-{u}-2", rep, f"Quillfeather {u} Bank", "Quillfeather Core Banking"),
        "theirs": (f"opp-crm-{u}-3", other, f"{word} Freight", "Zanzibar Freight Expansion"),
    }
    outcomes = [feedback_pb2.DealOutcome(
        opportunity_id=opp, account_id=f"acct-{opp}", owner_rep_id=owner, stage=feedback_pb2.DEAL_STAGE_OPEN,
        amount=48_000, currency="USD", created_at=_ts(now - timedelta(days=3 + i)), updated_at=_ts(now),
        account_name=account, opportunity_name=name)
        for i, (opp, owner, account, name) in enumerate(deals.values())]
    stub = feedback_pb2_grpc.FeedbackServiceStub(system.channel("feedback"))
    stub.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(outcomes=outcomes),
                            metadata=system.metadata("crm-connector", "service"), timeout=30)
    mine = system.metadata(rep, "rep")

    def joined() -> bool:
        reply = stub.ListOpportunities(feedback_pb2.ListOpportunitiesRequest(query=word), metadata=mine, timeout=10)
        return [o.opportunity_id for o in reply.opportunities] == [deals["mine"][0]]

    wait_until(joined, what="the CRM's deals joined")
    return {"word": word, **{key: value[0] for key, value in deals.items()}}


def test_pick_an_opportunity_by_account_name_and_see_names_in_my_shares(system, accounts, catalog, crm_deals,
                                                                        new_page):
    rep = new_page()
    sign_in(rep, accounts["rep"][0])
    rep.goto(f"/assets/{catalog['deck']}")
    picker = rep.locator("#share-form input[data-picker-input]")
    assert picker.get_attribute("role") == "combobox"
    picker.press_sequentially(crm_deals["word"][:10].lower(), delay=40)  # part of the account name, any case
    options = rep.locator("#opportunity_id-options li[role=option]")
    wait_until(lambda: options.count() == 1 and options.first.is_visible(), what="the rep's matching opportunity")
    label = options.first.inner_text()
    assert label == f"Fleet Renewal 2027 — {crm_deals['word']} Logistics"
    assert picker.get_attribute("aria-expanded") == "true"
    screenshot(rep, "crm-picker-options")

    # Keyboard only: Down highlights the option, Enter picks it (and does not submit the form).
    picker.press("ArrowDown")
    assert picker.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    assert options.first.get_attribute("aria-selected") == "true"
    picker.press("Enter")
    assert rep.locator("#opportunity_id-options").is_hidden()
    assert picker.input_value() == label
    assert rep.input_value("#share-form input[type=hidden][name=opportunity_id]") == crm_deals["mine"]
    assert rep.input_value("#share-form input[name=account_id]") == f"acct-{crm_deals['mine']}"
    screenshot(rep, "crm-picker-picked")
    rep.click("#share-form button[type=submit]")
    assert rep.input_value("#share-url").startswith(system.base_url + "/s/")

    # My shares names the opportunity and the account; the ids stay as tooltips.
    rep.goto("/shares")
    row = rep.locator("#shares-table tbody tr", has_text="Fleet Renewal 2027").first
    cell = row.locator("td.share-for")
    assert cell.locator(".opp-name").inner_text() == "Fleet Renewal 2027"
    assert cell.locator(".account-name").inner_text() == f"{crm_deals['word']} Logistics"
    assert crm_deals["mine"] in (cell.locator(".opp-name").get_attribute("title") or "")
    screenshot(rep, "crm-my-shares")


def test_a_pasted_id_still_shares_when_the_crm_has_not_sent_the_deal(system, accounts, catalog, crm_deals, new_page):
    rep = new_page(width=390, height=844, mobile=True)
    sign_in(rep, accounts["rep"][0])
    rep.goto(f"/assets/{catalog['deck']}")
    unknown = f"opp-not-in-crm-{uuid.uuid4().hex[:6]}"
    picker = rep.locator("#share-form input[data-picker-input]")
    picker.fill(unknown)
    options = rep.locator("#opportunity_id-options li[role=option]")
    rep.locator(f"[data-opportunity-picker][data-shown-for='{unknown}']").wait_for(state="attached")
    assert options.count() == 0 and picker.get_attribute("aria-expanded") == "false"
    rep.click("#share-form button[type=submit]")
    assert rep.input_value("#share-url").startswith(system.base_url + "/s/")
    rep.goto("/shares")
    cell = rep.locator("#shares-table tbody tr", has_text=unknown).first.locator("td.share-for")
    assert cell.locator(".mono").first.inner_text() == unknown  # no name: the id, as before
    screenshot(rep, "crm-my-shares-phone")


def test_other_reps_opportunities_are_never_offered(system, accounts, catalog, crm_deals, new_page):
    rep = new_page()
    sign_in(rep, accounts["rep2"][0])
    rep.goto(f"/assets/{catalog['deck']}")
    rep.locator("#share-form input[data-picker-input]").press_sequentially(crm_deals["word"][:10], delay=30)
    options = rep.locator("#opportunity_id-options li[role=option]")
    wait_until(lambda: options.count() == 1, what="the other rep's own opportunity")
    assert re.search("Zanzibar Freight Expansion", options.first.inner_text())
