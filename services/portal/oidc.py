"""Single sign-on with an OpenID Connect provider (Okta, Azure AD / Entra ID, Google, Keycloak, dex, ...).

The portal is a confidential client using the authorization code flow with PKCE (S256),
`state` and `nonce`, through Authlib: the provider's endpoints and signing keys come
from its discovery document (`<issuer>/.well-known/openid-configuration`), and the ID
token is checked for its signature (JWKS), issuer, audience, expiry and nonce before
anyone is signed in. A valid ID token then becomes an ordinary portal session
(`security.sign_in`: a new server-side session under a new id, the same cookie, CSRF,
idle and absolute timeouts as a password sign-in).

The role comes from one claim (`portal_oidc_role_claim`, usually `groups`) through
`portal_oidc_role_map`, rules like `collateral-admins=admin,marketing=marketer,*=rep`
tried in order: the first rule whose value the user carries wins, `*` matches anyone,
and a user no rule matches is refused, so an identity provider shared with the whole
company does not let everyone in unless the map says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import urlparse

from authlib.integrations.flask_client import OAuth

from services.common import config

log = logging.getLogger(__name__)

CLIENT_NAME = "oidc"
HTTP_TIMEOUT_S = 10.0
ANYONE = "*"
# The provider's clock and ours may differ a little; tokens are checked with this leeway.
CLOCK_LEEWAY_S = 60


class RoleMapError(ValueError):
    """portal_oidc_role_map is malformed; raised at start so a typo never admits anyone."""


@dataclass(frozen=True)
class RoleRule:
    value: str  # a claim value, or ANYONE
    role: str


@dataclass(frozen=True)
class OidcUser:
    """Who the provider vouched for, in the shape security.sign_in expects."""

    email: str
    name: str
    role: str


class Refused(Exception):
    """The provider vouched for the user, but the portal does not let them in."""


def parse_role_map(text: str, roles: Iterable[str]) -> list[RoleRule]:
    """`a=admin,b=marketer,*=rep` -> rules in order; every role must be one the portal knows."""
    allowed = set(roles)
    rules = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        value, sep, role = part.rpartition("=")
        value, role = value.strip(), role.strip().lower()
        if not sep or not value:
            raise RoleMapError(f"{config.env_name('portal_oidc_role_map')}: {part!r} is not value=role")
        if role not in allowed:
            raise RoleMapError(f"{config.env_name('portal_oidc_role_map')}: {role!r} is not one of {sorted(allowed)}")
        rules.append(RoleRule(value, role))
    return rules


def claim_values(claims: Mapping[str, Any], claim: str) -> list[str]:
    """A claim as a list of strings: providers send groups as a list, some roles as one string."""
    raw = claims.get(claim)
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, (list, tuple)):
        return [v for v in raw if isinstance(v, str)]
    return []


def map_role(rules: list[RoleRule], values: Iterable[str]) -> str | None:
    """The role of the first rule the user's claim values match, or None (refused)."""
    held = set(values)
    for rule in rules:
        if rule.value == ANYONE or rule.value in held:
            return rule.role
    return None


class OidcSignIn:
    """The portal's OpenID Connect client: one per app, configured from Settings."""

    def __init__(self, settings: config.Settings, roles: Iterable[str], app: Any) -> None:
        self.settings = settings
        self.issuer = settings.portal_oidc_issuer.rstrip("/")
        self.rules = parse_role_map(settings.portal_oidc_role_map, roles)
        self.label = settings.portal_oidc_button_label
        self.oauth = OAuth(app)
        self.client = self.oauth.register(
            CLIENT_NAME,
            client_id=settings.portal_oidc_client_id,
            client_secret=settings.portal_oidc_client_secret,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": settings.portal_oidc_scopes, "code_challenge_method": "S256",
                           "default_timeout": HTTP_TIMEOUT_S},
        )

    def metadata(self) -> dict[str, Any]:
        """The discovery document, fetched once; its issuer must be the configured one
        (RFC 8414 section 3.3), or tokens from a look-alike provider could be accepted."""
        metadata = self.client.load_server_metadata()
        named = str(metadata.get("issuer", ""))
        if named.rstrip("/") != self.issuer:
            self.client.server_metadata.clear()  # fetched again next time
            raise ValueError(f"the provider's discovery document names issuer {named!r}, not {self.issuer!r}")
        return metadata

    def authorize_redirect(self, redirect_uri: str) -> Any:
        """302 to the provider; state, nonce and the PKCE verifier wait in the session."""
        self.metadata()
        return self.client.authorize_redirect(redirect_uri)

    def finish(self) -> tuple[OidcUser, dict[str, Any]]:
        """Exchange the code (state and PKCE checked), validate the ID token, map the role.

        Raises authlib's OAuthError (provider errors, state mismatch), joserfc's JoseError
        (a token that fails validation) or Refused (no role, no username)."""
        self.metadata()
        token = self.client.authorize_access_token(leeway=CLOCK_LEEWAY_S)
        claims = token.get("userinfo")
        if not claims:
            raise Refused("The provider sent no ID token.")
        return self.user_from_claims(claims), token

    def parse_id_token(self, token: dict[str, Any], nonce: str) -> Mapping[str, Any]:
        """Validate an ID token exactly as a sign-in does (signature, iss, aud, exp, nonce)."""
        return self.client.parse_id_token(token, nonce=nonce, leeway=CLOCK_LEEWAY_S)

    def user_from_claims(self, claims: Mapping[str, Any]) -> OidcUser:
        username = claims.get(self.settings.portal_oidc_username_claim)
        if not isinstance(username, str) or not username.strip():
            raise Refused(f"The provider did not say who you are (no {self.settings.portal_oidc_username_claim!r} claim).")
        role = map_role(self.rules, claim_values(claims, self.settings.portal_oidc_role_claim))
        if role is None:
            raise Refused("Your account at the identity provider is not in a group that may use Collateral. "
                          "Ask your administrator for access.")
        email = username.strip().lower()[:256]
        name = claims.get("name") if isinstance(claims.get("name"), str) and claims.get("name") else email.split("@")[0]
        return OidcUser(email=email, name=str(name)[:256], role=role)

    def logout_url(self, post_logout_redirect_uri: str, id_token: str | None) -> str | None:
        """The provider's end-session URL (RP-initiated logout), when it advertises one."""
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except Exception:  # noqa: BLE001 - a provider that is down must not keep anyone signed in
            log.warning("OIDC discovery failed at sign-out", exc_info=True)
            return None
        if not endpoint:
            return None
        return self.client.create_logout_url(post_logout_redirect_uri=post_logout_redirect_uri,
                                             id_token_hint=id_token, client_id=self.settings.portal_oidc_client_id,
                                             state=None)["url"]


def provider_origin(settings: config.Settings) -> str:
    """scheme://host[:port] of the issuer ('' when OIDC is off), for the CSP."""
    parsed = urlparse(settings.portal_oidc_issuer)
    return f"{parsed.scheme}://{parsed.netloc}" if parsed.scheme and parsed.netloc else ""


def from_settings(settings: config.Settings, roles: Iterable[str], app: Any) -> OidcSignIn | None:
    """The OIDC client when portal_oidc_issuer is set, else None (OIDC sign-in off)."""
    if not settings.portal_oidc_issuer:
        return None
    if not settings.portal_oidc_client_id:
        raise ValueError(f"{config.env_name('portal_oidc_client_id')} must be set when "
                         f"{config.env_name('portal_oidc_issuer')} is")
    return OidcSignIn(settings, roles, app)
