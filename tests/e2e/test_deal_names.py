"""CRM names where reps look at their customers: a rep shares for an account the CRM has named,
the customer reads it, and the link's page, Hot accounts and My rooms show the account's name
(its id as tooltip) instead of the id."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import feedback_pb2, feedback_pb2_grpc
from tests.e2e.conftest import DESKTOP_UA, USERS, screenshot, sign_in, wait_until
from tests.e2e.test_hot_accounts import read_two_pages, share_for_account

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def named_account(system) -> dict[str, str]:
    """An open deal of rep2 whose account the CRM names, sent as a CRM would and joined."""
    u = uuid.uuid4().hex[:6]
    rep = USERS["rep2"][0]
    deal = {"opportunity_id": f"opp-names-{u}", "account_id": f"acct-names-{u}",
            "account_name": f"Orinoco {u} Shipping", "opportunity_name": f"Orinoco {u} Fleet Deal"}
    now = Timestamp()
    now.FromDatetime(datetime.now(timezone.utc).replace(microsecond=0))
    stub = feedback_pb2_grpc.FeedbackServiceStub(system.channel("feedback"))
    stub.RecordDealOutcomes(feedback_pb2.RecordDealOutcomesRequest(outcomes=[feedback_pb2.DealOutcome(
        owner_rep_id=rep, stage=feedback_pb2.DEAL_STAGE_OPEN, amount=12_000, currency="USD", created_at=now,
        updated_at=now, **deal)]), metadata=system.metadata("crm-connector", "service"), timeout=30)

    def joined() -> bool:
        reply = stub.GetAccounts(feedback_pb2.GetAccountsRequest(account_ids=[deal["account_id"]]),
                                 metadata=system.metadata(rep, "rep"), timeout=10)
        return [a.account_name for a in reply.accounts] == [deal["account_name"]]

    wait_until(joined, what="the CRM's deal joined")
    return deal


def test_reps_see_the_account_name_on_hot_accounts_and_my_rooms(system, accounts, catalog, named_account, new_page):
    account_id, account_name = named_account["account_id"], named_account["account_name"]
    rep = new_page()
    sign_in(rep, *accounts["rep2"])

    # The new link's page names the account.
    share_url = share_for_account(rep, catalog["deck"], account_id)
    shown = rep.locator(".share-done .account-name")
    assert shown.inner_text() == account_name and shown.get_attribute("title") == f"Account {account_id}"
    sent = time.monotonic()
    time.sleep(max(0.0, 1.5 - (time.monotonic() - sent)))  # later than a link scanner would open it
    read_two_pages(new_page(user_agent=DESKTOP_UA), share_url)

    # Hot accounts heads the card with the name, the id as tooltip and beside "Account".
    card = rep.locator(f"li.hot-account[data-account-id='{account_id}']")

    def listed() -> bool:
        rep.goto("/hot-accounts?days=7")
        return card.count() == 1

    wait_until(listed, what="the account on Hot accounts", timeout_s=60, interval_s=1.5)
    heading = card.locator("h2 .deal-name")
    assert heading.inner_text() == account_name and heading.get_attribute("title") == f"Account {account_id}"
    assert account_id in card.locator(".hot-name .muted").inner_text()
    screenshot(rep, "deal-names-hot-accounts")

    # A room for the same account: the room-ready page and My rooms name it.
    rep.goto("/rooms/new")
    rep.fill("#room-form input[name=title]", f"Room for {account_name}")
    rep.fill("#room-assets input[name=q]", "Platform Overview")
    rep.click("#room-search")
    rep.check(f"#room-picker input[name=asset][value='{catalog['deck']}']")
    rep.fill("#room-form input[name=account_id]", account_id)
    rep.click("#create-room")
    assert rep.locator(".share-done .account-name").inner_text() == account_name
    rep.goto("/rooms")
    row = rep.locator("#rooms-table tbody tr", has_text=f"Room for {account_name}")
    cell = row.locator("td.room-for .account-name")
    assert cell.inner_text() == account_name and cell.get_attribute("title") == f"Account {account_id}"
    screenshot(rep, "deal-names-my-rooms")
