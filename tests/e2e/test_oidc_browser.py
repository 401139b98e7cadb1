"""Single sign-on in a real browser: a marketer clicks "Sign in with Company directory",
logs in on dex's own page (users and groups in a real LDAP directory), lands back in the
portal signed in as a marketer and opens a marketer-only page; a rep from the same
directory is kept out of it.

The portal here is a second portal process of the e2e system, configured for OIDC
(COLLATERAL_PORTAL_OIDC_*), over the same services; the first stays as the other
tests expect it.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any, Iterator

import pytest
import requests

from scripts.local_services import free_port
from tests.e2e.conftest import ROOT, System, screenshot, wait_until
from tests.oidc_provider import PASSWORD, ROLE_MAP, USERS, Provider, provider_fixture
from tests.processes import stop_process

pytestmark = pytest.mark.e2e

LABEL = "Company directory"


@pytest.fixture(scope="module")
def sso_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory, sso_port: int) -> Iterator[Provider]:
    yield from provider_fixture(tmp_path_factory.mktemp("oidc-e2e"),
                                [f"http://127.0.0.1:{sso_port}/auth/oidc/callback"])


@pytest.fixture(scope="module")
def sso_portal(system: System, provider: Provider, sso_port: int,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A portal process signing users in through dex; yields its base URL."""
    base_url = f"http://127.0.0.1:{sso_port}"
    env = system.supervisor.env()
    env.update({
        "COLLATERAL_PORTAL_PORT": str(sso_port), "COLLATERAL_PORTAL_PUBLIC_URL": base_url,
        "COLLATERAL_PORTAL_OIDC_ISSUER": provider.issuer, "COLLATERAL_PORTAL_OIDC_CLIENT_ID": provider.client_id,
        "COLLATERAL_PORTAL_OIDC_CLIENT_SECRET": provider.client_secret,
        "COLLATERAL_PORTAL_OIDC_ROLE_MAP": ROLE_MAP, "COLLATERAL_PORTAL_OIDC_BUTTON_LABEL": LABEL,
        "COLLATERAL_PORTAL_LOCAL_SIGNIN": "false",
    })
    log_path = tmp_path_factory.mktemp("sso-portal") / "portal.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "services.portal"], env=env, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: proc.poll() is not None or _healthy(base_url), timeout_s=60, what="SSO portal /healthz")
        assert proc.poll() is None, f"the SSO portal exited: {log_path.read_text()[-3000:]}"
        yield base_url
    finally:
        stop_process(proc, 15)
        dest = ROOT / "test-artifacts" / "logs"
        dest.mkdir(parents=True, exist_ok=True)
        if log_path.exists():
            (dest / "portal-sso.log").write_bytes(log_path.read_bytes()[-500_000:])


def _healthy(base_url: str) -> bool:
    try:
        return requests.get(f"{base_url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def sso_sign_in(page: Any, base_url: str, email: str) -> None:
    """Click the provider's button, log in on dex's page, come back to the portal."""
    page.goto(f"{base_url}/login")
    assert page.locator("input[name=password]").count() == 0, "password sign-in is off"
    page.get_by_role("link", name=f"Sign in with {LABEL}").click()
    page.wait_for_url(lambda url: "/dex/auth" in url)
    screenshot(page, "oidc-dex-login")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.startswith(base_url) and "/auth/oidc/" not in url)


def test_marketer_signs_in_at_the_provider_and_reaches_marketer_pages(sso_portal: str, new_page: Any) -> None:
    page = new_page()
    sso_sign_in(page, sso_portal, USERS["marketer"].email)
    assert page.url == f"{sso_portal}/reports/", "a marketer starts on the reports"
    page.goto(f"{sso_portal}/manage/assets")
    assert page.locator("#new-asset").is_visible(), "the marketer-only catalog management page"
    screenshot(page, "oidc-marketer-signed-in")


def test_a_rep_from_the_directory_is_kept_out_of_marketer_pages(sso_portal: str, new_page: Any) -> None:
    page = new_page()
    sso_sign_in(page, sso_portal, USERS["rep"].email)
    response = page.goto(f"{sso_portal}/manage/assets")
    assert response is not None and response.status == 403


def test_an_outsider_sees_why_they_cannot_sign_in(sso_portal: str, new_page: Any) -> None:
    page = new_page()
    page.goto(f"{sso_portal}/login")
    page.get_by_role("link", name=f"Sign in with {LABEL}").click()
    page.wait_for_url(lambda url: "/dex/auth" in url)
    page.fill("input[name=login]", USERS["outsider"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/auth/oidc/callback" in url)
    assert "not in a group that may use Collateral" in page.locator("[data-sign-in-failed]").inner_text()
    screenshot(page, "oidc-refused")

