from __future__ import annotations

import time

import pytest

from services.common import auth, config, pagination
from services.common.errors import InvalidArgument

SECRET = "unit-test-secret-of-at-least-32-bytes"


def test_environment_overrides_defaults_with_types():
    settings = config.load({"COLLATERAL_KAFKA_BOOTSTRAP": "k:1", "COLLATERAL_GRPC_WORKERS": "4",
                            "COLLATERAL_ES_REQUEST_TIMEOUT_S": "2.5"})
    assert settings.kafka_bootstrap == "k:1"
    assert settings.grpc_workers == 4
    assert settings.es_request_timeout_s == 2.5


def test_bad_number_names_the_variable():
    with pytest.raises(ValueError, match="COLLATERAL_GRPC_WORKERS"):
        config.load({"COLLATERAL_GRPC_WORKERS": "many"})


def test_short_auth_secret_is_refused():
    with pytest.raises(ValueError, match="COLLATERAL_AUTH_SECRET"):
        config.load({"COLLATERAL_AUTH_SECRET": "short"})


def test_names_are_namespaced():
    settings = config.load({}, namespace="acme")
    assert settings.topic("usage.v1") == "acme.usage.v1"
    assert settings.index("Usage-Events") == "acme-usage-events"
    assert settings.group("usage-consumer") == "acme.usage-consumer"


def test_reference_documents_every_setting():
    rows = config.reference()
    assert all(doc for _, _, doc in rows)
    assert {var for var, _, _ in rows} >= {"COLLATERAL_KAFKA_BOOTSTRAP", "COLLATERAL_ES_URL", "COLLATERAL_S3_ENDPOINT"}


def test_token_round_trip_and_expiry():
    settings = config.load({}, auth_secret=SECRET)
    principal = auth.verify(settings, auth.mint(settings, "rep-7", "rep"))
    assert principal == auth.Principal("rep-7", auth.Role.REP)
    expired = auth.mint(settings, "rep-7", "rep", ttl_s=-10)
    with pytest.raises(auth.AuthError, match="expired"):
        auth.verify(settings, expired)


def test_token_with_unknown_role_is_refused():
    import jwt

    settings = config.load({}, auth_secret=SECRET)
    forged = jwt.encode({"sub": "x", "role": "root", "iss": settings.auth_issuer, "exp": int(time.time()) + 60},
                        SECRET, algorithm="HS256")
    with pytest.raises(auth.AuthError, match="unknown role"):
        auth.verify(settings, forged)


def test_page_token_round_trip():
    cursor = [1.5, "asset-9", {"k": 1}]
    assert pagination.decode(SECRET, pagination.encode(SECRET, cursor)) == cursor
    assert pagination.decode(SECRET, "") is None


@pytest.mark.parametrize("token", ["%%%", "abc", "x" * 5000])
def test_malformed_page_token_is_invalid_argument(token):
    with pytest.raises(InvalidArgument) as err:
        pagination.decode(SECRET, token)
    assert err.value.field == "page_token"


def test_tampered_page_token_is_refused():
    token = pagination.encode(SECRET, [1])
    other = pagination.encode("another-secret-of-at-least-32-bytes", [1])
    assert token != other
    with pytest.raises(InvalidArgument):
        pagination.decode(SECRET, other)


def test_page_size_limits():
    assert pagination.clamp_page_size(0) == 20
    assert pagination.clamp_page_size(50) == 50
    with pytest.raises(InvalidArgument):
        pagination.clamp_page_size(1000)
    with pytest.raises(InvalidArgument):
        pagination.clamp_page_size(-1)
