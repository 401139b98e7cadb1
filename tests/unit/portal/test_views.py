"""View logic of the portal that needs no running backends."""

from __future__ import annotations

import dataclasses
import urllib.request
from typing import Any

import grpc
import pytest

from collateral.v1 import content_pb2, usage_pb2
from scripts import local_services
from scripts.local_services import free_port
from services.common import config, metrics
from services.portal import __main__ as portal_main, security
from tests.unit.portal.conftest import RpcFailure, csrf_token, login_as


def test_public_app_answers_health_but_not_metrics(client):
    """The portal's HTTP port is public (Ingress, share links): metrics live on their own listener."""
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 404


def test_metrics_listener_serves_the_portal_metric_families(client):
    settings = dataclasses.replace(config.load({}), metrics_port=free_port())
    port = portal_main.serve_metrics(settings)
    assert port == settings.metrics_port
    client.get("/healthz")
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'collateral_portal_requests_total{method="GET",route="/healthz",status="200"}' in body
    portal_families = {name for name in dir(metrics) if name.startswith("PORTAL_")}
    assert portal_families
    for attribute in portal_families:
        family = getattr(metrics, attribute)._name
        assert f"# TYPE {family}" in body, family


def test_metrics_listener_default_port_collides_with_no_other_process():
    others = {p.default_port for p in local_services.PROCESSES}
    others |= {port for name, port in local_services.METRICS_PORTS.items() if name != "portal"}
    assert portal_main.DEFAULT_METRICS_PORT not in others
    assert local_services.METRICS_PORTS["portal"] == portal_main.DEFAULT_METRICS_PORT


def test_not_found_page_is_friendly(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Not found" in html and "Traceback" not in html


def test_unhandled_error_shows_500_without_stack_trace(app):
    @app.get("/boom")
    def boom():  # noqa: ANN202
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html
    assert "secret internal detail" not in html and "Traceback" not in html


def test_post_without_csrf_token_is_rejected(client):
    response = client.post("/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    login_as(client, "rep")
    assert client.post("/logout").status_code == 400
    assert client.post("/assets/a1/download").status_code == 400


def test_post_with_csrf_token_is_accepted(client):
    token = csrf_token(client)
    response = client.post("/login", data={"email": "a@example.com", "password": "wrong", "csrf_token": token})
    assert response.status_code == 401
    assert "not right" in response.get_data(as_text=True)


def test_anonymous_users_are_sent_to_sign_in(client):
    for path in ("/search", "/shares", "/manage/assets", "/reports/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/manage/assets", "/manage/assets/new", "/manage/assets/a1", "/reports/",
                                  "/reports/top", "/reports/unused", "/reports/win-rates", "/reports/attribution",
                                  "/reports/gaps", "/reports/feedback", "/reports/assets/a1"])
def test_reps_get_403_on_marketer_pages(client, backends, path):
    login_as(client, "rep")
    response = client.get(path)
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)
    assert backends.calls == [], "the role is checked before any backend call"


def test_reps_cannot_post_marketer_actions(client, backends):
    login_as(client, "rep")
    token = csrf_token(client, "/status")
    for path in ("/manage/assets/a1/publish", "/manage/assets/a1/retire", "/manage/assets/retire"):
        assert client.post(path, data={"csrf_token": token, "asset_id": "a1"}).status_code == 403
    assert backends.calls == []


@pytest.mark.parametrize("target, expected", [
    ("/search?q=x", "/search?q=x"), ("https://evil.example/", "/"), ("//evil.example/x", "/"),
    ("/\\evil.example", "/"), ("javascript:alert(1)", "/"), ("", "/"),
])
def test_next_parameter_cannot_redirect_off_site(app, target, expected):
    with app.test_request_context():
        assert security.safe_next(target) == expected


