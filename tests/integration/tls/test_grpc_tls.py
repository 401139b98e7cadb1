"""gRPC with TLS and mutual TLS between real servers, the portal and clients.

Servers: content and feedback with server TLS in this process, usage as its own OS process
requiring client certificates (fixtures in conftest.py). Every client is built by
services.common.grpc_channel from settings, as the portal and the tools build theirs.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from typing import Any, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from collateral.v1 import content_pb2, content_pb2_grpc, feedback_pb2, feedback_pb2_grpc, usage_pb2, usage_pb2_grpc
from services.common import config, grpc_channel
from services.portal.app import create_app
from services.portal.users import UserStore
from tests.integration.tls.conftest import Pki, client_settings, health_status, is_serving, rpc_error

SERVING = health_pb2.HealthCheckResponse.SERVING
PASSWORD = "tls-rep-password-1"


def trusting(tls_env: config.Settings, pki: Pki, with_certificate: bool = False) -> config.Settings:
    """Client settings that verify the servers against the suite's CA (and present its client certificate)."""
    if with_certificate:
        return client_settings(tls_env, grpc_tls_ca=pki.ca_crt, grpc_tls_client_cert=pki.client_crt,
                               grpc_tls_client_key=pki.client_key)
    return client_settings(tls_env, grpc_tls_ca=pki.ca_crt)


def test_every_service_answers_real_calls_and_health_over_tls(tls_env: config.Settings, pki: Pki,
                                                              tls_servers: dict[str, str], mtls_usage: str,
                                                              call_as: Callable[..., Any]):
    settings = trusting(tls_env, pki, with_certificate=True)
    with grpc_channel.channel(tls_servers["content"], settings) as channel:
        vocabularies = content_pb2_grpc.ContentServiceStub(channel).ListVocabularies(
            content_pb2.ListVocabulariesRequest(), metadata=call_as("rep"), timeout=10)
        assert vocabularies.vocabularies, "the content service listed its vocabularies over TLS"
    with grpc_channel.channel(tls_servers["feedback"], settings) as channel:
        requests = feedback_pb2_grpc.FeedbackServiceStub(channel).ListContentRequests(
            feedback_pb2.ListContentRequestsRequest(page_size=5), metadata=call_as("marketer"), timeout=10)
        assert isinstance(requests, feedback_pb2.ListContentRequestsResponse)
    with grpc_channel.channel(mtls_usage, settings) as channel:
        shares = usage_pb2_grpc.UsageServiceStub(channel).ListShareLinks(
            usage_pb2.ListShareLinksRequest(page_size=5), metadata=call_as("rep", f"rep-{uuid.uuid4().hex[:6]}"),
            timeout=10)
        assert list(shares.shares) == [], "a new rep has no share links"
    for name, address in (*tls_servers.items(), ("usage", mtls_usage)):
        assert health_status(address, settings) == SERVING, name


def test_reflection_answers_over_tls(tls_env: config.Settings, pki: Pki, tls_servers: dict[str, str]):
    with grpc_channel.channel(tls_servers["content"], trusting(tls_env, pki)) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        answers = list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                                 timeout=10))
    names = {s.name for s in answers[0].list_services_response.service}
    assert {"collateral.v1.ContentService", "grpc.health.v1.Health"} <= names


def test_plaintext_client_cannot_talk_to_a_tls_server(tls_env: config.Settings, tls_servers: dict[str, str]):
    plaintext = client_settings(tls_env)
    assert grpc_channel.client_credentials(plaintext) is None
    error = rpc_error(lambda: health_status(tls_servers["content"], plaintext))
    assert error.code() == grpc.StatusCode.UNAVAILABLE


def test_client_trusting_another_ca_refuses_the_server(tls_env: config.Settings, other_ca: str,
                                                      tls_servers: dict[str, str]):
    error = rpc_error(lambda: health_status(tls_servers["feedback"], client_settings(tls_env, grpc_tls_ca=other_ca)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_refuses_a_client_without_certificate(tls_env: config.Settings, pki: Pki, mtls_usage: str):
    error = rpc_error(lambda: health_status(mtls_usage, trusting(tls_env, pki)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert is_serving(mtls_usage, trusting(tls_env, pki, with_certificate=True))


def test_mutual_tls_refuses_a_plaintext_client(tls_env: config.Settings, mtls_usage: str):
    error = rpc_error(lambda: health_status(mtls_usage, client_settings(tls_env)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE


def _portal(tls_env: config.Settings, tls_servers: dict[str, str], mtls_usage: str, **client_tls: Any) -> Any:
    settings = dataclasses.replace(client_settings(tls_env, **client_tls), content_addr=tls_servers["content"],
                                   feedback_addr=tls_servers["feedback"], usage_addr=mtls_usage)
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def _sign_in(client: Any, email: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, "the sign-in page carries a CSRF token"
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_portal_renders_pages_from_tls_services(tls_env: config.Settings, pki: Pki, tls_servers: dict[str, str],
                                                mtls_usage: str):
    app = _portal(tls_env, tls_servers, mtls_usage, grpc_tls_ca=pki.ca_crt, grpc_tls_client_cert=pki.client_crt,
                  grpc_tls_client_key=pki.client_key)
    email = f"tls-rep-{uuid.uuid4().hex[:8]}@example.com"
    UserStore(app.config["COLLATERAL"]).add(email, "TLS Rep", "rep", PASSWORD)
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    _sign_in(client, email)
    page = client.get("/search?q=tls")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    assert "Temporarily unavailable" not in page.get_data(as_text=True)


def test_portal_without_the_ca_does_not_reach_the_services(tls_env: config.Settings, tls_servers: dict[str, str],
                                                          mtls_usage: str):
    """Client TLS on with the system roots: the private CA's servers are not trusted, nothing falls back to plaintext."""
    app = _portal(tls_env, tls_servers, mtls_usage, grpc_tls=True)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert {"content", "usage", "feedback"} <= set(ready.get_json()["down"])
