"""The child side of `sandbox.py`: parse or render one file per request, under limits.

Started as `python -m services.content.sandbox_worker '<limits json>'`. Reads framed
JSON jobs on stdin and answers on the original stdout; file descriptor 1 is pointed at
stderr first, so a library that prints cannot corrupt the answers. The address-space
limit is set once at start; the CPU limit is moved before each job to "CPU used so far
plus the per-job allowance", so the kernel sends SIGXCPU (which ends the process) to a
job that overruns, and the parent replaces the worker. End of input means exit.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from typing import Any, BinaryIO

from services.content.sandbox import FRAME_PREFIX_BYTES, WorkerLimits, decode_header, encode_frame


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _set_memory_limit(limits: WorkerLimits) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a killed worker leaves no core file behind
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))


def _allow_cpu(seconds: int) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def extract_job(job: dict[str, Any], limits: WorkerLimits) -> tuple[dict[str, Any], bytes]:
    from dataclasses import asdict

    from services.content import extract
    from services.content.zipguard import LimitExceeded

    try:
        with open(job["path"], "rb") as data:
            result = extract.extract(job["content_type"], data, limits.max_chars, limits.zip, limits.max_pages)
    except LimitExceeded as exc:
        return {"status": "refused", "limit": "bounds", "message": str(exc)}, b""
    return {"status": "ok", "extraction": asdict(result)}, b""


def render_job(job: dict[str, Any], limits: WorkerLimits) -> tuple[dict[str, Any], bytes]:
    from services.common.errors import InvalidArgument
    from services.content.render import UnreadablePdf, render_pdf_page

    try:
        png, count = render_pdf_page(job["path"], int(job["page"]), int(job["width"]), limits.max_pixels)
    except InvalidArgument as exc:
        return {"status": "bad_page", "message": exc.message.removeprefix("page: ")}, b""
    except UnreadablePdf as exc:
        return {"status": "unreadable", "message": str(exc)}, b""
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever pdfium or PIL trip over, the file is the cause
        return {"status": "unreadable", "message": f"{type(exc).__name__}: {exc}"[:500]}, b""
    return {"status": "ok", "page_count": count}, png


JOBS = {"extract": extract_job, "render": render_job}


def answer(job: dict[str, Any], limits: WorkerLimits) -> tuple[dict[str, Any], bytes]:
    """Run one job; running out of memory is an answer too, after which this worker retires."""
    try:
        return JOBS[job["job"]](job, limits)
    except MemoryError:
        return {"status": "refused", "limit": "memory", "retire": True,
                "message": f"processing it needs more than {limits.memory_bytes} bytes of memory"}, b""


def main() -> None:
    limits = WorkerLimits.from_json(sys.argv[1])
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    import pypdf  # noqa: F401 - imported before the memory limit and before the first job
    import pypdfium2  # noqa: F401

    from services.content import extract  # noqa: F401

    _set_memory_limit(limits)
    replies.write(encode_frame({"status": "ready"}))
    replies.flush()
    while True:
        prefix = _read_exact(requests, FRAME_PREFIX_BYTES)
        if prefix is None:
            return
        header_len, payload_len = decode_header(prefix)
        job = json.loads(_read_exact(requests, header_len) or b"{}")
        _read_exact(requests, payload_len)
        _allow_cpu(limits.cpu_s)
        reply, payload = answer(job, limits)
        replies.write(encode_frame(reply, payload))
        replies.flush()
        if reply.get("retire"):
            return


if __name__ == "__main__":
    main()
