"""Background jobs that run every N seconds inside a long-lived process.

The usage and feedback consumers publish per-asset ranking signals this way: a failed
run is logged and retried at the next interval, never allowed to stop the consumer.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Protocol

log = logging.getLogger(__name__)


class Job(Protocol):
    def publish(self) -> object: ...

    def close(self) -> None: ...


def start(name: str, interval_s: float, make_job: Callable[[], Job], stop: threading.Event) -> threading.Thread | None:
    """Run `make_job().publish()` every `interval_s` until `stop` is set (0 disables)."""
    if interval_s <= 0:
        return None

    def loop() -> None:
        job = make_job()
        try:
            while not stop.wait(interval_s):
                try:
                    job.publish()
                except Exception:  # noqa: BLE001 - retried at the next interval
                    log.warning("periodic job failed; retrying next interval", extra={"job": name}, exc_info=True)
        finally:
            job.close()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread
