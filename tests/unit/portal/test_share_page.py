"""The customer page around the document: sender card, call to action, and the rep's dialog that chooses it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from collateral.v1 import content_pb2, usage_pb2
from services.portal import share_page
from services.portal.users import User
from tests.unit.portal.conftest import csrf_token, login_as

TOKEN = "T" * 43
MEETING = "https://cal.example.com/rita/30min?a=1&b=2"


def _share(**kw: Any) -> usage_pb2.ShareLink:
    fields = dict(share_id="shr_1", asset_id="a1", rep_id="rita.rep@example.com", opportunity_id="opp-1")
    fields.update(kw)
    return usage_pb2.ShareLink(**fields)


# ---- pure rules --------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("Rita Rep", "RR"), ("Rita M. Rep", "RR"), ("cher", "C"), ("  ", "?"), ("jean-luc picard", "JP"),
    ("Ümit Özdağ", "ÜÖ"),
])
def test_initials_are_first_and_last_word(name, expected):
    assert share_page.initials(name) == expected


def test_display_name_prefers_the_account_and_falls_back_to_the_address():
    assert share_page.display_name("rita.rep@example.com", "Rita Rep-Smith") == "Rita Rep-Smith"
    assert share_page.display_name("rita.rep@example.com", None) == "Rita Rep"
    assert share_page.display_name("rita_rep@example.com", "  ") == "Rita Rep"
    assert share_page.display_name("svc-7", None) == "Svc 7"


def test_avatar_colour_is_stable_and_in_range():
    colours = {share_page.avatar_colour(f"rep{i}@example.com") for i in range(200)}
    assert colours <= set(range(share_page.AVATAR_COLOURS)) and len(colours) > 1
    assert share_page.avatar_colour("a@example.com") == share_page.avatar_colour("a@example.com")


def test_reply_by_email_is_a_mailto_with_the_title_as_subject():
    cta = share_page.call_to_action(_share(call_to_action=usage_pb2.SHARE_CALL_TO_ACTION_REPLY_EMAIL),
                                    "ROI & Results: 2026?")
    assert cta is not None and cta.kind == "reply_email" and not cta.external
    assert cta.href == "mailto:rita.rep@example.com?subject=ROI%20%26%20Results%3A%202026%3F"


def test_book_a_meeting_links_to_the_url_and_none_shows_nothing():
    cta = share_page.call_to_action(_share(call_to_action=usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING,
                                           meeting_url=MEETING), "Deck")
    assert cta is not None and (cta.kind, cta.href, cta.external) == ("book_meeting", MEETING, True)
    assert share_page.call_to_action(_share(), "Deck") is None


@pytest.mark.parametrize("choice, url, expected", [
    ("book_meeting", f"  {MEETING} ", MEETING),
    ("reply_email", MEETING, ""),
    ("", MEETING, ""),
])
def test_the_dialog_sends_the_meeting_link_only_with_book_a_meeting(choice, url, expected):
    form = MultiDict({"call_to_action": choice, "meeting_url": url})
    assert share_page.meeting_url_of(form, share_page.CTA_CHOICES[choice]) == expected


# ---- the customer page -------------------------------------------------------------

class NamedUsers:
    """The portal's account store as the share page uses it: a lookup by email."""

    es = None

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def get(self, email: str) -> User | None:
        return User(email, self.names[email], "rep") if email in self.names else None

    def authenticate(self, email: str, password: str) -> None:
        return None


def _serve(backends: Any, share: usage_pb2.ShareLink, title: str = "Deck", pages: int = 3) -> None:
    backends.handlers[("usage", "ResolveShareLink")] = lambda req: usage_pb2.ResolveShareLinkResponse(share=share)
    backends.handlers[("content", "GetAsset")] = lambda req: content_pb2.GetAssetResponse(asset=content_pb2.Asset(
        asset_id="a1", title=title, files=[content_pb2.FileVersion(
            content_type="application/pdf", page_count=pages, preview_status=content_pb2.PREVIEW_STATUS_READY)]))


def test_sender_card_shows_the_account_name_initials_and_the_escaped_message(app, backends):
    app.extensions["collateral_users"] = NamedUsers({"rita.rep@example.com": "Rita Rep"})
    _serve(backends, _share(customer_message="Dana, see <b>page 2</b>\nThanks!", recipient_note="Dana, CFO (private)"))
    html = app.test_client().get(f"/s/{TOKEN}").get_data(as_text=True)
    assert "CFO (private)" not in html, "the rep's private note never reaches the customer"
    assert re.search(r'<strong id="sender-name">Rita Rep</strong>', html)
    assert re.search(r'class="avatar avatar-\d"[^>]*>RR</span>', html)
    assert "Dana, see &lt;b&gt;page 2&lt;/b&gt;\nThanks!" in html and "<b>page 2</b>" not in html
    assert 'id="share-cta"' not in html, "no call to action was chosen"


