"""A real SMTP server process for tests: aiosmtpd, storing every message it accepts in a Maildir.

Tests that send email (notifications, one-time codes) point `COLLATERAL_SMTP_HOST/PORT`
at it and read what arrived with `messages()`; `stop()` and `start()` let a test take the
server away to check that a send that cannot be delivered is retried, not lost.
"""

from __future__ import annotations

import email.message
import mailbox
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from scripts.local_services import free_port
from tests.processes import stop_process


class MailServer:
    def __init__(self, maildir: Path, port: int | None = None, max_bytes: int | None = None) -> None:
        self.maildir = maildir
        self.max_bytes = max_bytes  # a larger message is refused for good (552), as a real server's limit
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 20.0) -> "MailServer":
        self.maildir.parent.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(str(self.maildir), create=True)  # cur/, new/, tmp/: the handler expects them
        size = ["-s", str(self.max_bytes)] if self.max_bytes else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", *size, "-l", f"{self.host}:{self.port}",
             "-c", "aiosmtpd.handlers.Mailbox", str(self.maildir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"aiosmtpd exited with {self.proc.returncode}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                    if sock.recv(3) == b"220":  # the greeting: ready for mail
                        return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"aiosmtpd not accepting on {self.host}:{self.port} after {timeout_s}s")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, 10)
        self.proc = None

    def messages(self, to: str | None = None, where: Callable[[email.message.Message], bool] | None = None
                 ) -> list[email.message.Message]:
        """Every message received so far (to one recipient, matching `where`), oldest first."""
        box = mailbox.Maildir(str(self.maildir), factory=None, create=True)
        found = [msg for _, msg in sorted(box.items(), key=lambda kv: kv[1].get_date())]
        if to is not None:
            found = [m for m in found if to.lower() in (m.get("To") or "").lower()]
        if where is not None:
            found = [m for m in found if where(m)]
        return found
