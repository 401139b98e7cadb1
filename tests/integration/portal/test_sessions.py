"""Portal sessions end when they should: at sign-out, at a password change, at a
revocation and at their timeouts, on every replica, whatever cookie a client kept."""

from __future__ import annotations

import time
from typing import Any, Callable

from services.common import config
from services.portal.sessions import SessionStore, record_id
from services.portal.users import UserStore
from tests.integration.portal.conftest import PASSWORD, cookie, csrf_token, session_id, sign_in, signed_in


def test_a_cookie_captured_before_sign_out_is_rejected_after_it(make_portal: Callable[..., Any], user: str):
    replica_a, replica_b = make_portal(), make_portal()
    browser = replica_a.test_client()
    assert sign_in(browser, user).status_code == 302
    captured = cookie(browser)
    thief = replica_b.test_client()
    thief.set_cookie("collateral_session", captured)
    assert signed_in(thief), "the cookie works on any replica while the session lives"

    browser.post("/logout", data={"csrf_token": csrf_token(browser, "/account")})

    assert not signed_in(browser)
    for app in (replica_a, replica_b):
        replay = app.test_client()
        replay.set_cookie("collateral_session", captured)
        assert not signed_in(replay)
        response = replay.get("/account")
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_a_password_change_rejects_every_old_cookie(portal: Any, portal_settings: config.Settings, user: str):
    laptop, phone = portal.test_client(), portal.test_client()
    sign_in(laptop, user)
    sign_in(phone, user, address="198.51.100.2")
    assert signed_in(laptop) and signed_in(phone)

    UserStore(portal_settings).set_password(user, "a-new-password-2")

    assert not signed_in(laptop) and not signed_in(phone)
    assert sign_in(laptop, user, password="a-new-password-2").status_code == 302


def test_changing_ones_password_keeps_this_session_under_a_new_id_and_ends_the_others(portal: Any, user: str):
    laptop, phone = portal.test_client(), portal.test_client()
    sign_in(laptop, user)
    sign_in(phone, user, address="198.51.100.2")
    before = cookie(laptop)

    response = laptop.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "changed-pass-3", "confirm_password": "changed-pass-3",
        "csrf_token": csrf_token(laptop, "/account")})

    assert response.status_code == 302
    assert signed_in(laptop), "the session that changed the password goes on"
    assert session_id(portal, cookie(laptop)) != session_id(portal, before)
    assert not signed_in(phone)
    replay = portal.test_client()
    replay.set_cookie("collateral_session", before)
    assert not signed_in(replay), "the pre-change cookie of the same browser is dead too"


def test_a_wrong_current_password_changes_nothing(portal: Any, user: str):
    laptop = portal.test_client()
    sign_in(laptop, user)
    response = laptop.post("/account/password", data={
        "current_password": "not-it-at-all", "new_password": "changed-pass-3", "confirm_password": "changed-pass-3",
        "csrf_token": csrf_token(laptop, "/account")})
    assert response.status_code == 400 and "not your current password" in response.get_data(as_text=True)
    assert signed_in(laptop)
    assert sign_in(portal.test_client(), user, password=PASSWORD).status_code == 302


def test_sign_out_everywhere_else_keeps_only_this_session(portal: Any, user: str):
    laptop, phone, tablet = portal.test_client(), portal.test_client(), portal.test_client()
    for n, browser in enumerate((laptop, phone, tablet)):
        sign_in(browser, user, address=f"198.51.100.{n + 10}")

    response = laptop.post("/account/sessions/revoke", data={"csrf_token": csrf_token(laptop, "/account")})

    assert response.status_code == 302
    assert "Signed out 2 other sessions" in laptop.get("/account").get_data(as_text=True)
    assert signed_in(laptop) and not signed_in(phone) and not signed_in(tablet)


def test_the_session_id_changes_at_sign_in(portal: Any, user: str, portal_settings: config.Settings):
    other = f"other-{user}"
    UserStore(portal_settings).add(other, "Other Rep", "rep", PASSWORD)
    browser = portal.test_client()
    csrf_token(browser)
    assert session_id(portal, cookie(browser)) is None, "no session before sign-in"
    sign_in(browser, user)
    first = cookie(browser)

    browser.post("/login", data={"email": other, "password": PASSWORD, "csrf_token": csrf_token(browser, "/account")})

    assert session_id(portal, cookie(browser)) != session_id(portal, first)
    replay = portal.test_client()
    replay.set_cookie("collateral_session", first)
    assert not signed_in(replay), "the session the browser had before is ended, not carried over"
    assert "Other Rep" in browser.get("/account").get_data(as_text=True)


def test_idle_and_absolute_timeouts_end_sessions(portal: Any, portal_settings: config.Settings, user: str):
    store = SessionStore(portal_settings)
    idle, old = portal.test_client(), portal.test_client()
    sign_in(idle, user)
    sign_in(old, user, address="198.51.100.3")
    now_ms = int(time.time() * 1000)

    store.es.update(index=store.alias, id=record_id(session_id(portal, cookie(idle))),
                    doc={"last_seen_at": now_ms - (portal_settings.portal_session_idle_timeout_s + 1) * 1000})
    store.es.update(index=store.alias, id=record_id(session_id(portal, cookie(old))),
                    doc={"created_at": now_ms - (portal_settings.portal_session_max_age_s + 1) * 1000})

    assert not signed_in(idle) and not signed_in(old)


def test_activity_keeps_a_session_alive(portal: Any, portal_settings: config.Settings, user: str):
    store = SessionStore(portal_settings)
    browser = portal.test_client()
    sign_in(browser, user)
    doc_id = record_id(session_id(portal, cookie(browser)))
    stale_ms = int(time.time() * 1000) - (portal_settings.portal_session_idle_timeout_s - 30) * 1000
    store.es.update(index=store.alias, id=doc_id, doc={"last_seen_at": stale_ms})

    assert signed_in(browser)

    assert store.es.get(index=store.alias, id=doc_id)["_source"]["last_seen_at"] > stale_ms


def test_the_store_keeps_no_usable_session_id(portal: Any, portal_settings: config.Settings, user: str):
    browser = portal.test_client()
    sign_in(browser, user)
    sid = session_id(portal, cookie(browser))
    store = SessionStore(portal_settings)
    store.es.indices.refresh(index=store.alias)
    ids = [h["_id"] for h in store.es.search(index=store.alias, query={"term": {"email": user}})["hits"]["hits"]]
    assert ids == [record_id(sid)] and sid not in ids


def test_an_admin_signs_an_account_out_everywhere_from_the_command_line(
        portal: Any, portal_settings: config.Settings, user: str, monkeypatch: Any, capsys: Any):
    from services.portal import users as users_cli

    laptop, phone = portal.test_client(), portal.test_client()
    sign_in(laptop, user)
    sign_in(phone, user, address="198.51.100.2")
    monkeypatch.setenv("COLLATERAL_NAMESPACE", portal_settings.namespace)

    assert users_cli.main(["revoke", "--email", user]) == 0

    assert "2 session(s) signed out" in capsys.readouterr().out
    assert not signed_in(laptop) and not signed_in(phone)
    assert users_cli.main(["revoke", "--email", f"nobody-{user}"]) == 2
