"""OIDC sign-in logic without a provider: role mapping, and ID token validation on tokens
signed here with a local key (wrong audience, wrong issuer, expired, bad nonce, wrong
key), through the same parse the callback uses. The full flow against a real provider
is tests/integration/portal/test_oidc_flow.py and tests/e2e/test_oidc_browser.py."""

from __future__ import annotations

import time
from typing import Any, Callable

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from services.portal import oidc
from services.portal.security import ROLES

ISSUER = "https://idp.example.com/realms/acme"
CLIENT_ID = "collateral-portal"
NONCE = "n-0S6_WzA2Mj"
KEY = RSAKey.generate_key(2048, parameters={"kid": "signing-1"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "signing-1"})


def settings_overrides(**extra: Any) -> dict[str, Any]:
    base = {"portal_oidc_issuer": ISSUER, "portal_oidc_client_id": CLIENT_ID, "portal_oidc_client_secret": "s",
            "portal_oidc_role_map": "collateral-admins=admin,marketing=marketer,*=rep"}
    base.update(extra)
    return base


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    """A portal whose OIDC client already knows the provider's metadata and keys (no network)."""
    app = make_app(**settings_overrides())
    app.extensions["collateral_oidc"].client.server_metadata.update({
        "issuer": ISSUER, "_loaded_at": time.time(), "id_token_signing_alg_values_supported": ["RS256"],
        "jwks": {"keys": [KEY.as_dict(private=False)]}, "authorization_endpoint": f"{ISSUER}/auth",
        "token_endpoint": f"{ISSUER}/token",
    })
    return app


@pytest.fixture
def provider(app: Any) -> oidc.OidcSignIn:
    return app.extensions["collateral_oidc"]


def id_token(key: RSAKey = KEY, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "u-1", "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": NONCE,
              "email": "mona@example.com", "groups": ["marketing"]}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return {"id_token": jwt.encode({"alg": "RS256", "kid": "signing-1"}, claims, key)}


def test_a_valid_token_is_accepted(provider: oidc.OidcSignIn) -> None:
    claims = provider.parse_id_token(id_token(), NONCE)
    assert claims["email"] == "mona@example.com"
    assert provider.user_from_claims(claims) == oidc.OidcUser("mona@example.com", "mona", "marketer")


