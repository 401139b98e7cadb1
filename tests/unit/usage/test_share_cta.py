"""The call to action of a share link: what CreateShareLink accepts and what it stores."""

from __future__ import annotations

import pytest

from collateral.v1 import usage_pb2
from services.common import errors
from services.usage import shares

NONE = usage_pb2.SHARE_CALL_TO_ACTION_UNSPECIFIED
REPLY = usage_pb2.SHARE_CALL_TO_ACTION_REPLY_EMAIL
MEET = usage_pb2.SHARE_CALL_TO_ACTION_BOOK_MEETING
REP = "rita.rep@example.com"


def refused(kind: int, url: str, rep: str = REP) -> errors.InvalidArgument:
    with pytest.raises(errors.InvalidArgument) as err:
        shares.call_to_action_fields(kind, url, rep)
    return err.value


def test_no_call_to_action_stores_nothing():
    assert shares.call_to_action_fields(NONE, "", REP) == {}


def test_reply_by_email_stores_its_name_only():
    assert shares.call_to_action_fields(REPLY, "", REP) == {"call_to_action": "reply_email"}


def test_book_a_meeting_stores_the_url():
    url = "https://cal.example.com/rita/30min?utm_source=collateral#top"
    assert shares.call_to_action_fields(MEET, f"  {url} ", REP) == {"call_to_action": "book_meeting",
                                                                    "meeting_url": url}


def test_stored_names_map_back_to_the_enum():
    for value, name in shares.CTA_NAMES.items():
        assert shares.CTA_VALUES[name] == value


@pytest.mark.parametrize("url, why", [
    ("", "required"),
    ("http://cal.example.com/rita", "https"),
    ("javascript:alert(1)", "https"),
    ("data:text/html,<script>alert(1)</script>", "https"),
    ("ftp://cal.example.com/rita", "https"),
    ("cal.example.com/rita", "https"),
    ("https://", "host"),
    ("https:///path-only", "host"),
    ("https://cal.example.com@evil.example/rita", "user name"),
    ("https://user:secret@cal.example.com/rita", "user name"),
    ("https://cal.example.com/ri ta", "spaces"),
    ("https://cal.example.com/\nrita", "spaces"),
    ("https://cal.example.com/\x00", "control"),
    ("https://cal.example.com:99999/rita", "valid URL"),
    ("https://[::1/rita", "valid URL"),
    ("https://cal.example.com/" + "a" * 2030, "2048"),
])
def test_bad_meeting_urls_are_invalid_arguments_on_meeting_url(url, why):
    err = refused(MEET, url)
    assert err.field == "meeting_url"
    assert why in err.message


def test_a_url_of_exactly_2048_characters_is_accepted():
    url = "https://cal.example.com/" + "a" * (2048 - len("https://cal.example.com/"))
    assert shares.call_to_action_fields(MEET, url, REP)["meeting_url"] == url


def test_uppercase_scheme_is_still_https():
    assert shares.call_to_action_fields(MEET, "HTTPS://cal.example.com/x", REP)["meeting_url"] == \
        "HTTPS://cal.example.com/x"


@pytest.mark.parametrize("kind", [NONE, REPLY])
def test_meeting_url_is_refused_without_book_a_meeting(kind):
    err = refused(kind, "https://cal.example.com/rita")
    assert err.field == "meeting_url"


def test_unknown_call_to_action_is_invalid():
    err = refused(42, "")
    assert err.field == "call_to_action"


@pytest.mark.parametrize("rep", ["rep-123", "rita@", "rita.rep@example.com?cc=boss@example.com",
                                 "rita rep@example.com", "rita.rep@localhost"])
def test_reply_by_email_needs_a_plain_sender_address(rep):
    err = refused(REPLY, "", rep)
    assert err.field == "call_to_action"
