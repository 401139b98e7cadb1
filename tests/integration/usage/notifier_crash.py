"""The notifications process with one crash point, for the delivery-guarantee tests.

`python -m tests.integration.usage.notifier_crash POINT MARKER` runs
`services.usage.notifications` unchanged except that, the first time (MARKER does not
exist yet), it SIGKILLs itself at POINT:

- `before-commit`: after a batch marked a delivery sent, right before its offsets are
  committed (the replay must find it sent and send nothing);
- `before-mark`: after a message was sent, before it is marked sent (the replay sends it
  again, with the same Message-ID and Idempotency-Key).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from services.common import consumer
from services.usage import notifications


def main() -> None:
    point, marker = sys.argv[1], Path(sys.argv[2])
    sent_in_batch = {"flag": False}

    def crash() -> None:
        if not marker.exists():
            marker.write_text(point)
            os.kill(os.getpid(), signal.SIGKILL)

    original_mark = notifications.Deliveries.mark
    original_commit = consumer.CommitStep.__call__

    def mark(self: notifications.Deliveries, delivery_id: str, change: dict[str, Any]) -> None:
        if change.get("state") == "sent":
            if point == "before-mark":
                crash()
            sent_in_batch["flag"] = True
        original_mark(self, delivery_id, change)

    def commit(self: consumer.CommitStep, *args: Any, **kwargs: Any) -> bool:
        if point == "before-commit" and sent_in_batch["flag"]:
            crash()
        return original_commit(self, *args, **kwargs)

    notifications.Deliveries.mark = mark  # type: ignore[method-assign]
    consumer.CommitStep.__call__ = commit  # type: ignore[method-assign]
    notifications.main([])


if __name__ == "__main__":
    main()
