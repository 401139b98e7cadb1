"""Notification decisions, ids and preference validation: pure functions a replay recomputes identically."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.common import errors
from services.usage import notify_model as nm

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)
QUIET = timedelta(hours=24)


def test_the_first_open_ever_notifies():
    assert nm.kind_of(T0, None, QUIET) == nm.FIRST_OPEN


def test_an_open_within_the_quiet_period_does_not_notify():
    assert nm.kind_of(T0 + timedelta(hours=23, minutes=59), T0, QUIET) is None


def test_an_open_after_the_quiet_period_notifies_again():
    assert nm.kind_of(T0 + QUIET, T0, QUIET) == nm.REOPEN
    assert nm.kind_of(T0 + timedelta(days=3), T0, QUIET) == nm.REOPEN


def test_ids_are_deterministic_and_distinguish_what_they_are_about():
    first = nm.notification_id("shr_1", nm.FIRST_OPEN, "evt-1")
    assert first == nm.notification_id("shr_1", nm.FIRST_OPEN, "evt-1")
    others = {nm.notification_id("shr_2", nm.FIRST_OPEN, "evt-1"), nm.notification_id("shr_1", nm.REOPEN, "evt-1"),
              nm.notification_id("shr_1", nm.FIRST_OPEN, "evt-2")}
    assert first not in others and len(others) == 3
    assert nm.delivery_id(first, nm.EMAIL) != nm.delivery_id(first, nm.WEBHOOK)
    assert nm.digest_id("rep", nm.EMAIL, "2026-11-03") != nm.digest_id("rep", nm.EMAIL, "2026-11-04")


def test_defaults_are_the_portal_only():
    prefs = nm.Preferences(rep_id="rep@example.com")
    assert prefs.portal_enabled and prefs.channels() == {}


def test_email_goes_to_the_rep_id_when_it_is_an_address_and_no_other_is_set():
    assert nm.Preferences(rep_id="rep@example.com", email_enabled=True).channels() == {nm.EMAIL: nm.IMMEDIATE}
    assert nm.Preferences(rep_id="rep-7", email_enabled=True).channels() == {}
    assert nm.Preferences(rep_id="rep-7", email_enabled=True, email="r@x.io").email_address() == "r@x.io"


def _valid(**fields):
    base = {"portal_enabled": True, "email_enabled": True, "email": "rep@example.com", "webhook_enabled": True,
            "webhook_url": "https://hooks.slack.com/services/T/B/x", "webhook_format": nm.TEAMS,
            "webhook_delivery": nm.DIGEST}
    return nm.validated("rep-1", base | fields, production=True, now_iso="2026-11-03T09:00:00Z")


def test_valid_preferences_keep_every_choice():
    prefs = _valid()
    assert prefs.channels() == {nm.EMAIL: nm.IMMEDIATE, nm.WEBHOOK: nm.DIGEST}
    assert prefs.webhook_format == nm.TEAMS and prefs.updated_at == "2026-11-03T09:00:00Z"


@pytest.mark.parametrize("fields, path", [
    ({"email": "not-an-address"}, "settings.email"),
    ({"email": "a@b"}, "settings.email"),
    ({"email": ""}, "settings.email"),  # email on, and rep-1 is no address
    ({"webhook_url": "http://hooks.example.com/x"}, "settings.webhook_url"),  # production: https only
    ({"webhook_url": "ftp://hooks.example.com/x"}, "settings.webhook_url"),
    ({"webhook_url": "https:///no-host"}, "settings.webhook_url"),
    ({"webhook_url": "https://user:pw@hooks.example.com/x"}, "settings.webhook_url"),
    ({"webhook_url": "https://hooks.example.com:99999/x"}, "settings.webhook_url"),
    ({"webhook_url": "https://hooks.example.com/" + "x" * 2100}, "settings.webhook_url"),
    ({"webhook_url": ""}, "settings.webhook_url"),  # webhook on without a URL
    ({"webhook_format": "discord"}, "settings.webhook_format"),
    ({"email_delivery": "weekly"}, "settings.email_delivery"),
])
def test_bad_preferences_name_the_field(fields, path):
    with pytest.raises(errors.InvalidArgument) as caught:
        _valid(**fields)
    assert caught.value.field == path


def test_http_webhooks_are_allowed_outside_production_for_local_receivers():
    prefs = nm.validated("rep-1", {"webhook_enabled": True, "webhook_url": "http://127.0.0.1:8099/hook"},
                         production=False, now_iso="2026-11-03T09:00:00Z")
    assert prefs.webhook_url == "http://127.0.0.1:8099/hook"
