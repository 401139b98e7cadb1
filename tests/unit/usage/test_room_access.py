"""Deal-room access controls and derived room tokens: the pure parts (no server)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

from collateral.v1 import usage_pb2
from services.usage import rooms, share_access

NOW = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)
SECRET = "a-share-link-secret-for-unit-tests-" + "z" * 16


def spec(**kw) -> rooms.RoomSpec:
    return rooms.validate_create(usage_pb2.CreateRoomRequest(title="Acme", asset_ids=["a-1"], **kw), NOW, 30)


def test_a_room_token_is_derived_from_the_room_id_and_never_a_share_links_token():
    token = rooms.derived_token(SECRET, "room_abc")
    assert token == rooms.derived_token(SECRET, "room_abc") and len(token) == 43
    assert token != rooms.derived_token(SECRET, "room_abd")
    assert token != share_access.derive_token(SECRET, "room_abc")  # the same id as a share link's: another token
    doc_id = share_access.token_hash(token)
    assert share_access.can_reveal(SECRET, doc_id, "room_abc", share_access.DEAL_ROOM)
    assert not share_access.can_reveal(SECRET, doc_id, "room_abc")
    assert not share_access.can_reveal(SECRET + "x", doc_id, "room_abc", share_access.DEAL_ROOM)


def test_share_link_tokens_are_unchanged_by_the_kind_parameter():
    """Links made before rooms had derived tokens must still be copyable: same HMAC input as before."""
    expected = base64.urlsafe_b64encode(hmac.new(SECRET.encode(), b"share-link:shr_a", hashlib.sha256).digest())
    assert share_access.derive_token(SECRET, "shr_a") == expected.rstrip(b"=").decode()


def test_the_room_request_carries_the_access_fields():
    s = spec(passcode="open-sesame", require_email_verification=True, allowed_email_domains=["acme.test"])
    assert (s.passcode, s.require_email, s.allowed_email_domains) == ("open-sesame", True, ("acme.test",))


def test_a_room_message_shows_access_as_flags_and_never_the_hash():
    access = share_access.access_fields("open-sesame", True, ["@Acme.test"], mail_enabled=True)
    doc = rooms.room_document(spec(), "room_abc", "rep-1", NOW, access, share_access.secret_id(SECRET))
    assert doc["passcode_hash"].startswith("scrypt:") and doc["email_verification"] is True
    message = rooms.room_message(doc, NOW + timedelta(minutes=1), SECRET)
    assert (message.passcode_required, message.email_verification_required, list(message.allowed_email_domains),
            message.revealable) == (True, True, ["acme.test"], True)
    assert "scrypt" not in str(message)
    assert not rooms.room_message(doc, NOW, SECRET + "x").revealable  # the secret was rotated since


def test_a_room_without_access_controls_or_a_secret_fingerprint():
    doc = rooms.room_document(spec(), "room_abc", "rep-1", NOW)
    message = rooms.room_message(doc, NOW, SECRET)
    assert not (message.passcode_required or message.email_verification_required or message.revealable)
    assert "token_secret_id" not in doc and "passcode_hash" not in doc
