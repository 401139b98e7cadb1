"""The sandboxed file workers: limits are enforced, broken workers are replaced.

These start real worker processes (no servers needed); each test builds its own pool so
its limits and its worker are its own.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator

import pytest
from PIL import Image

from services.common import metrics
from services.common.errors import FailedPrecondition, InvalidArgument, Unavailable
from services.content import extract, render
from services.content.sandbox import FileProcessor, WorkerLimits
from services.content.zipguard import ZipLimits
from tests.documents import make_pdf
from tests.hostile_documents import DOCX, MIB, random_bytes_pdf, sliver_pdf, slow_pdf, truncated_pdf, zip_bomb


def kills(reason: str) -> float:
    return metrics.CONTENT_WORKER_KILLS.labels(reason)._value.get()


@pytest.fixture()
def make_processor() -> Iterator:
    made: list[FileProcessor] = []

    def make(**limits) -> FileProcessor:
        processor = FileProcessor(WorkerLimits(**limits), processes=1)
        made.append(processor)
        return processor

    yield make
    for processor in made:
        processor.close()


def test_wall_clock_timeout_kills_the_worker_and_a_fresh_one_takes_over(make_processor):
    processor = make_processor(cpu_s=120, timeout_s=1.0)
    first = processor.extract(extract.PDF, io.BytesIO(make_pdf("warm")), "chunk")
    assert first.status == "ok"
    (old_pid,) = processor.pool.pids()
    before = kills("timeout")
    with pytest.raises(Unavailable, match="did not finish in time"):
        processor.extract(extract.PDF, io.BytesIO(slow_pdf(200_000)), "chunk")
    assert kills("timeout") == before + 1
    assert processor.pool.pids() == []  # the killed worker is gone, not reused
    again = processor.extract(extract.PDF, io.BytesIO(make_pdf("after the kill")), "chunk")
    assert again.status == "ok" and "after the kill" in again.text
    assert processor.pool.pids() and processor.pool.pids() != [old_pid]


def test_memory_limit_refuses_the_file_and_retires_the_worker(make_processor):
    # Bounds switched off so the bomb reaches python-docx: only the address-space limit is left.
    processor = make_processor(memory_bytes=320 * MIB, zip=ZipLimits(max_uncompressed_bytes=2**40, max_ratio=2**40))
    before = kills("memory") + kills("crash")
    with pytest.raises(InvalidArgument, match="memory|crashed") as refused:
        processor.extract(DOCX, io.BytesIO(zip_bomb(DOCX, 200 * MIB)), "chunk")
    assert refused.value.field == "chunk"
    assert kills("memory") + kills("crash") == before + 1
    assert processor.extract(extract.PDF, io.BytesIO(make_pdf("still serving")), "chunk").status == "ok"


def test_zip_bounds_refuse_before_the_worker_inflates_anything(make_processor):
    processor = make_processor()
    with pytest.raises(InvalidArgument, match="the file is refused: member 'word/document.xml' inflates"):
        processor.extract(DOCX, io.BytesIO(zip_bomb(DOCX, 64 * MIB)), "header.chunk")
    (pid,) = processor.pool.pids()  # refused by the bounds check: the same worker lives on
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        peak_kib = int(next(line for line in status if line.startswith("VmHWM")).split()[1])
    assert peak_kib < 250 * 1024, f"worker peaked at {peak_kib // 1024} MiB"


def test_broken_pdfs_are_unreadable_at_render_time(make_processor):
    processor = make_processor()
    for pdf in (truncated_pdf(), random_bytes_pdf()):
        assert processor.extract(extract.PDF, io.BytesIO(pdf), "chunk").status == "failed"
        with pytest.raises(FailedPrecondition, match="file version 3 is not a readable PDF"):
            processor.render(pdf, 1, 400, "file version 3")


def test_page_count_limit_refuses_long_pdfs(make_processor):
    processor = make_processor(max_pages=3)
    assert processor.extract(extract.PDF, io.BytesIO(make_pdf("short", pages=3)), "chunk").page_count == 3
    with pytest.raises(InvalidArgument, match="4 pages; at most 3"):
        processor.extract(extract.PDF, io.BytesIO(make_pdf("long", pages=4)), "chunk")


def test_extreme_page_shapes_render_within_the_pixel_bound(make_processor):
    processor = make_processor(max_pixels=4_000_000)
    png, pages = processor.render(sliver_pdf(1, 14_400), 1, 2000, "file version 1")
    width, height = Image.open(io.BytesIO(png)).size
    assert pages == 1 and width * height <= 4_000_000 and height > width


def test_render_scale_keeps_normal_pages_at_the_requested_width():
    assert render.render_scale(612, 792, 1200, 16_000_000) == pytest.approx(1200 / 612)
    shrunk = render.render_scale(1, 14_400, 2000, 16_000_000)
    assert 15_000_000 < math.ceil(1 * shrunk) * math.ceil(14_400 * shrunk) <= 16_000_000
    for width, height in ((0, 100), (100, float("nan")), (-5, 10)):
        with pytest.raises(render.UnreadablePdf):
            render.render_scale(width, height, 1200, 16_000_000)
