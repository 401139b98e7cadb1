"""Bearer tokens: signed (HS256) JWTs carrying a subject and one role.

Roles, from least to most trusted: `rep` (searches, downloads, shares, records own
usage, gives feedback), `marketer` (curates the catalog, reads reports), `admin`
(everything), and `service` (machine integrations such as a CRM connector that push
deal outcomes). `collateral-token --sub alice --role marketer` mints one locally.
"""

from __future__ import annotations

import argparse
import contextvars
import enum
import time
from dataclasses import dataclass

import jwt

from services.common import cli, config


class Role(str, enum.Enum):
    REP = "rep"
    MARKETER = "marketer"
    ADMIN = "admin"
    SERVICE = "service"


ANY_USER = frozenset({Role.REP, Role.MARKETER, Role.ADMIN})
CURATORS = frozenset({Role.MARKETER, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role

    @property
    def is_curator(self) -> bool:
        return self.role in CURATORS


class AuthError(Exception):
    """The token is missing, malformed, expired or badly signed."""


_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)


def current_principal() -> Principal:
    """The caller of the gRPC method being handled (set by the auth interceptor)."""
    principal = _current.get()
    if principal is None:
        raise RuntimeError("no authenticated principal in this context")
    return principal


def set_principal(principal: Principal | None) -> contextvars.Token:
    return _current.set(principal)


def reset_principal(token: contextvars.Token) -> None:
    _current.reset(token)


def mint(settings: config.Settings, subject: str, role: Role | str, ttl_s: int | None = None) -> str:
    now = int(time.time())
    claims = {
        "sub": subject,
        "role": Role(role).value,
        "iss": settings.auth_issuer,
        "iat": now,
        "exp": now + (settings.token_ttl_s if ttl_s is None else ttl_s),
    }
    return jwt.encode(claims, settings.auth_secret, algorithm="HS256")


def verify(settings: config.Settings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.auth_secret,
            algorithms=["HS256"],
            issuer=settings.auth_issuer,
            options={"require": ["sub", "exp", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("token expired") from None
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"invalid token: {exc}") from None
    try:
        role = Role(claims.get("role"))
    except ValueError:
        raise AuthError(f"unknown role {claims.get('role')!r}") from None
    if not str(claims["sub"]).strip():
        raise AuthError("empty subject")
    return Principal(subject=str(claims["sub"]), role=role)


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """gRPC call metadata carrying `token`."""
    return (("authorization", f"Bearer {token}"),)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="collateral-token", description="Mint a bearer token for local use.")
    parser.add_argument("--sub", required=True, help="subject (user or integration id)")
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--ttl", type=cli.positive_int, default=None, help="lifetime in seconds (default COLLATERAL_TOKEN_TTL_S)")
    args = parser.parse_args(argv)
    print(mint(config.load(), args.sub, args.role, args.ttl))


if __name__ == "__main__":
    main()
