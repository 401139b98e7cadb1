"""What each channel says: Slack and Teams payload shapes, the email's parts and stable Message-ID."""

from __future__ import annotations

import pytest

from services.common import config, mail
from services.usage import notify_channels as ch
from services.usage import notify_model as nm

OPEN = ch.Open(kind=nm.FIRST_OPEN, title="Pricing deck", opened_at="2026-11-03T09:15:00Z", share_id="shr_1",
               account_id="acme")
AGAIN = ch.Open(kind=nm.REOPEN, title="Q4 plan", opened_at="2026-11-03T17:40:00Z", room_id="room_1",
                opportunity_id="opp-9")
PORTAL = "https://collateral.example.com/"


def test_the_summary_names_who_what_and_when():
    assert ch.summary(OPEN) == "Account acme opened \u201cPricing deck\u201d for the first time (2026-11-03 09:15 UTC)"
    assert ch.summary(AGAIN) == "Opportunity opp-9 opened again deal room \u201cQ4 plan\u201d (2026-11-03 17:40 UTC)"


def test_slack_gets_a_text_field_with_a_link_to_the_portal():
    payload = ch.webhook_payload(nm.SLACK, [OPEN], PORTAL)
    assert set(payload) == {"text"}
    assert ch.summary(OPEN) in payload["text"]
    assert "<https://collateral.example.com/notifications|Open in Collateral>" in payload["text"]


def test_teams_gets_one_adaptive_card_with_an_open_url_action():
    payload = ch.webhook_payload(nm.TEAMS, [OPEN], PORTAL)
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0] == {"type": "TextBlock", "text": ch.summary(OPEN), "wrap": True, "weight": "Bolder"}
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in Collateral",
                                "url": "https://collateral.example.com/notifications"}]


def test_a_digest_lists_every_open_of_the_day():
    slack = ch.webhook_payload(nm.SLACK, [OPEN, AGAIN], PORTAL, day="2026-11-03")
    assert slack["text"].startswith("2 customer opens of your shared content on 2026-11-03")
    assert ch.summary(OPEN) in slack["text"] and ch.summary(AGAIN) in slack["text"]
    teams = ch.webhook_payload(nm.TEAMS, [OPEN, AGAIN], PORTAL, day="2026-11-03")
    texts = [block["text"] for block in teams["attachments"][0]["content"]["body"]]
    assert texts == ["2 customer opens of your shared content on 2026-11-03", f"- {ch.summary(OPEN)}",
                     f"- {ch.summary(AGAIN)}"]


def test_an_email_carries_the_delivery_id_as_its_message_id_and_escapes_html():
    hostile = ch.Open(kind=nm.FIRST_OPEN, title="<script>x</script>", opened_at="2026-11-03T09:15:00Z", share_id="s")
    message = ch.email_for("rep@example.com", [hostile], "ntf_abc.email", PORTAL)
    assert message.message_id == "<ntf_abc.email@collateral>"
    assert message.subject == "A customer opened \u201c<script>x</script>\u201d for the first time"
    assert "<script>" not in (message.html or "") and "&lt;script&gt;" in (message.html or "")
    built = mail.build(config.load({}), message)
    assert built["Message-ID"] == "<ntf_abc.email@collateral>"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "https://localhost/hook", "https://10.1.2.3/hook",
                                 "https://169.254.169.254/latest/meta-data", "https://[::1]/hook",
                                 "https://192.168.0.7:8443/x"])
def test_a_webhook_inside_the_network_is_refused_when_only_public_hosts_may_be_reached(url):
    with pytest.raises(ch.Refused, match="non-public address"):
        ch.check_public_host(url)


def test_a_public_webhook_address_passes_the_check():
    ch.check_public_host("https://8.8.8.8/hook")  # an address literal: no name lookup needed
