"""Bounds on zip containers, checked on the central directory before anything is inflated."""

from __future__ import annotations

import io
import zipfile

import pytest

from services.content import extract
from services.content.zipguard import RATIO_GRACE_BYTES, ZipBombError, ZipLimits, check_members, check_zip
from tests.documents import make_docx, make_pptx
from tests.hostile_documents import DOCX, MIB, PPTX, XLSX, zip_bomb


def member(name: str, inflated: int, deflated: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.file_size, info.compress_size = inflated, deflated
    return info


def test_real_documents_pass_the_default_bounds():
    for payload in (make_docx("fine"), make_pptx("fine")):
        check_zip(io.BytesIO(payload), ZipLimits())


def test_total_inflated_size_is_bounded():
    limits = ZipLimits(max_uncompressed_bytes=10 * MIB, max_ratio=10**6)
    check_members([member("a.xml", 5 * MIB, 5 * MIB), member("b.xml", 5 * MIB, 5 * MIB)], limits)
    with pytest.raises(ZipBombError, match="inflates to more than"):
        check_members([member("a.xml", 5 * MIB, 5 * MIB), member("b.xml", 5 * MIB + 1, 5 * MIB)], limits)


def test_ratio_is_bounded_above_the_grace_size():
    limits = ZipLimits(max_ratio=100)
    check_members([member("small.xml", RATIO_GRACE_BYTES, 10)], limits)  # tiny parts compress very well
    check_members([member("ok.xml", 100 * MIB, MIB)], limits)
    with pytest.raises(ZipBombError, match="'bomb.xml' inflates 101x"):
        check_members([member("bomb.xml", 101 * MIB, MIB)], limits)


def test_member_count_is_bounded():
    limits = ZipLimits(max_entries=3)
    check_members([member(f"{i}.xml", 1, 1) for i in range(3)], limits)
    with pytest.raises(ZipBombError, match="4 members; at most 3"):
        check_members([member(f"{i}.xml", 1, 1) for i in range(4)], limits)


def test_stored_member_with_zero_compressed_size_does_not_divide_by_zero():
    check_members([member("empty.xml", 0, 0)], ZipLimits())
    with pytest.raises(ZipBombError):
        check_members([member("lie.xml", 2 * MIB, 0)], ZipLimits())


@pytest.mark.parametrize("content_type", [DOCX, PPTX, XLSX])
def test_extract_refuses_every_office_bomb_before_parsing(content_type):
    bomb = io.BytesIO(zip_bomb(content_type, inflated_bytes=40 * MIB))
    with pytest.raises(ZipBombError, match="inflates"):
        extract.extract(content_type, bomb, 1000, ZipLimits(max_uncompressed_bytes=32 * MIB))
    assert bomb.tell() == 0  # only the directory was read, and the stream was rewound


def test_a_corrupt_archive_is_a_recorded_failure_not_a_refusal():
    result = extract.extract_bytes(DOCX, b"PK\x03\x04 not really a zip", 1000)
    assert result.status == "failed" and "BadZipFile" in result.error
