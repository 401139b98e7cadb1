"""Bounds on zip containers (DOCX, PPTX, XLSX) checked before any member is inflated.

A few hundred kilobytes of deflated zeros can inflate to gigabytes, and python-docx and
python-pptx read every part into memory. The checks below only read the central
directory (names and declared sizes), never a member's data. Declared sizes are what
bounds the real output: Python's zipfile stops inflating a member at its declared size
(and fails its CRC check), so a member cannot produce more than the directory admits.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import BinaryIO

# Members smaller than this are never called bombs: tiny XML parts of real documents
# (a blank header, a theme) legitimately compress far better than large ones.
RATIO_GRACE_BYTES = 1024 * 1024


class LimitExceeded(ValueError):
    """A file breaks a processing limit: it is refused, not recorded as a failed extraction."""


class ZipBombError(LimitExceeded):
    """A zip container inflates beyond the configured bounds."""


@dataclass(frozen=True)
class ZipLimits:
    max_uncompressed_bytes: int = 256 * 1024 * 1024
    max_ratio: int = 100
    max_entries: int = 10_000


def check_zip(data: BinaryIO, limits: ZipLimits) -> None:
    """Raise ZipBombError when the archive's directory declares more than `limits` allow.

    Leaves `data` positioned at its start, ready for the document parser.
    """
    data.seek(0)
    try:
        with zipfile.ZipFile(data) as archive:
            check_members(archive.infolist(), limits)
    finally:
        data.seek(0)


def check_members(members: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """The bounds themselves, on an archive's directory entries."""
    if len(members) > limits.max_entries:
        raise ZipBombError(f"the archive has {len(members)} members; at most {limits.max_entries} are accepted")
    total = 0
    for member in members:
        total += member.file_size
        if total > limits.max_uncompressed_bytes:
            raise ZipBombError(f"the archive inflates to more than {limits.max_uncompressed_bytes} bytes")
        ratio = member.file_size / max(1, member.compress_size)
        if member.file_size > RATIO_GRACE_BYTES and ratio > limits.max_ratio:
            raise ZipBombError(f"member {member.filename[:100]!r} inflates {ratio:.0f}x "
                               f"({member.compress_size} to {member.file_size} bytes); "
                               f"at most {limits.max_ratio}x is accepted")
