"""Pure parts of Office previews: keys, statuses, the LibreOffice command and its outcomes."""

from __future__ import annotations

import io
import signal
from pathlib import Path
from types import SimpleNamespace

from collateral.v1 import content_pb2
from services.content import convert, extract, model
from services.content.files import FileStore
from services.portal import helpers


def test_preview_key_is_beside_the_original_and_never_an_original_key():
    key = FileStore.key_for("a1", "deck.pptx")
    preview = FileStore.preview_key_for(key)
    assert preview.startswith(key.rsplit("/", 1)[0] + "/preview/")
    assert preview.endswith("/deck.pptx.pdf")
    assert preview.count("/") == key.count("/") + 1  # originals never have a folder after the random part


def test_versions_stored_before_previews_get_a_status_from_their_type():
    assert model.preview_status({"content_type": extract.PDF}) == "ready"
    assert model.preview_status({"content_type": extract.PPTX}) == "none"
    assert model.preview_status({"content_type": extract.PPTX, "preview_status": "unavailable"}) == "unavailable"
    proto = model.file_to_proto({"content_type": extract.PPTX, "preview_status": "unavailable",
                                 "preview_error": "conversion timed out after 60 s"})
    assert proto.preview_status == content_pb2.PREVIEW_STATUS_UNAVAILABLE
    assert proto.preview_error == "conversion timed out after 60 s"


def test_every_office_type_is_allowed_sniffed_as_zip_and_convertible():
    for content_type in (extract.PPTX, extract.DOCX, extract.XLSX, extract.ODP, extract.ODT, extract.ODS):
        assert extract.check_content_type(content_type) == content_type
        assert extract.sniff_ok(content_type, b"PK\x03\x04" + b"\x00" * 12)
        assert not extract.sniff_ok(content_type, b"%PDF-1.7" + b"\x00" * 8)
        assert convert.convertible(content_type)
    assert not convert.convertible(extract.PDF) and not convert.convertible(extract.PNG)


def test_command_uses_a_private_profile_and_the_limits_launcher(tmp_path: Path):
    limits = convert.OfficeLimits(memory_bytes=123, cpu_s=7)
    command = convert.office_command("/usr/bin/soffice", tmp_path / "document.pptx", tmp_path, limits)
    assert command[1:3] == ["-m", "services.content.convert"]
    assert command[command.index("--memory") + 1] == "123" and command[command.index("--cpu") + 1] == "7"
    assert f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}" in command
    assert command[command.index("--convert-to") + 1] == "pdf"
    assert command[command.index("--outdir") + 1] == str(tmp_path / "out")


def test_outcomes_name_the_reason(tmp_path: Path):
    limits = convert.OfficeLimits(cpu_s=30, memory_bytes=2048)
    missing = tmp_path / "document.pdf"
    cpu = convert._outcome(-signal.SIGXCPU, "", missing, limits)
    assert (cpu.status, cpu.outcome) == (convert.UNAVAILABLE, "cpu") and "30 s of CPU time" in cpu.reason
    killed = convert._outcome(-signal.SIGKILL, "", missing, limits)
    assert killed.outcome == "crash" and "signal 9" in killed.reason
    crashed = convert._outcome(0, "Fatal exception: Signal 11\n", missing, limits)
    assert crashed.outcome == "crash" and "2048 bytes" in crashed.reason
    failed = convert._outcome(0, "convert document.pptx\nError: source file could not be loaded\n", missing, limits)
    assert failed.reason == "LibreOffice could not convert it: Error: source file could not be loaded"
    missing.write_bytes(b"%PDF-1.7 fake")
    assert convert._outcome(0, "", missing, limits).status == convert.READY


def test_not_a_zip_and_missing_libreoffice_are_reasons_not_errors():
    limits = convert.OfficeLimits(command="collateral-no-such-soffice")
    not_zip = convert.convert_file(extract.PPTX, io.BytesIO(b"PK\x03\x04 truncated"), limits)
    assert not_zip.status == convert.UNAVAILABLE and "not a readable pptx document" in not_zip.reason
    from tests.office_documents import make_docx

    missing = convert.convert_file(extract.DOCX, io.BytesIO(make_docx(["x"])), limits)
    assert missing.outcome == "missing"
    assert missing.reason == "LibreOffice (collateral-no-such-soffice) is not installed on the server"


def test_portal_previews_only_ready_files_and_explains_unavailable_ones():
    def asset(status: int, pages: int = 3, error: str = "") -> SimpleNamespace:
        return SimpleNamespace(files=[SimpleNamespace(preview_status=status, page_count=pages, preview_error=error)])

    assert helpers.previewable(asset(content_pb2.PREVIEW_STATUS_READY))
    assert not helpers.previewable(asset(content_pb2.PREVIEW_STATUS_READY, pages=0))
    assert not helpers.previewable(asset(content_pb2.PREVIEW_STATUS_NONE))
    problem = asset(content_pb2.PREVIEW_STATUS_UNAVAILABLE, error="conversion timed out after 60 s")
    assert not helpers.previewable(problem)
    assert helpers.preview_problem(problem) == "conversion timed out after 60 s"
    assert helpers.preview_problem(asset(content_pb2.PREVIEW_STATUS_READY)) == ""
