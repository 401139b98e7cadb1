"""With CI set, a skipped test fails the run: CI can never go green with tests not run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SUITE = '''
import pytest

def test_skipped_in_the_body():
    pytest.skip("no browser")

@pytest.mark.skipif(True, reason="no server")
def test_skipped_by_a_marker():
    pass

def test_that_runs():
    pass
'''


def run_suite(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    """The small suite above under the repository's tests/conftest.py, as its own pytest run."""
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = dict(os.environ, CI=ci, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.conftest", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_suite.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_skips_fail_when_ci_is_set(tmp_path):
    proc = run_suite(tmp_path, "true")
    assert proc.returncode == 1, proc.stdout
    assert "1 failed, 1 passed, 1 error" in proc.stdout
    assert "skipped, but CI is set and every test must run: Skipped: no browser" in proc.stdout
    assert "skipped, but CI is set and every test must run: Skipped: no server" in proc.stdout


def test_skips_stay_skips_on_a_developer_machine(tmp_path):
    proc = run_suite(tmp_path, "")
    assert proc.returncode == 0, proc.stdout
    assert "1 passed, 2 skipped" in proc.stdout
