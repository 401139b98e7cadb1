"""Share link access controls and derived tokens: pure logic."""

from __future__ import annotations

import re

import pytest

from services.common import errors
from services.usage import share_access as sa

SECRET = "a-share-link-secret-of-at-least-32-bytes"


def test_a_derived_token_is_stable_url_safe_and_256_bits():
    token = sa.derive_token(SECRET, "shr_0123456789abcdef01234567")
    assert token == sa.derive_token(SECRET, "shr_0123456789abcdef01234567")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # the portal's token pattern accepts it


def test_a_derived_token_depends_on_the_secret_and_the_link():
    token = sa.derive_token(SECRET, "shr_a")
    assert token != sa.derive_token(SECRET + "x", "shr_a")
    assert token != sa.derive_token(SECRET, "shr_b")


def test_only_a_token_derived_under_the_current_secret_can_be_revealed():
    doc_id = sa.token_hash(sa.derive_token(SECRET, "shr_a"))
    assert sa.can_reveal(SECRET, doc_id, "shr_a")
    assert not sa.can_reveal("another-secret-" + "y" * 20, doc_id, "shr_a")  # rotated since
    assert not sa.can_reveal(SECRET, sa.token_hash("a-random-legacy-token-xxxxxxxxxxxxx"), "shr_a")
    assert sa.revealable(SECRET, {"token_secret_id": sa.secret_id(SECRET)})
    assert not sa.revealable(SECRET, {})  # a link from before tokens were derived
    assert not sa.revealable(SECRET, {"token_secret_id": sa.secret_id("older-secret-" + "z" * 20)})


@pytest.mark.parametrize("passcode", ["abcd", "x" * 64, "with inner space"])
def test_passcodes_within_bounds_are_accepted(passcode):
    assert sa.check_passcode(passcode) == passcode


@pytest.mark.parametrize("passcode", ["abc", "x" * 65, " lead", "trail "])
def test_passcodes_out_of_bounds_are_refused_naming_the_field(passcode):
    with pytest.raises(errors.InvalidArgument) as err:
        sa.check_passcode(passcode)
    assert err.value.field == "passcode"


def test_a_passcode_is_stored_as_scrypt_and_only_the_right_one_matches():
    doc = sa.access_fields("Blue-Falcon-42", False, [], mail_enabled=False)
    assert doc["passcode_hash"].startswith("scrypt:") and "Blue-Falcon-42" not in doc["passcode_hash"]
    assert sa.passcode_matches(doc, "Blue-Falcon-42")
    assert not sa.passcode_matches(doc, "blue-falcon-42")
    assert not sa.passcode_matches({}, "anything")  # no passcode: nothing to accept
    assert sa.public_fields(doc) == {"passcode_required": True, "email_verification_required": False,
                                     "allowed_email_domains": []}


def test_domains_are_normalised_and_invalid_ones_named_by_position():
    assert sa.normalize_domains([" Acme.COM", "@acme.co.uk", "acme.com"]) == ["acme.com", "acme.co.uk"]
    with pytest.raises(errors.InvalidArgument) as err:
        sa.normalize_domains(["acme.com", "acme"])
    assert err.value.field == "allowed_email_domains[1]"
    with pytest.raises(errors.InvalidArgument):
        sa.normalize_domains([f"d{i}.com" for i in range(sa.MAX_EMAIL_DOMAINS + 1)])


def test_an_email_is_allowed_only_in_the_listed_domains():
    assert sa.email_allowed("dana@acme.com", ["acme.com"])
    assert not sa.email_allowed("dana@evil-acme.com", ["acme.com"])
    assert not sa.email_allowed("dana@sub.acme.com", ["acme.com"])  # that exact domain
    assert sa.email_allowed("dana@anything.test", [])


def test_email_verification_needs_email_and_domains_need_verification():
    with pytest.raises(errors.FailedPrecondition):
        sa.access_fields("", True, [], mail_enabled=False)
    with pytest.raises(errors.InvalidArgument) as err:
        sa.access_fields("", False, ["acme.com"], mail_enabled=True)
    assert err.value.field == "allowed_email_domains"
    doc = sa.access_fields("", True, ["ACME.com"], mail_enabled=True)
    assert doc == {"email_verification": True, "allowed_email_domains": ["acme.com"]}
    assert sa.access_fields("", False, [], mail_enabled=False) == {}
