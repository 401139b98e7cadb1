"""The access gate's marks in the customer's session and its answers, with stand-in backends."""

from __future__ import annotations

import time

from collateral.v1 import usage_pb2
from services.portal import access_gate as gate
from services.portal.access_gate import Requirements

PASSCODE = Requirements(key="share:shr_a", passcode=True)
EMAIL = Requirements(key="share:shr_a", email=True)


def test_a_link_without_requirements_is_open(app):
    with app.test_request_context("/s/x"):
        assert gate.passed(Requirements(key="share:shr_open"))
        assert gate.viewer_email(Requirements(key="share:shr_open")) == ""


def test_a_passed_passcode_opens_that_link_only_and_only_until_it_expires(app):
    with app.test_request_context("/s/x"):
        assert not gate.passed(PASSCODE)
        gate._save_mark(PASSCODE, passcode_until=time.time() + 60)
        assert gate.passed(PASSCODE)
        assert not gate.passed(Requirements(key="share:shr_b", passcode=True))
        gate._save_mark(PASSCODE, passcode_until=time.time() - 1)
        assert not gate.passed(PASSCODE)


def test_both_requirements_need_both_marks(app):
    both = Requirements(key="share:shr_a", passcode=True, email=True)
    with app.test_request_context("/s/x"):
        gate._save_mark(both, passcode_until=time.time() + 60)
        assert not gate.passed(both)
        gate._save_mark(both, email="dana@acme.test", email_until=time.time() + 60)
        assert gate.passed(both) and gate.viewer_email(both) == "dana@acme.test"


def test_the_session_remembers_a_bounded_number_of_links(app):
    with app.test_request_context("/s/x"):
        for i in range(gate.MAX_MARKS + 5):
            gate._save_mark(Requirements(key=f"share:shr_{i}", passcode=True), passcode_until=time.time() + 60)
        assert len(gate._marks()) == gate.MAX_MARKS
        assert not gate.passed(Requirements(key="share:shr_0", passcode=True))  # the oldest was forgotten
        assert gate.passed(Requirements(key=f"share:shr_{gate.MAX_MARKS + 4}", passcode=True))


def test_requirements_come_from_the_share_link_booleans():
    share = usage_pb2.ShareLink(share_id="shr_x", passcode_required=True, email_verification_required=True,
                                allowed_email_domains=["acme.test"])
    assert Requirements.of_share(share) == Requirements(key="share:shr_x", passcode=True, email=True,
                                                        allowed_domains=("acme.test",))


def test_nothing_of_a_protected_link_is_served_before_the_gate(client, backends):
    share = usage_pb2.ShareLink(share_id="shr_p", asset_id="a-1", rep_id="rep@example.com", passcode_required=True,
                                state=usage_pb2.SHARE_LINK_STATE_ACTIVE)
    backends.handlers[("usage", "ResolveShareLink")] = lambda req: usage_pb2.ResolveShareLinkResponse(
        share=share, passcode_accepted=req.passcode == "right-one")
    token = "t" * 43
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and 'data-step="passcode"' in page.get_data(as_text=True)
    assert client.get(f"/s/{token}/pages/1.png").status_code == 403
    assert client.post(f"/s/{token}/beacon", json={"visit": "a" * 32, "kind": "open"}).status_code == 403
    assert not any(method in ("GetAsset", "RenderPage", "RecordEvents") for _, method, *_ in backends.calls)


def test_a_room_gate_names_a_deal_room_and_a_link_gate_a_document(client, backends):
    room = usage_pb2.DealRoom(room_id="room_p", rep_id="rep@example.com", asset_ids=["a-1"], passcode_required=True,
                              title="Q4 plan")
    backends.handlers[("usage", "ResolveRoom")] = lambda req: usage_pb2.ResolveRoomResponse(room=room)
    page = client.get(f"/r/{'t' * 43}/1").get_data(as_text=True)
    assert "shared a deal room with you" in page and "Protected deal room" in page and "a document" not in page
    assert Requirements(key="room:room_p").noun == "deal room" and PASSCODE.noun == "document"
    assert "open the deal room shared with you" in gate.code_mail("c@acme.test", "123456", "", "deal room").text
