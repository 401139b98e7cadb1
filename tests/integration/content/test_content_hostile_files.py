"""Hostile and broken files through the gRPC API, against the real S3 and Elasticsearch.

Zip bombs are refused before anything is inflated, broken PDFs never produce INTERNAL,
file names cannot address other objects, and an extraction that runs past its CPU limit
is killed and answered clearly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import resource
import urllib.request
from typing import Iterator

import grpc
import pytest
from PIL import Image

from collateral.v1 import content_pb2, content_pb2_grpc
from services.common import grpc_server, metrics, s3
from services.content import server as content_server
from tests.conftest import wait_serving
from tests.hostile_documents import (DOCX, MIB, PPTX, XLSX, random_bytes_pdf, sliver_pdf, slow_pdf, truncated_pdf,
                                     zip_bomb)
from tests.integration.content.content_helpers import PDF, make_pdf

pytestmark = pytest.mark.integration

FILE_NAMES_REFUSED = [".", "..", "../..", "...", "", "   ", "reports/q3.pdf", "..\\q3.pdf", "q3\x00.pdf",
                      "q3\n.pdf", "a" * 252 + ".pdf"]


def upload(asset_id: str, payload: bytes, content_type: str, file_name: str = "file.bin",
           expected_version: int = 0) -> Iterator[content_pb2.UploadFileRequest]:
    yield content_pb2.UploadFileRequest(header=content_pb2.UploadFileHeader(
        asset_id=asset_id, file_name=file_name, content_type=content_type, expected_version=expected_version))
    for i in range(0, len(payload), MIB):
        yield content_pb2.UploadFileRequest(chunk=payload[i:i + MIB])


def stored_keys(settings, asset_id: str) -> list[str]:
    listed = s3.client(settings).list_objects_v2(Bucket=settings.s3_bucket, Prefix=f"assets/{asset_id}/")
    return sorted(o["Key"] for o in listed.get("Contents", []))


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def violation(call) -> tuple[grpc.StatusCode, str, str]:
    try:
        call()
    except grpc.RpcError as err:
        fields = grpc_server.field_violations(err)
        return err.code(), fields[0][0] if fields else "", err.details() or ""
    raise AssertionError("call succeeded")


@pytest.mark.parametrize("content_type", [DOCX, PPTX, XLSX])
def test_zip_bombs_are_refused_before_inflating(stub, call_as, new_asset, stack, content_type):
    m = call_as("marketer")
    asset = new_asset("Bomb target", publish=False)
    before_keys = stored_keys(stack, asset.asset_id)
    bomb = zip_bomb(content_type, 300 * MIB)  # about 0.3 MB on the wire
    peak_before = peak_rss_mib()
    code, field, details = violation(lambda: stub.UploadFile(upload(asset.asset_id, bomb, content_type), metadata=m))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "chunk")
    assert "the archive inflates to more than" in details  # refused by the directory check, nothing inflated
    # The server runs in this process: inflating 300 MB here would raise its peak by hundreds of MB.
    assert peak_rss_mib() - peak_before < 100
    got = stub.GetAsset(content_pb2.GetAssetRequest(asset_id=asset.asset_id), metadata=m).asset
    assert got.version == asset.version and len(got.files) == 1
    assert stored_keys(stack, asset.asset_id) == before_keys


def test_zip_bomb_inline_and_presigned_paths_are_refused_too(stub, call_as, new_asset, stack):
    m = call_as("marketer")
    bomb = zip_bomb(DOCX, 300 * MIB)
    code, field, _ = violation(lambda: stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=content_pb2.Asset(title="Inline bomb", type=content_pb2.ASSET_TYPE_OTHER),
        file_content=bomb, file_name="bomb.docx", content_type=DOCX), metadata=m))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "file_content")

    asset = new_asset("Presigned bomb target", publish=False)
    before_keys = stored_keys(stack, asset.asset_id)
    ticket = stub.CreateUploadUrl(content_pb2.CreateUploadUrlRequest(
        asset_id=asset.asset_id, file_name="bomb.docx", content_type=DOCX, size_bytes=len(bomb)), metadata=m)
    put = urllib.request.Request(ticket.upload_url, data=bomb, method="PUT", headers=dict(ticket.headers))
    urllib.request.urlopen(put, timeout=30).close()
    code, field, details = violation(lambda: stub.CompleteUpload(
        content_pb2.CompleteUploadRequest(upload_id=ticket.upload_id), metadata=m))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "upload_id") and "inflates" in details
    assert stored_keys(stack, asset.asset_id) == before_keys  # no orphan object under assets/
    incoming = s3.client(stack).list_objects_v2(Bucket=stack.s3_bucket, Prefix=f"incoming/{asset.asset_id}/")
    assert not incoming.get("Contents")


@pytest.mark.parametrize("broken", [truncated_pdf(), random_bytes_pdf()], ids=["truncated", "random_bytes"])
def test_broken_pdfs_never_answer_internal(stub, call_as, broken):
    m, rep = call_as("marketer"), call_as("rep")
    asset = stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=content_pb2.Asset(title="Broken PDF", type=content_pb2.ASSET_TYPE_OTHER),
        file_content=broken, file_name="broken.pdf", content_type=PDF), metadata=m).asset
    assert asset.files[-1].extraction_status == content_pb2.EXTRACTION_STATUS_FAILED
    stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=asset.asset_id), metadata=m)
    code, _, details = violation(lambda: stub.RenderPage(
        content_pb2.RenderPageRequest(asset_id=asset.asset_id, page=1), metadata=rep))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "file version 1 is not a readable PDF" in details
    download = stub.GetDownloadUrl(content_pb2.GetDownloadUrlRequest(asset_id=asset.asset_id), metadata=rep)
    with urllib.request.urlopen(download.url, timeout=10) as response:
        assert hashlib.sha256(response.read()).hexdigest() == asset.files[-1].sha256


def test_extreme_page_shape_renders_within_the_pixel_bound(stub, call_as, stack):
    m = call_as("marketer")
    asset = stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=content_pb2.Asset(title="Sliver", type=content_pb2.ASSET_TYPE_OTHER),
        file_content=sliver_pdf(1, 14_400), file_name="sliver.pdf", content_type=PDF), metadata=m).asset
    page = stub.RenderPage(content_pb2.RenderPageRequest(asset_id=asset.asset_id, page=1, width=2000), metadata=m)
    width, height = Image.open(io.BytesIO(page.png)).size
    assert page.page_count == 1 and width * height <= stack.content_render_max_pixels and height > width


@pytest.mark.parametrize("name", FILE_NAMES_REFUSED, ids=range(len(FILE_NAMES_REFUSED)))
def test_unsafe_file_names_are_invalid_argument_on_every_upload_path(stub, call_as, new_asset, name):
    m = call_as("marketer")
    asset = new_asset("Names", publish=False)
    pdf = make_pdf("names")
    code, field, _ = violation(lambda: stub.UploadFile(upload(asset.asset_id, pdf, PDF, file_name=name), metadata=m))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "header.file_name")
    code, field, _ = violation(lambda: stub.CreateUploadUrl(content_pb2.CreateUploadUrlRequest(
        asset_id=asset.asset_id, file_name=name, content_type=PDF, size_bytes=len(pdf)), metadata=m))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "file_name")
    code, field, _ = violation(lambda: stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=content_pb2.Asset(title="Names inline", type=content_pb2.ASSET_TYPE_OTHER),
        file_content=pdf, file_name=name, content_type=PDF), metadata=m))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "file_name")


def test_other_characters_are_replaced_deterministically(stub, call_as, new_asset, stack):
    m = call_as("marketer")
    asset = new_asset("Sanitised", publish=False)
    name = "Q3 plan (final) — é.pdf"
    updated = stub.UploadFile(upload(asset.asset_id, make_pdf("names"), PDF, file_name=name), metadata=m).asset
    assert updated.files[-1].file_name == "Q3 plan _final_ _ _.pdf"
    assert any(k.endswith("/Q3 plan _final_ _ _.pdf") for k in stored_keys(stack, asset.asset_id))


@pytest.fixture(scope="module")
def tight(stack, content) -> Iterator[content_pb2_grpc.ContentServiceStub]:
    """A second server whose workers get one CPU second per job and PDFs at most 5 pages."""
    settings = dataclasses.replace(stack, content_worker_cpu_s=1, content_worker_processes=1,
                                   content_pdf_max_pages=5)
    running = grpc_server.start(content_server.build_spec(settings), settings, port=0, metrics_port=0)
    try:
        wait_serving(running.address, "collateral.v1.ContentService")
        channel = grpc_server.channel(running.address)
        yield content_pb2_grpc.ContentServiceStub(channel)
        channel.close()
    finally:
        running.stop(grace=0.5)


def test_extraction_over_its_cpu_limit_is_killed_and_refused(tight, call_as, new_asset, stack):
    m = call_as("marketer")
    asset = new_asset("Slow PDF target", publish=False)
    killed_before = metrics.CONTENT_WORKER_KILLS.labels("cpu")._value.get()
    code, field, details = violation(lambda: tight.UploadFile(
        upload(asset.asset_id, slow_pdf(200_000), PDF, file_name="slow.pdf"), metadata=m))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "chunk")
    assert "needs more than 1 s of CPU time" in details
    assert metrics.CONTENT_WORKER_KILLS.labels("cpu")._value.get() == killed_before + 1
    assert len(stub_files(tight, m, asset.asset_id)) == 1
    # The killed worker was replaced: the next upload is parsed normally.
    updated = tight.UploadFile(upload(asset.asset_id, make_pdf("after the kill"), PDF, file_name="ok.pdf"),
                               metadata=m).asset
    assert updated.files[-1].extraction_status == content_pb2.EXTRACTION_STATUS_OK


def test_pdf_page_count_is_bounded(tight, call_as, new_asset):
    m = call_as("marketer")
    asset = new_asset("Long PDF target", publish=False)
    code, field, details = violation(lambda: tight.UploadFile(
        upload(asset.asset_id, make_pdf("long", pages=6), PDF, file_name="long.pdf"), metadata=m))
    assert (code, field) == (grpc.StatusCode.INVALID_ARGUMENT, "chunk") and "6 pages; at most 5" in details


def stub_files(stub, metadata, asset_id: str) -> list:
    return list(stub.GetAsset(content_pb2.GetAssetRequest(asset_id=asset_id), metadata=metadata).asset.files)
