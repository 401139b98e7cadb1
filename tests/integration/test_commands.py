"""Every command parses its arguments before it touches anything, and fails clearly.

Each command runs as a real subprocess in a namespace nobody else uses, so "no effect"
is observed in the real stores: no Elasticsearch index, no Kafka topic and no consumer
group of that namespace exists afterwards. A command that ignored --help and ran its
job (a rejoin, a signals run, a server) would create them, or would not return.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient

from services.common import config, es as es_util
from services.content.server import build_spec as content_spec
from tests.conftest import isolated, process_env, wait_serving
from tests.documents import make_pdf

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60  # a command that ignores --help and starts serving never returns: the run times out and fails

COMMANDS = {
    "content server": ["-m", "services.content"],
    "usage server": ["-m", "services.usage"],
    "feedback server": ["-m", "services.feedback"],
    "usage consumer": ["-m", "services.usage.consumer"],
    "usage notifications": ["-m", "services.usage.notifications"],
    "feedback consumer": ["-m", "services.feedback.consumer"],
    "content signals consumer": ["-m", "services.content.signals_consumer"],
    "portal": ["-m", "services.portal"],
    "feedback rejoin": ["-m", "services.feedback.rejoin"],
    "feedback markov": ["-m", "services.feedback.markov"],
    "feedback signals": ["-m", "services.feedback.signals"],
    "usage signals": ["-m", "services.usage.signals"],
    "content importer": ["-m", "services.content.importer"],
    "feedback importer": ["-m", "services.feedback.importer"],
    "content reindex": ["-m", "services.content.reindex"],
    "content relevance": ["-m", "services.content.relevance"],
    "portal users": ["-m", "services.portal.users"],
    "collateral-token": ["-m", "services.common.auth"],
    "config table": ["-m", "services.common.config"],
    "topics": ["-m", "services.common.topics"],
    "demo data": ["-m", "scripts.demo_data"],
    "local services": ["scripts/local_services.py"],
    "gen protos": ["scripts/gen_protos.py"],
}


@pytest.fixture(scope="module")
def quiet_env(stack: config.Settings) -> config.Settings:
    """A namespace of this module's own: anything created in it was created by a command under test."""
    return isolated(stack, "cmd")


@pytest.fixture(scope="module")
def es(quiet_env: config.Settings) -> Elasticsearch:
    client = es_util.client(quiet_env)
    yield client
    client.close()


def run(settings: config.Settings, args: list[str], timeout_s: float = TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=process_env(settings), capture_output=True,
                          text=True, timeout=timeout_s)


