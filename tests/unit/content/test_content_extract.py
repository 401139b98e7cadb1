"""Content-type checks and text extraction from real documents."""

from __future__ import annotations

import pytest

from services.common.errors import InvalidArgument
from services.content import extract, files
from tests.documents import make_docx, make_pdf, make_pptx


def test_pdf_text_and_pages():
    result = extract.extract_bytes(extract.PDF, make_pdf("zanzibar onboarding", pages=3), 10_000)
    assert result.status == "ok" and result.page_count == 3 and "zanzibar" in result.text


def test_pptx_and_docx_text():
    pptx = extract.extract_bytes(extract.PPTX, make_pptx("quokka pipeline"), 10_000)
    assert pptx.status == "ok" and pptx.page_count == 1 and "quokka" in pptx.text
    docx = extract.extract_bytes(extract.DOCX, make_docx("narwhal security review"), 10_000)
    assert docx.status == "ok" and "narwhal" in docx.text


def test_broken_pdf_is_a_recorded_failure_not_an_exception():
    result = extract.extract_bytes(extract.PDF, b"%PDF-1.4 garbage", 10_000)
    assert result.status == "failed" and result.error


def test_images_are_unsupported_and_text_is_capped():
    assert extract.extract_bytes(extract.PNG, b"\x89PNG\r\n\x1a\n....", 100).status == "unsupported"
    assert len(extract.extract_bytes(extract.TXT, b"a" * 500, 100).text) == 100


@pytest.mark.parametrize("content_type, head, ok", [
    (extract.PDF, b"%PDF-1.7\n", True),
    (extract.PDF, b"MZ\x90\x00", False),
    (extract.PPTX, b"PK\x03\x04rest", True),
    (extract.PNG, b"\x89PNG\r\n\x1a\nxxxx", True),
    (extract.JPEG, b"\xff\xd8\xff\xe0", True),
    (extract.MP4, b"\x00\x00\x00\x18ftypmp42", True),
    (extract.TXT, b"hello", True),
    (extract.TXT, b"\x00\x01binary", False),
])
def test_sniffing(content_type, head, ok):
    assert extract.sniff_ok(content_type, head) is ok


def test_content_type_allow_list():
    assert extract.check_content_type("application/pdf; charset=binary") == extract.PDF
    with pytest.raises(InvalidArgument) as info:
        extract.check_content_type("application/x-msdownload")
    assert info.value.field == "content_type"


def test_spool_checks_size_type_and_checksum():
    pdf = make_pdf("x")
    import hashlib

    good = files.spool([pdf[:10], pdf[10:]], extract.PDF, "a.pdf", 10_000_000, hashlib.sha256(pdf).hexdigest())
    assert good.size == len(pdf) and good.data.read() == pdf
    good.close()
    for kwargs, field in (
        (dict(max_bytes=10), "size_bytes"),
        (dict(claimed_sha="0" * 64), "sha256"),
        (dict(content_type=extract.PNG), "content_type"),
    ):
        args = dict(chunks=[pdf], content_type=extract.PDF, file_name="a.pdf", max_bytes=10_000_000)
        args.update(kwargs)
        with pytest.raises(InvalidArgument) as info:
            files.spool(**args)
        assert info.value.field == field


def test_render_pdf_page_png():
    png, count = files.render_pdf_page(make_pdf("render me", pages=2), 2, 300)
    assert png.startswith(b"\x89PNG") and count == 2
    with pytest.raises(InvalidArgument):
        files.render_pdf_page(make_pdf("x"), 5, 300)
