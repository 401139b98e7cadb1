"""The one place that reads the environment.

Every setting has a documented default that works against the local stack
(`deploy/local/stack up`), so a developer needs no configuration at all, while
docker compose and Kubernetes override the same names. `python -m
services.common.config` prints the table that the README's configuration
reference is checked against.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

_ENV_PREFIX = "COLLATERAL_"


def _setting(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; field `kafka_bootstrap` is read from `COLLATERAL_KAFKA_BOOTSTRAP`."""

    # Naming: every topic, index, bucket prefix and consumer group is derived from
    # the namespace, so two deployments (or two test runs) share one cluster safely.
    namespace: str = _setting("collateral", "Prefix of every Kafka topic, Elasticsearch index and consumer group.")

    kafka_bootstrap: str = _setting("127.0.0.1:9092", "Kafka bootstrap servers, comma separated.")
    kafka_topic_partitions: int = _setting(3, "Partitions of the topics the services create.")
    kafka_replication_factor: int = _setting(1, "Replication factor of the topics the services create.")
    kafka_produce_timeout_s: float = _setting(
        5.0, "Longest an RPC waits for Kafka to acknowledge its events (at most half the call's remaining deadline) "
        "before it answers UNAVAILABLE so the client retries."
    )

    es_url: str = _setting("http://127.0.0.1:9200", "Elasticsearch URL(s), comma separated.")
    es_request_timeout_s: float = _setting(10.0, "Default timeout of one Elasticsearch request, in seconds.")
    es_shards: int = _setting(1, "Primary shards of new indices.")
    es_replicas: int = _setting(0, "Replicas of new indices (0 on a single node).")

    s3_endpoint: str = _setting("http://127.0.0.1:9000", "S3 API endpoint (S3Proxy locally, MinIO in compose, empty for AWS).")
    s3_public_endpoint: str = _setting("", "Endpoint used in presigned URLs given to browsers; defaults to s3_endpoint.")
    s3_region: str = _setting("us-east-1", "S3 region.")
    s3_access_key: str = _setting("collateral", "S3 access key.")
    s3_secret_key: str = _setting("collateral-secret", "S3 secret key.")
    s3_bucket: str = _setting("collateral", "Bucket holding asset files.")

    auth_secret: str = _setting(
        "dev-only-insecure-secret-change-me-0123456789",
        "HMAC secret signing bearer tokens (HS256), at least 32 bytes. Change it in production.",
    )
    auth_issuer: str = _setting("collateral", "Issuer claim of bearer tokens.")
    token_ttl_s: int = _setting(3600, "Lifetime of tokens minted by the portal and collateral-token, in seconds.")

    grpc_host: str = _setting("127.0.0.1", "Address the gRPC servers bind to (0.0.0.0 in containers).")
    grpc_port: int = _setting(0, "gRPC port; 0 picks the service's default (content 50051, usage 50052, feedback 50053).")
    grpc_workers: int = _setting(16, "Worker threads per gRPC server.")
    grpc_shutdown_grace_s: float = _setting(10.0, "Seconds in-flight calls get to finish on SIGTERM.")
    metrics_port: int = _setting(0, "Prometheus /metrics port; 0 picks the process's default (9464..9468, portal serves its own).")
    metrics_host: str = _setting("127.0.0.1", "Address /metrics binds to (0.0.0.0 in containers).")
    health_check_interval_s: float = _setting(5.0, "How often dependencies are probed for the health status.")
    health_probe_timeout_s: float = _setting(
        2.0, "Hard deadline of one dependency probe (probes run in parallel, without client retries); no answer in time means down."
    )

    content_max_file_bytes: int = _setting(100 * 1024 * 1024, "Largest asset file the content service accepts, in bytes.")
    content_upload_url_ttl_s: int = _setting(900, "Lifetime of presigned upload (PUT) URLs, in seconds.")
    content_download_url_ttl_s: int = _setting(300, "Lifetime of presigned download (GET) URLs, in seconds.")
    content_max_extracted_chars: int = _setting(1_000_000, "Extracted document text kept in the search index per asset.")
    content_worker_processes: int = _setting(2, "Sandboxed worker processes that parse uploaded files and render PDF pages.")
    content_worker_cpu_s: int = _setting(30, "CPU seconds one text extraction or page render may use before its worker is killed (the upload is refused).")
    content_worker_timeout_s: float = _setting(120.0, "Wall-clock seconds one extraction or page render may take before its worker is killed (UNAVAILABLE: retry).")
    content_worker_memory_bytes: int = _setting(1024 * 1024 * 1024, "Address-space limit (RLIMIT_AS) of each sandboxed worker process, in bytes.")
    content_zip_max_uncompressed_bytes: int = _setting(256 * 1024 * 1024, "Most bytes a DOCX, PPTX or XLSX may inflate to (sum of its members' sizes).")
    content_zip_max_ratio: int = _setting(100, "Highest compression ratio of one member (over 1 MiB inflated) of a DOCX, PPTX or XLSX.")
    content_zip_max_entries: int = _setting(10_000, "Most members a DOCX, PPTX or XLSX may have.")
    content_pdf_max_pages: int = _setting(10_000, "Most pages an uploaded PDF may have.")
    content_render_max_pixels: int = _setting(16_000_000, "Largest rendered page bitmap, in pixels; taller or wider pages are rendered smaller.")
    content_office_command: str = _setting("soffice", "LibreOffice executable that converts PPTX, DOCX, XLSX and ODF files to PDF for previews (headless).")
    content_office_timeout_s: float = _setting(60.0, "Wall-clock seconds one Office-to-PDF conversion may take before LibreOffice is killed (the file is stored without a preview).")
    content_office_memory_bytes: int = _setting(2 * 1024 * 1024 * 1024, "Address-space limit (RLIMIT_AS) of each LibreOffice conversion process, in bytes.")
    content_office_conversions: int = _setting(2, "Office-to-PDF conversions one content server runs at once; more uploads wait (UNAVAILABLE after the conversion timeout).")

    usage_max_batch: int = _setting(1000, "Most events one RecordEvents call accepts.")
    usage_consumer_batch_size: int = _setting(5000, "Most messages the usage consumer processes per batch (larger batches amortise the per-batch rollup recompute).")
    usage_consumer_pipelined: bool = _setting(True, "Poll and parse the next batch while the previous one is written (usage consumer).")
    usage_signals_interval_s: float = _setting(300.0, "How often the usage consumer publishes per-asset usage signals; 0 disables.")
    usage_bot_fast_open_s: float = _setting(10.0, "A customer open this soon after its share was created is a link scanner.")
    usage_share_ttl_days: int = _setting(30, "Default lifetime of share links, in days.")
    usage_share_opens_per_client_day: int = _setting(
        10, "Customer opens of one share link counted per client (IP) and UTC day; later ones are flagged beacon_flood."
    )
    usage_share_opens_per_link_day: int = _setting(
        100, "Customer opens of one share link counted per UTC day over all clients; later ones are flagged beacon_flood."
    )

    feedback_touch_grace_days: float = _setting(
        7.0, "Usage up to this many days after a deal closed still counts as touching it (the join window's grace)."
    )
    feedback_sourcing_lookback_days: float = _setting(
        90.0, "Usage on an account up to this many days before an opportunity was created counts as sourcing it."
    )
    feedback_markov_interval_s: float = _setting(
        600.0, "How often the feedback consumer recomputes the Markov removal-effect attribution; 0 disables."
    )
    feedback_min_closed_deals: int = _setting(10, "Closed deals an asset needs before it is ranked or called significant.")
    feedback_significance_level: float = _setting(
        0.05, "False discovery rate of the win-rate reports: a ranked asset's lift is significant when its "
        "Benjamini-Hochberg q-value (over every ranked asset of the report) is below it.")
    feedback_signals_interval_s: float = _setting(300.0, "How often the feedback consumer publishes win-rate signals; 0 disables.")
    feedback_max_batch: int = _setting(1000, "Most deal outcomes one RecordDealOutcomes call accepts.")
    feedback_join_partitions: int = _setting(
        6, "Partitions of the join's internal topic (feedback.join.v1): the most feedback consumer processes that share the join."
    )
    feedback_consumer_batch_size: int = _setting(
        5000, "Most messages the feedback consumer's router and join stages each process per batch."
    )
    feedback_join_cache_opportunities: int = _setting(
        200_000, "Opportunities whose deal, events and touches the join stage keeps in memory (least recently used beyond it are reloaded from Elasticsearch)."
    )

    content_addr: str = _setting("127.0.0.1:50051", "Address of the content service, for its clients.")
    usage_addr: str = _setting("127.0.0.1:50052", "Address of the usage service, for its clients.")
    feedback_addr: str = _setting("127.0.0.1:50053", "Address of the feedback service, for its clients.")

    consumer_batch_size: int = _setting(500, "Most messages a consumer processes per batch.")
    consumer_session_timeout_s: float = _setting(30.0, "Kafka consumer session timeout: how soon a crashed consumer's partitions move to another.")
    consumer_max_backoff_s: float = _setting(30.0, "Longest pause between retries while a downstream store is down.")
    dlq_max_consecutive: int = _setting(1000, "Consecutive dead-lettered messages after which a consumer stops (bad deploy guard).")
    consumer_liveness_timeout_s: float = _setting(
        120.0, "Seconds a consumer loop may go without progress (a poll returned, a write finished) before its /healthz fails."
    )

    portal_host: str = _setting("127.0.0.1", "Address the portal binds to.")
    portal_port: int = _setting(8080, "Portal HTTP port.")
    portal_public_url: str = _setting("http://127.0.0.1:8080", "Portal URL as customers reach it (share links).")
    portal_secret_key: str = _setting("dev-only-portal-secret", "Flask session and CSRF secret. Change it in production.")
    portal_threads: int = _setting(8, "Worker threads of the portal's HTTP server (waitress).")
    portal_cookie_secure: bool = _setting(
        False, "Mark session cookies Secure (HTTPS only); also on whenever portal_public_url starts with https://."
    )
    portal_trusted_user_header: str = _setting(
        "", "Header carrying the signed-in user's email from an SSO proxy, e.g. X-Forwarded-User; empty disables it."
    )
    portal_trusted_role_header: str = _setting(
        "", "Header carrying the user's role (rep, marketer, admin) from the SSO proxy; empty means rep."
    )
    portal_trusted_proxies: str = _setting(
        "", "Comma-separated IPs or CIDRs of proxies whose identity headers and X-Forwarded-For the portal believes."
    )
    portal_session_idle_timeout_s: int = _setting(
        7200, "A portal session ends after this many seconds without a request (checked within a minute)."
    )
    portal_session_max_age_s: int = _setting(43200, "A portal session ends this many seconds after sign-in, however active.")
    portal_signin_window_s: int = _setting(300, "Window over which failed sign-ins are counted, in seconds.")
    portal_signin_free_failures: int = _setting(
        3, "Failed sign-ins a client may make for one account before each further attempt is delayed."
    )
    portal_signin_max_delay_s: float = _setting(
        5.0, "Longest delay a failing client waits between sign-in attempts for one account (the delay doubles up to it)."
    )
    portal_signin_address_max_failures: int = _setting(
        30, "Failed sign-ins from one client address within the window after which that address gets 429."
    )
    portal_signin_checks_per_s: float = _setting(
        10.0, "Password checks one portal process makes per second at most (scrypt is CPU-bound); more get 429."
    )

    log_level: str = _setting("INFO", "Log level of every process.")
    log_format: str = _setting("json", "Log format: json (one object per line) or text.")

    def __post_init__(self) -> None:
        if len(self.auth_secret.encode()) < 32:
            raise ValueError(f"{env_name('auth_secret')} must be at least 32 bytes (HS256 key length)")

    # ---- derived names -------------------------------------------------------------
    def topic(self, name: str) -> str:
        """Namespaced topic name, e.g. topic('usage.v1') -> 'collateral.usage.v1'."""
        return f"{self.namespace}.{name}"

    def index(self, name: str) -> str:
        """Namespaced index or alias name (Elasticsearch wants lower case)."""
        return f"{self.namespace}-{name}".lower()

    def group(self, name: str) -> str:
        """Namespaced consumer group id."""
        return f"{self.namespace}.{name}"

    @property
    def es_hosts(self) -> list[str]:
        return [u.strip() for u in self.es_url.split(",") if u.strip()]


