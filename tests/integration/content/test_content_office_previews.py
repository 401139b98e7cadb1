"""Office previews: PPTX, DOCX, XLSX, ODP and ODT converted to PDF by the real LibreOffice.

Each file goes through UploadFile into the real S3 and Elasticsearch; the converted PDF
must give the right page count, a PNG for every page through RenderPage, searchable text,
and must leave the original download untouched. Files that cannot be converted (corrupt,
zip bomb, too slow, no LibreOffice) are stored and marked with the reason, and RenderPage
answers FAILED_PRECONDITION with it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import urllib.request
from pathlib import Path
from typing import Iterator

import grpc
import pytest
from PIL import Image

from collateral.v1 import content_pb2, content_pb2_grpc
from services.common import grpc_server, s3
from services.content import convert
from services.content import server as content_server
from services.content.files import FileStore
from services.content.zipguard import ZipLimits
from tests.conftest import skip_or_fail, wait_serving, wait_until
from tests.hostile_documents import zip_bomb
from tests.office_documents import (DOCX, ODP, ODT, PPTX, XLSX, convert_with_soffice, corrupt_pptx, make_docx,
                                    make_pptx, make_xlsx, soffice)

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


@pytest.fixture(scope="module", autouse=True)
def libreoffice() -> str:
    path = soffice()
    if path is None:
        skip_or_fail("LibreOffice (soffice) is not installed: apt-get install libreoffice-impress "
                     "libreoffice-writer libreoffice-calc")
    return path


def upload(asset_id: str, payload: bytes, content_type: str, file_name: str) -> Iterator[content_pb2.UploadFileRequest]:
    yield content_pb2.UploadFileRequest(header=content_pb2.UploadFileHeader(
        asset_id=asset_id, file_name=file_name, content_type=content_type))
    for i in range(0, len(payload), MIB):
        yield content_pb2.UploadFileRequest(chunk=payload[i:i + MIB])


def new_office_asset(stub, call_as, title: str, payload: bytes, content_type: str, file_name: str
                     ) -> content_pb2.Asset:
    m = call_as("marketer")
    asset = stub.CreateAsset(content_pb2.CreateAssetRequest(
        asset=content_pb2.Asset(title=title, type=content_pb2.ASSET_TYPE_DECK)), metadata=m).asset
    return stub.UploadFile(upload(asset.asset_id, payload, content_type, file_name), metadata=m).asset


def office_processes() -> list[str]:
    """Command lines of running LibreOffice conversions started by the content service."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\x00", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if "UserInstallation=file:///" in cmdline and "collateral-office-" in cmdline:
            found.append(cmdline)
    return found


CASES = [
    # (file name, content type, payload factory, expected pages, a word on the last page)
    ("deck.pptx", PPTX, lambda w: make_pptx([f"Onboarding {w}", "Pricing tiers", "Roadmap review"]), 3, "Roadmap"),
    ("brief.docx", DOCX, lambda w: make_docx([f"Executive {w} summary", "Second page details"]), 2, "Second"),
    ("prices.xlsx", XLSX, lambda w: make_xlsx([["Plan", "Price"], ["Starter", "10"], [w]]), 1, "Starter"),
    ("deck.odp", ODP, lambda w: convert_with_soffice(make_pptx([f"Opening {w}", "Middle", "Closing"]), "pptx", "odp"),
     3, "Closing"),
    ("brief.odt", ODT, lambda w: convert_with_soffice(make_docx([f"Intro {w}", "Appendix"]), "docx", "odt"),
     2, "Appendix"),
]


@pytest.mark.parametrize("file_name,content_type,factory,pages,last_word", CASES, ids=[c[0] for c in CASES])
def test_office_file_is_converted_and_previewed_like_a_pdf(stub, call_as, stack, unique, file_name, content_type,
                                                           factory, pages, last_word):
    payload = factory(unique)
    asset = new_office_asset(stub, call_as, f"Office {file_name}", payload, content_type, file_name)
    current = asset.files[-1]
    assert current.preview_status == content_pb2.PREVIEW_STATUS_READY, current.preview_error
    assert current.page_count == pages

    m = call_as("marketer")
    for page in range(1, pages + 1):
        reply = stub.RenderPage(content_pb2.RenderPageRequest(asset_id=asset.asset_id, page=page, width=400),
                                metadata=m)
        assert reply.page_count == pages
        image = Image.open(io.BytesIO(reply.png))
        assert image.format == "PNG" and image.width == 400
        low, high = image.convert("L").getextrema()
        assert high - low > 100, f"page {page} rendered blank"
    with pytest.raises(grpc.RpcError) as err:
        stub.RenderPage(content_pb2.RenderPageRequest(asset_id=asset.asset_id, page=pages + 1), metadata=m)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    # The converted PDF lies beside the original; the download is still the original file.
    preview = s3.client(stack).get_object(Bucket=stack.s3_bucket, Key=FileStore.preview_key_for(current.s3_key))
    assert preview["Body"].read().startswith(b"%PDF-")
    url = stub.GetDownloadUrl(content_pb2.GetDownloadUrlRequest(asset_id=asset.asset_id), metadata=m).url
    with urllib.request.urlopen(url, timeout=30) as response:
        downloaded = response.read()
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(payload).hexdigest()
    assert current.content_type == content_type and current.file_name == file_name

    # Text of every page is searchable (for XLSX and ODF it comes from the converted PDF).
    for word in (unique, last_word):
        found = stub.SearchAssets(content_pb2.SearchAssetsRequest(query=f"{unique} {word}"), metadata=m)
        assert asset.asset_id in [h.asset.asset_id for h in found.hits], word


