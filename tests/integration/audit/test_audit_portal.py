"""The portal's side of the audit log: the admin page with filters, paging and CSV export,
the end user's address forwarded with every call, and account changes by the account tool."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import subprocess
import sys
import uuid
from typing import Any, Iterator

import pytest

from services.common import config, es as es_helpers
from services.portal.app import create_app
from services.portal.users import UserStore
from tests.conftest import process_env

pytestmark = pytest.mark.integration

PASSWORD = "right-password-1"
PROXY = "10.0.0.1"
REP_ADDRESS = "198.51.100.23"


@pytest.fixture(scope="module")
def portal_env(audit_env: config.Settings, servers: dict[str, Any]) -> Iterator[config.Settings]:
    """The portal over the suite's servers, believing X-Forwarded-For from PROXY."""
    settings = dataclasses.replace(
        audit_env, portal_trusted_proxies=PROXY, portal_signin_checks_per_s=1000.0,
        content_addr=servers["collateral.v1.ContentService"].address,
        usage_addr=servers["collateral.v1.UsageService"].address,
        feedback_addr=servers["collateral.v1.FeedbackService"].address)
    yield settings
    es = es_helpers.client(settings)
    for name in ("portal-users", "portal-sessions", "portal-sign-in-failures"):
        for index in es_helpers.concrete_indices(es, settings.index(name)):
            es.indices.delete(index=index)
    es.close()


@pytest.fixture(scope="module")
def portal(portal_env: config.Settings) -> Any:
    app = create_app(portal_env)
    app.config["TESTING"] = True
    return app


def via_proxy(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": PROXY}, "headers": {"X-Forwarded-For": address}}


def csrf_token(client: Any, path: str, address: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path, **via_proxy(address)).get_data(as_text=True))
    assert match, f"{path} carries a CSRF token"
    return match.group(1)


def signed_in_client(portal: Any, portal_env: config.Settings, role: str, address: str) -> tuple[Any, str]:
    """A test client signed in as a fresh account of `role`; returns (client, email)."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    UserStore(portal_env).add(email, f"Test {role}", role, PASSWORD)
    client = portal.test_client()
    token = csrf_token(client, "/login", address)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                           **via_proxy(address))
    assert response.status_code == 302 and not response.headers["Location"].startswith("/login")
    return client, email


def test_admin_page_lists_filters_and_exports_changes_with_the_users_address(portal, portal_env, find_records):
    rep, rep_email = signed_in_client(portal, portal_env, "rep", REP_ADDRESS)
    description = f"A case study for {uuid.uuid4().hex[:8]}"
    token = csrf_token(rep, "/requests", REP_ADDRESS)
    sent = rep.post("/requests", data={"description": description, "csrf_token": token}, **via_proxy(REP_ADDRESS))
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/requests")
    action = "collateral.v1.FeedbackService/SubmitContentRequest"
    record = find_records(actor=rep_email, action=action)[0]
    assert record.forwarded_for == REP_ADDRESS and record.actor_role == "rep"

    admin, _ = signed_in_client(portal, portal_env, "admin", "192.0.2.9")
    page = admin.get(f"/admin/audit?actor={rep_email}", **via_proxy("192.0.2.9"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'href="/admin/audit"' in html  # linked from the admin navigation
    assert f'data-record-id="{record.id}"' in html and REP_ADDRESS in html and description in html
    other = admin.get("/admin/audit?actor=nobody@example.com", **via_proxy("192.0.2.9")).get_data(as_text=True)
    assert record.id not in other and "No entries" in other

    export = admin.get(f"/admin/audit?actor={rep_email}&format=csv", **via_proxy("192.0.2.9"))
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(r["id"], r["action"], r["forwarded_for"], r["outcome"]) for r in rows] == \
        [(record.id, action, REP_ADDRESS, "OK")]
    assert json.loads(rows[0]["after"])["description"] == description and rows[0]["before"] == ""


def test_the_audit_page_is_for_admins_only(portal, portal_env):
    for role in ("rep", "marketer"):
        client, _ = signed_in_client(portal, portal_env, role, "192.0.2.10")
        assert client.get("/admin/audit", **via_proxy("192.0.2.10")).status_code == 403
        assert client.get("/admin/audit?format=csv", **via_proxy("192.0.2.10")).status_code == 403
        assert 'href="/admin/audit"' not in client.get("/requests", **via_proxy("192.0.2.10")).get_data(as_text=True)
    assert portal.test_client().get("/admin/audit").status_code == 302  # to sign-in


def test_account_and_role_changes_by_the_account_tool_are_recorded(portal_env, find_records):
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    env = process_env(portal_env)

    def tool(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "services.portal.users", *args], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    tool("add", "--email", email, "--name", "Ops", "--role", "rep", "--password", PASSWORD)
    tool("add", "--email", email, "--name", "Ops", "--role", "admin", "--password", PASSWORD, "--replace")
    records = find_records(expected=2, target_kind="user", target_id=email)
    promoted, created = records[0], records[1]
    assert (created.action, promoted.action) == ("portal/users.add", "portal/users.add")
    assert created.before_json == "" and json.loads(created.after_json)["role"] == "rep"
    assert json.loads(promoted.before_json)["role"] == "rep" and json.loads(promoted.after_json)["role"] == "admin"
    assert promoted.actor == "cli:services.portal.users" and promoted.actor_role == "system"
    assert promoted.peer.startswith("host:") and promoted.service == "portal"
    assert all("password_hash" not in r.before_json + r.after_json for r in records)


def test_a_users_own_password_change_and_sign_out_elsewhere_are_recorded(portal, portal_env, find_records):
    address = "198.51.100.77"
    rep, email = signed_in_client(portal, portal_env, "rep", address)
    new_password = f"changed-{uuid.uuid4().hex[:12]}"
    changed = rep.post("/account/password", data={
        "current_password": PASSWORD, "new_password": new_password, "confirm_password": new_password,
        "csrf_token": csrf_token(rep, "/account", address)}, **via_proxy(address))
    assert changed.status_code == 302
    revoked = rep.post("/account/sessions/revoke", data={"csrf_token": csrf_token(rep, "/account", address)},
                       **via_proxy(address))
    assert revoked.status_code == 302

    passwd = find_records(actor=email, action="portal/account.passwd")[0]
    revoke = find_records(actor=email, action="portal/account.revoke")[0]
    for record in (passwd, revoke):
        assert (record.actor_role, record.forwarded_for, record.peer) == ("rep", address, PROXY)
        assert (record.service, record.target_kind, record.target_id, record.outcome) == ("portal", "user", email, "OK")
    before, after = json.loads(passwd.before_json), json.loads(passwd.after_json)
    assert before["email"] == after["email"] == email and before["updated_at"] != after["updated_at"]
    attempts = find_records(expected=4, actor=email, target_kind="user", include_attempts=True)
    for record in attempts:
        stored = record.before_json + record.after_json
        assert "password_hash" not in stored and new_password not in stored and PASSWORD not in stored
