"""Files through the gRPC API: streamed and presigned uploads, downloads, rendered pages."""

from __future__ import annotations

import hashlib
import urllib.request

import grpc
import pytest

from collateral.v1 import content_pb2
from services.common import s3

from tests.integration.content.content_helpers import PDF, code_of, make_pdf

pytestmark = pytest.mark.integration


def stream(asset_id: str, payload: bytes, content_type: str = PDF, sha: str = "", chunk: int = 1024 * 1024,
           file_name: str = "big.pdf"):
    yield content_pb2.UploadFileRequest(header=content_pb2.UploadFileHeader(
        asset_id=asset_id, file_name=file_name, content_type=content_type, sha256=sha))
    for i in range(0, len(payload), chunk):
        yield content_pb2.UploadFileRequest(chunk=payload[i:i + chunk])


def objects(settings, asset_id: str) -> list[str]:
    listed = s3.client(settings).list_objects_v2(Bucket=settings.s3_bucket, Prefix=f"assets/{asset_id}/")
    return [o["Key"] for o in listed.get("Contents", [])]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_streamed_multipart_upload_then_download(stub, call_as, new_asset, stack):
    m = call_as("marketer")
    asset = new_asset("Versioned")
    text = (b"large text asset " * 700_000)[:11 * 1024 * 1024]  # > 8 MiB: multipart
    updated = stub.UploadFile(stream(asset.asset_id, text, "text/plain", hashlib.sha256(text).hexdigest(),
                                     file_name="notes.txt"), metadata=m).asset
    assert [f.version for f in updated.files] == [1, 2]
    current = updated.files[-1]
    assert current.size_bytes == len(text) and current.sha256 == hashlib.sha256(text).hexdigest()
    assert current.content_type == "text/plain" and updated.version == asset.version + 1
    assert len(objects(stack, asset.asset_id)) == 2
    url = stub.GetDownloadUrl(content_pb2.GetDownloadUrlRequest(asset_id=asset.asset_id), metadata=call_as("rep")).url
    assert hashlib.sha256(fetch(url)).hexdigest() == current.sha256
    old = stub.GetDownloadUrl(content_pb2.GetDownloadUrlRequest(asset_id=asset.asset_id, file_version=1),
                              metadata=call_as("rep"))
    assert fetch(old.url).startswith(b"%PDF") and old.file.version == 1


def test_bad_uploads_leave_nothing_behind(stub, call_as, new_asset, stack):
    m = call_as("marketer")
    asset = new_asset("Guarded", publish=False)
    before = objects(stack, asset.asset_id)
    pdf = make_pdf("checksum")
    code, violations = code_of(lambda: stub.UploadFile(stream(asset.asset_id, pdf, sha="1" * 64), metadata=m))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and violations[0][0] == "header.sha256"
    code, violations = code_of(lambda: stub.UploadFile(stream(asset.asset_id, b"MZ" + pdf), metadata=m))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and violations[0][0] == "header.content_type"
    code, _ = code_of(lambda: stub.UploadFile(stream("missing-asset", pdf), metadata=m))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _ = code_of(lambda: stub.UploadFile(stream(asset.asset_id, pdf, "application/zip"), metadata=m))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert objects(stack, asset.asset_id) == before
    got = stub.GetAsset(content_pb2.GetAssetRequest(asset_id=asset.asset_id), metadata=m).asset
    assert got.version == asset.version and len(got.files) == 1


def test_size_limit(stub, call_as, new_asset, stack, content):
    from dataclasses import replace

    servicer_settings = replace(stack, content_max_file_bytes=2000)
    from services.content import server as content_server

    # The limit is a setting: check it through a second server with a tiny limit.
    from services.common import grpc_server
    from collateral.v1 import content_pb2_grpc

    running = grpc_server.start(content_server.build_spec(servicer_settings), servicer_settings, port=0, metrics_port=0)
    try:
        channel = grpc_server.channel(running.address)
        small = content_pb2_grpc.ContentServiceStub(channel)
        asset = new_asset("Limited", publish=False)
        code, violations = code_of(lambda: small.UploadFile(stream(asset.asset_id, make_pdf("x" * 10, pages=20)),
                                                            metadata=call_as("marketer")))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and violations[0][0] == "header.size_bytes"
        channel.close()
    finally:
        running.stop(grace=0.5)


