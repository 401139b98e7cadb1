"""Every Kafka and Elasticsearch way in of the secured stack, with the services' own client helpers,
and the ways that must be refused: a wrong password, a wrong or invalidated API key, an untrusted
CA, plaintext to a TLS port, the mutual-TLS listener without a client certificate."""

from __future__ import annotations

import base64
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import botocore.exceptions
import elastic_transport
import pytest
from elasticsearch import AuthenticationException

from services.common import config, errors, es, kafka_io, s3
from tests.conftest import process_env, wait_until
from tests.integration.secure.conftest import secured

pytestmark = [pytest.mark.integration, pytest.mark.secure]

ROOT = Path(__file__).resolve().parents[3]

KAFKA_WAYS_IN = {
    "SASL_SSL SCRAM-SHA-512": (),
    "SASL_SSL SCRAM-SHA-256": ("kafka_scram_sha_256",),
    "SASL_SSL PLAIN": ("kafka_plain",),
    "SSL with a client certificate": ("kafka_client_certificate",),
}


@pytest.mark.parametrize("way_in", list(KAFKA_WAYS_IN))
def test_kafka_topic_produce_and_consume(secure_settings, secure_stack, way_in):
    """Admin (topic creation), producer and consumer all connect the configured way."""
    settings = secured(secure_settings, secure_stack, *KAFKA_WAYS_IN[way_in])
    topic = settings.topic(f"secure-{uuid.uuid4().hex[:8]}")
    kafka_io.ensure_topics(settings, [topic], partitions=1)
    value = uuid.uuid4().hex.encode()
    producer = kafka_io.Producer(settings, client_id="secure-test")
    try:
        producer.send_and_wait([kafka_io.Record(topic, "k", value)], timeout_s=30)
    finally:
        producer.close()
    consumer = kafka_io.new_consumer(settings, topic, auto_offset_reset="earliest", enable_auto_commit=False)
    try:
        def received() -> bool:
            return any(m.value == value for batch in consumer.poll(timeout_ms=1000).values() for m in batch)

        wait_until(received, timeout_s=60, what=f"the record back over {way_in}")
    finally:
        consumer.close()


ES_WAYS_IN = {
    # way in: (variants, how Elasticsearch says the request was authenticated)
    "user and password": ((), "realm"),
    "API key": (("es_api_key",), "api_key"),
}


@pytest.mark.parametrize("way_in", list(ES_WAYS_IN))
def test_elasticsearch_index_and_search(secure_settings, secure_stack, way_in):
    variants, authenticated_by = ES_WAYS_IN[way_in]
    settings = secured(secure_settings, secure_stack, *variants)
    client = es.client(settings)
    try:
        index = settings.index(f"secure-{uuid.uuid4().hex[:8]}")
        word = uuid.uuid4().hex
        client.index(index=index, id="1", document={"text": word}, refresh=True)
        hits = client.search(index=index, query={"match": {"text": word}})["hits"]["hits"]
        assert [h["_id"] for h in hits] == ["1"]
        assert es.reachable(client)
        assert client.security.authenticate()["authentication_type"] == authenticated_by
    finally:
        client.close()


def test_a_wrong_or_invalidated_api_key_is_refused(secure_settings, secure_stack):
    """A key whose secret is wrong never gets in; a key that worked stops working once invalidated."""
    key_id = base64.b64decode(secured(secure_settings, secure_stack, "es_api_key").es_api_key).decode().split(":")[0]
    forged = base64.b64encode(f"{key_id}:not-the-secret".encode()).decode()
    admin = es.client(secure_settings)
    created = admin.security.create_api_key(name=f"{secure_settings.namespace}-to-invalidate", expiration="1h")
    wrong = es.client(secured(secure_settings, secure_stack, "es_api_key", COLLATERAL_ES_API_KEY=forged))
    revoked = es.client(secured(secure_settings, secure_stack, "es_api_key", COLLATERAL_ES_API_KEY=created["encoded"]))
    try:
        with pytest.raises(AuthenticationException):
            wrong.cluster.health()
        assert not es.reachable(wrong)
        assert es.reachable(revoked)
        assert admin.security.invalidate_api_key(ids=[created["id"]])["invalidated_api_keys"] == [created["id"]]
        with pytest.raises(AuthenticationException):
            revoked.search(index="*")
        assert not es.reachable(revoked)
    finally:
        for client in (admin, wrong, revoked):
            client.close()


def test_wrong_kafka_password_is_refused_and_named(secure_settings, secure_stack):
    settings = secured(secure_settings, secure_stack, COLLATERAL_KAFKA_SASL_PASSWORD="not-the-password")
    with pytest.raises(errors.Unavailable) as refused:
        kafka_io.admin_client(settings, "secure-test", timeout_ms=3000)
    message = str(refused.value)
    assert "SASL SCRAM-SHA-512 as user 'collateral'" in message and "not-the-password" not in message
    producer = kafka_io.Producer(settings, client_id="secure-test")
    try:
        with pytest.raises(errors.Unavailable):
            producer.send_and_wait([kafka_io.Record(settings.topic("never"), None, b"x")], timeout_s=3)
    finally:
        producer.close(timeout_s=1)  # its reconnect loop would otherwise outlive the test