def env_name(field_name: str) -> str:
    return _ENV_PREFIX + field_name.upper()


def _coerce(raw: str, kind: type, name: str) -> Any:
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    if kind is bool:
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"{name}: expected a boolean, got {raw!r}")
    return raw


def load(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from the environment; explicit overrides win (tests use them)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    hints = {f.name: f.type for f in dataclasses.fields(Settings)}
    kinds = {"int": int, "float": float, "bool": bool, "str": str}
    for f in dataclasses.fields(Settings):
        name = env_name(f.name)
        if name in environ:
            try:
                values[f.name] = _coerce(environ[name], kinds[str(hints[f.name])], name)
            except ValueError as exc:
                raise ValueError(f"invalid {name}={environ[name]!r}: {exc}") from None
    values.update(overrides)
    return Settings(**values)


def reference() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting, as documented in the README."""
    return [(env_name(f.name), str(f.default), f.metadata["doc"]) for f in dataclasses.fields(Settings)]


def reference_table() -> str:
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    rows += [f"| `{var}` | `{default}` | {doc} |" for var, default, doc in reference()]
    return "\n".join(rows)


def _update_readme(path: str) -> None:
    """Rewrite the README's configuration section between its markers."""
    text = open(path, encoding="utf-8").read()
    start, end = "<!-- config:start -->", "<!-- config:end -->"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    open(path, "w", encoding="utf-8").write(f"{head}{start}\n{reference_table()}\n{end}{tail}")


if __name__ == "__main__":
    from services.common import cli

    command = cli.parser("python -m services.common.config", __doc__)
    command.add_argument("--readme", nargs="?", const="README.md", metavar="PATH",
                         help="rewrite the configuration table of this README (default README.md) instead of printing it")
    args = command.parse_args()
    if args.readme:
        _update_readme(args.readme)
    else:
        print(reference_table())
