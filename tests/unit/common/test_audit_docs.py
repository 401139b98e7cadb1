"""docs/audit.md lists what the audit log records, so admins know what they can look up: every
audited RPC, found from the proto descriptors as tests/integration/audit/test_audit_rpcs.py finds
them, must be in its table, and every one left out must be named where the exceptions are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.common import audit

DOC = Path(__file__).resolve().parents[3] / "docs" / "audit.md"
RPC_NAME = re.compile(r"`([A-Z][a-z]\w*)`")
# Portal-side actions (not RPCs, so not in any descriptor) the account page records.
PORTAL_ACTIONS = ("portal/account.passwd", "portal/account.revoke")


def audited_rpcs() -> list[str]:
    return sorted(audit.state_changing_rpcs() - set(audit.NOT_AUDITED))


def recorded_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split("## What is recorded", 1)[1].split("\n## ", 1)[0]


def table_rows() -> list[list[str]]:
    """The cells of each row of the section's first table ("\\|" inside a cell is not a separator)."""
    table = recorded_section().strip().split("\n\n", 1)[0]
    rows = [re.split(r"(?<!\\)\|", line.strip().strip("|")) for line in table.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row] for row in rows[2:]]


def listed_rpcs(service: str) -> set[str]:
    """RPC names in the second column of the rows of `service` (content, usage, feedback)."""
    return {name for row in table_rows() if row[0] == service for name in RPC_NAME.findall(row[1])}


def short_service(action: str) -> tuple[str, str]:
    """("usage", "RevealRoomLink") of "collateral.v1.UsageService/RevealRoomLink"."""
    service, rpc = action.split("/")
    return service.split(".")[-1].removesuffix("Service").lower(), rpc


def test_the_descriptors_have_audited_rpcs_of_every_service():
    assert {short_service(a)[0] for a in audited_rpcs()} == {"content", "usage", "feedback"}


@pytest.mark.parametrize("action", audited_rpcs())
def test_every_audited_rpc_is_in_the_table(action: str):
    service, rpc = short_service(action)
    assert rpc in listed_rpcs(service), f"docs/audit.md lists no {rpc} in a `{service}` row of What is recorded"


def test_the_table_names_no_rpc_that_is_not_audited():
    for service in ("content", "usage", "feedback"):
        known = {short_service(a)[1] for a in audited_rpcs() if short_service(a)[0] == service}
        assert listed_rpcs(service) <= known, f"{service}: {sorted(listed_rpcs(service) - known)} are not audited RPCs"


@pytest.mark.parametrize("action", sorted(audit.NOT_AUDITED))
def test_every_rpc_left_out_is_named_with_its_reason(action: str):
    _, found, exceptions = recorded_section().partition("Not recorded, on purpose: ")
    assert found and action.removeprefix("collateral.v1.") in exceptions.split("\n\n", 1)[0]


@pytest.mark.parametrize("action", PORTAL_ACTIONS)
def test_the_account_pages_actions_are_in_the_table(action: str):
    assert any(action in row[1] and row[0] == "portal" for row in table_rows())