@pytest.mark.parametrize("changes", [
    {"aud": "another-client"},
    {"iss": "https://evil.example.com"},
    {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
    {"nonce": "replayed-nonce"},
    {"nonce": None},
    {"exp": None},
], ids=["wrong-audience", "wrong-issuer", "expired", "bad-nonce", "no-nonce", "no-expiry"])
def test_invalid_tokens_are_refused(provider: oidc.OidcSignIn, changes: dict[str, Any]) -> None:
    with pytest.raises(JoseError):
        provider.parse_id_token(id_token(**changes), NONCE)


def test_a_token_signed_with_another_key_is_refused(provider: oidc.OidcSignIn) -> None:
    with pytest.raises(JoseError):
        provider.parse_id_token(id_token(OTHER_KEY), NONCE)


def test_a_discovery_document_naming_another_issuer_is_refused(provider: oidc.OidcSignIn) -> None:
    provider.client.server_metadata["issuer"] = "https://look-alike.example.com"
    with pytest.raises(ValueError, match="look-alike"):
        provider.metadata()


@pytest.mark.parametrize("groups,role", [
    (["marketing", "collateral-admins"], "admin"),  # rules are tried in order: admins first
    (["marketing"], "marketer"),
    (["sales"], "rep"),
    ([], "rep"),
])
def test_first_matching_rule_wins(groups: list[str], role: str) -> None:
    rules = oidc.parse_role_map("collateral-admins=admin,marketing=marketer,*=rep", ROLES)
    assert oidc.map_role(rules, groups) == role


def test_without_a_catch_all_an_unmapped_user_has_no_role() -> None:
    rules = oidc.parse_role_map("collateral-admins=admin, marketing = marketer", ROLES)
    assert oidc.map_role(rules, ["finance"]) is None


def test_a_role_claim_may_be_a_single_string() -> None:
    assert oidc.claim_values({"role": "marketing"}, "role") == ["marketing"]
    assert oidc.claim_values({"role": ["a", 3, "b"]}, "role") == ["a", "b"]
    assert oidc.claim_values({}, "role") == []


@pytest.mark.parametrize("text", ["marketing=superuser", "marketing", "=rep"])
def test_a_malformed_role_map_stops_the_portal_from_starting(make_app: Callable[..., Any], text: str) -> None:
    with pytest.raises(oidc.RoleMapError):
        make_app(**settings_overrides(portal_oidc_role_map=text))


def test_unmapped_or_nameless_users_are_refused(provider: oidc.OidcSignIn, make_app: Callable[..., Any]) -> None:
    strict = make_app(**settings_overrides(portal_oidc_role_map="marketing=marketer")).extensions["collateral_oidc"]
    with pytest.raises(oidc.Refused, match="not in a group"):
        strict.user_from_claims({"email": "omar@example.com", "groups": ["finance"]})
    with pytest.raises(oidc.Refused, match="'email'"):
        provider.user_from_claims({"sub": "u-1", "groups": ["marketing"]})


def test_sign_in_page_offers_the_provider_and_hides_passwords_when_local_sign_in_is_off(
        make_app: Callable[..., Any]) -> None:
    app = make_app(**settings_overrides(portal_oidc_button_label="Acme SSO", portal_local_signin=False))
    client = app.test_client()
    html = client.get("/login?next=/reports").get_data(as_text=True)
    assert "Sign in with Acme SSO" in html
    assert 'href="/auth/oidc/login?next=/reports"' in html
    assert 'name="password"' not in html
    app.config["WTF_CSRF_ENABLED"] = False  # the page has no form to take a token from
    assert client.post("/login", data={"email": "a@example.com", "password": "x"}).status_code == 404


def test_without_an_issuer_there_is_no_provider_button(make_app: Callable[..., Any]) -> None:
    client = make_app().test_client()
    html = client.get("/login").get_data(as_text=True)
    assert "Sign in with" not in html and 'name="password"' in html
    assert client.get("/auth/oidc/login").status_code == 404


def test_provider_errors_show_a_page_not_a_500(app: Any) -> None:
    """access_denied from the provider, and a callback whose state this browser never sent."""
    client = app.test_client()
    started = client.get("/auth/oidc/login")
    assert started.status_code == 302 and started.headers["Location"].startswith(f"{ISSUER}/auth?")
    assert "code_challenge_method=S256" in started.headers["Location"]
    assert "nonce=" in started.headers["Location"] and "state=" in started.headers["Location"]
    cancelled = client.get("/auth/oidc/callback?error=access_denied&state=whatever")
    assert cancelled.status_code == 403
    assert "cancelled or refused" in cancelled.get_data(as_text=True)
    forged = client.get("/auth/oidc/callback?code=abc&state=not-the-one-we-sent")
    assert forged.status_code == 400
    assert "no longer valid" in forged.get_data(as_text=True)
    assert client.get("/").headers["Location"].startswith("/login")


def test_sign_out_of_an_oidc_session_continues_at_the_providers_end_session_endpoint(app: Any) -> None:
    from urllib.parse import parse_qs, urlparse

    from services.portal.security import OIDC_SESSION_KEY
    from tests.unit.portal.conftest import csrf_token, login_as

    app.extensions["collateral_oidc"].client.server_metadata["end_session_endpoint"] = f"{ISSUER}/logout"
    client = app.test_client()
    session_id = login_as(client, "marketer")
    with client.session_transaction() as session:
        session[OIDC_SESSION_KEY] = True
    assert "Change password" not in client.get("/account").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302
    target = urlparse(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{ISSUER}/logout"
    query = parse_qs(target.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["post_logout_redirect_uri"] == ["http://127.0.0.1:8080/login"]
    assert app.extensions["collateral_sessions"].resolve(session_id) is None
    assert "form-action 'self'" in response.headers["Content-Security-Policy"]
    assert "https://idp.example.com" in response.headers["Content-Security-Policy"]


def test_a_password_session_signs_out_locally_even_when_the_provider_has_an_end_session_endpoint(app: Any) -> None:
    from tests.unit.portal.conftest import csrf_token, login_as

    app.extensions["collateral_oidc"].client.server_metadata["end_session_endpoint"] = f"{ISSUER}/logout"
    client = app.test_client()
    login_as(client, "rep")
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert response.headers["Location"] == "/login"