def _search_reply(title_hl: str, body_hl: str, title: str = "Deck", next_token: str = "") -> content_pb2.SearchAssetsResponse:
    asset = content_pb2.Asset(asset_id="a1", title=title, type=content_pb2.ASSET_TYPE_DECK,
                              status=content_pb2.ASSET_STATUS_PUBLISHED, buying_stages=[2])
    return content_pb2.SearchAssetsResponse(
        hits=[content_pb2.SearchHit(asset=asset, title_highlights=[title_hl] if title_hl else [],
                                    body_highlights=[body_hl])],
        total_size=1, next_page_token=next_token, search_id="s1",
        facets=[content_pb2.Facet(field="type", values=[content_pb2.FacetValue(value="deck", count=1)]),
                content_pb2.Facet(field="industry", values=[content_pb2.FacetValue(value="<b>x</b>", count=1)])])


def test_search_highlights_keep_only_em_markup(client, backends):
    backends.handlers[("content", "SearchAssets")] = lambda req: _search_reply(
        "<em>ROI</em> <script>alert(1)</script>", "plain &lt;img src=x onerror=alert(1)&gt; and <em>roi</em>")
    login_as(client, "rep")
    html = client.get("/search?q=roi").get_data(as_text=True)
    assert "<em>ROI</em>" in html and "<em>roi</em>" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html, "facet values are escaped"
    assert "Consideration" in html, "buying stage numbers are shown by name"


def test_search_builds_filters_and_pages_with_the_token(client, backends):
    seen = []

    def search(req):
        seen.append(req)
        return _search_reply("", "x", next_token="tok-2")

    backends.handlers[("content", "SearchAssets")] = search
    login_as(client, "rep")
    html = client.get("/search?q=roi&type=deck&type=bogus&buying_stage=decision&industry=retail&sort=newest") \
        .get_data(as_text=True)
    req = seen[0]
    assert req.query == "roi" and list(req.filters.types) == [content_pb2.ASSET_TYPE_DECK]
    assert list(req.filters.buying_stages) == [3] and list(req.filters.industries) == ["retail"]
    assert req.sort == content_pb2.SEARCH_SORT_NEWEST
    assert 'id="next-page"' in html and "page_token=tok-2" in html and "type=deck" in html
    client.get("/search?q=roi&page_token=tok-2")
    assert seen[1].page_token == "tok-2"


def test_backend_errors_become_friendly_pages(client, backends):
    login_as(client, "rep")
    backends.handlers[("content", "GetAsset")] = lambda req: (_ for _ in ()).throw(
        RpcFailure(grpc.StatusCode.NOT_FOUND, "asset a1 not found in index x"))
    response = client.get("/assets/a1")
    assert response.status_code == 404 and "index x" not in response.get_data(as_text=True)
    backends.handlers[("content", "GetAsset")] = lambda req: (_ for _ in ()).throw(
        RpcFailure(grpc.StatusCode.UNAVAILABLE, "connect failed 10.0.0.1"))
    response = client.get("/assets/a1")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "Temporarily unavailable" in html and "10.0.0.1" not in html


