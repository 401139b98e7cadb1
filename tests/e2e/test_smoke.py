"""The system starts, the portal answers, sign-in works."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import USERS, screenshot, sign_in

pytestmark = pytest.mark.e2e


def test_health_metrics_and_status(system, accounts, new_page):
    with urllib.request.urlopen(system.base_url + "/healthz", timeout=5) as r:
        assert r.status == 200
    metrics_url = f"http://127.0.0.1:{system.supervisor.metrics_ports['portal']}/metrics"
    with urllib.request.urlopen(metrics_url, timeout=5) as r:
        assert b"collateral_portal_requests_total" in r.read()
    with pytest.raises(urllib.error.HTTPError) as public:
        urllib.request.urlopen(system.base_url + "/metrics", timeout=5)
    assert public.value.code == 404
    page = new_page()
    page.goto("/status")
    assert page.locator("h1").inner_text() == "System status"
    for name in ("content", "usage"):
        assert page.locator(f"tr:has-text('{name}')").first.inner_text().endswith("Serving")
    screenshot(page, "status")


def test_sign_in_and_out(system, accounts, new_page):
    page = new_page()
    page.goto("/login")
    screenshot(page, "login")
    page.fill("input[name=email]", accounts["rep"][0])
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "not right" in page.locator(".flash-error").inner_text()
    sign_in(page, accounts["rep"][0])
    assert page.url.endswith("/search")
    assert USERS["rep"][1] in page.locator(".whoami").inner_text()
    page.click("text=Sign out")
    assert "/login" in page.url
    page.goto("/search")
    assert "/login" in page.url
