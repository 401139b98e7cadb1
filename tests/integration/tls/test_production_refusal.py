"""Real processes started in production mode with the development defaults refuse to start.

Each runs as its own OS process, as in a deployment: it must exit non-zero before it binds
a port, naming every insecure setting at once on stderr, without a traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.local_services import free_port

ROOT = Path(__file__).resolve().parents[3]

PROCESSES = {
    "content server": ["-m", "services.content"],
    "usage consumer": ["-m", "services.usage.consumer"],
    "portal": ["-m", "services.portal"],
    "collateral-token": ["-c", "from services.common.auth import main; main()", "--sub", "ops", "--role", "admin"],
}
EXPECTED = ("COLLATERAL_AUTH_SECRET", "COLLATERAL_PORTAL_SECRET_KEY", "COLLATERAL_ES_URL",
            "COLLATERAL_KAFKA_SECURITY_PROTOCOL", "COLLATERAL_S3_ENDPOINT", "COLLATERAL_GRPC_TLS_CERT", "portal cookies")


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_production_mode_with_defaults_refuses_to_start(name: str):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLATERAL_")}
    env.update(COLLATERAL_PRODUCTION="1", COLLATERAL_NAMESPACE="refused-in-production",
               COLLATERAL_GRPC_PORT=str(port), COLLATERAL_METRICS_PORT=str(port), COLLATERAL_PORTAL_PORT=str(port))
    proc = subprocess.run([sys.executable, *PROCESSES[name]], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0, f"{name} started in production mode with default secrets:\n{proc.stdout}{proc.stderr}"
    assert "refusing to start in production mode" in proc.stderr, proc.stderr
    for expected in EXPECTED:
        assert expected in proc.stderr, f"{name} did not name {expected}:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout == "", "nothing was served or printed (no token minted)"
    assert not _listening(port)
