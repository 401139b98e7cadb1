"""The bulk importer against the running service: re-runs never duplicate."""

from __future__ import annotations

import csv

import pytest

from collateral.v1 import content_pb2
from services.content import importer

from tests.integration.content.content_helpers import make_docx, make_pdf, make_pptx

pytestmark = pytest.mark.integration


def test_import_is_idempotent_and_reports_failures(tmp_path, stub, call_as, content, token, unique):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "a.pdf").write_bytes(make_pdf(f"imported {unique}"))
    (tmp_path / "files" / "b.pptx").write_bytes(make_pptx("deck"))
    (tmp_path / "files" / "c.docx").write_bytes(make_docx("memo"))
    (tmp_path / "files" / "evil.exe").write_bytes(b"MZ")
    rows = [
        dict(path="files/a.pdf", external_id="crm-1", title="Imported PDF", type="case study", tags=f"{unique};x",
             buying_stages="awareness;decision", industries="Healthcare", status="published"),
        dict(path="files/b.pptx", external_id="crm-2", title="", type="deck", tags=unique, status="published"),
        dict(path="files/c.docx", external_id="", title="Memo", type="one-pager", tags=unique, status="draft"),
        dict(path="files/missing.pdf", external_id="crm-4", title="Gone", type="deck", tags=unique, status=""),
        dict(path="files/evil.exe", external_id="crm-5", title="Evil", type="deck", tags=unique, status=""),
        dict(path="files/a.pdf", external_id="crm-6", title="Bad type", type="poster", tags=unique, status=""),
    ]
    metadata = tmp_path / "metadata.csv"
    with metadata.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    def run():
        return importer.run(tmp_path, metadata, content.address, token("admin", "importer"), workers=3,
                            show_progress=False)

    first = run()
    assert first.outcomes == {"created": 3, "failed": 3}
    reasons = {path: reason for _, path, reason in first.failures}
    assert "no such file" in reasons["files/missing.pdf"]
    assert "not allowed" in reasons["files/evil.exe"]
    assert "type" in [r for _, p, r in first.failures if p == "files/a.pdf"][0]

    second = run()
    assert second.outcomes == {"unchanged": 3, "failed": 3}

    (tmp_path / "files" / "b.pptx").write_bytes(make_pptx("deck, second edition"))
    third = run()
    assert third.outcomes == {"unchanged": 2, "file_updated": 1, "failed": 3}

    curator = stub.SearchAssets(content_pb2.SearchAssetsRequest(
        filters=content_pb2.SearchFilters(tags=[unique]), page_size=50), metadata=call_as("admin"))
    assert curator.total_size == 3
    by_title = {h.asset.title: h.asset for h in curator.hits}
    assert by_title["Imported PDF"].status == content_pb2.ASSET_STATUS_PUBLISHED
    assert by_title["Imported PDF"].asset_id == importer.asset_id_for("crm-1", "files/a.pdf")
    assert by_title["Memo"].status == content_pb2.ASSET_STATUS_DRAFT
    assert len(by_title["b"].files) == 2
    found = stub.SearchAssets(content_pb2.SearchAssetsRequest(query=f"imported {unique}"), metadata=call_as("rep"))
    assert found.hits[0].asset.title == "Imported PDF"
