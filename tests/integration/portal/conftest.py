"""Fixtures of the portal's integration tests: the Flask app (test client) over the real
account, session and sign-in failure stores in Elasticsearch.

Two app instances built from the same settings stand for two portal replicas: they
share nothing but Elasticsearch, so whatever one ends, the other must see ended.
The gRPC backends are real clients that these tests never call.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from typing import Any, Callable, Iterator

import pytest

from services.common import config, es as es_helpers
from services.portal.app import create_app
from services.portal.users import UserStore
from tests.conftest import isolated

PASSWORD = "right-password-1"
PROXY = "10.0.0.1"


@pytest.fixture(scope="session")
def portal_settings(stack: config.Settings) -> Iterator[config.Settings]:
    """A namespace of the suite's own; a generous check budget, so only the rule a test
    is about can refuse an attempt, and a small per-address limit to keep tests short."""
    settings = dataclasses.replace(isolated(stack, "p"), portal_trusted_proxies=PROXY,
                                   portal_signin_checks_per_s=1000.0, portal_signin_address_max_failures=6)
    yield settings
    es = es_helpers.client(settings)
    for name in ("portal-users", "portal-sessions", "portal-sign-in-failures"):
        for index in es_helpers.concrete_indices(es, settings.index(name)):
            es.indices.delete(index=index)
    es.close()


@pytest.fixture
def make_portal(portal_settings: config.Settings) -> Callable[..., Any]:
    """make_portal(**settings) -> a portal app (one more replica) over the shared stores."""

    def make(**overrides: Any) -> Any:
        app = create_app(dataclasses.replace(portal_settings, **overrides))
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def portal(make_portal: Callable[..., Any]) -> Any:
    return make_portal()


@pytest.fixture
def user(portal_settings: config.Settings) -> str:
    """A fresh rep account; returns its email (password PASSWORD)."""
    email = f"rep-{uuid.uuid4().hex[:8]}@example.com"
    UserStore(portal_settings).add(email, "Test Rep", "rep", PASSWORD)
    return email


def csrf_token(client: Any, path: str = "/login", **kwargs: Any) -> str:
    html = client.get(path, **kwargs).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"{path} carries a CSRF token"
    return match.group(1)


def via_proxy(address: str) -> dict[str, Any]:
    """Request arguments for a client at `address` behind the trusted proxy."""
    return {"environ_base": {"REMOTE_ADDR": PROXY}, "headers": {"X-Forwarded-For": address}}


def sign_in(client: Any, email: str, password: str = PASSWORD, address: str = "198.51.100.1") -> Any:
    token = csrf_token(client, **via_proxy(address))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       **via_proxy(address))


def cookie(client: Any) -> str:
    found = client.get_cookie("collateral_session")
    assert found is not None, "the portal set its session cookie"
    return found.value


def session_id(app: Any, cookie_value: str) -> str | None:
    """The session id inside a portal cookie (the cookie is signed, not encrypted)."""
    return app.session_interface.get_signing_serializer(app).loads(cookie_value).get("sid")


def signed_in(client: Any) -> bool:
    """Whether the portal takes the client's cookie for a signed-in user: the home page
    sends a user to their start page and anyone else to sign in."""
    response = client.get("/")
    assert response.status_code == 302, response.status_code
    return not response.headers["Location"].startswith("/login")
