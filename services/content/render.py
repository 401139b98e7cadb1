"""PDF pages as PNG images, with the bitmap size bounded.

Runs inside the sandboxed worker processes (`sandbox.py`), which bound CPU time and
memory; the pixel bound here keeps a legitimate but oddly shaped page (1 point wide,
14,400 points tall) from asking for gigabytes at the requested width.
"""

from __future__ import annotations

import io
import math
import threading
from typing import Any

from services.common.errors import InvalidArgument

_PDFIUM_LOCK = threading.Lock()  # pdfium is not thread-safe


class UnreadablePdf(ValueError):
    """pdfium cannot open the document or lay out the page: the stored file is not a usable PDF."""


DEFAULT_MAX_RENDER_PIXELS = 16_000_000


def render_scale(page_width: float, page_height: float, width: int, max_pixels: int) -> float:
    """Scale giving `width` pixels across, reduced so the bitmap stays within `max_pixels`.

    A page 1 point wide and 14,400 points tall at 2,000 pixels across would be a
    2000 x 28.8 M bitmap; shrinking keeps every render's memory bounded.
    """
    if not (math.isfinite(page_width) and math.isfinite(page_height)) or page_width <= 0 or page_height <= 0:
        raise UnreadablePdf(f"the page has no usable size ({page_width} x {page_height} points)")
    scale = width / max(1.0, page_width)
    pixels = (page_width * scale) * (page_height * scale)
    if pixels > max_pixels:
        scale *= math.sqrt(max_pixels / pixels)
        while math.ceil(page_width * scale) * math.ceil(page_height * scale) > max_pixels:
            scale *= 0.99  # pdfium rounds the bitmap's sides up
    return scale


def render_pdf_page(pdf: bytes | str, page: int, width: int,
                    max_pixels: int = DEFAULT_MAX_RENDER_PIXELS) -> tuple[bytes, int]:
    """PNG of 1-based `page` scaled to `width` pixels (bounded by `max_pixels`), and the page count.

    `pdf` is the document's bytes or a path to it. Raises UnreadablePdf when pdfium
    cannot open the document or render the page, InvalidArgument for a page out of range.
    """
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(pdf)
        except pdfium.PdfiumError as exc:
            raise UnreadablePdf(f"pdfium cannot open it ({exc})") from exc
        try:
            count = len(document)
            if page < 1 or page > count:
                raise InvalidArgument("page", f"must be between 1 and {count}")
            image = _render(document, page, width, max_pixels)
        finally:
            document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue(), count


def _render(document: Any, page: int, width: int, max_pixels: int) -> Any:
    import pypdfium2 as pdfium

    try:
        pdf_page = document[page - 1]
    except pdfium.PdfiumError as exc:
        raise UnreadablePdf(f"page {page} cannot be read ({exc})") from exc
    try:
        page_width, page_height = pdf_page.get_size()
        bitmap = pdf_page.render(scale=render_scale(page_width, page_height, width, max_pixels))
        return bitmap.to_pil()
    except pdfium.PdfiumError as exc:
        raise UnreadablePdf(f"page {page} cannot be rendered ({exc})") from exc
    finally:
        pdf_page.close()
