"""Security settings of Elasticsearch, Kafka and S3: validation, and what each client is given.

The secured servers themselves are exercised in tests/integration/secure; these check the
pure parts: every contradictory combination is refused at load naming its variable, each
setting reaches the client options, and no code builds a client around the helpers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.common import config, es, kafka_io, s3

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def pem(tmp_path: Path) -> str:
    path = tmp_path / "ca.crt"
    path.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    return str(path)


SASL = dict(kafka_security_protocol="SASL_SSL", kafka_sasl_username="u", kafka_sasl_password="p")


@pytest.mark.parametrize("overrides, variable", [
    (dict(kafka_security_protocol="TLS"), "COLLATERAL_KAFKA_SECURITY_PROTOCOL"),
    (dict(kafka_security_protocol="SASL_SSL", kafka_sasl_password="p"), "COLLATERAL_KAFKA_SASL_USERNAME"),
    (dict(kafka_security_protocol="SASL_SSL", kafka_sasl_username="u"), "COLLATERAL_KAFKA_SASL_PASSWORD"),
    (dict(SASL, kafka_sasl_mechanism="GSSAPI"), "COLLATERAL_KAFKA_SASL_MECHANISM"),
    (dict(kafka_sasl_username="u"), "COLLATERAL_KAFKA_SASL_USERNAME"),
    (dict(kafka_ssl_cafile="/etc/hostname"), "COLLATERAL_KAFKA_SSL_CAFILE"),
    (dict(kafka_security_protocol="SSL", kafka_ssl_cafile="/no/such/ca.pem"), "COLLATERAL_KAFKA_SSL_CAFILE"),
    (dict(kafka_security_protocol="SSL", kafka_ssl_keyfile="/etc/hostname"), "COLLATERAL_KAFKA_SSL_CERTFILE"),
    (dict(kafka_security_protocol="SSL", kafka_ssl_certfile="/etc/hostname"), "COLLATERAL_KAFKA_SSL_KEYFILE"),
    (dict(es_url="https://es:9200", es_api_key="k", es_username="u", es_password="p"), "COLLATERAL_ES_API_KEY"),
    (dict(es_url="https://es:9200", es_username="elastic"), "COLLATERAL_ES_PASSWORD"),
    (dict(es_password="p"), "COLLATERAL_ES_USERNAME"),
    (dict(es_url="https://es:9200", es_ca_certs="/no/such/ca.pem"), "COLLATERAL_ES_CA_CERTS"),
    (dict(es_url="http://es:9200", es_ca_certs="/etc/hostname"), "COLLATERAL_ES_CA_CERTS"),
    (dict(s3_access_key=""), "COLLATERAL_S3_SECRET_KEY"),
    (dict(s3_secret_key=""), "COLLATERAL_S3_ACCESS_KEY"),
    (dict(s3_ca_bundle="/no/such/bundle.pem"), "COLLATERAL_S3_CA_BUNDLE"),
])
def test_contradictory_or_incomplete_security_settings_are_refused_naming_the_variable(overrides, variable):
    with pytest.raises(ValueError, match=variable):
        config.load(environ={}, **overrides)


def test_the_environment_is_validated_too():
    with pytest.raises(ValueError, match="COLLATERAL_KAFKA_SASL_USERNAME is required"):
        config.load(environ={"COLLATERAL_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "COLLATERAL_KAFKA_SASL_PASSWORD": "p"})


def test_plaintext_defaults_stay_and_are_reported_unencrypted():
    settings = config.load(environ={})
    assert settings.kafka_security_protocol == "PLAINTEXT" and not settings.kafka_is_encrypted
    assert not settings.es_is_encrypted and not settings.es_is_authenticated
    assert not settings.s3_is_encrypted and not settings.s3_uses_credential_chain
    assert kafka_io.security_options(settings) == {"security_protocol": "PLAINTEXT"}
    assert es.connection_options(settings) == {}
    assert s3.credential_options(settings) == {"aws_access_key_id": "collateral",
                                               "aws_secret_access_key": "collateral-secret"}


@pytest.mark.parametrize("mechanism, expected", [("", "SCRAM-SHA-512"), ("PLAIN", "PLAIN"),
                                                 ("SCRAM-SHA-256", "SCRAM-SHA-256")])
def test_kafka_sasl_ssl_options(pem, mechanism, expected):
    settings = config.load(environ={}, kafka_sasl_mechanism=mechanism, kafka_ssl_cafile=pem,
                           kafka_ssl_check_hostname=False, **SASL)
    assert settings.kafka_is_encrypted
    assert kafka_io.security_options(settings) == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": expected, "sasl_plain_username": "u",
        "sasl_plain_password": "p", "ssl_check_hostname": False, "ssl_cafile": pem}


def test_kafka_client_certificate_options(pem):
    settings = config.load(environ={}, kafka_security_protocol="SSL", kafka_ssl_cafile=pem, kafka_ssl_certfile=pem,
                           kafka_ssl_keyfile=pem)
    assert kafka_io.security_options(settings) == {
        "security_protocol": "SSL", "ssl_check_hostname": True, "ssl_cafile": pem, "ssl_certfile": pem,
        "ssl_keyfile": pem}


def security_part(options: dict) -> dict:
    return {k: v for k, v in options.items() if k.startswith(("security.", "sasl.", "ssl."))}


def loop_consumer_config(settings: config.Settings) -> dict:
    return kafka_io.consumer_config(settings, "g", "c", session_timeout_s=10.0, metadata_max_age_ms=30_000)


@pytest.mark.parametrize("librdkafka_config", [lambda s: kafka_io.producer_config(s, "c"), loop_consumer_config],
                         ids=["producer", "consumer loop"])
def test_librdkafka_clients_get_the_same_security_settings_in_its_names(pem, librdkafka_config):
    sasl = config.load(environ={}, kafka_sasl_mechanism="SCRAM-SHA-256", kafka_ssl_cafile=pem,
                       kafka_ssl_check_hostname=False, **SASL)
    assert security_part(librdkafka_config(sasl)) == {
        "security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-256", "sasl.username": "u",
        "sasl.password": "p", "ssl.endpoint.identification.algorithm": "none", "ssl.ca.location": pem}
    mutual = config.load(environ={}, kafka_security_protocol="SSL", kafka_ssl_cafile=pem, kafka_ssl_certfile=pem,
                         kafka_ssl_keyfile=pem)
    assert security_part(librdkafka_config(mutual)) == {
        "security.protocol": "SSL", "ssl.endpoint.identification.algorithm": "https", "ssl.ca.location": pem,
        "ssl.certificate.location": pem, "ssl.key.location": pem}
    assert security_part(librdkafka_config(config.load(environ={}))) == {"security.protocol": "PLAINTEXT"}


def test_producers_are_idempotent_and_key_like_the_java_client():
    plain = kafka_io.producer_config(config.load(environ={}), "c")
    assert plain["enable.idempotence"] is True and plain["partitioner"] == "murmur2_random"


def test_consumer_loops_commit_by_hand_with_eager_assignors():
    """Offsets are committed only after the writes (never automatically), and every rebalance
    assigns every partition again from its committed offset (what the loop's replays rely on)."""
    options = loop_consumer_config(config.load(environ={}))
    assert (options["enable.auto.commit"], options["enable.auto.offset.store"]) == (False, False)
    assert options["partition.assignment.strategy"] == "range,roundrobin"
    assert options["group.id"] == "g" and options["topic.metadata.refresh.interval.ms"] == 30_000


def test_sasl_without_tls_is_not_reported_encrypted():
    settings = config.load(environ={}, **dict(SASL, kafka_security_protocol="SASL_PLAINTEXT"))
    assert settings.kafka_uses_sasl and not settings.kafka_is_encrypted


def test_elasticsearch_options(pem):
    keyed = config.load(environ={}, es_url="https://a:9200,https://b:9200", es_api_key="aWQ6a2V5", es_ca_certs=pem)
    assert keyed.es_is_encrypted and keyed.es_is_authenticated
    assert es.connection_options(keyed) == {"api_key": "aWQ6a2V5", "verify_certs": True, "ca_certs": pem}
    user = config.load(environ={}, es_url="https://a:9200", es_username="elastic", es_password="pw",
                       es_verify_certs=False)
    assert es.connection_options(user) == {"basic_auth": ("elastic", "pw"), "verify_certs": False,
                                           "ssl_show_warn": False}
    mixed = config.load(environ={}, es_url="https://a:9200,http://b:9200")
    assert not mixed.es_is_encrypted


def test_elasticsearch_client_carries_the_credentials(pem):
    client = es.client(config.load(environ={}, es_url="https://127.0.0.1:1", es_api_key="aWQ6a2V5", es_ca_certs=pem))
    assert client._headers["authorization"] == "ApiKey aWQ6a2V5"  # noqa: SLF001 - what the client sends


def test_s3_without_static_keys_uses_the_standard_credential_chain(monkeypatch, pem):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-the-environment")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-the-environment")
    settings = config.load(environ={}, s3_access_key="", s3_secret_key="", s3_ca_bundle=pem)
    assert settings.s3_uses_credential_chain
    assert s3.credential_options(settings) == {"verify": pem}
    credentials = s3.client(settings)._request_signer._credentials  # noqa: SLF001 - what the chain resolved
    assert credentials.access_key == "from-the-environment"
    assert config.load(environ={}, s3_endpoint="").s3_is_encrypted


CONSTRUCTORS = re.compile(r"\b(KafkaConsumer|KafkaProducer|KafkaAdminClient|Elasticsearch|AsyncElasticsearch)\("
                          r"|\bboto3\.(client|resource|Session)\(|\bbotocore\.session|\bconfluent_kafka\b")
HELPERS = {"services/common/kafka_io.py", "services/common/es.py", "services/common/s3.py"}


def test_every_client_is_built_by_the_helper_of_its_system():
    """A client built elsewhere would ignore the security settings (and connect in plaintext)."""
    offenders = []
    for folder in ("services", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in HELPERS:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if CONSTRUCTORS.search(line) and not line.lstrip().startswith("#"):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []


def test_each_s3_client_resolves_the_credential_chain_itself(monkeypatch):
    """boto3's process-wide default session would keep the first answer of the chain for every later client."""
    settings = config.load(environ={}, s3_access_key="", s3_secret_key="")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "first-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "first-secret")
    assert s3.client(settings)._request_signer._credentials.access_key == "first-key"  # noqa: SLF001
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "rotated-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "rotated-secret")
    assert s3.client(settings)._request_signer._credentials.access_key == "rotated-key"  # noqa: SLF001
