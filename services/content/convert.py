"""Office files (PPTX, DOCX, XLSX, ODP, ODT, ODS) to PDF with headless LibreOffice, for previews.

Reps mostly share decks, and a browser cannot show a PPTX. The content service therefore
converts every Office upload to a PDF once, stores it beside the original, and from then on
renders pages, counts pages and extracts text from that PDF exactly as for an uploaded PDF.

LibreOffice is a large parser fed with whatever bytes a client sends, so each conversion is
its own short-lived process group with:

- a private profile directory (`-env:UserInstallation`): two conversions sharing a profile
  block on its lock or fail, so each one gets a fresh one in its own temporary directory;
- an address-space limit (RLIMIT_AS, larger than the parsing workers' because LibreOffice
  maps far more virtual memory than it uses) and a CPU-time limit (RLIMIT_CPU), set by a
  tiny launcher (`python -m services.content.convert --memory N --cpu N -- soffice ...`)
  that then execs LibreOffice, so no limit code runs between fork and exec in the
  multi-threaded server;
- a wall-clock limit: after it, the whole process group is killed (LibreOffice starts
  helper processes), and so it is after every conversion, whatever the outcome.

Zip-based formats pass `zipguard` first, so a zip bomb never reaches LibreOffice. A file
that cannot be converted is not an error: the outcome is a `Conversion` with a reason the
catalog shows ("conversion timed out after 60 s").
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from services.common import config, metrics
from services.content import extract
from services.content.zipguard import LimitExceeded, ZipLimits, check_zip

READY = "ready"
UNAVAILABLE = "unavailable"

_PROFILE_PREFIX = "collateral-office-"
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
_MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class OfficeLimits:
    """What one conversion may use, from the service's settings."""

    command: str = "soffice"
    timeout_s: float = 60.0
    memory_bytes: int = 2 * 1024 * 1024 * 1024
    cpu_s: int = 30
    zip: ZipLimits = ZipLimits()

    @classmethod
    def from_settings(cls, settings: config.Settings) -> OfficeLimits:
        return cls(
            command=settings.content_office_command,
            timeout_s=settings.content_office_timeout_s,
            memory_bytes=settings.content_office_memory_bytes,
            cpu_s=settings.content_worker_cpu_s,
            zip=ZipLimits(settings.content_zip_max_uncompressed_bytes, settings.content_zip_max_ratio,
                          settings.content_zip_max_entries),
        )


@dataclass(frozen=True)
class Conversion:
    """Outcome of one conversion: READY with the PDF's bytes, or UNAVAILABLE with the reason."""

    status: str
    pdf: bytes = b""
    reason: str = ""
    outcome: str = "ok"  # metric label: ok, bounds, timeout, cpu, crash, failed, missing

    @classmethod
    def failed(cls, outcome: str, reason: str) -> Conversion:
        return cls(UNAVAILABLE, reason=reason[:_MAX_REASON_CHARS], outcome=outcome)


def convertible(content_type: str) -> bool:
    return content_type in extract.OFFICE_TYPES


def format_seconds(value: float) -> str:
    return f"{value:g} s"


class OfficeConverter:
    """Runs at most `slots` conversions at once; each one is `convert_file` in its own process group."""

    def __init__(self, limits: OfficeLimits, slots: int) -> None:
        self.limits = limits
        self._slots = threading.BoundedSemaphore(max(1, slots))

    @classmethod
    def from_settings(cls, settings: config.Settings) -> OfficeConverter:
        return cls(OfficeLimits.from_settings(settings), settings.content_office_conversions)

    def convert(self, content_type: str, data: BinaryIO) -> Conversion | None:
        """The PDF of an Office upload, or None when all slots stayed busy for a whole timeout."""
        if not self._slots.acquire(timeout=self.limits.timeout_s):
            return None
        try:
            result = convert_file(content_type, data, self.limits)
        finally:
            self._slots.release()
            data.seek(0)
        metrics.CONTENT_OFFICE_CONVERSIONS.labels(result.outcome).inc()
        return result


