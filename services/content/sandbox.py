"""Sandboxed worker processes that parse uploaded files and render PDF pages.

Document parsers (pypdf, python-docx, python-pptx, pdfium) run on whatever bytes a
client sends. A hostile or broken file must cost a bounded amount of CPU and memory and
must never take the gRPC server with it, so the parsing happens in a small pool of
child processes (`sandbox_worker.py`), each with an address-space limit (RLIMIT_AS) and
a per-job CPU-time limit (RLIMIT_CPU), plus a wall-clock timeout enforced from here. A
worker that breaks a limit or crashes is killed and replaced by a fresh one on next use.

The workers bound resources, not privileges: they run as the service's user and read
the job's input from a temporary file the service wrote.

Outcomes map to statuses in `FileProcessor`: a file that breaks a limit while being
uploaded is refused (INVALID_ARGUMENT on the file field); a stored PDF that pdfium
cannot read or render within the limits is FAILED_PRECONDITION at RenderPage; a
wall-clock timeout or a pool with every worker busy is UNAVAILABLE (retry later).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, Iterator, NoReturn

from services.common import config, metrics
from services.common.errors import FailedPrecondition, InvalidArgument, Unavailable
from services.content import extract
from services.content.zipguard import ZipLimits

log = logging.getLogger(__name__)

_FRAME = struct.Struct(">II")  # header length, payload length
_MAX_HEADER_BYTES = 64 * 1024 * 1024  # extracted text travels in the header
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
_STARTUP_TIMEOUT_S = 60.0


# ---- framing (shared with the worker) ------------------------------------------------------------
def encode_frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    """One message: JSON header plus raw payload; JSON both ways, so a worker never sends code."""
    body = json.dumps(header).encode("utf-8")
    return _FRAME.pack(len(body), len(payload)) + body + payload


def decode_header(raw: bytes) -> tuple[int, int]:
    header_len, payload_len = _FRAME.unpack(raw)
    if header_len > _MAX_HEADER_BYTES:
        raise ValueError(f"frame header of {header_len} bytes")
    return header_len, payload_len


FRAME_PREFIX_BYTES = _FRAME.size


# ---- limits ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkerLimits:
    """Everything a worker enforces, from the service's settings."""

    cpu_s: int = 30
    timeout_s: float = 120.0
    memory_bytes: int = 1024 * 1024 * 1024
    zip: ZipLimits = field(default_factory=ZipLimits)
    max_pages: int = 10_000
    max_pixels: int = 16_000_000
    max_chars: int = 1_000_000

    @classmethod
    def from_settings(cls, settings: config.Settings) -> WorkerLimits:
        return cls(
            cpu_s=settings.content_worker_cpu_s,
            timeout_s=settings.content_worker_timeout_s,
            memory_bytes=settings.content_worker_memory_bytes,
            zip=ZipLimits(settings.content_zip_max_uncompressed_bytes, settings.content_zip_max_ratio,
                          settings.content_zip_max_entries),
            max_pages=settings.content_pdf_max_pages,
            max_pixels=settings.content_render_max_pixels,
            max_chars=settings.content_max_extracted_chars,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> WorkerLimits:
        values = json.loads(raw)
        values["zip"] = ZipLimits(**values["zip"])
        return cls(**values)


class WorkerFailed(Exception):
    """A job did not produce an answer: `reason` is cpu, memory, crash, timeout, busy or start."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# ---- one worker process ----------------------------------------------------------------------------
class _Worker:
    """A child process answering one job at a time over its stdin and stdout pipes."""

    def __init__(self, limits: WorkerLimits) -> None:
        self.limits = limits
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_REPO_ROOT, env.get("PYTHONPATH", "")) if p)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.content.sandbox_worker", limits.to_json()],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, env=env)
        except OSError as exc:
            raise WorkerFailed("start", f"cannot start a file worker: {exc}") from None
        self._await_ready()

    def _await_ready(self) -> None:
        """Wait for the worker's imports, so start-up time never counts against a job's timeout."""
        try:
            header_len, _ = decode_header(self._read(FRAME_PREFIX_BYTES, time.monotonic() + _STARTUP_TIMEOUT_S))
            self._read(header_len, time.monotonic() + _STARTUP_TIMEOUT_S)
        except (TimeoutError, EOFError, ValueError) as exc:
            self.kill()
            raise WorkerFailed("start", f"file worker did not start ({type(exc).__name__})") from None

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def call(self, header: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """Send one job and wait for its answer within the wall-clock timeout."""
        deadline = time.monotonic() + self.limits.timeout_s
        try:
            self._write(encode_frame(header))
            header_len, payload_len = decode_header(self._read(FRAME_PREFIX_BYTES, deadline))
            reply = json.loads(self._read(header_len, deadline))
            payload = self._read(payload_len, deadline) if payload_len else b""
        except TimeoutError:
            self.kill()
            raise WorkerFailed("timeout", f"no answer within {self.limits.timeout_s:g} s") from None
        except (EOFError, BrokenPipeError, ValueError) as exc:
            raise self._died(exc) from None
        return reply, payload

    def _write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        view = memoryview(data)
        while view:
            view = view[self.process.stdin.write(view) or 0:]

    def _read(self, size: int, deadline: float) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        parts: list[bytes] = []
        remaining = size
        while remaining:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(remaining, 1024 * 1024))
            if not chunk:
                raise EOFError("worker closed its output")
            parts.append(chunk)
            remaining -= len(chunk)
        return b"".join(parts)

    def _died(self, exc: BaseException) -> WorkerFailed:
        """Why the worker stopped answering: SIGXCPU is the CPU limit, anything else a crash."""
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        self.close_pipes()
        if code == -signal.SIGXCPU:
            return WorkerFailed("cpu", f"used more than {self.limits.cpu_s} s of CPU time")
        return WorkerFailed("crash", f"worker exited with code {code} ({type(exc).__name__})")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.close_pipes()

    def stop(self) -> None:
        """Ask an idle worker to exit (end of input), killing it if it does not."""
        self.close_pipes()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()

    def close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None and not pipe.closed:
                try:
                    pipe.close()
                except OSError:
                    pass


class WorkerPool:
    """At most `processes` workers, started on first use and replaced after a failure."""

    def __init__(self, limits: WorkerLimits, processes: int) -> None:
        self.limits = limits
        self._slots: queue.Queue[list[_Worker | None]] = queue.Queue()
        for _ in range(max(1, processes)):
            self._slots.put([None])
        self._closed = threading.Event()

    def call(self, header: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        try:
            slot = self._slots.get(timeout=self.limits.timeout_s)
        except queue.Empty:
            raise WorkerFailed("busy", f"every file worker stayed busy for {self.limits.timeout_s:g} s") from None
        try:
            worker = slot[0]
            try:
                if worker is None or not worker.alive():
                    if worker is not None:
                        worker.kill()
                    slot[0] = None
                    worker = slot[0] = _Worker(self.limits)
                reply, payload = worker.call(header)
            except WorkerFailed as failed:
                slot[0] = None
                metrics.CONTENT_WORKER_KILLS.labels(failed.reason).inc()
                log.warning("file worker replaced", extra={"reason": failed.reason, "detail": failed.detail})
                raise
            if reply.get("retire"):  # it ran out of memory: its heap is not trusted any more
                worker.stop()
                slot[0] = None
                metrics.CONTENT_WORKER_KILLS.labels("memory").inc()
            return reply, payload
        finally:
            self._release(slot)

    def _release(self, slot: list[_Worker | None]) -> None:
        if self._closed.is_set() and slot[0] is not None:
            slot[0].stop()
            slot[0] = None
        self._slots.put(slot)

    def pids(self) -> list[int]:
        """Process ids of the idle, running workers (for health checks and tests)."""
        slots = []
        try:
            while True:
                slots.append(self._slots.get_nowait())
        except queue.Empty:
            pass
        try:
            return [s[0].pid for s in slots if s[0] is not None and s[0].alive()]
        finally:
            for s in slots:
                self._slots.put(s)

    def close(self) -> None:
        """Stop idle workers now and busy ones when their job ends."""
        self._closed.set()
        slots = []
        try:
            while True:
                slots.append(self._slots.get_nowait())
        except queue.Empty:
            pass
        for slot in slots:
            self._release(slot)


# ---- what the content service calls -----------------------------------------------------------------
_REFUSALS = {
    "cpu": "processing it needs more than {cpu} s of CPU time",
    "memory": "processing it needs more than {memory} bytes of memory",
    "crash": "the document parser crashed on it",
}


class FileProcessor:
    """Text extraction and page rendering through the pool, with outcomes as service errors."""

    def __init__(self, limits: WorkerLimits, processes: int) -> None:
        self.limits = limits
        self.pool = WorkerPool(limits, processes)

    @classmethod
    def from_settings(cls, settings: config.Settings) -> FileProcessor:
        return cls(WorkerLimits.from_settings(settings), settings.content_worker_processes)

    def close(self) -> None:
        self.pool.close()

    def extract(self, content_type: str, data: BinaryIO, field_name: str) -> extract.Extraction:
        """Text of an uploaded file; raises InvalidArgument(field_name) when it breaks a limit."""
        if content_type not in extract.PARSED_TYPES:  # text is read with a bound; media is not parsed
            return extract.extract(content_type, data, self.limits.max_chars)
        with _temp_copy(data) as path:
            reply, _ = self._call(field_name, "upload", {"job": "extract", "path": path, "content_type": content_type})
        if reply["status"] == "refused":
            self._refuse(field_name, reply["limit"], reply["message"])
        return extract.Extraction(**reply["extraction"])

    def render(self, pdf: bytes, page: int, width: int, what: str) -> tuple[bytes, int]:
        """PNG of one page of the stored PDF `what` (e.g. "file version 2")."""
        with _temp_copy(pdf) as path:
            reply, png = self._call("", what, {"job": "render", "path": path, "page": page, "width": width})
        status = reply["status"]
        if status == "bad_page":
            raise InvalidArgument("page", reply["message"])
        if status == "unreadable":
            raise FailedPrecondition(f"{what} is not a readable PDF: {reply['message']}")
        if status == "refused":
            raise FailedPrecondition(f"page {page} of {what} cannot be rendered within the service's limits: "
                                     f"{reply['message']}")
        return png, int(reply["page_count"])

    def _call(self, field_name: str, what: str, header: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        try:
            return self.pool.call(header)
        except WorkerFailed as failed:
            if failed.reason in ("timeout", "busy", "start"):
                raise Unavailable(f"processing the file did not finish in time ({failed.detail}); retry later") from None
            message = _REFUSALS[failed.reason].format(cpu=self.limits.cpu_s, memory=self.limits.memory_bytes)
            if field_name:
                self._refuse(field_name, failed.reason, message)
            raise FailedPrecondition(f"{what} cannot be processed within the service's limits: {message}") from None

    @staticmethod
    def _refuse(field_name: str, limit: str, message: str) -> NoReturn:
        metrics.CONTENT_FILES_REFUSED.labels(limit).inc()
        raise InvalidArgument(field_name, f"the file is refused: {message}")


@contextlib.contextmanager
def _temp_copy(source: bytes | IO[bytes]) -> Iterator[str]:
    """Path of a private temporary file holding `source`, for a worker to open; removed after."""
    with tempfile.NamedTemporaryFile(prefix="collateral-file-") as copy:
        if isinstance(source, bytes):
            copy.write(source)
        else:
            source.seek(0)
            shutil.copyfileobj(source, copy, 1024 * 1024)
            source.seek(0)
        copy.flush()
        yield copy.name
