"""Fixtures of the audit log's integration tests: content, usage and feedback servers and the
usage consumer (so share links can be made) under a namespace of the suite's own, and stubs."""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator

import pytest

from collateral.v1 import audit_pb2, audit_pb2_grpc, content_pb2_grpc, feedback_pb2_grpc, usage_pb2_grpc
from services.common import auth, config, grpc_server
from services.common.consumer import ConsumerLoop
from services.content.server import build_spec as content_spec
from services.feedback.server import build_spec as feedback_spec
from services.usage.consumer import UsageProcessor
from services.usage.server import build_spec as usage_spec
from tests.conftest import isolated, wait_serving, wait_until

BUILDERS = {"collateral.v1.ContentService": content_spec, "collateral.v1.UsageService": usage_spec,
            "collateral.v1.FeedbackService": feedback_spec}


@pytest.fixture(scope="session")
def audit_env(stack: config.Settings) -> config.Settings:
    return isolated(stack, "a")


@pytest.fixture(scope="session")
def servers(audit_env: config.Settings) -> Iterator[dict[str, grpc_server.RunningServer]]:
    """full service name -> a running server whose stores and audit log share audit_env."""
    running = {name: grpc_server.start(build(audit_env), audit_env, port=0, metrics_port=0)
               for name, build in BUILDERS.items()}
    for name, server in running.items():
        wait_serving(server.address, name)
    yield running
    for server in running.values():
        server.stop(grace=1.0)


@pytest.fixture(scope="package")
def usage_consumer(audit_env: config.Settings) -> Iterator[ConsumerLoop]:
    """The usage consumer, so the usage service's catalog view learns the published assets.

    Stopped with this package's tests: left running, it would live through the fault tests'
    Kafka and Elasticsearch outages of a whole-suite run with nobody watching it.
    """
    loop = ConsumerLoop(UsageProcessor(audit_env), audit_env)
    thread = threading.Thread(target=loop.run, name="audit-usage-consumer", daemon=True)
    thread.start()
    yield loop
    loop.stop()
    thread.join(timeout=30)


@pytest.fixture(scope="session")
def stubs(servers: dict[str, grpc_server.RunningServer]) -> Iterator[dict[str, Any]]:
    channels = {name: grpc_server.channel(server.address) for name, server in servers.items()}
    yield {
        "content": content_pb2_grpc.ContentServiceStub(channels["collateral.v1.ContentService"]),
        "usage": usage_pb2_grpc.UsageServiceStub(channels["collateral.v1.UsageService"]),
        "feedback": feedback_pb2_grpc.FeedbackServiceStub(channels["collateral.v1.FeedbackService"]),
        "audit": {name.split(".")[-1]: audit_pb2_grpc.AuditServiceStub(ch) for name, ch in channels.items()},
    }
    for channel in channels.values():
        channel.close()


@pytest.fixture(scope="session")
def as_user(audit_env: config.Settings) -> Callable[..., tuple[tuple[str, str], ...]]:
    """as_user(role, sub, forwarded_for=...) -> call metadata of that user (as the portal sends it)."""

    def metadata(role: str, sub: str, forwarded_for: str = "") -> tuple[tuple[str, str], ...]:
        extra = (("x-forwarded-for", forwarded_for),) if forwarded_for else ()
        return auth.bearer_metadata(auth.mint(audit_env, sub, role)) + extra

    return metadata


@pytest.fixture(scope="session")
def find_records(stubs: dict[str, Any], as_user: Callable) -> Callable[..., list[audit_pb2.AuditRecord]]:
    """find_records(expected=n, **filters) -> the final records matching, once `expected` of them are visible."""

    def find(expected: int = 1, **filters: Any) -> list[audit_pb2.AuditRecord]:
        request = audit_pb2.ListAuditRecordsRequest(page_size=500, **filters)

        def listed() -> list[audit_pb2.AuditRecord] | None:
            reply = stubs["audit"]["ContentService"].ListAuditRecords(request, metadata=as_user("admin", "auditor"),
                                                                       timeout=10)
            return list(reply.records) if len(reply.records) >= expected else None

        return wait_until(listed, timeout_s=30, what=f"{expected} audit record(s) for {filters}")

    return find