def test_presigned_upload_flow(stub, call_as, new_asset, stack):
    m = call_as("marketer")
    asset = new_asset("Presigned", publish=False)
    pdf = make_pdf("presigned zeppelin", pages=2)
    ticket = stub.CreateUploadUrl(content_pb2.CreateUploadUrlRequest(
        asset_id=asset.asset_id, file_name="p.pdf", content_type=PDF, size_bytes=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest()), metadata=m)
    request = urllib.request.Request(ticket.upload_url, data=pdf, method="PUT", headers=dict(ticket.headers))
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    done = stub.CompleteUpload(content_pb2.CompleteUploadRequest(upload_id=ticket.upload_id), metadata=m).asset
    assert done.files[-1].page_count == 2 and done.files[-1].sha256 == hashlib.sha256(pdf).hexdigest()
    code, _ = code_of(lambda: stub.CompleteUpload(content_pb2.CompleteUploadRequest(upload_id=ticket.upload_id),
                                                  metadata=m))
    assert code == grpc.StatusCode.FAILED_PRECONDITION  # completed already
    # a mismatching object is refused and removed
    bad = stub.CreateUploadUrl(content_pb2.CreateUploadUrlRequest(
        asset_id=asset.asset_id, file_name="q.pdf", content_type=PDF, size_bytes=len(pdf),
        sha256="2" * 64), metadata=m)
    request = urllib.request.Request(bad.upload_url, data=pdf, method="PUT", headers=dict(bad.headers))
    urllib.request.urlopen(request, timeout=10).close()
    code, _ = code_of(lambda: stub.CompleteUpload(content_pb2.CompleteUploadRequest(upload_id=bad.upload_id),
                                                  metadata=m))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert len(objects(stack, asset.asset_id)) == 2
    incoming = s3.client(stack).list_objects_v2(Bucket=stack.s3_bucket, Prefix=f"incoming/{asset.asset_id}/")
    assert not incoming.get("Contents")


def test_render_page_and_cache(stub, call_as, new_asset, stack):
    m = call_as("marketer")
    asset = stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=content_pb2.Asset(title="Rendered", type=content_pb2.ASSET_TYPE_WHITEPAPER),
        file_content=make_pdf("render", pages=3), file_name="r.pdf", content_type=PDF), metadata=m).asset
    stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=asset.asset_id), metadata=m)
    rep = call_as("rep")
    page = stub.RenderPage(content_pb2.RenderPageRequest(asset_id=asset.asset_id, page=2, width=400), metadata=rep)
    assert page.png.startswith(b"\x89PNG") and page.page_count == 3 and page.file_version == 1
    again = stub.RenderPage(content_pb2.RenderPageRequest(asset_id=asset.asset_id, page=2, width=400), metadata=rep)
    assert again.png == page.png
    cached = s3.client(stack).list_objects_v2(Bucket=stack.s3_bucket, Prefix="renders/")
    assert any(asset.asset_id in o["Key"] for o in cached.get("Contents", []))
    code, violations = code_of(lambda: stub.RenderPage(content_pb2.RenderPageRequest(asset_id=asset.asset_id, page=9),
                                                       metadata=rep))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and violations[0][0] == "page"


def test_failed_extraction_is_recorded_and_still_publishable(stub, call_as):
    m = call_as("marketer")
    broken = b"%PDF-1.4\n% not really a PDF body\n"
    asset = stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=content_pb2.Asset(title="Scanned oddity", type=content_pb2.ASSET_TYPE_OTHER),
        file_content=broken, file_name="odd.pdf", content_type=PDF), metadata=m).asset
    current = asset.files[-1]
    assert current.extraction_status == content_pb2.EXTRACTION_STATUS_FAILED and current.extraction_error
    published = stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=asset.asset_id), metadata=m).asset
    assert published.status == content_pb2.ASSET_STATUS_PUBLISHED
    rep_view = stub.GetAsset(content_pb2.GetAssetRequest(asset_id=asset.asset_id), metadata=call_as("rep")).asset
    assert rep_view.files[-1].extraction_status == content_pb2.EXTRACTION_STATUS_FAILED
