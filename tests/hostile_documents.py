"""Hostile and broken files for the content tests: zip bombs, slow and broken PDFs.

Bombs are built by streaming runs of one byte through deflate, so a test holds only the
few hundred kilobytes of the compressed archive, never the inflated size.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from tests.documents import make_docx, make_pdf, make_pptx

MIB = 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
_S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

# The part each bomb replaces, with the XML around the long run of text.
_BOMB_PART = {
    DOCX: ("word/document.xml", f'<w:document xmlns:w="{_W}"><w:body><w:p><w:r><w:t>',
           "</w:t></w:r></w:p></w:body></w:document>"),
    PPTX: ("ppt/slides/slide1.xml", f'<p:sld xmlns:p="{_P}"><!-- ', " --></p:sld>"),
    XLSX: ("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{_S}"><sheetData><!-- ', " --></sheetData></worksheet>"),
}

_XLSX_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns='
                           '"http://schemas.openxmlformats.org/package/2006/content-types"/>',
    "xl/workbook.xml": f'<workbook xmlns="{_S}"/>',
}


def _base_members(content_type: str) -> dict[str, bytes]:
    """Every member of a real document of that type (the bomb replaces one of them)."""
    if content_type == XLSX:
        return {name: text.encode() for name, text in _XLSX_PARTS.items()}
    source = make_docx("bomb") if content_type == DOCX else make_pptx("bomb")
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_bomb(content_type: str, inflated_bytes: int = 300 * MIB) -> bytes:
    """A valid-looking DOCX, PPTX or XLSX whose main part inflates to `inflated_bytes` of XML."""
    part, opening, closing = _BOMB_PART[content_type]
    members = _base_members(content_type)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            if name != part:
                archive.writestr(name, data)
        with archive.open(part, "w", force_zip64=True) as member:
            member.write(opening.encode())
            block = b"0" * MIB
            for _ in range(inflated_bytes // MIB):
                member.write(block)
            member.write(closing.encode())
    return buffer.getvalue()


def _pdf_objects(objects: list[bytes]) -> bytes:
    """A PDF file with the given objects (1-based), a correct xref table and trailer."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def slow_pdf(text_operations: int = 3_000_000) -> bytes:
    """A small PDF whose one page holds millions of text operations: seconds of CPU to extract."""
    content = b"BT /F1 12 Tf 72 720 Td " + b"(slow) Tj " * text_operations + b"ET"
    stream = zlib.compress(content, 9)
    return _pdf_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def sliver_pdf(width_pt: int = 1, height_pt: int = 14_400) -> bytes:
    """A one-page PDF with an extreme page shape: at 2000 px across it would be a giant bitmap."""
    content = b"0 0 0 rg 0 0 1 1 re f"
    return _pdf_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R >>" % (width_pt, height_pt),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ])


def truncated_pdf() -> bytes:
    """The first half of a real three-page PDF."""
    whole = make_pdf("truncated", pages=3)
    return whole[: len(whole) // 2]


def random_bytes_pdf(size: int = 4096) -> bytes:
    """%PDF- followed by noise: passes the magic-byte check, is no PDF."""
    import random

    noise = random.Random(1234).randbytes(size)
    return b"%PDF-1.7\n" + noise
