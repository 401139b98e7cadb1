"""The README's configuration reference is generated from the config module; keep them equal."""

from __future__ import annotations

from pathlib import Path

from services.common import config

ROOT = Path(__file__).resolve().parents[3]


def test_readme_configuration_table_matches_settings():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("<!-- config:start -->")[1].split("<!-- config:end -->")[0].strip()
    assert section == config.reference_table(), "run: .venv/bin/python -m services.common.config --readme"
