"""Fails when gen/python is stale: run `.venv/bin/python scripts/gen_protos.py`."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_generated_code_matches_protos(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--out", str(tmp_path)], check=True)
    committed = ROOT / "gen" / "python"
    fresh = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    existing = {p.relative_to(committed) for p in committed.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert fresh == existing, "generated files differ from protos/: run scripts/gen_protos.py"
    stale = [str(rel) for rel in fresh if not filecmp.cmp(tmp_path / rel, committed / rel, shallow=False)]
    assert not stale, f"stale generated code: {stale}; run scripts/gen_protos.py"
