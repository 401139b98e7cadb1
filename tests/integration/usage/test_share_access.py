"""Share link access controls and copying a link again, through the real usage server, Elasticsearch,
Kafka and a real SMTP server process; the customer gate through the portal app over the same servers."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, Iterator

import grpc
import pytest

from collateral.v1 import usage_pb2, usage_pb2_grpc
from services.common import config, grpc_server
from services.portal import access_codes
from services.portal.app import create_app
from services.usage import share_access
from services.usage.server import build_spec
from tests.integration.usage import catalog_view
from tests.integration.usage.conftest import wait_serving, wait_until

pytestmark = pytest.mark.integration

T = usage_pb2
CHROME = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131 Safari/537.36")


# ---- servers ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mail_env(usage_env: config.Settings, mail_server: Any) -> config.Settings:
    """The usage namespace, with email going to the real SMTP test server."""
    return dataclasses.replace(usage_env, smtp_host=mail_server.host, smtp_port=mail_server.port,
                               smtp_security="none", smtp_from="Collateral <noreply@collateral.test>")


def _stub(settings: config.Settings, start_service: Callable) -> Iterator[Any]:
    running = start_service(build_spec(settings))
    wait_serving(running.address)
    channel = grpc_server.channel(running.address)
    yield usage_pb2_grpc.UsageServiceStub(channel), running.address
    channel.close()


@pytest.fixture(scope="module")
def mail_server_stub(mail_env: config.Settings, start_service: Callable) -> Iterator[Any]:
    """A usage server that can send email (so links may ask for a verified email)."""
    yield from _stub(mail_env, start_service)


@pytest.fixture(scope="module")
def rotated_stub(usage_env: config.Settings, start_service: Callable) -> Iterator[Any]:
    """A usage server of the same deployment under another share link secret (before a rotation)."""
    yield from _stub(dataclasses.replace(usage_env, share_link_secret="an-older-share-link-secret-" + "x" * 16),
                     start_service)


@pytest.fixture
def publish(usage_env, raw_producer, es, names, consumer) -> Callable[[str], None]:
    """Links are only for assets of the usage catalog view, which the consumer fills."""
    return lambda asset: catalog_view.publish(usage_env, raw_producer, es, names, {asset: "published"})


def create(stub: Any, call_as: Callable, rep: str, asset: str, **fields: Any) -> Any:
    request = T.CreateShareLinkRequest(asset_id=asset, opportunity_id="opp-access", **fields)
    return stub.CreateShareLink(request, metadata=call_as("rep", rep))


def code_of(error: pytest.ExceptionInfo) -> grpc.StatusCode:
    return error.value.code()


# ---- passcode -----------------------------------------------------------------------------

def test_a_passcode_is_stored_as_a_scrypt_hash_and_checked_by_the_service(stub, call_as, es, names, uid, publish):
    rep, asset = f"rep-{uid}", f"a-{uid}"
    publish(asset)
    created = create(stub, call_as, rep, asset, passcode="Blue-Falcon-42")
    assert created.share.passcode_required and not created.share.email_verification_required

    stored = es.get(index=names.shares, id=share_access.token_hash(created.token))["_source"]
    assert "Blue-Falcon-42" not in str(stored) and stored["passcode_hash"].startswith("scrypt:")

    service = call_as("service", "portal")
    right = stub.ResolveShareLink(T.ResolveShareLinkRequest(token=created.token, passcode="Blue-Falcon-42"),
                                  metadata=service)
    wrong = stub.ResolveShareLink(T.ResolveShareLinkRequest(token=created.token, passcode="blue-falcon-42"),
                                  metadata=service)
    none = stub.ResolveShareLink(T.ResolveShareLinkRequest(token=created.token), metadata=service)
    assert (right.passcode_accepted, wrong.passcode_accepted, none.passcode_accepted) == (True, False, False)
    assert right.share.passcode_required

    with pytest.raises(grpc.RpcError) as err:
        stub.ResolveShareLink(T.ResolveShareLinkRequest(token=created.token, passcode="x" * 65), metadata=service)
    assert code_of(err) == grpc.StatusCode.INVALID_ARGUMENT and "passcode" in err.value.details()


@pytest.mark.parametrize("passcode", ["abc", "x" * 65, " leading"])
def test_a_passcode_out_of_bounds_is_refused_naming_the_field(stub, call_as, uid, publish, passcode):
    publish(f"a-{uid}")
    with pytest.raises(grpc.RpcError) as err:
        create(stub, call_as, f"rep-{uid}", f"a-{uid}", passcode=passcode)
    assert code_of(err) == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_server.field_violations(err.value)[0][0] == "passcode"


# ---- verified email -----------------------------------------------------------------------

def test_email_verification_without_email_configured_is_a_failed_precondition(stub, call_as, uid, publish):
    publish(f"a-{uid}")
    with pytest.raises(grpc.RpcError) as err:
        create(stub, call_as, f"rep-{uid}", f"a-{uid}", require_email_verification=True)
    assert code_of(err) == grpc.StatusCode.FAILED_PRECONDITION and "SMTP" in err.value.details()


def test_email_verification_with_domains_is_stored_and_exposed(mail_server_stub, call_as, uid, publish):
    stub, _ = mail_server_stub
    publish(f"a-{uid}")
    share = create(stub, call_as, f"rep-{uid}", f"a-{uid}", require_email_verification=True,
                   allowed_email_domains=["Acme.com", "@acme.co.uk", "acme.com"]).share
    assert share.email_verification_required and not share.passcode_required
    assert list(share.allowed_email_domains) == ["acme.com", "acme.co.uk"]

    with pytest.raises(grpc.RpcError) as err:
        create(stub, call_as, f"rep-{uid}", f"a-{uid}", require_email_verification=True,
               allowed_email_domains=["acme.com", "not a domain"])
    assert code_of(err) == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_server.field_violations(err.value)[0][0] == "allowed_email_domains[1]"
    with pytest.raises(grpc.RpcError) as err:  # domains restrict nothing without verification
        create(stub, call_as, f"rep-{uid}", f"a-{uid}", allowed_email_domains=["acme.com"])
    assert code_of(err) == grpc.StatusCode.INVALID_ARGUMENT


# ---- copying a link again -----------------------------------------------------------------

def test_the_owner_copies_an_active_link_again(stub, call_as, uid, publish):
    rep, asset = f"rep-{uid}", f"a-{uid}"
    publish(asset)
    created = create(stub, call_as, rep, asset)
    assert created.share.revealable
    reveal = T.RevealShareLinkRequest(share_id=created.share.share_id)

    again = stub.RevealShareLink(reveal, metadata=call_as("rep", rep))
    assert (again.token, again.url) == (created.token, created.url)
    assert stub.RevealShareLink(reveal, metadata=call_as("admin", "boss")).token == created.token

    with pytest.raises(grpc.RpcError) as err:
        stub.RevealShareLink(reveal, metadata=call_as("rep", f"other-{uid}"))
    assert code_of(err) == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:  # curators may revoke links, not hand them out
        stub.RevealShareLink(reveal, metadata=call_as("marketer", f"m-{uid}"))
    assert code_of(err) == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        stub.RevealShareLink(T.RevealShareLinkRequest(share_id=f"shr_missing{uid}"), metadata=call_as("rep", rep))
    assert code_of(err) == grpc.StatusCode.NOT_FOUND

    stub.RevokeShareLink(T.RevokeShareLinkRequest(share_id=created.share.share_id), metadata=call_as("rep", rep))
    with pytest.raises(grpc.RpcError) as err:
        stub.RevealShareLink(reveal, metadata=call_as("rep", rep))
    assert code_of(err) == grpc.StatusCode.FAILED_PRECONDITION and "revoked" in err.value.details()


def test_a_link_from_before_the_secret_changed_works_but_cannot_be_copied_again(stub, rotated_stub, call_as, uid,
                                                                                  publish):
    rep, asset = f"rep-{uid}", f"a-{uid}"
    publish(asset)
    old_stub, _ = rotated_stub
    created = create(old_stub, call_as, rep, asset)

    resolved = stub.ResolveShareLink(T.ResolveShareLinkRequest(token=created.token), metadata=call_as("service", "p"))
    assert resolved.share.share_id == created.share.share_id and not resolved.share.revealable
    with pytest.raises(grpc.RpcError) as err:
        stub.RevealShareLink(T.RevealShareLinkRequest(share_id=created.share.share_id), metadata=call_as("rep", rep))
    assert code_of(err) == grpc.StatusCode.FAILED_PRECONDITION and "cannot be copied again" in err.value.details()


# ---- the customer gate, through the portal ------------------------------------------------

def make_portal(mail_env: config.Settings, usage_address: str, **overrides: Any) -> Any:
    app = create_app(dataclasses.replace(mail_env, usage_addr=usage_address, **overrides))
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def portal(mail_env: config.Settings, mail_server_stub: Any) -> Any:
    """The portal app (test client), its usage backend the mail-enabled usage server; the
    throttle is generous here, so only the limit a test is about refuses an attempt."""
    return make_portal(mail_env, mail_server_stub[1], portal_signin_checks_per_s=1000.0,
                       portal_signin_free_failures=20)


def gate_post(client: Any, path: str, **form: str) -> Any:
    html = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, html[:500]
    return client.post(path, data=dict(form, csrf_token=token.group(1)))


def beacon_open(client: Any, path: str, visit: str) -> int:
    return client.post(f"{path}/beacon", json={"visit": visit, "kind": "open"},
                       headers={"User-Agent": CHROME}).status_code


def code_in(message: Any) -> str:
    match = re.search(r"\b(\d{6})\b", message.get_payload(decode=True).decode())
    assert match, message
    return match.group(1)


def test_an_email_link_opens_after_the_code_and_records_the_viewer(portal, mail_server_stub, mail_server, call_as,
                                                                     consumer, uid, publish):
    stub, _ = mail_server_stub
    rep, asset = f"rep-{uid}", f"a-{uid}"
    publish(asset)
    created = create(stub, call_as, rep, asset, require_email_verification=True, allowed_email_domains=["acme.test"])
    path = f"/s/{created.token}"
    client = portal.test_client()

    first = client.get(path)
    assert first.status_code == 200 and 'data-step="email"' in first.get_data(as_text=True)
    assert beacon_open(client, path, "a" * 32) == 403  # nothing of the asset before the gate is passed

    refused = gate_post(client, path, step="email", email=f"dana-{uid}@elsewhere.test")
    assert refused.status_code == 400 and "acme.test" in refused.get_data(as_text=True)
    email = f"dana-{uid}@acme.test"
    sent = gate_post(client, path, step="email", email=email)
    assert sent.status_code == 200 and 'data-step="code"' in sent.get_data(as_text=True)
    [message] = wait_until(lambda: mail_server.messages(to=email), what="the one-time code email")
    code = code_in(message)

    wrong = gate_post(client, path, step="code", code=f"{(int(code) + 1) % 10 ** 6:06d}")
    assert wrong.status_code == 403 and "4 attempts left" in wrong.get_data(as_text=True)
    assert beacon_open(client, path, "b" * 32) == 403

    right = gate_post(client, path, step="code", code=code[:3] + " " + code[3:])
    assert right.status_code == 303 and right.headers["Location"].endswith(path)
    assert beacon_open(client, path, "c" * 32) == 204

    def viewers() -> list[str]:
        listed = stub.ListShareLinks(T.ListShareLinksRequest(), metadata=call_as("rep", rep)).shares
        return [list(s.stats.viewer_emails) for s in listed if s.share_id == created.share.share_id][0]

    assert wait_until(lambda: viewers() == [email], what="the verified viewer on the link's opens")
    assert beacon_open(portal.test_client(), path, "d" * 32) == 403  # another browser has not passed


def test_five_wrong_codes_end_the_code(portal, mail_server_stub, mail_server, call_as, uid, publish):
    stub, _ = mail_server_stub
    publish(f"a-{uid}")
    created = create(stub, call_as, f"rep-{uid}", f"a-{uid}", require_email_verification=True)
    path, email = f"/s/{created.token}", f"eve-{uid}@example.test"
    client = portal.test_client()
    gate_post(client, path, step="email", email=email)
    [message] = wait_until(lambda: mail_server.messages(to=email), what="the one-time code email")
    code = code_in(message)
    wrong = f"{(int(code) + 7) % 10 ** 6:06d}"
    with client.session_transaction() as session:
        challenge_id = session["access"][f"share:{created.share.share_id}"]["challenge"]

    answers = [gate_post(client, path, step="code", code=wrong) for _ in range(access_codes.MAX_ATTEMPTS)]
    assert [a.status_code for a in answers] == [403] * 5
    assert "Too many wrong codes" in answers[-1].get_data(as_text=True)
    # The store refuses the right code now too, even to a client that kept the old session.
    store = access_codes.CodeStore(portal.config["COLLATERAL"])
    key = f"share:{created.share.share_id}"
    assert store.check(challenge_id, key, code).verdict == access_codes.EXHAUSTED
    assert beacon_open(client, path, "e" * 32) == 403


def test_a_passcode_link_opens_after_the_right_passcode(portal, mail_server_stub, call_as, uid, publish):
    stub, _ = mail_server_stub
    publish(f"a-{uid}")
    created = create(stub, call_as, f"rep-{uid}", f"a-{uid}", passcode="open-sesame")
    path = f"/s/{created.token}"
    client = portal.test_client()
    assert 'data-step="passcode"' in client.get(path).get_data(as_text=True)
    wrong = gate_post(client, path, step="passcode", passcode="open-sesame!")
    assert wrong.status_code == 403 and "not right" in wrong.get_data(as_text=True)
    assert beacon_open(client, path, "f" * 32) == 403
    right = gate_post(client, path, step="passcode", passcode="open-sesame")
    assert right.status_code == 303
    assert beacon_open(client, path, "0" * 32) == 204


def test_wrong_passcodes_are_throttled_per_client(mail_env, mail_server_stub, call_as, uid, publish):
    stub, address = mail_server_stub
    publish(f"a-{uid}")
    created = create(stub, call_as, f"rep-{uid}", f"a-{uid}", passcode="open-sesame")
    path = f"/s/{created.token}"
    strict = make_portal(mail_env, address, portal_signin_checks_per_s=1000.0, portal_signin_address_max_failures=2)
    guesser = strict.test_client()
    guesser.environ_base["REMOTE_ADDR"] = f"198.51.100.{int(uid[:2], 16) % 250 + 1}"
    answers = [gate_post(guesser, path, step="passcode", passcode=f"guess-{i}").status_code for i in range(2)]
    assert answers == [403, 403]
    throttled = gate_post(guesser, path, step="passcode", passcode="open-sesame")  # even the right one, for now
    assert throttled.status_code == 429 and "Too many attempts" in throttled.get_data(as_text=True)
    assert beacon_open(guesser, path, "1" * 32) == 403

    other = strict.test_client()  # another client is not held back by the guesser
    other.environ_base["REMOTE_ADDR"] = "192.0.2.77"
    assert gate_post(other, path, step="passcode", passcode="open-sesame").status_code == 303
