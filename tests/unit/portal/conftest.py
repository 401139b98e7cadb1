"""Portal unit tests: the Flask app with in-process stand-ins for the gRPC backends and
the account, session and sign-in failure stores, so view logic (CSRF, roles, escaping,
errors) is tested fast and without servers. The real stores are exercised by
tests/integration/portal, the real backends by tests/e2e."""

from __future__ import annotations

from typing import Any, Callable

import grpc
import pytest

from services.common import config
from services.portal import throttle
from services.portal.app import create_app
from services.portal.sessions import SessionRecord, new_session_id


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


class StubSessions:
    """Sessions in a dict: enough for views that need someone signed in."""

    def __init__(self) -> None:
        self.records: dict[str, SessionRecord] = {}

    def create(self, email: str, name: str, role: str) -> str:
        session_id = new_session_id()
        self.records[session_id] = SessionRecord(email, name, role, 0.0, 0.0)
        return session_id

    def resolve(self, session_id: str) -> SessionRecord | None:
        return self.records.get(session_id)

    def end(self, session_id: str, reason: str = "sign_out") -> None:
        self.records.pop(session_id, None)

    def revoke_user(self, email: str, keep: str | None = None) -> int:
        doomed = [k for k, r in self.records.items() if r.email == email and k != keep]
        for key in doomed:
            del self.records[key]
        return len(doomed)


class StubCounters:
    """Sign-in failure counters in a dict, under the real policy."""

    def __init__(self) -> None:
        self.counts: dict[str, throttle.Failures] = {}

    def read(self, keys: list[str]) -> list[throttle.Failures]:
        return [self.counts.get(k, throttle.Failures()) for k in keys]

    def record(self, key: str, update: Callable[[throttle.Failures], throttle.Failures]) -> None:
        self.counts[key] = update(self.counts.get(key, throttle.Failures()))

    def clear(self, key: str) -> None:
        self.counts.pop(key, None)


@pytest.fixture
def backends() -> StubBackends:
    return StubBackends()


@pytest.fixture
def make_app(backends: StubBackends) -> Callable[..., Any]:
    def make(**overrides: Any) -> Any:
        settings = config.load(environ={}, namespace="unitportal", **overrides)
        guard = throttle.SignInGuard(throttle.Policy.from_settings(settings), StubCounters(),  # type: ignore[arg-type]
                                     throttle.CheckBudget(settings.portal_signin_checks_per_s))
        app = create_app(settings, backends=backends, users=StubUsers(), sessions=StubSessions(), sign_in_guard=guard)
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    return make_app()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def login_as(client: Any, role: str, email: str | None = None) -> str:
    """Sign the client in without a password; returns the session id."""
    sessions = client.application.extensions["collateral_sessions"]
    session_id = sessions.create(email or f"{role}@example.com", f"{role.title()} User", role)
    with client.session_transaction() as session:
        session["sid"] = session_id
    return session_id


def csrf_token(client: Any, path: str = "/login") -> str:
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page carries a CSRF token"
    return match.group(1)
