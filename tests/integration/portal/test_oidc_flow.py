"""OpenID Connect sign-in against a real provider (dex, users and groups in a real LDAP
directory: tests/oidc_provider.py), without a browser: the portal is the Flask test
client over the real session store in Elasticsearch; the "browser" follows dex's
redirects with requests and submits dex's own login form, then hands the callback
URL back to the portal, whose code exchange and ID token check talk to dex for real.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlencode, urljoin, urlparse, urlunparse

import pytest
import requests

from services.portal.sessions import SessionStore
from tests.integration.portal.conftest import cookie, csrf_token, session_id, sign_in
from tests.oidc_provider import PASSWORD, ROLE_MAP, USERS, Provider, provider_fixture

pytestmark = pytest.mark.integration

PORTAL_URL = "http://portal.example.test"
CALLBACK = f"{PORTAL_URL}/auth/oidc/callback"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    yield from provider_fixture(tmp_path_factory.mktemp("oidc"), [CALLBACK])


@pytest.fixture
def make_oidc_portal(make_portal: Callable[..., Any], provider: Provider) -> Callable[..., Any]:
    def make(**overrides: Any) -> Any:
        settings = {"portal_public_url": PORTAL_URL, "portal_oidc_issuer": provider.issuer,
                    "portal_oidc_client_id": provider.client_id,
                    "portal_oidc_client_secret": provider.client_secret,
                    "portal_oidc_role_map": ROLE_MAP, "portal_oidc_button_label": "Company directory"}
        settings.update(overrides)
        return make_portal(**settings)

    return make


@pytest.fixture
def portal(make_oidc_portal: Callable[..., Any]) -> Any:
    return make_oidc_portal()


def start(client: Any, provider: Provider, next_path: str = "/account") -> str:
    """The portal's redirect to the provider's authorization endpoint."""
    response = client.get(f"/auth/oidc/login?next={next_path}")
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(provider.issuer + "/auth?"), location
    return location


def log_in_at_dex(authorize_url: str, email: str, password: str = PASSWORD) -> str:
    """Follow dex to its login form, submit it, follow dex's redirects; returns the URL dex
    sends the browser back to (the portal's callback with code and state)."""
    browser = requests.Session()
    form_page = browser.get(authorize_url, timeout=10)
    assert form_page.status_code == 200, form_page.text[:500]
    action = re.search(r'<form[^>]*method="post"[^>]*action="([^"]+)"', form_page.text)
    assert action, "dex shows its login form"
    response = browser.post(urljoin(form_page.url, unescape(action.group(1))),
                            data={"login": email, "password": password}, allow_redirects=False, timeout=10)
    for _ in range(5):
        location = response.headers.get("Location", "")
        assert response.status_code in (302, 303), (response.status_code, response.text[:500])
        target = urljoin(response.url, location)
        if target.startswith(PORTAL_URL):
            return target
        response = browser.get(target, allow_redirects=False, timeout=10)
    raise AssertionError("dex never redirected back to the portal")


def come_back(client: Any, callback_url: str) -> Any:
    parsed = urlparse(callback_url)
    return client.get(f"{parsed.path}?{parsed.query}")


def signed_in_as(app: Any, client: Any) -> tuple[str, str] | None:
    """(email, role) of the session in the client's cookie, read from the real store."""
    sid = session_id(app, cookie(client))
    if sid is None:
        return None
    record = SessionStore(app.config["COLLATERAL"]).resolve(sid)
    return (record.email, record.role) if record else None


@pytest.mark.parametrize("who,role", [("marketer", "marketer"), ("admin", "admin"), ("rep", "rep")])
def test_sign_in_maps_the_groups_claim_to_a_role(portal: Any, provider: Provider, who: str, role: str) -> None:
    client = portal.test_client()
    response = come_back(client, log_in_at_dex(start(client, provider), USERS[who].email))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/account"
    assert signed_in_as(portal, client) == (USERS[who].email, role)
    account = client.get("/account").get_data(as_text=True)
    assert USERS[who].name in account
    assert "Change password" not in account, "the password lives at the provider"


def test_a_user_no_rule_maps_is_refused(portal: Any, provider: Provider) -> None:
    client = portal.test_client()
    response = come_back(client, log_in_at_dex(start(client, provider), USERS["outsider"].email))
    assert response.status_code == 403
    assert "not in a group that may use Collateral" in response.get_data(as_text=True)
    assert client.get("/").headers["Location"].startswith("/login")


def test_a_catch_all_rule_admits_everyone_else(make_oidc_portal: Callable[..., Any], provider: Provider) -> None:
    portal = make_oidc_portal(portal_oidc_role_map=ROLE_MAP + ",*=rep")
    client = portal.test_client()
    come_back(client, log_in_at_dex(start(client, provider), USERS["outsider"].email))
    assert signed_in_as(portal, client) == (USERS["outsider"].email, "rep")


def with_query(url: str, **changes: str) -> str:
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    query.update(changes)
    return urlunparse(parsed._replace(query=urlencode(query)))


def test_a_tampered_state_is_refused(portal: Any, provider: Provider) -> None:
    client = portal.test_client()
    back = log_in_at_dex(start(client, provider), USERS["marketer"].email)
    response = come_back(client, with_query(back, state="forged-state"))
    assert response.status_code == 400
    assert "no longer valid" in response.get_data(as_text=True)
    assert client.get("/").headers["Location"].startswith("/login")


def test_a_callback_from_another_browser_is_refused(portal: Any, provider: Provider) -> None:
    """Login CSRF: a code obtained in the attacker's browser does not sign the victim in."""
    attacker = portal.test_client()
    back = log_in_at_dex(start(attacker, provider), USERS["admin"].email)
    victim = portal.test_client()
    victim.get("/login")
    assert come_back(victim, back).status_code == 400
    assert victim.get("/").headers["Location"].startswith("/login")


def test_an_invalid_or_used_code_is_refused(portal: Any, provider: Provider) -> None:
    client = portal.test_client()
    back = log_in_at_dex(start(client, provider), USERS["marketer"].email)
    response = come_back(client, with_query(back, code="not-a-code-dex-issued"))
    assert response.status_code == 400
    assert "no longer valid" in response.get_data(as_text=True)
    # The state was spent by that attempt: the real code cannot be replayed either.
    assert come_back(client, back).status_code == 400
    assert client.get("/").headers["Location"].startswith("/login")


def test_sign_in_starts_a_new_session_and_ends_the_old_one(portal: Any, provider: Provider, user: str) -> None:
    """No session fixation: whatever session id the browser had is ended, a new one begins."""
    client = portal.test_client()
    sign_in(client, user)
    before = session_id(portal, cookie(client))
    come_back(client, log_in_at_dex(start(client, provider), USERS["marketer"].email))
    after = session_id(portal, cookie(client))
    assert after and after != before
    store = SessionStore(portal.config["COLLATERAL"])
    assert store.resolve(before) is None
    assert store.resolve(after).role == "marketer"


def test_sign_out_ends_the_portal_session(portal: Any, provider: Provider) -> None:
    client = portal.test_client()
    come_back(client, log_in_at_dex(start(client, provider), USERS["rep"].email))
    sid = session_id(portal, cookie(client))
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"  # dex advertises no end_session_endpoint
    assert SessionStore(portal.config["COLLATERAL"]).resolve(sid) is None


def test_a_provider_that_does_not_answer_shows_a_page(make_portal: Callable[..., Any]) -> None:
    from scripts.local_services import free_port

    portal = make_portal(portal_public_url=PORTAL_URL, portal_oidc_client_id="c",
                         portal_oidc_issuer=f"http://127.0.0.1:{free_port()}/dex")
    response = portal.test_client().get("/auth/oidc/login")
    assert response.status_code == 503
    assert "not answering" in response.get_data(as_text=True)