def test_sender_name_falls_back_to_the_address_when_the_lookup_fails(app, backends):
    class Down(NamedUsers):
        def get(self, email: str) -> User | None:
            raise ConnectionError("account store down")

    app.extensions["collateral_users"] = Down({})
    _serve(backends, _share())
    response = app.test_client().get(f"/s/{TOKEN}")
    assert response.status_code == 200
    assert '<strong id="sender-name">Rita Rep</strong>' in response.get_data(as_text=True)
    assert 'id="sender-message"' not in response.get_data(as_text=True), "no message, no empty paragraph"


def test_call_to_action_buttons_on_the_customer_page(app, backends):
    client = app.test_client()
    _serve(backends, _share(call_to_action=usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING, meeting_url=MEETING))
    html = client.get(f"/s/{TOKEN}").get_data(as_text=True)
    link = re.search(r'<a [^>]*id="share-cta"[^>]*>', html).group(0)
    assert 'href="https://cal.example.com/rita/30min?a=1&amp;b=2"' in link
    assert 'rel="noopener noreferrer"' in link and 'target="_blank"' in link
    _serve(backends, _share(call_to_action=usage_pb2.SHARE_CALL_TO_ACTION_REPLY_EMAIL), title="Q3 <Plan>")
    link = re.search(r'<a [^>]*id="share-cta"[^>]*>', client.get(f"/s/{TOKEN}").get_data(as_text=True)).group(0)
    assert 'href="mailto:rita.rep@example.com?subject=Q3%20%3CPlan%3E"' in link and "target" not in link


def test_viewer_starts_with_prev_disabled_and_next_disabled_only_for_one_page(app, backends):
    client = app.test_client()
    _serve(backends, _share(), pages=3)
    html = client.get(f"/s/{TOKEN}").get_data(as_text=True)
    assert re.search(r"<button [^>]*data-prev[^>]*disabled", html)
    assert not re.search(r"<button [^>]*data-next[^>]*disabled", html)
    assert 'data-asset-id="a1"' in html and "viewer.js" in html
    _serve(backends, _share(), pages=1)
    html = client.get(f"/s/{TOKEN}").get_data(as_text=True)
    assert re.search(r"<button [^>]*data-next[^>]*disabled", html)
    assert "viewer-thumbs" not in html


# ---- the rep's dialog --------------------------------------------------------------

def _share_form(client: Any, **fields: str) -> Any:
    data = {"csrf_token": csrf_token(client, "/assets/a1"), "opportunity_id": "opp-1", **fields}
    return client.post("/assets/a1/share", data=data)


@pytest.fixture
def rep_client(client: Any, backends: Any) -> Any:
    backends.handlers[("content", "GetAsset")] = lambda req: content_pb2.GetAssetResponse(asset=content_pb2.Asset(
        asset_id="a1", title="Deck", status=content_pb2.ASSET_STATUS_PUBLISHED))
    backends.handlers[("usage", "CreateShareLink")] = lambda req: usage_pb2.CreateShareLinkResponse(
        share=_share(), token=TOKEN)
    login_as(client, "rep", "rita.rep@example.com")
    return client


def _created(backends: Any) -> usage_pb2.CreateShareLinkRequest:
    return [c[2] for c in backends.calls if c[1] == "CreateShareLink"][-1]


def test_dialog_offers_the_calls_to_action(rep_client):
    html = rep_client.get("/assets/a1").get_data(as_text=True)
    assert 'name="call_to_action"' in html and 'value="book_meeting"' in html and 'name="meeting_url"' in html
    assert "Reply by email (to rita.rep@example.com)" in html


def test_dialog_sends_book_a_meeting_with_its_link(rep_client, backends):
    assert _share_form(rep_client, call_to_action="book_meeting", meeting_url=MEETING).status_code == 200
    request = _created(backends)
    assert request.call_to_action == usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING and request.meeting_url == MEETING


def test_dialog_drops_a_meeting_link_typed_for_another_choice(rep_client, backends):
    _share_form(rep_client, call_to_action="reply_email", meeting_url=MEETING)
    request = _created(backends)
    assert request.call_to_action == usage_pb2.SHARE_CALL_TO_ACTION_REPLY_EMAIL and request.meeting_url == ""


def test_dialog_refuses_an_unknown_choice_next_to_the_field(rep_client, backends):
    response = _share_form(rep_client, call_to_action="phone_me")
    assert response.status_code == 400 and "Choose one of the calls to action" in response.get_data(as_text=True)
    assert not [c for c in backends.calls if c[1] == "CreateShareLink"]