def test_download_records_the_event_then_redirects(client, backends):
    login_as(client, "rep", "rita@example.com")
    backends.handlers[("content", "GetDownloadUrl")] = lambda req: content_pb2.GetDownloadUrlResponse(
        url="http://127.0.0.1:9000/b/k?X-Amz-Signature=1")
    backends.handlers[("usage", "RecordEvents")] = lambda req: usage_pb2.RecordEventsResponse()
    token = csrf_token(client, "/status")
    response = client.post("/assets/a1/download", data={"csrf_token": token, "opportunity_id": "opp-1"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("http://127.0.0.1:9000/")
    recorded = [c for c in backends.calls if c[1] == "RecordEvents"][0]
    event = recorded[2].events[0]
    assert event.type == usage_pb2.USAGE_EVENT_TYPE_DOWNLOAD and event.asset_id == "a1"
    assert event.rep_id == "rita@example.com" and event.opportunity_id == "opp-1"
    assert recorded[3:] == ("rita@example.com", "rep"), "the call carries the signed-in rep's identity"


def _share(**kw):
    return usage_pb2.ShareLink(share_id="shr_1", asset_id="a1", rep_id="rita@example.com",
                               opportunity_id="opp-1", allow_download=False, **kw)


def test_beacon_is_csrf_exempt_validated_and_bound_to_the_token(client, backends):
    backends.handlers[("usage", "ResolveShareLink")] = lambda req: usage_pb2.ResolveShareLinkResponse(share=_share())
    backends.handlers[("usage", "RecordEvents")] = lambda req: usage_pb2.RecordEventsResponse()
    token = "T" * 43
    url = f"/s/{token}/beacon"
    assert client.post(url, data="not json").status_code == 400
    assert client.post(url, json={"kind": "open", "visit": "nothex"}).status_code == 400
    assert client.post(url, json={"kind": "delete", "visit": "a" * 32}).status_code == 400
    assert client.post(url, data="x" * 5000, content_type="application/json").status_code == 413
    assert backends.calls == [], "invalid beacons never reach the backends"
    assert client.post(url, json={"kind": "open", "visit": "a" * 32, "asset_id": "other"},
                       headers={"User-Agent": "Mozilla/5.0 Test"}).status_code == 204
    assert client.post(url, json={"kind": "page", "visit": "a" * 32, "page": 2, "seconds": 99999, "seq": 1}) \
        .status_code == 204
    events = [c[2].events[0] for c in backends.calls if c[1] == "RecordEvents"]
    assert [e.type for e in events] == [usage_pb2.USAGE_EVENT_TYPE_CUSTOMER_OPEN, usage_pb2.USAGE_EVENT_TYPE_PAGE_VIEW]
    assert all(e.asset_id == "a1" and e.share_id == "shr_1" and e.opportunity_id == "opp-1" for e in events)
    assert events[0].user_agent == "Mozilla/5.0 Test" and events[0].event_id == f"shr_1-{'a' * 32}-open"
    assert events[1].seconds == 3600 and events[1].page == 2
    assert all(c[4] == "service" for c in backends.calls if c[0] == "usage"), "customer calls use the service role"


def test_share_page_renders_no_event_and_gone_links_get_410(client, backends):
    backends.handlers[("usage", "ResolveShareLink")] = lambda req: usage_pb2.ResolveShareLinkResponse(share=_share())
    backends.handlers[("content", "GetAsset")] = lambda req: content_pb2.GetAssetResponse(asset=content_pb2.Asset(
        asset_id="a1", title="<i>Deck</i>", files=[content_pb2.FileVersion(content_type="application/pdf",
                                                                             page_count=2)]))
    token = "T" * 43
    response = client.get(f"/s/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "&lt;i&gt;Deck&lt;/i&gt;" in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "customer-download" not in html, "download is off for this link"
    assert not [c for c in backends.calls if c[1] == "RecordEvents"], "rendering the page records nothing"
    assert client.head(f"/s/{token}").status_code == 200
    assert not [c for c in backends.calls if c[1] == "RecordEvents"]
    assert client.post(f"/s/{token}/download", data={"csrf_token": csrf_token(client)}).status_code == 403
    backends.handlers[("usage", "ResolveShareLink")] = lambda req: (_ for _ in ()).throw(
        RpcFailure(grpc.StatusCode.FAILED_PRECONDITION, "share link revoked"))
    response = client.get(f"/s/{token}")
    assert response.status_code == 410 and "turned this link off" in response.get_data(as_text=True)
    backends.handlers[("usage", "ResolveShareLink")] = lambda req: (_ for _ in ()).throw(
        RpcFailure(grpc.StatusCode.FAILED_PRECONDITION, "share link expired"))
    response = client.get(f"/s/{token}")
    assert response.status_code == 410 and "has expired" in response.get_data(as_text=True)
    assert client.post(f"/s/{token}/beacon", json={"kind": "open", "visit": "b" * 32}).status_code == 410
    assert not [c for c in backends.calls if c[1] == "RecordEvents"]
    assert client.get("/s/short").status_code == 404


def test_security_headers_and_cookie_flags(make_app):
    app = make_app(portal_public_url="https://collateral.example.com")
    client = app.test_client()
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "form-action 'self' http://127.0.0.1:9000" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    plain = make_app().test_client().get("/login").headers.get("Set-Cookie", "")
    assert "HttpOnly" in plain and "Secure" not in plain


def test_sso_header_is_trusted_only_from_listed_proxies(make_app):
    app = make_app(portal_trusted_user_header="X-Forwarded-User", portal_trusted_role_header="X-Forwarded-Role",
                   portal_trusted_proxies="10.0.0.0/8")
    client = app.test_client()
    headers = {"X-Forwarded-User": "Mallory@Example.com", "X-Forwarded-Role": "marketer"}
    response = client.get("/shares", headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 302, "an untrusted client cannot sign itself in with the header"
    response = client.get("/manage/assets", headers={**headers, "X-Forwarded-Role": "rep"},
                          environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 403
    assert client.get("/search", headers={**headers, "X-Forwarded-Role": "root"},
                      environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403


def test_status_page_and_json(client, backends):
    backends.health_states["usage"] = "NOT_SERVING"
    response = client.get("/status")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "Degraded" in html and "127.0.0.1:2" not in html, "addresses only for admins"
    assert client.get("/status?format=json").get_json()["services"]["usage"] == "NOT_SERVING"


def test_a_failing_client_is_delayed_but_others_are_not(client):
    token = csrf_token(client)

    def attempt(email: str, address: str) -> Any:
        return client.post("/login", data={"email": email, "password": "wrong-guess", "csrf_token": token},
                           environ_base={"REMOTE_ADDR": address})

    responses = [attempt("victim@example.com", "203.0.113.7") for _ in range(8)]
    codes = [r.status_code for r in responses]
    assert codes[:3] == [401] * 3, "the free failures are answered normally"
    assert 429 in codes[3:], "then the failing client is slowed down"
    refused = responses[codes.index(429)]
    assert 1 <= int(refused.headers["Retry-After"]) <= 5 and "Wait" in refused.get_data(as_text=True)
    assert attempt("victim@example.com", "198.51.100.9").status_code == 401, "another client is not delayed"


def test_sign_out_ends_the_session_in_the_store(client):
    login_as(client, "rep")
    assert client.get("/account").status_code == 200
    stolen = client.get_cookie("collateral_session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert not client.application.extensions["collateral_sessions"].records
    client.set_cookie("collateral_session", stolen)
    assert client.get("/account").status_code == 302


def test_customer_address_comes_from_a_trusted_proxy_only(make_app, backends):
    backends.handlers[("usage", "ResolveShareLink")] = lambda req: usage_pb2.ResolveShareLinkResponse(share=_share())
    backends.handlers[("usage", "RecordEvents")] = lambda req: usage_pb2.RecordEventsResponse()
    client = make_app(portal_trusted_proxies="10.0.0.5").test_client()
    url = f"/s/{'T' * 43}/beacon"
    for peer in ("10.0.0.5", "198.51.100.7"):
        client.post(url, json={"kind": "open", "visit": "c" * 32},
                    headers={"X-Forwarded-For": "1.1.1.1, 203.0.113.50"}, environ_base={"REMOTE_ADDR": peer})
    ips = [c[2].events[0].ip for c in backends.calls if c[1] == "RecordEvents"]
    assert ips == ["203.0.113.50", "198.51.100.7"]


def test_large_upload_streams_in_chunks_after_creating_the_draft(client, backends, monkeypatch):
    import io

    from services.portal.views import marketer

    monkeypatch.setattr(marketer, "INLINE_MAX", 10)
    monkeypatch.setattr(marketer, "CHUNK", 4)
    created = content_pb2.Asset(asset_id="new1", title="Big", version=1)
    backends.handlers[("content", "CreateAsset")] = lambda req: content_pb2.CreateAssetResponse(asset=created)
    streamed = []
    backends.handlers[("content", "UploadFile")] = lambda reqs: (streamed.extend(reqs),
                                                                 content_pb2.UploadFileResponse(asset=created))[1]
    login_as(client, "marketer")
    data = {"csrf_token": csrf_token(client, "/status"), "title": "Big", "type": "deck",
            "buying_stages": ["decision"], "industries": "retail, healthcare",
            "file": (io.BytesIO(b"%PDF-0123456789abcdef"), "big.pdf", "application/pdf")}
    response = client.post("/manage/assets/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith("/manage/assets/new1")
    create = [c for c in backends.calls if c[1] == "CreateAsset"][0][2]
    assert create.file_content == b"" and list(create.asset.industries) == ["retail", "healthcare"]
    assert streamed[0].header.asset_id == "new1" and streamed[0].header.content_type == "application/pdf"
    assert b"".join(r.chunk for r in streamed[1:]) == b"%PDF-0123456789abcdef"
    assert all(len(r.chunk) <= 4 for r in streamed[1:])


def test_field_violations_are_shown_next_to_the_field(client, backends):
    from google.rpc import code_pb2, error_details_pb2, status_pb2
    from grpc_status import rpc_status

    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message="asset.title: must not be empty")
    status.details.add().Pack(error_details_pb2.BadRequest(field_violations=[
        error_details_pb2.BadRequest.FieldViolation(field="asset.title", description="asset.title: must not be empty")]))

    class Invalid(RpcFailure):
        def trailing_metadata(self):
            return rpc_status.to_status(status).trailing_metadata

    backends.handlers[("content", "CreateAsset")] = lambda req: (_ for _ in ()).throw(
        Invalid(grpc.StatusCode.INVALID_ARGUMENT, "asset.title: must not be empty"))
    login_as(client, "marketer")
    response = client.post("/manage/assets/new", data={"csrf_token": csrf_token(client, "/status"), "title": " ",
                                                       "type": "deck"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="err-title" role="alert">Must not be empty</p>' in html


def test_client_address_skips_only_trusted_proxy_hops(make_app):
    from services.portal import helpers

    app = make_app(portal_trusted_proxies="10.0.0.0/8")
    forwarded = {"X-Forwarded-For": "6.6.6.6, 203.0.113.50, 10.0.0.9"}
    with app.test_request_context("/", headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.5"}):
        assert helpers.client_ip() == "203.0.113.50", "the hop the outermost trusted proxy saw"
    with app.test_request_context("/", headers=forwarded, environ_base={"REMOTE_ADDR": "198.51.100.7"}):
        assert helpers.client_ip() == "198.51.100.7", "a client's own header is ignored"


def test_password_checks_beyond_the_process_budget_get_429(make_app):
    client = make_app(portal_signin_checks_per_s=0.001).test_client()
    token = csrf_token(client)

    def attempt(address: str) -> Any:
        return client.post("/login", data={"email": "a@example.com", "password": "wrong", "csrf_token": token},
                           environ_base={"REMOTE_ADDR": address})

    assert attempt("203.0.113.1").status_code == 401
    refused = attempt("203.0.113.2")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "busy" in refused.get_data(as_text=True)


def test_sign_in_replaces_the_session_the_browser_had(client):
    sessions = client.application.extensions["collateral_sessions"]
    planted = login_as(client, "rep", "someone@example.com")
    client.application.extensions["collateral_users"].authenticate = \
        lambda email, password: security.CurrentUser(email, "Dana", "marketer")
    client.post("/login", data={"email": "dana@example.com", "password": "pw-right", "csrf_token": csrf_token(client, "/account")})
    assert planted not in sessions.records
    assert [r.email for r in sessions.records.values()] == ["dana@example.com"]