def test_wrong_elasticsearch_password_is_refused(secure_settings, secure_stack):
    client = es.client(secured(secure_settings, secure_stack, COLLATERAL_ES_PASSWORD="not-the-password"))
    with pytest.raises(AuthenticationException):
        client.cluster.health()
    assert not es.reachable(client)


def test_no_credentials_get_nothing_from_elasticsearch(secure_settings, secure_stack):
    client = es.client(secured(secure_settings, secure_stack, COLLATERAL_ES_USERNAME="", COLLATERAL_ES_PASSWORD=""))
    with pytest.raises(AuthenticationException):
        client.search(index="*")


def test_an_untrusted_ca_refuses_every_server(secure_settings, secure_stack, other_ca):
    kafka = secured(secure_settings, secure_stack, COLLATERAL_KAFKA_SSL_CAFILE=other_ca)
    with pytest.raises(errors.Unavailable, match=f"CA {other_ca}"):
        kafka_io.admin_client(kafka, "secure-test", timeout_ms=3000)
    client = es.client(secured(secure_settings, secure_stack, COLLATERAL_ES_CA_CERTS=other_ca))
    with pytest.raises(elastic_transport.TlsError):
        client.options(max_retries=0).cluster.health()
    assert not es.reachable(client)
    storage = s3.probe_client(secured(secure_settings, secure_stack, COLLATERAL_S3_CA_BUNDLE=other_ca), 5.0)
    with pytest.raises(botocore.exceptions.SSLError):
        storage.list_buckets()
    assert not s3.reachable(storage, secure_settings.s3_bucket)


def test_s3_over_https_with_the_credential_chain(secure_settings):
    """No static keys configured: the keys come from AWS_* (the chain), and a wrong one is refused."""
    storage = s3.client(secure_settings)
    bucket = f"{secure_settings.namespace}-chain"
    s3.ensure_bucket(storage, bucket)
    storage.put_object(Bucket=bucket, Key="k", Body=b"through the chain")
    assert storage.get_object(Bucket=bucket, Key="k")["Body"].read() == b"through the chain"
    storage.delete_object(Bucket=bucket, Key="k")
    storage.delete_bucket(Bucket=bucket)


LIST_BUCKETS = """
import botocore.exceptions
from services.common import config, s3
try:
    s3.probe_client(config.load(), 5.0).list_buckets()
    print("listed")
except botocore.exceptions.ClientError as exc:
    print(exc.response["Error"]["Code"])
"""


def test_the_chain_is_what_signs_s3_requests(secure_settings):
    """A process whose AWS_SECRET_ACCESS_KEY is wrong is refused, the same process with the right one
    is not: the keys come from the environment (boto3 reads it once per process, hence processes)."""
    def listing_with(**extra: str) -> str:
        out = subprocess.run([sys.executable, "-c", LIST_BUCKETS], cwd=ROOT, env=process_env(secure_settings, **extra),
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout.strip().splitlines()[-1]

    assert listing_with() == "listed"
    assert listing_with(AWS_SECRET_ACCESS_KEY="not-the-secret") in {"SignatureDoesNotMatch", "InvalidAccessKeyId",
                                                                   "AccessDenied"}


def test_plaintext_clients_get_nowhere_on_the_secured_ports(secure_settings, secure_stack):
    """No fallback: a client left on PLAINTEXT or http:// cannot talk to the TLS listeners at all."""
    described: dict[str, Any] = secure_stack["settings"]
    kafka = secured(secure_settings, secure_stack, COLLATERAL_KAFKA_SECURITY_PROTOCOL="PLAINTEXT",
                    COLLATERAL_KAFKA_SASL_MECHANISM="", COLLATERAL_KAFKA_SASL_USERNAME="",
                    COLLATERAL_KAFKA_SASL_PASSWORD="", COLLATERAL_KAFKA_SSL_CAFILE="")
    assert not kafka.kafka_is_encrypted
    with pytest.raises(errors.Unavailable):
        kafka_io.admin_client(kafka, "secure-test", timeout_ms=3000)
    http_url = described["COLLATERAL_ES_URL"].replace("https://", "http://")
    client = es.client(secured(secure_settings, secure_stack, COLLATERAL_ES_URL=http_url, COLLATERAL_ES_CA_CERTS=""))
    assert not config.load(environ={}, es_url=http_url).es_is_encrypted
    assert not es.reachable(client)


def test_the_mutual_tls_listener_requires_a_client_certificate(secure_settings, secure_stack):
    settings = secured(secure_settings, secure_stack, "kafka_client_certificate",
                       COLLATERAL_KAFKA_SSL_CERTFILE="", COLLATERAL_KAFKA_SSL_KEYFILE="")
    with pytest.raises(errors.Unavailable):
        kafka_io.admin_client(settings, "secure-test", timeout_ms=3000)
