"""One-time codes of the customer access gate, and the gate's email check: pure logic."""

from __future__ import annotations

import re

from services.portal import access_codes as ac
from services.portal.access_gate import check_email

SECRET = "portal-secret"
NOW = 1_800_000_000.0


def challenge(code: str = "042517", attempts: int = 1, expires_in: float = 300, cid: str = "c1") -> ac.Challenge:
    """A challenge as it is after `attempts` checks were counted (the current one included)."""
    return ac.Challenge(key="share:shr_1", email="dana@acme.test", code_hash=ac.hash_code(SECRET, cid, code),
                        expires_at=NOW + expires_in, attempts=attempts)


def test_codes_are_six_digits_with_leading_zeros_kept():
    codes = {ac.new_code() for _ in range(200)}
    assert all(re.fullmatch(r"\d{6}", c) for c in codes) and len(codes) > 150


def test_the_right_code_passes_spaces_and_dashes_allowed():
    assert ac.judge(challenge(), "c1", "share:shr_1", "042517", SECRET, NOW) == ac.PASSED
    assert ac.judge(challenge(), "c1", "share:shr_1", "042 517", SECRET, NOW) == ac.PASSED
    assert ac.judge(challenge(), "c1", "share:shr_1", "042-517", SECRET, NOW) == ac.PASSED


def test_a_wrong_code_fails():
    assert ac.judge(challenge(), "c1", "share:shr_1", "042518", SECRET, NOW) == ac.WRONG
    assert ac.judge(challenge(), "c1", "share:shr_1", "42517", SECRET, NOW) == ac.WRONG
    assert ac.judge(challenge(), "c1", "share:shr_1", "", SECRET, NOW) == ac.WRONG


def test_a_code_expires_after_ten_minutes():
    assert ac.CODE_TTL_S == 600
    assert ac.judge(challenge(expires_in=0), "c1", "share:shr_1", "042517", SECRET, NOW) == ac.EXPIRED
    assert ac.judge(challenge(expires_in=0.5), "c1", "share:shr_1", "042517", SECRET, NOW) == ac.PASSED


def test_five_attempts_then_even_the_right_code_is_refused():
    assert ac.MAX_ATTEMPTS == 5
    assert ac.judge(challenge(attempts=5), "c1", "share:shr_1", "042517", SECRET, NOW) == ac.PASSED
    assert ac.judge(challenge(attempts=6), "c1", "share:shr_1", "042517", SECRET, NOW) == ac.EXHAUSTED
    assert ac.attempts_left(challenge(attempts=4)) == 1


def test_a_code_is_bound_to_its_challenge_and_link():
    assert ac.judge(challenge(), "c2", "share:shr_1", "042517", SECRET, NOW) == ac.WRONG  # another challenge's id
    assert ac.judge(challenge(), "c1", "share:shr_2", "042517", SECRET, NOW) == ac.UNKNOWN  # another link
    assert ac.judge(None, "c1", "share:shr_1", "042517", SECRET, NOW) == ac.UNKNOWN
    assert ac.judge(challenge(), "c1", "share:shr_1", "042517", "other-secret", NOW) == ac.WRONG


def test_the_stored_hash_does_not_reveal_the_code():
    assert "042517" not in challenge().code_hash and len(challenge().code_hash) == 64


def test_emails_are_checked_against_the_allowed_domains():
    assert check_email("dana@acme.test", ()) == ""
    assert check_email("dana@acme.test", ("acme.test",)) == ""
    assert check_email("dana@ACME.test", ("acme.test",)) == ""
    assert "acme.test" in check_email("dana@evil.test", ("acme.test",))
    assert check_email("not-an-email", ()) != ""
    assert check_email("a@" + "b" * 260 + ".test", ()) != ""
