"""A signed-in user's own account changes (password, other sessions) go through the audit log
like the account tool's: the user as actor, their address as origin, never a password or hash;
a change that cannot be recorded is not made."""

from __future__ import annotations

from typing import Any

import pytest

from services.common import audit, errors
from services.portal.users import User
from services.portal.views import core
from tests.unit.portal.conftest import csrf_token, login_as

EMAIL = "rep@example.com"
OLD, NEW = "old-password-1", "new-password-2"


class StoredUsers:
    """One account whose document changes when its password does (as the real store's does)."""

    es = None

    def __init__(self) -> None:
        self.doc = {"email": EMAIL, "name": "Rep User", "role": "rep", "disabled": False,
                    "password_hash": "scrypt:hash-of-old", "updated_at": "2026-01-01T00:00:00Z"}
        self.passwords: list[str] = []

    def authenticate(self, email: str, password: str) -> User | None:
        return User(EMAIL, "Rep User", "rep") if (email, password) == (EMAIL, OLD) else None

    def set_password(self, email: str, password: str) -> int:
        self.passwords.append(password)
        self.doc = {**self.doc, "password_hash": "scrypt:hash-of-new", "updated_at": "2026-02-02T00:00:00Z"}
        return 0

    def _source(self, email: str) -> dict[str, Any] | None:
        return dict(self.doc) if email == EMAIL else None


class MemoryAuditLog:
    """Stores entries in a list; `fail_at` makes the n-th append (0: the attempt) fail as Elasticsearch would."""

    entries: list[dict[str, Any]] = []
    fail_at: int | None = None

    def __init__(self, settings: Any, client: Any = None) -> None:
        pass

    def append(self, entry: audit.Entry) -> None:
        if MemoryAuditLog.fail_at == len(MemoryAuditLog.entries):
            MemoryAuditLog.fail_at = None
            raise errors.Unavailable("the audit log cannot be written: blocked")
        MemoryAuditLog.entries.append(entry.document())


@pytest.fixture
def users(app: Any) -> StoredUsers:
    stored = StoredUsers()
    app.extensions["collateral_users"] = stored
    return stored


@pytest.fixture
def records(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    monkeypatch.setattr(MemoryAuditLog, "entries", [])
    monkeypatch.setattr(MemoryAuditLog, "fail_at", None)
    monkeypatch.setattr(audit, "AuditLog", MemoryAuditLog)
    return MemoryAuditLog.entries


def change_password(client: Any) -> Any:
    return client.post("/account/password", data={
        "current_password": OLD, "new_password": NEW, "confirm_password": NEW,
        "csrf_token": csrf_token(client, "/account")}, environ_base={"REMOTE_ADDR": "192.0.2.40"})


def test_a_password_change_is_recorded_with_the_user_and_address_but_no_password(client, users, records):
    login_as(client, "rep", EMAIL)

    response = change_password(client)

    assert response.status_code == 302 and users.passwords == [NEW]
    attempt, final = records
    assert (attempt["phase"], final["phase"]) == ("attempt", "final")
    assert final["action"] == "portal/account.passwd" and final["service"] == "portal"
    assert (final["actor"], final["actor_role"]) == (EMAIL, "rep")
    assert (final["target_kind"], final["target_id"], final["outcome"]) == ("user", EMAIL, "OK")
    assert (final["peer"], final["forwarded_for"]) == ("192.0.2.40", "192.0.2.40")
    assert final["before"]["updated_at"] != final["after"]["updated_at"]
    for entry in records:
        assert OLD not in str(entry) and NEW not in str(entry) and "hash-of" not in str(entry)


def test_signing_out_elsewhere_is_recorded_and_keeps_this_session(client, users, records):
    kept = login_as(client, "rep", EMAIL)
    other = client.application.extensions["collateral_sessions"].create(EMAIL, "Rep User", "rep")

    response = client.post("/account/sessions/revoke", data={"csrf_token": csrf_token(client, "/account")})

    assert response.status_code == 302
    sessions = client.application.extensions["collateral_sessions"].records
    assert kept in sessions and other not in sessions
    final = records[-1]
    assert (final["action"], final["actor"], final["target_id"], final["outcome"]) == \
        ("portal/account.revoke", EMAIL, EMAIL, "OK")
    assert "password_hash" not in final["before"] and "password_hash" not in final["after"]


def test_a_password_change_that_cannot_be_recorded_is_not_made(client, users, records):
    login_as(client, "rep", EMAIL)
    MemoryAuditLog.fail_at = 0

    response = change_password(client)

    assert response.status_code == 503 and core.NOT_RECORDED in response.get_data(as_text=True)
    assert users.passwords == [] and records == []


def test_sessions_are_not_ended_when_the_change_cannot_be_recorded(client, users, records):
    login_as(client, "rep", EMAIL)
    other = client.application.extensions["collateral_sessions"].create(EMAIL, "Rep User", "rep")
    MemoryAuditLog.fail_at = 0

    response = client.post("/account/sessions/revoke", data={"csrf_token": csrf_token(client, "/account")})

    assert response.status_code == 302
    assert other in client.application.extensions["collateral_sessions"].records
    assert core.NOT_RECORDED in client.get("/account").get_data(as_text=True)


def test_a_final_record_lost_after_the_change_does_not_report_the_change_as_failed(client, users, records):
    """The password did change: saying otherwise would have the user retry with a password that no longer works."""
    login_as(client, "rep", EMAIL)
    MemoryAuditLog.fail_at = 1

    response = change_password(client)

    assert response.status_code == 302 and users.passwords == [NEW]
    assert [r["phase"] for r in records] == ["attempt"]
