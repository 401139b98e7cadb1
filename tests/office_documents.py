"""Small Office documents for preview tests: real PPTX, DOCX, XLSX, ODF, and broken ones.

PPTX and DOCX come from python-pptx and python-docx; the XLSX is written part by part
(the minimal SpreadsheetML package Excel and LibreOffice open); ODP and ODT are made by
LibreOffice itself from the PPTX and DOCX, the way a marketer's ODF files come to exist.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODP = "application/vnd.oasis.opendocument.presentation"
ODT = "application/vnd.oasis.opendocument.text"


def soffice() -> str | None:
    """Path of LibreOffice's soffice, or None when it is not installed."""
    return shutil.which("soffice")


def make_pptx(slide_titles: list[str]) -> bytes:
    """A deck with one title-and-content slide per title; the body names the slide number."""
    from pptx import Presentation

    deck = Presentation()
    for number, title in enumerate(slide_titles, start=1):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = f"Slide number {number}"
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def make_docx(paragraphs: list[str], page_breaks: bool = True) -> bytes:
    """A document with one paragraph per entry, each on its own page when `page_breaks`."""
    import docx

    document = docx.Document()
    for index, text in enumerate(paragraphs):
        document.add_paragraph(text)
        if page_breaks and index < len(paragraphs) - 1:
            document.add_page_break()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx(rows: list[list[str]]) -> bytes:
    """A one-sheet workbook of inline strings (no shared-strings part needed)."""
    cells = "".join(
        f'<row r="{r}">' + "".join(
            f'<c r="{chr(65 + c)}{r}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
            for c, value in enumerate(row)) + "</row>"
        for r, row in enumerate(rows, start=1))
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '</Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Pricing" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{cells}</sheetData></worksheet>'),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def corrupt_pptx() -> bytes:
    """A valid zip with PPTX part names whose XML is garbage: no Office suite can read it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types this is not xml")
        archive.writestr("_rels/.rels", "\x00\x01garbage\x02")
        archive.writestr("ppt/presentation.xml", "<p:presentation><<<>>> not xml at all")
        archive.writestr("ppt/slides/slide1.xml", "%%%% garbage %%%%")
    return out.getvalue()


def convert_with_soffice(data: bytes, source_ext: str, target_ext: str) -> bytes:
    """`data` converted by LibreOffice (e.g. pptx -> odp), with a private profile."""
    executable = soffice()
    if executable is None:
        raise RuntimeError("soffice is not installed")
    with tempfile.TemporaryDirectory(prefix="collateral-test-office-") as folder:
        work = Path(folder)
        source = work / f"document.{source_ext}"
        source.write_bytes(data)
        subprocess.run([executable, "--headless", "--norestore", f"-env:UserInstallation={(work / 'p').as_uri()}",
                        "--convert-to", target_ext, "--outdir", str(work / "out"), str(source)],
                       check=True, capture_output=True, timeout=120)
        return (work / "out" / f"document.{target_ext}").read_bytes()