def created_in(settings: config.Settings, es: Elasticsearch) -> list[str]:
    """Indices, topics and consumer groups of the namespace: what a command must not have created."""
    prefix = settings.index("")
    indices = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all", allow_no_indices=True))
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","), client_id="tests-commands")
    try:
        topic_names = [t for t in admin.list_topics() if t.startswith(f"{settings.namespace}.")]
        groups = [g.get("group_id", "") for g in admin.list_groups()]
    finally:
        admin.close()
    return indices + topic_names + [g for g in groups if g.startswith(f"{settings.namespace}.")]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_prints_usage_and_does_nothing(name, quiet_env, es):
    proc = run(quiet_env, [*COMMANDS[name], "--help"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: ") and "--help" in proc.stdout
    assert proc.stderr == ""
    assert created_in(quiet_env, es) == []


@pytest.mark.parametrize("name", list(COMMANDS))
def test_unknown_argument_exits_2_with_usage(name, quiet_env, es):
    proc = run(quiet_env, [*COMMANDS[name], "--no-such-option"])
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("usage: ") and ": error: " in proc.stderr
    assert "Traceback" not in proc.stderr
    assert created_in(quiet_env, es) == []


@pytest.mark.parametrize("args, message", [
    (["-m", "services.content.reindex", "--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    (["-m", "services.content.importer", "--workers", "many", "f", "m.csv"], "argument --workers: not a whole number"),
    (["-m", "services.common.auth", "--sub", "a", "--role", "rep", "--ttl", "-5"], "argument --ttl: must be at least 1"),
    (["-m", "scripts.demo_data", "--assets", "0"], "argument --assets: must be at least 1, got 0"),
    (["scripts/local_services.py", "start", "no-such-process"], "unknown process no-such-process"),
    (["-m", "services.feedback.importer"], "the following arguments are required: csv_file"),
])
def test_bad_argument_values_exit_2_naming_them(args, message, quiet_env, es):
    proc = run(quiet_env, args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert created_in(quiet_env, es) == []


# ---- importers: bad files stop the run, naming file and line; bad rows list every problem ----------

BINARY = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U\x9c\xff\xfe\x00\x00"  # the start of an .xlsx


def content_import(settings: config.Settings, folder: Path, metadata: Path, *extra: str
                   ) -> subprocess.CompletedProcess[str]:
    # Nothing listens on port 1: a run that got past the file checks would fail differently.
    return run(settings, ["-m", "services.content.importer", str(folder), str(metadata), "--addr", "127.0.0.1:1",
                          *extra])


@pytest.mark.parametrize("file_name, content, message", [
    ("metadata.csv", "title,type\nDeck,deck\n", "metadata.csv: line 1: missing column 'path'"),
    ("metadata.csv", "path,tittle\na.pdf,Deck\n", "metadata.csv: line 1: unknown column 'tittle'"),
    ("metadata.csv", BINARY, "metadata.csv: line 1: not UTF-8 text"),
    ("metadata.csv", b"path,title\na.pdf,x\x00y\n", "metadata.csv: line 2: contains NUL bytes"),
    ("metadata.csv", "path,title\n", "metadata.csv: no rows to import"),
    ("metadata.csv", 'path,title\na.pdf,"Deck\n', "metadata.csv: line 2: not valid CSV"),
    ("metadata.csv", "path,title\na.pdf,Deck,extra\n", "metadata.csv: line 2: 3 cells but the header has 2 columns"),
    ("metadata.json", '[{"path": "a.pdf",}]', "metadata.json: line 1 column 19: not valid JSON"),
    ("metadata.json", '{"assets": {"path": "a.pdf"}}', 'expected a list of objects or {"assets": [...]}'),
    ("metadata.json", '[{"path": "a.pdf", "tittle": "x"}]', "metadata.json: unknown key 'tittle'"),
])
def test_content_importer_rejects_unusable_metadata_files(file_name, content, message, quiet_env, tmp_path):
    metadata = tmp_path / file_name
    if isinstance(content, bytes):
        metadata.write_bytes(content)
    else:
        metadata.write_text(content)
    proc = content_import(quiet_env, tmp_path, metadata)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith(f"error: {metadata}: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_content_importer_names_a_missing_metadata_file_or_folder(quiet_env, tmp_path):
    missing = run(quiet_env, ["-m", "services.content.importer", str(tmp_path), str(tmp_path / "nope.csv")])
    assert missing.returncode == 1 and f"error: {tmp_path / 'nope.csv'}: no such file" in missing.stderr
    (tmp_path / "m.csv").write_text("path\na.pdf\n")
    no_folder = run(quiet_env, ["-m", "services.content.importer", str(tmp_path / "files"), str(tmp_path / "m.csv")])
    assert no_folder.returncode == 1 and f"error: {tmp_path / 'files'}: no such folder" in no_folder.stderr
    assert "Traceback" not in missing.stderr + no_folder.stderr


def test_content_importer_reports_every_problem_of_a_row(quiet_env, tmp_path):
    metadata = tmp_path / "metadata.csv"
    metadata.write_text("path,title,type,buying_stages,expires_at,status,language\n"
                        "gone.pdf,,poster,awareness;someday,tomorrow,shelved,english!\n")
    proc = content_import(quiet_env, tmp_path, metadata)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    line = next(l for l in proc.stderr.splitlines() if l.startswith(f"{metadata}: line 2 (gone.pdf): "))
    for problem in ("path: no such file", "status: unknown value 'shelved'", "type: unknown value 'poster'",
                    "buying_stages: unknown value 'someday'", "expires_at: not an RFC 3339 time: 'tomorrow'",
                    "language: must be a language code"):
        assert problem in line, problem
    assert proc.stdout.strip().endswith(f"{metadata}: 1 rows, 0 imported, 1 failed")


@pytest.fixture(scope="module")
def content_env(stack: config.Settings) -> config.Settings:
    """The content service's own namespace, so its indices and topics never count as a command's effect."""
    return isolated(stack, "cmdsrv")


@pytest.fixture(scope="module")
def content_address(content_env: config.Settings, start_service) -> str:
    running = start_service(content_spec(content_env))
    wait_serving(running.address, "collateral.v1.ContentService")
    return running.address


def test_content_importer_summary_counts_imported_and_failed(content_env, content_address, tmp_path):
    (tmp_path / "a.pdf").write_bytes(make_pdf("imported by the command test"))
    metadata = tmp_path / "metadata.csv"
    with metadata.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "external_id", "title", "type"])
        writer.writerow(["a.pdf", f"cmd-{content_env.namespace}", "Command test", "deck"])
        writer.writerow(["a.pdf", f"cmd2-{content_env.namespace}", "Bad type", "poster"])
    proc = run(content_env, ["-m", "services.content.importer", str(tmp_path), str(metadata), "--addr", content_address],
               timeout_s=120)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert f"{metadata}: line 3 (a.pdf): type: unknown value 'poster'" in proc.stderr
    assert proc.stdout.strip().endswith(f"{metadata}: 2 rows, 1 imported (created 1), 1 failed")


OUTCOMES_HEADER = "opportunity_id,account_id,owner_rep_id,stage,amount,currency,created_at,closed_at,updated_at\n"


@pytest.mark.parametrize("content, message", [
    ("opportunity_id,stage\no-1,won\n", "outcomes.csv: line 1: missing column 'account_id', 'amount', 'created_at', "
                                        "'currency', 'owner_rep_id', 'updated_at'"),
    (OUTCOMES_HEADER.replace("stage", "stage,colour"), "outcomes.csv: line 1: unknown column 'colour'"),
    (BINARY, "outcomes.csv: line 1: not UTF-8 text"),
    (OUTCOMES_HEADER, "outcomes.csv: no rows to import"),
    ("", "outcomes.csv: line 1: no header"),
])
def test_feedback_importer_rejects_unusable_files(content, message, quiet_env, es, tmp_path):
    path = tmp_path / "outcomes.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    proc = run(quiet_env, ["-m", "services.feedback.importer", str(path)])
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert f"error: {tmp_path}/{message}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert created_in(quiet_env, es) == []  # nothing produced, not even the topic


def test_feedback_importer_names_a_missing_file(quiet_env, tmp_path):
    proc = run(quiet_env, ["-m", "services.feedback.importer", str(tmp_path / "nope.csv")])
    assert proc.returncode == 1
    assert f"error: {tmp_path / 'nope.csv'}: no such file" in proc.stderr and "Traceback" not in proc.stderr


def test_feedback_importer_reports_every_problem_of_a_row(quiet_env, tmp_path):
    path = tmp_path / "outcomes.csv"
    path.write_text(OUTCOMES_HEADER
                    + "o-1,acc-1,rep-1,won,1000,USD,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z,2025-02-01T00:00:00Z\n"
                    + "o-2,acc-2,rep-1,pending,lots,usd,2025-01-01,,2025-02-01T00:00:00Z\n")
    proc = run(quiet_env, ["-m", "services.feedback.importer", str(path), "--dry-run"])
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    problems = [l for l in proc.stderr.splitlines() if l.startswith(f"{path}:3: row 3: ")]
    fields = sorted(l.split(": ")[2] for l in problems)
    assert fields == ["amount", "created_at", "currency", "stage"], problems
    assert not [l for l in proc.stderr.splitlines() if ":2: row 2:" in l]
    assert proc.stdout.strip().endswith(f"{path}: 2 rows: 1 outcomes validated; 1 rows rejected")
