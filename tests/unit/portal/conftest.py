"""Portal unit tests: the Flask app with an in-process stand-in for the gRPC backends
and the account store, so view logic (CSRF, roles, escaping, errors) is tested fast
and without servers. The real backends are exercised by tests/e2e."""

from __future__ import annotations

from typing import Any, Callable

import grpc
import pytest

from services.common import config
from services.portal.app import create_app


class RpcFailure(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str = "") -> None:
        super().__init__(details)
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple:
        return ()


class StubBackends:
    """Answers calls from `handlers[(service, method)]`; records every call."""

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str], Callable[[Any], Any]] = {}
        self.calls: list[tuple[str, str, Any, str, str]] = []
        self.health_states = {"content": "SERVING", "usage": "SERVING", "feedback": "SERVING"}

    def call(self, service: str, method: str, request: Any, *, subject: str, role: str, timeout: float = 10.0) -> Any:
        self.calls.append((service, method, request, subject, role))
        handler = self.handlers.get((service, method))
        if handler is None:
            raise RpcFailure(grpc.StatusCode.UNAVAILABLE, "no backend in unit tests")
        return handler(request)

    def stream(self, service: str, method: str, requests: Any, *, subject: str, role: str, timeout: float = 0) -> Any:
        return self.call(service, method, list(requests), subject=subject, role=role)

    def health(self, service: str, timeout: float = 2.0) -> str:
        return self.health_states[service]

    def address(self, service: str) -> str:
        return f"127.0.0.1:{ {'content': 1, 'usage': 2, 'feedback': 3}[service]}"

    def close(self) -> None:
        pass


class StubUsers:
    es = None

    def authenticate(self, email: str, password: str) -> Any:
        return None


@pytest.fixture
def backends() -> StubBackends:
    return StubBackends()


@pytest.fixture
def make_app(backends: StubBackends) -> Callable[..., Any]:
    def make(**overrides: Any) -> Any:
        settings = config.load(environ={}, namespace="unitportal", **overrides)
        app = create_app(settings, backends=backends, users=StubUsers())
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    return make_app()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def login_as(client: Any, role: str, email: str | None = None) -> None:
    with client.session_transaction() as session:
        session["user"] = {"email": email or f"{role}@example.com", "name": f"{role.title()} User", "role": role}


def csrf_token(client: Any, path: str = "/login") -> str:
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page carries a CSRF token"
    return match.group(1)
