"""Production mode refuses every insecure setting at once; secrets can come from files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from services.common import config, grpc_channel

SECRET = "a-random-production-secret-of-more-than-32-bytes"


@pytest.fixture()
def pem(tmp_path: Path) -> str:
    """Any existing file: the settings only check that configured CA paths can be read."""
    path = tmp_path / "ca.crt"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return str(path)


@pytest.fixture()
def secured(pem: str) -> config.Settings:
    """A production configuration with every connection encrypted and no default secret."""
    return config.load(
        {}, production=True, auth_secret=SECRET, portal_secret_key=SECRET + "-portal",
        share_link_secret=SECRET + "-share-links",
        es_url="https://es.internal:9200", es_username="elastic", es_password="pw", es_ca_certs=pem,
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username="collateral",
        kafka_sasl_password="pw", kafka_ssl_cafile=pem, s3_endpoint="", s3_access_key="", s3_secret_key="",
        grpc_tls_cert="/tls/tls.crt", grpc_tls_key="/tls/tls.key", grpc_tls_ca=pem,
        portal_public_url="https://collateral.example.com",
    )


def test_a_fully_secured_configuration_passes(secured: config.Settings):
    assert config.production_problems(secured) == []
    config.refuse_insecure_production(secured)  # does not raise


def test_development_defaults_are_not_refused_outside_production_mode():
    settings = config.load({})
    assert not settings.production
    assert config.production_problems(settings)  # they are insecure...
    config.refuse_insecure_production(settings)  # ...but only production mode refuses them


@pytest.mark.parametrize("changes, variable", [
    ({"auth_secret": "dev-only-insecure-secret-change-me-0123456789"}, "COLLATERAL_AUTH_SECRET is a default"),
    ({"auth_secret": "too-short"}, "COLLATERAL_AUTH_SECRET is shorter than 32 bytes"),
    ({"portal_secret_key": "dev-only-portal-secret"}, "COLLATERAL_PORTAL_SECRET_KEY is a default"),
    ({"portal_secret_key": "short-but-random"}, "COLLATERAL_PORTAL_SECRET_KEY is shorter than 32 bytes"),
    ({"share_link_secret": "dev-only-share-link-secret-0123456789abcdef"}, "COLLATERAL_SHARE_LINK_SECRET is a default"),
    ({"share_link_secret": "short-but-random"}, "COLLATERAL_SHARE_LINK_SECRET is shorter than 32 bytes"),
    ({"s3_access_key": "collateral", "s3_secret_key": "collateral-secret"}, "COLLATERAL_S3_SECRET_KEY is a default"),
    ({"s3_access_key": "ops-user", "s3_secret_key": "collateral-secret"}, "COLLATERAL_S3_SECRET_KEY is a default"),
    ({"es_url": "http://es.internal:9200", "es_ca_certs": ""}, "COLLATERAL_ES_URL is not https://"),
    ({"es_url": "https://a:9200,http://b:9200", "es_ca_certs": ""}, "COLLATERAL_ES_URL is not https://"),
    ({"kafka_security_protocol": "PLAINTEXT", "kafka_sasl_mechanism": "", "kafka_sasl_username": "",
      "kafka_sasl_password": "", "kafka_ssl_cafile": ""}, "COLLATERAL_KAFKA_SECURITY_PROTOCOL is PLAINTEXT"),
    ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_ssl_cafile": ""},
     "COLLATERAL_KAFKA_SECURITY_PROTOCOL is SASL_PLAINTEXT"),
    ({"s3_endpoint": "http://minio:9000"}, "COLLATERAL_S3_ENDPOINT is not https://"),
    ({"es_verify_certs": False}, "COLLATERAL_ES_VERIFY_CERTS is off"),
    ({"kafka_ssl_check_hostname": False}, "COLLATERAL_KAFKA_SSL_CHECK_HOSTNAME is off"),
    ({"grpc_tls_cert": "", "grpc_tls_key": ""}, "gRPC servers would listen in plaintext"),
    ({"grpc_tls_key": ""}, "gRPC servers would listen in plaintext"),
    ({"grpc_tls_client_cert": "/tls/client.crt"}, "COLLATERAL_GRPC_TLS_CLIENT_CERT and COLLATERAL_GRPC_TLS_CLIENT_KEY"),
    ({"portal_public_url": "http://collateral.example.com"}, "portal cookies would lack Secure"),
    ({"portal_trusted_user_header": "X-Forwarded-User"}, "COLLATERAL_PORTAL_TRUSTED_PROXIES is empty"),
    ({"portal_oidc_issuer": "http://dex.internal:5556/dex"}, "COLLATERAL_PORTAL_OIDC_ISSUER is http://"),
])
def test_each_insecure_setting_is_refused(secured: config.Settings, changes: dict, variable: str):
    insecure = dataclasses.replace(secured, **changes)
    problems = config.production_problems(insecure)
    assert len(problems) == 1 and variable in problems[0], problems
    with pytest.raises(config.InsecureProduction) as refused:
        config.refuse_insecure_production(insecure)
    assert refused.value.code != 0 and variable in str(refused.value)


def test_static_s3_keys_of_ones_own_pass(secured: config.Settings):
    """Only the published secret key is refused: the default access key is a user name, not a secret."""
    for access_key in ("collateral", "AKIAEXAMPLEOPS"):
        own = dataclasses.replace(secured, s3_access_key=access_key, s3_secret_key=SECRET + "-s3")
        assert config.production_problems(own) == []


def test_cookie_secure_setting_satisfies_the_cookie_check_behind_plain_http(secured: config.Settings):
    assert config.production_problems(dataclasses.replace(
        secured, portal_public_url="http://localhost:8080", portal_cookie_secure=True)) == []


def test_trusted_header_with_trusted_proxies_passes(secured: config.Settings):
    assert config.production_problems(dataclasses.replace(
        secured, portal_trusted_user_header="X-Forwarded-User", portal_trusted_proxies="10.0.0.0/8")) == []


def test_every_problem_is_listed_at_once_when_loading_the_environment():
    """The defaults in production mode: one refusal naming all of them, not the first only."""
    with pytest.raises(config.InsecureProduction) as refused:
        config.load({"COLLATERAL_PRODUCTION": "1"})
    message = str(refused.value)
    for expected in ("COLLATERAL_AUTH_SECRET", "COLLATERAL_PORTAL_SECRET_KEY", "COLLATERAL_ES_URL",
                     "COLLATERAL_KAFKA_SECURITY_PROTOCOL", "COLLATERAL_S3_ENDPOINT", "COLLATERAL_GRPC_TLS_CERT",
                     "portal cookies", "COLLATERAL_SHARE_LINK_SECRET", "COLLATERAL_S3_SECRET_KEY"):
        assert expected in message, message
    assert refused.value.code == message and isinstance(refused.value, SystemExit)  # exit status 1, message on stderr


def test_a_short_secret_is_listed_with_the_rest_in_production_mode():
    with pytest.raises(config.InsecureProduction) as refused:
        config.load({"COLLATERAL_PRODUCTION": "1", "COLLATERAL_AUTH_SECRET": "short"})
    assert "COLLATERAL_AUTH_SECRET is shorter than 32 bytes" in str(refused.value)
    assert "COLLATERAL_ES_URL" in str(refused.value)


def test_production_mode_turns_client_tls_on(secured: config.Settings):
    assert dataclasses.replace(secured, grpc_tls=False, grpc_tls_ca="").grpc_client_tls
    assert not config.load({}).grpc_client_tls
    assert grpc_channel.client_credentials(config.load({})) is None


def test_portal_factory_refuses_insecure_production():
    from services.portal.app import create_app

    insecure = dataclasses.replace(config.load({}), production=True)
    with pytest.raises(config.InsecureProduction, match="COLLATERAL_PORTAL_SECRET_KEY"):
        create_app(insecure, backends=object(), users=object(), sessions=object(), sign_in_guard=object())


def test_grpc_bootstrap_refuses_insecure_production_before_binding():
    from services.common import grpc_server

    spec = grpc_server.ServiceSpec(name="probe", full_name="collateral.v1.Probe", register=lambda server: None,
                                   access={}, default_port=0, default_metrics_port=0)
    with pytest.raises(config.InsecureProduction, match="COLLATERAL_GRPC_TLS_CERT"):
        grpc_server.start(spec, dataclasses.replace(config.load({}), production=True), port=0, metrics_port=0)


def test_consumer_process_refuses_insecure_production():
    from services.common import consumer

    group = consumer.LoopGroup([], dataclasses.replace(config.load({}), production=True))
    with pytest.raises(config.InsecureProduction, match="COLLATERAL_KAFKA_SECURITY_PROTOCOL"):
        consumer.run_process("probe", group, metrics_port=0)


# ---- secrets from files -----------------------------------------------------------------

def test_secret_is_read_from_the_file_its_file_variable_names(tmp_path: Path):
    secret = tmp_path / "auth_secret"
    secret.write_text(SECRET + "\n")
    settings = config.load({"COLLATERAL_AUTH_SECRET_FILE": str(secret)})
    assert settings.auth_secret == SECRET


def test_value_and_file_variable_together_are_refused(tmp_path: Path):
    secret = tmp_path / "auth_secret"
    secret.write_text(SECRET)
    with pytest.raises(ValueError, match="COLLATERAL_AUTH_SECRET or COLLATERAL_AUTH_SECRET_FILE"):
        config.load({"COLLATERAL_AUTH_SECRET": SECRET, "COLLATERAL_AUTH_SECRET_FILE": str(secret)})


def test_missing_secret_file_names_the_variable(tmp_path: Path):
    with pytest.raises(ValueError, match="COLLATERAL_PORTAL_SECRET_KEY_FILE=.*cannot be read"):
        config.load({"COLLATERAL_PORTAL_SECRET_KEY_FILE": str(tmp_path / "missing")})


def test_every_text_setting_has_a_file_variant_and_no_number_does():
    variables = config.file_variables()
    assert {"COLLATERAL_AUTH_SECRET_FILE", "COLLATERAL_PORTAL_SECRET_KEY_FILE", "COLLATERAL_S3_SECRET_KEY_FILE",
            "COLLATERAL_ES_PASSWORD_FILE", "COLLATERAL_KAFKA_SASL_PASSWORD_FILE"} <= variables
    assert "COLLATERAL_GRPC_PORT_FILE" not in variables


# ---- TLS configuration errors -------------------------------------------------------------

def test_server_certificate_without_key_is_refused():
    settings = dataclasses.replace(config.load({}), grpc_tls_cert="/tls/tls.crt")
    with pytest.raises(grpc_channel.TlsConfigError, match="COLLATERAL_GRPC_TLS_KEY must be set together"):
        grpc_channel.server_credentials(settings)


def test_client_ca_without_server_certificate_is_refused():
    settings = dataclasses.replace(config.load({}), grpc_tls_client_ca="/tls/ca.crt")
    with pytest.raises(grpc_channel.TlsConfigError, match="mutual TLS is TLS first"):
        grpc_channel.server_credentials(settings)


def test_unreadable_certificate_names_the_variable(tmp_path: Path):
    settings = dataclasses.replace(config.load({}), grpc_tls=True, grpc_tls_ca=str(tmp_path / "missing.crt"))
    with pytest.raises(grpc_channel.TlsConfigError, match="COLLATERAL_GRPC_TLS_CA=.*cannot be read"):
        grpc_channel.client_credentials(settings)