def convert_file(content_type: str, data: BinaryIO, limits: OfficeLimits) -> Conversion:
    """Convert one file; never raises for anything the file contains."""
    try:
        check_zip(data, limits.zip)
    except LimitExceeded as exc:
        return Conversion.failed("bounds", f"the file is not converted: {exc}")
    except Exception as exc:  # noqa: BLE001 - not a readable zip: LibreOffice would fail the same way
        return Conversion.failed("failed", f"the file is not a readable {extract.OFFICE_TYPES[content_type]} "
                                           f"document ({type(exc).__name__})")
    executable = shutil.which(limits.command)
    if executable is None:
        return Conversion.failed("missing", f"LibreOffice ({limits.command}) is not installed on the server")
    workdir = Path(tempfile.mkdtemp(prefix=_PROFILE_PREFIX))
    try:
        source = workdir / f"document.{extract.OFFICE_TYPES[content_type]}"
        with open(source, "wb") as out:
            data.seek(0)
            shutil.copyfileobj(data, out, 1024 * 1024)
        return _run(executable, source, workdir, limits)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def office_command(executable: str, source: Path, workdir: Path, limits: OfficeLimits) -> list[str]:
    """The launcher that sets the limits, then LibreOffice with a private profile under `workdir`."""
    return [
        sys.executable, "-m", "services.content.convert",
        "--memory", str(limits.memory_bytes), "--cpu", str(limits.cpu_s), "--",
        executable, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
        f"-env:UserInstallation={(workdir / 'profile').as_uri()}",
        "--convert-to", "pdf", "--outdir", str(workdir / "out"), str(source),
    ]


def _run(executable: str, source: Path, workdir: Path, limits: OfficeLimits) -> Conversion:
    env = dict(os.environ, HOME=str(workdir), TMPDIR=str(workdir))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_REPO_ROOT, os.environ.get("PYTHONPATH", "")) if p)
    log_path = workdir / "soffice.log"  # a file, not a pipe: a lingering helper cannot hold the wait open
    with open(log_path, "wb") as log:
        process = subprocess.Popen(office_command(executable, source, workdir, limits), env=env,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        process.wait(timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:
        return Conversion.failed("timeout", f"conversion timed out after {format_seconds(limits.timeout_s)}")
    finally:
        _kill_group(process)  # on timeout, and helpers LibreOffice left behind otherwise
    output = log_path.read_text("utf-8", "replace")
    return _outcome(process.returncode, output, workdir / "out" / f"{source.stem}.pdf", limits)


def _outcome(code: int, output: str, pdf_path: Path, limits: OfficeLimits) -> Conversion:
    if code == -signal.SIGXCPU:
        return Conversion.failed("cpu", f"converting it needs more than {limits.cpu_s} s of CPU time")
    if code < 0:
        return Conversion.failed("crash", f"LibreOffice stopped on signal {-code} while converting it "
                                          f"(memory limit {limits.memory_bytes} bytes)")
    pdf = pdf_path.read_bytes() if pdf_path.is_file() else b""
    if pdf.startswith(b"%PDF-"):
        return Conversion(READY, pdf)
    if "Fatal exception" in output or "soffice.bin(+" in output:  # its crash handler's report
        return Conversion.failed("crash", f"LibreOffice crashed while converting it "
                                          f"(memory limit {limits.memory_bytes} bytes)")
    detail = _last_line(output)
    return Conversion.failed("failed", "LibreOffice could not convert it" + (f": {detail}" if detail else ""))


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the conversion's whole process group (its session), then reap the launcher."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if process.poll() is None:
        process.kill()
    process.wait()


# ---- the launcher (runs in the child, between the service and LibreOffice) ----------------------
def _launch(argv: list[str]) -> None:
    """Set the memory and CPU limits, then exec the command; nothing else runs in this process."""
    parser = argparse.ArgumentParser(prog="python -m services.content.convert",
                                     description="Run a command under an address-space and a CPU-time limit.")
    parser.add_argument("--memory", type=int, required=True, help="RLIMIT_AS in bytes")
    parser.add_argument("--cpu", type=int, required=True, help="RLIMIT_CPU in seconds")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- command and its arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command is required after --")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (args.memory, args.memory))
    resource.setrlimit(resource.RLIMIT_CPU, (args.cpu, args.cpu + 5))  # SIGXCPU first, SIGKILL if ignored
    os.execvp(command[0], command)


if __name__ == "__main__":
    _launch(sys.argv[1:])
