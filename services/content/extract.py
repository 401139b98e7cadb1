"""What a file is, and the words inside it.

Content types are checked twice: the declared MIME type must be on the allow-list, and
the first bytes must look like that type (a renamed executable is not a PDF). Text is
extracted from PDF, PPTX, DOCX and plain text so search finds words inside documents
(XLSX and ODF files get theirs from the PDF `convert.py` makes of them);
an extraction failure is recorded, never fatal, so a scanned or odd file can still be
published. Breaking a processing limit is different: a zip container that inflates
beyond its bounds (checked before python-docx or python-pptx see it), a PDF with more
pages than allowed, or running out of memory raises, and the upload is refused. The
content service calls `extract` inside a sandboxed worker process (`sandbox.py`), which
adds CPU-time and memory limits.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from services.common.errors import InvalidArgument
from services.content.zipguard import LimitExceeded, ZipLimits, check_zip

PDF = "application/pdf"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PNG = "image/png"
JPEG = "image/jpeg"
MP4 = "video/mp4"
TXT = "text/plain"
CSV = "text/csv"
MARKDOWN = "text/markdown"

ODP = "application/vnd.oasis.opendocument.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"

ALLOWED = {PDF, PPTX, DOCX, XLSX, ODP, ODT, ODS, PNG, JPEG, MP4, TXT, CSV, MARKDOWN}
_OOXML_PART = {PPTX: "ppt/", DOCX: "word/", XLSX: "xl/"}
_ODF_TYPES = {ODP, ODT, ODS}
# Office documents the service converts to PDF for previews (`convert.py`), with the file
# extension LibreOffice reads each from.
OFFICE_TYPES = {PPTX: "pptx", DOCX: "docx", XLSX: "xlsx", ODP: "odp", ODT: "odt", ODS: "ods"}
TEXT_TYPES = {TXT, CSV, MARKDOWN}


def check_content_type(content_type: str, field: str = "content_type") -> str:
    value = content_type.split(";")[0].strip().lower()
    if not value:
        raise InvalidArgument(field, "is required")
    if value not in ALLOWED:
        raise InvalidArgument(field, f"{value!r} is not allowed; allowed: {', '.join(sorted(ALLOWED))}")
    return value


def sniff_ok(content_type: str, head: bytes) -> bool:
    """True when the first bytes (at least 16 when the file has them) match `content_type`."""
    if content_type == PDF:
        return head.startswith(b"%PDF-")
    if content_type in _OOXML_PART or content_type in _ODF_TYPES:
        return head.startswith(b"PK\x03\x04")
    if content_type == PNG:
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if content_type == JPEG:
        return head.startswith(b"\xff\xd8\xff")
    if content_type == MP4:
        return len(head) >= 12 and head[4:8] == b"ftyp"
    if content_type in TEXT_TYPES:
        if b"\x00" in head:
            return False
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:  # a multi-byte character cut at the end is fine
            return exc.start >= len(head) - 3
        return True
    return False


def check_sniff(content_type: str, head: bytes, field: str = "content_type") -> None:
    if not sniff_ok(content_type, head):
        raise InvalidArgument(field, f"the file content is not {content_type}")


@dataclass
class Extraction:
    status: str  # ok | failed | unsupported
    text: str = ""
    page_count: int = 0
    error: str = ""


PARSED_TYPES = {PDF, *OFFICE_TYPES}  # run third-party parsers (or zipfile): the service runs them sandboxed


def extract(content_type: str, data: BinaryIO, max_chars: int, zip_limits: ZipLimits | None = None,
            max_pages: int = 0) -> Extraction:
    """Text and page count of a file.

    A parser failure is returned as a "failed" Extraction; only a broken limit raises
    (LimitExceeded, MemoryError), because such a file is refused rather than stored.
    """
    try:
        if content_type in OFFICE_TYPES:
            check_zip(data, zip_limits or ZipLimits())
        if content_type == PDF:
            return _pdf(data, max_chars, max_pages)
        if content_type == PPTX:
            return _pptx(data, max_chars)
        if content_type == DOCX:
            return _docx(data, max_chars)
        if content_type in TEXT_TYPES:
            text = data.read(max_chars * 4).decode("utf-8", "replace")[:max_chars]
            return Extraction("ok", text, 0)
        if content_type == XLSX:
            _check_ooxml(data, XLSX)
        return Extraction("unsupported")
    except (LimitExceeded, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is recorded, not raised
        return Extraction("failed", error=f"{type(exc).__name__}: {exc}"[:500])


class _Collector:
    def __init__(self, max_chars: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.max_chars = max_chars

    def add(self, text: str | None) -> bool:
        """Add text; False once the limit is reached."""
        if not text:
            return self.size < self.max_chars
        text = text[: self.max_chars - self.size]
        self.parts.append(text)
        self.size += len(text) + 1
        return self.size < self.max_chars

    def text(self) -> str:
        return "\n".join(self.parts)


def _pdf(data: BinaryIO, max_chars: int, max_pages: int = 0) -> Extraction:
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(data)
    pages = len(reader.pages)
    if max_pages and pages > max_pages:
        raise LimitExceeded(f"the PDF has {pages} pages; at most {max_pages} are accepted")
    out = _Collector(max_chars)
    for page in reader.pages:
        if not out.add(page.extract_text()):
            break
    return Extraction("ok", out.text(), pages)


def _pptx(data: BinaryIO, max_chars: int) -> Extraction:
    from pptx import Presentation

    deck = Presentation(data)
    out = _Collector(max_chars)
    slides = 0
    for slide in deck.slides:
        slides += 1
        for shape in slide.shapes:
            if shape.has_text_frame:
                out.add(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    out.add(" ".join(cell.text for cell in row.cells))
        if slide.has_notes_slide:
            out.add(slide.notes_slide.notes_text_frame.text)
    return Extraction("ok", out.text(), slides)


def _docx(data: BinaryIO, max_chars: int) -> Extraction:
    import docx

    document = docx.Document(data)
    out = _Collector(max_chars)
    for paragraph in document.paragraphs:
        if not out.add(paragraph.text):
            break
    for table in document.tables:
        for row in table.rows:
            out.add(" ".join(cell.text for cell in row.cells))
    return Extraction("ok", out.text(), 0)


def _check_ooxml(data: BinaryIO, content_type: str) -> None:
    with zipfile.ZipFile(data) as archive:
        if not any(n.startswith(_OOXML_PART[content_type]) for n in archive.namelist()):
            raise ValueError("not an Office Open XML spreadsheet")


def extract_bytes(content_type: str, payload: bytes, max_chars: int, zip_limits: ZipLimits | None = None,
                  max_pages: int = 0) -> Extraction:
    return extract(content_type, io.BytesIO(payload), max_chars, zip_limits, max_pages)