def test_corrupt_pptx_is_stored_and_marked_unconvertible(stub, call_as):
    payload = corrupt_pptx()
    asset = new_office_asset(stub, call_as, "Corrupt deck", payload, PPTX, "broken.pptx")
    current = asset.files[-1]
    assert current.preview_status == content_pb2.PREVIEW_STATUS_UNAVAILABLE
    assert "LibreOffice could not convert it" in current.preview_error
    assert current.sha256 == hashlib.sha256(payload).hexdigest()  # the original is kept for download

    with pytest.raises(grpc.RpcError) as err:
        stub.RenderPage(content_pb2.RenderPageRequest(asset_id=asset.asset_id, page=1), metadata=call_as("rep"))
    # Drafts are NOT_FOUND to reps; the marketer sees the reason.
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        stub.RenderPage(content_pb2.RenderPageRequest(asset_id=asset.asset_id, page=1), metadata=call_as("marketer"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "has no preview" in err.value.details() and "could not convert" in err.value.details()


def test_zip_bomb_never_reaches_libreoffice():
    """Uploads of bombs are refused outright (test_content_hostile_files); the converter checks on its own too."""
    bomb = zip_bomb(PPTX, 300 * MIB)
    before = set(office_processes())
    result = convert.convert_file(PPTX, io.BytesIO(bomb), convert.OfficeLimits(zip=ZipLimits()))
    assert result.status == convert.UNAVAILABLE and result.outcome == "bounds"
    assert "inflates" in result.reason
    assert set(office_processes()) <= before


@pytest.fixture()
def server_with(stack) -> Iterator:
    """server_with(**settings) -> a stub of a second content server with those settings."""
    started: list[tuple[grpc_server.RunningServer, grpc.Channel]] = []

    def start(**overrides) -> content_pb2_grpc.ContentServiceStub:
        settings = dataclasses.replace(stack, **overrides)
        running = grpc_server.start(content_server.build_spec(settings), settings, port=0, metrics_port=0)
        wait_serving(running.address, "collateral.v1.ContentService")
        channel = grpc_server.channel(running.address)
        started.append((running, channel))
        return content_pb2_grpc.ContentServiceStub(channel)

    yield start
    for running, channel in started:
        channel.close()
        running.stop(grace=0.5)


def test_conversion_over_the_time_limit_is_marked_timed_out_and_killed(server_with, call_as):
    quick = server_with(content_office_timeout_s=0.3)
    before = {d for d in os.listdir("/tmp") if d.startswith("collateral-office-")}
    asset = new_office_asset(quick, call_as, "Slow deck", make_pptx(["One", "Two", "Three"]), PPTX, "slow.pptx")
    current = asset.files[-1]
    assert current.preview_status == content_pb2.PREVIEW_STATUS_UNAVAILABLE
    assert current.preview_error == "conversion timed out after 0.3 s"
    # The whole process group is gone and its private profile removed, right when the call returns.
    assert office_processes() == []
    assert {d for d in os.listdir("/tmp") if d.startswith("collateral-office-")} <= before
    with pytest.raises(grpc.RpcError) as err:
        quick.RenderPage(content_pb2.RenderPageRequest(asset_id=asset.asset_id, page=1), metadata=call_as("marketer"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "conversion timed out after 0.3 s" in err.value.details()


def test_missing_libreoffice_is_a_reason_not_an_error(server_with, call_as):
    without = server_with(content_office_command="collateral-no-such-soffice")
    asset = new_office_asset(without, call_as, "Deck without converter", make_pptx(["Only"]), PPTX, "deck.pptx")
    current = asset.files[-1]
    assert current.preview_status == content_pb2.PREVIEW_STATUS_UNAVAILABLE
    assert "LibreOffice (collateral-no-such-soffice) is not installed" in current.preview_error
    assert current.extraction_status == content_pb2.EXTRACTION_STATUS_OK  # python-pptx still read its text
