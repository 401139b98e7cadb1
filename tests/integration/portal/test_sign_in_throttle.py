"""Sign-in throttling slows guessers down without letting anyone lock a colleague out.

Every client here reaches the portal through the same trusted proxy, as in production
behind a load balancer: only X-Forwarded-For tells them apart.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable

from tests.conftest import wait_until
from tests.integration.portal.conftest import PASSWORD, csrf_token, sign_in, signed_in, via_proxy

COLLEAGUE = "203.0.113.7"
OWNER = "198.51.100.9"


def attempt(client: Any, email: str, password: str, address: str) -> Any:
    token = csrf_token(client, **via_proxy(address))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       **via_proxy(address))


def test_a_colleagues_wrong_passwords_do_not_stop_the_owner(make_portal: Callable[..., Any], user: str):
    colleague = make_portal().test_client()
    codes = [attempt(colleague, user, f"guess-{i}", COLLEAGUE).status_code for i in range(20)]
    assert set(codes) <= {401, 429} and 429 in codes, "the colleague is slowed down"

    owner = make_portal().test_client()  # another replica, too
    response = sign_in(owner, user, address=OWNER)

    assert response.status_code == 302, "the right password from a client that was not failing signs in"
    assert signed_in(owner)


def test_the_owner_after_a_typo_waits_at_most_a_bounded_delay(make_portal: Callable[..., Any], user: str):
    colleague = make_portal().test_client()
    for i in range(20):
        attempt(colleague, user, f"guess-{i}", COLLEAGUE)
    owner = make_portal().test_client()
    assert attempt(owner, user, "typo", OWNER).status_code == 401
    waits: list[int] = []

    def right_password_signs_in() -> bool:
        response = attempt(owner, user, PASSWORD, OWNER)
        if response.status_code == 429:
            waits.append(int(response.headers["Retry-After"]))
        return response.status_code == 302

    wait_until(right_password_signs_in, timeout_s=60, interval_s=0.5, what="the owner signed in")
    assert all(1 <= w <= 5 for w in waits), waits


def test_many_failures_from_one_address_get_429_for_that_address_only(make_portal: Callable[..., Any], user: str):
    replica_a, replica_b = make_portal().test_client(), make_portal().test_client()
    sprayer = "192.0.2.66"
    for i in range(6):  # the suite's per-address limit; each a different account, so no delay applies
        assert attempt(replica_a, f"nobody-{uuid.uuid4().hex[:6]}@example.com", "guess", sprayer).status_code == 401

    refused = attempt(replica_b, user, PASSWORD, sprayer)

    assert refused.status_code == 429, "the limit holds on every replica, for any account"
    assert 1 <= int(refused.headers["Retry-After"]) <= 300
    assert "your network" in refused.get_data(as_text=True)
    assert sign_in(replica_b.application.test_client(), user, address="192.0.2.67").status_code == 302


def test_an_untrusted_peer_cannot_choose_its_address(make_portal: Callable[..., Any], user: str):
    """X-Forwarded-For from a peer that is not a trusted proxy is ignored: rotating it does
    not escape the per-address limit."""
    client = make_portal().test_client()
    peer = "192.0.2.99"
    for i in range(6):
        token = csrf_token(client, environ_base={"REMOTE_ADDR": peer})
        client.post("/login", data={"email": f"x{i}-{uuid.uuid4().hex[:6]}@example.com", "password": "guess",
                                    "csrf_token": token},
                    environ_base={"REMOTE_ADDR": peer}, headers={"X-Forwarded-For": f"198.51.100.{100 + i}"})
    token = csrf_token(client, environ_base={"REMOTE_ADDR": peer})
    response = client.post("/login", data={"email": user, "password": PASSWORD, "csrf_token": token},
                           environ_base={"REMOTE_ADDR": peer}, headers={"X-Forwarded-For": "198.51.100.200"})
    assert response.status_code == 429
