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
    production: bool = _setting(
        False, "Production mode: every process refuses to start with a default secret, a plaintext or unverified "
        "connection (Elasticsearch, Kafka, S3, gRPC) or portal cookies without Secure, listing every problem "
        "(docs/operations.md)."
    )

    kafka_bootstrap: str = _setting("127.0.0.1:9092", "Kafka bootstrap servers, comma separated.")
    kafka_topic_partitions: int = _setting(3, "Partitions of the topics the services create.")
    kafka_replication_factor: int = _setting(1, "Replication factor of the topics the services create.")
    kafka_produce_timeout_s: float = _setting(
        5.0, "Longest an RPC waits for Kafka to acknowledge its events (at most half the call's remaining deadline) "
        "before it answers UNAVAILABLE so the client retries."
    )

    kafka_security_protocol: str = _setting(
        "PLAINTEXT", "Kafka security protocol: PLAINTEXT, SSL (TLS, optionally with a client certificate), "
        "SASL_PLAINTEXT or SASL_SSL (docs/operations.md)."
    )
    kafka_sasl_mechanism: str = _setting(
        "", "SASL mechanism with SASL_SSL or SASL_PLAINTEXT: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (defaults to SCRAM-SHA-512 there)."
    )
    kafka_sasl_username: str = _setting("", "SASL user name (required with SASL_SSL and SASL_PLAINTEXT).")
    kafka_sasl_password: str = _setting("", "SASL password (required with SASL_SSL and SASL_PLAINTEXT).")
    kafka_ssl_cafile: str = _setting(
        "", "PEM bundle of the CAs that signed the brokers' certificates (SSL, SASL_SSL); empty trusts the system's CAs."
    )
    kafka_ssl_certfile: str = _setting(
        "", "PEM client certificate (chain) presented to brokers that require one (SSL, SASL_SSL); set with kafka_ssl_keyfile."
    )
    kafka_ssl_keyfile: str = _setting("", "PEM private key of kafka_ssl_certfile.")
    kafka_ssl_check_hostname: bool = _setting(
        True, "Check that a broker's certificate names the host connected to (SSL, SASL_SSL); production mode refuses it off."
    )

    es_url: str = _setting("http://127.0.0.1:9200", "Elasticsearch URL(s), comma separated.")
    es_api_key: str = _setting(
        "", "Elasticsearch API key, base64 of id:key (the `encoded` field Elasticsearch returns); "
        "exclusive with es_username."
    )
    es_username: str = _setting("", "Elasticsearch user (basic authentication), e.g. elastic; exclusive with es_api_key.")
    es_password: str = _setting("", "Password of es_username.")
    es_ca_certs: str = _setting(
        "", "PEM bundle of the CAs that signed Elasticsearch's HTTP certificate (https URLs); empty trusts the system's CAs."
    )
    es_verify_certs: bool = _setting(
        True, "Verify Elasticsearch's certificate and host name (https URLs); production mode refuses it off."
    )
    es_request_timeout_s: float = _setting(10.0, "Default timeout of one Elasticsearch request, in seconds.")
    es_shards: int = _setting(1, "Primary shards of new indices.")
    es_replicas: int = _setting(0, "Replicas of new indices (0 on a single node).")

    s3_endpoint: str = _setting("http://127.0.0.1:9000", "S3 API endpoint (S3Proxy locally, MinIO in compose, empty for AWS).")
    s3_public_endpoint: str = _setting("", "Endpoint used in presigned URLs given to browsers; defaults to s3_endpoint.")
    s3_region: str = _setting("us-east-1", "S3 region.")
    s3_access_key: str = _setting(
        "collateral", "S3 access key; empty (with s3_secret_key empty) uses the standard AWS credential chain: "
        "environment, profile, web identity (EKS), ECS or EC2 instance role."
    )
    s3_secret_key: str = _setting(
        "collateral-secret", "S3 secret key; empty with s3_access_key empty (credential chain). Production mode refuses the default."
    )
    s3_ca_bundle: str = _setting(
        "", "PEM bundle of the CAs that signed the S3 endpoint's certificate (a private CA); empty trusts the system's CAs."
    )
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
    grpc_tls_cert: str = _setting(
        "", "PEM certificate chain the gRPC servers present; with grpc_tls_key set they listen with TLS only (empty: plaintext)."
    )
    grpc_tls_key: str = _setting("", "PEM private key of grpc_tls_cert.")
    grpc_tls_client_ca: str = _setting(
        "", "PEM CA bundle the gRPC servers verify client certificates against; when set, a client without a "
        "certificate signed by it is refused (mutual TLS)."
    )
    grpc_tls: bool = _setting(
        False, "gRPC clients (portal, importer, rejoin, scripts) connect with TLS; always on in production mode."
    )
    grpc_tls_ca: str = _setting(
        "", "PEM CA bundle gRPC clients verify the servers against (setting it turns client TLS on); empty: the system roots."
    )
    grpc_tls_client_cert: str = _setting(
        "", "PEM certificate chain gRPC clients present for mutual TLS (with grpc_tls_client_key); also turns client TLS on."
    )
    grpc_tls_client_key: str = _setting("", "PEM private key of grpc_tls_client_cert.")
    metrics_port: int = _setting(0, "Prometheus /metrics port; 0 picks the process's default (9464..9471, the portal's is 9470).")
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
    usage_consumer_parse_processes: int = _setting(
        1, "Worker processes that parse and validate usage events for the usage consumer (0: in its own process); "
        "the worker takes over about 40% of the consumer's CPU per event.")
    usage_signals_interval_s: float = _setting(300.0, "How often the usage consumer publishes per-asset usage signals; 0 disables.")
    usage_bot_fast_open_s: float = _setting(10.0, "A customer open this soon after its share was created is a link scanner.")
    usage_share_ttl_days: int = _setting(30, "Default lifetime of share links, in days.")
    share_link_secret: str = _setting(
        "dev-only-share-link-secret-0123456789abcdef",
        "HMAC secret share link tokens are derived from (so owners can copy a link again), at least 32 bytes. "
        "Changing it keeps existing links working but they can no longer be copied again.",
    )
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
    feedback_join_cache_mb: int = _setting(
        512, "Memory budget, in MiB, of the join stage's opportunity states (deal, events, touches and credits; about 13 KB "
        "per opportunity with 14 events and 14 touches): the least recently used beyond it are reloaded from Elasticsearch when next needed."
    )
    feedback_poor_result_max: int = _setting(
        2, "A search for words finding 1 to this many assets is a poor-result search: a content gap counted apart from zero-result searches (0 counts only zero-result ones)."
    )

    content_addr: str = _setting("127.0.0.1:50051", "Address of the content service, for its clients.")
    usage_addr: str = _setting("127.0.0.1:50052", "Address of the usage service, for its clients.")
    feedback_addr: str = _setting("127.0.0.1:50053", "Address of the feedback service, for its clients.")

    consumer_batch_size: int = _setting(500, "Most messages a consumer processes per batch.")
    consumer_session_timeout_s: float = _setting(30.0, "Kafka consumer session timeout: how soon a crashed consumer's partitions move to another.")
    consumer_max_backoff_s: float = _setting(30.0, "Longest pause between retries while a downstream store is down.")
    dlq_max_consecutive: int = _setting(1000, "Consecutive dead-lettered messages after which a consumer stops (bad deploy guard).")
    consumer_parse_processes: int = _setting(
        0, "Worker processes that parse a consumer's messages (0: in the consumer's own process); consumers whose "
        "processor can parse outside its process only.")
    consumer_gc_threshold: int = _setting(
        100_000, "Allocations between the garbage collector's youngest-generation passes in consumer processes "
        "(CPython's 700 makes every batch pay for hundreds of passes); 0 keeps the interpreter's default."
    )
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
    portal_local_signin: bool = _setting(
        True, "Offer sign-in with a portal account and password; turn off to allow single sign-on only."
    )
    portal_oidc_issuer: str = _setting(
        "", "Issuer URL of the OpenID Connect provider (discovery at its /.well-known/openid-configuration); empty disables OIDC sign-in."
    )
    portal_oidc_client_id: str = _setting("", "Client id of the portal at the OpenID Connect provider.")
    portal_oidc_client_secret: str = _setting("", "Client secret of the portal at the OpenID Connect provider.")
    portal_oidc_scopes: str = _setting("openid email profile groups", "Scopes the portal asks the OpenID Connect provider for.")
    portal_oidc_role_claim: str = _setting("groups", "ID token claim (a list or a string) whose values portal_oidc_role_map maps to roles.")
    portal_oidc_role_map: str = _setting(
        "*=rep", "Comma-separated claim-value=role rules (rep, marketer, admin), first match wins; * matches anyone; a user no rule matches is refused."
    )
    portal_oidc_username_claim: str = _setting("email", "ID token claim that names the user (their portal identity).")
    portal_oidc_button_label: str = _setting("single sign-on", "Name of the provider on the sign-in button (\"Sign in with ...\").")

    smtp_host: str = _setting("", "SMTP server that sends email (notifications, one-time codes); empty disables email.")
    smtp_port: int = _setting(587, "Port of the SMTP server (587 submission with STARTTLS, 465 implicit TLS, 25 plain).")
    smtp_security: str = _setting("starttls", "How to secure the SMTP connection: starttls, ssl (implicit TLS) or none.")
    smtp_username: str = _setting("", "SMTP login; empty sends without authenticating.")
    smtp_password: str = _setting("", "SMTP password of smtp_username.")
    smtp_from: str = _setting("Collateral <collateral@localhost>", "From address of every email the product sends.")
    smtp_timeout_s: float = _setting(10.0, "Seconds to wait for the SMTP server before a send counts as failed (retried).")

    usage_notify_quiet_period_h: float = _setting(
        24.0, "A customer open notifies the link's or room's rep again only after this many hours (event time) without an open."
    )
    usage_notify_digest_interval_s: float = _setting(
        900.0, "How often the notifications process looks for finished UTC days whose daily digests are unsent; 0 disables."
    )
    usage_notify_webhook_private_hosts: bool = _setting(
        False, "Let notification webhooks reach private, loopback and link-local addresses (receivers inside your "
        "network) in production mode; outside production mode they always may."
    )
    usage_notify_webhook_timeout_s: float = _setting(
        10.0, "Seconds to wait for a notification webhook to answer before the post counts as failed (retried)."
    )

    log_level: str = _setting("INFO", "Log level of every process.")
    log_format: str = _setting("json", "Log format: json (one object per line) or text.")

    def __post_init__(self) -> None:
        # In production mode a short secret is reported with every other problem (production_problems).
        if len(self.auth_secret.encode()) < 32 and not self.production:
            raise ValueError(f"{env_name('auth_secret')} must be at least 32 bytes (HS256 key length)")
        problems = secured_connection_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

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

    # ---- secured connections ---------------------------------------------------------
    @property
    def kafka_is_encrypted(self) -> bool:
        """Kafka traffic (records, and SASL credentials) goes over TLS."""
        return self.kafka_security_protocol in ("SSL", "SASL_SSL")

    @property
    def kafka_uses_sasl(self) -> bool:
        return self.kafka_security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    @property
    def kafka_sasl_mechanism_in_use(self) -> str:
        """The SASL mechanism clients use: the configured one, SCRAM-SHA-512 when SASL is on and none is set."""
        if not self.kafka_uses_sasl:
            return ""
        return self.kafka_sasl_mechanism or "SCRAM-SHA-512"

    @property
    def es_is_encrypted(self) -> bool:
        """Every Elasticsearch URL is https (and so are the credentials sent to it)."""
        return bool(self.es_hosts) and all(h.lower().startswith("https://") for h in self.es_hosts)

    @property
    def es_is_authenticated(self) -> bool:
        return bool(self.es_api_key or self.es_username)

    @property
    def s3_is_encrypted(self) -> bool:
        """The S3 endpoint is https; an empty endpoint means AWS itself, which botocore reaches over https."""
        return not self.s3_endpoint or self.s3_endpoint.lower().startswith("https://")

    @property
    def s3_uses_credential_chain(self) -> bool:
        """No static keys: boto3's default chain (environment, profile, web identity, ECS/EC2 role) applies."""
        return not self.s3_access_key and not self.s3_secret_key

    @property
    def grpc_server_tls(self) -> bool:
        """Whether the gRPC servers listen with TLS (a certificate and key are configured)."""
        return bool(self.grpc_tls_cert or self.grpc_tls_key)

    @property
    def grpc_client_tls(self) -> bool:
        """Whether gRPC clients connect with TLS: asked for, implied by a CA or client certificate, or production."""
        return self.grpc_tls or self.production or bool(self.grpc_tls_ca or self.grpc_tls_client_cert)


KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KAFKA_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def secured_connection_problems(settings: Settings) -> list[str]:
    """Every contradictory or incomplete Elasticsearch, Kafka or S3 security setting, named by variable.

    Checked when settings are loaded, so a process with a half-configured secured connection
    stops at start with a message naming the variable, instead of connecting in plaintext
    or failing later with a TLS or authentication error that names nothing.
    """
    return _kafka_problems(settings) + _es_problems(settings) + _s3_problems(settings) + _smtp_problems(settings)


def _kafka_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    if s.kafka_security_protocol not in KAFKA_SECURITY_PROTOCOLS:
        return [f"{env_name('kafka_security_protocol')}={s.kafka_security_protocol!r} must be one of "
                f"{', '.join(KAFKA_SECURITY_PROTOCOLS)}"]
    if s.kafka_sasl_mechanism and s.kafka_sasl_mechanism not in KAFKA_SASL_MECHANISMS:
        problems.append(f"{env_name('kafka_sasl_mechanism')}={s.kafka_sasl_mechanism!r} must be one of "
                        f"{', '.join(KAFKA_SASL_MECHANISMS)}")
    sasl_fields = ("kafka_sasl_mechanism", "kafka_sasl_username", "kafka_sasl_password")
    if s.kafka_uses_sasl:
        problems += [f"{env_name(name)} is required with {env_name('kafka_security_protocol')}="
                     f"{s.kafka_security_protocol}" for name in sasl_fields[1:] if not getattr(s, name)]
    else:
        problems += [f"{env_name(name)} is set but {env_name('kafka_security_protocol')}={s.kafka_security_protocol} "
                     "does not use SASL (use SASL_SSL)" for name in sasl_fields if getattr(s, name)]
    ssl_files = ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")
    if not s.kafka_is_encrypted:
        problems += [f"{env_name(name)} is set but {env_name('kafka_security_protocol')}={s.kafka_security_protocol} "
                     "does not use TLS (use SSL or SASL_SSL)" for name in ssl_files if getattr(s, name)]
    if s.kafka_ssl_keyfile and not s.kafka_ssl_certfile:
        problems.append(f"{env_name('kafka_ssl_keyfile')} needs {env_name('kafka_ssl_certfile')} (the client certificate)")
    if s.kafka_ssl_certfile and not s.kafka_ssl_keyfile:
        problems.append(f"{env_name('kafka_ssl_certfile')} needs {env_name('kafka_ssl_keyfile')} (its private key)")
    return problems + _missing_files(s, ssl_files)


def _es_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    if s.es_api_key and s.es_username:
        problems.append(f"set either {env_name('es_api_key')} or {env_name('es_username')}, not both")
    if s.es_username and not s.es_password:
        problems.append(f"{env_name('es_password')} is required with {env_name('es_username')}")
    if s.es_password and not s.es_username:
        problems.append(f"{env_name('es_password')} is set without {env_name('es_username')}")
    if s.es_ca_certs and not s.es_is_encrypted:
        problems.append(f"{env_name('es_ca_certs')} is set but {env_name('es_url')}={s.es_url!r} is not https")
    return problems + _missing_files(s, ("es_ca_certs",))


def _s3_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    if bool(s.s3_access_key) != bool(s.s3_secret_key):
        problems.append(f"{env_name('s3_access_key')} and {env_name('s3_secret_key')} must both be set, or both be "
                        "empty (the AWS credential chain: environment, profile, web identity, instance role)")
    return problems + _missing_files(s, ("s3_ca_bundle",))


SMTP_SECURITY = ("starttls", "ssl", "none")


def _smtp_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    if s.smtp_security not in SMTP_SECURITY:
        problems.append(f"{env_name('smtp_security')}={s.smtp_security!r} must be one of {', '.join(SMTP_SECURITY)}")
    if s.smtp_password and not s.smtp_username:
        problems.append(f"{env_name('smtp_password')} is set without {env_name('smtp_username')}")
    if s.smtp_username and s.smtp_security == "none":
        problems.append(f"{env_name('smtp_username')} is set with {env_name('smtp_security')}=none: the password "
                        "would cross the network in plaintext (use starttls or ssl)")
    return problems


def _missing_files(s: Settings, names: tuple[str, ...]) -> list[str]:
    """A configured certificate or key path that cannot be read is named at start, not at first connect."""
    problems = []
    for name in names:
        path = getattr(s, name)
        if path and not os.path.isfile(path):
            problems.append(f"{env_name(name)}={path!r}: no such file")
        elif path and not os.access(path, os.R_OK):
            problems.append(f"{env_name(name)}={path!r}: not readable")
    return problems


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
        kind = kinds[str(hints[f.name])]
        raw = environ[name] if name in environ else None
        if kind is str:
            raw = _from_file(environ, name, raw)
        if raw is not None:
            try:
                values[f.name] = _coerce(raw, kind, name)
            except ValueError as exc:
                raise ValueError(f"invalid {name}={raw!r}: {exc}") from None
    values.update(overrides)
    settings = Settings(**values)
    refuse_insecure_production(settings)
    return settings


FILE_SUFFIX = "_FILE"


def file_variables() -> set[str]:
    """`COLLATERAL_<NAME>_FILE` of every text setting: the value is read from that file (mounted secrets)."""
    return {env_name(f.name) + FILE_SUFFIX for f in dataclasses.fields(Settings) if str(f.type) == "str"}


def _from_file(environ: Mapping[str, str], name: str, raw: str | None) -> str | None:
    """The value of `name`, or the content of the file `<name>_FILE` names (trailing newline dropped).

    Docker and Kubernetes secrets arrive as files; reading them keeps secrets out of the
    environment, which `docker inspect` and crash reports show.
    """
    path = environ.get(name + FILE_SUFFIX)
    if not path:
        return raw
    if raw is not None:
        raise ValueError(f"set either {name} or {name}{FILE_SUFFIX}, not both")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().rstrip("\r\n")
    except OSError as exc:
        raise ValueError(f"{name}{FILE_SUFFIX}={path!r}: cannot be read: {exc.strerror or exc}") from None


# ---- production mode -------------------------------------------------------------------

# Secrets that are public (they are in this repository); a production process refuses them.
_PUBLIC_SECRETS = {
    "auth_secret": {"dev-only-insecure-secret-change-me-0123456789", "compose-only-insecure-secret-change-me-0123456789"},
    "portal_secret_key": {"dev-only-portal-secret"},
    "share_link_secret": {"dev-only-share-link-secret-0123456789abcdef"},
}
MIN_SECRET_BYTES = 32


class InsecureProduction(SystemExit):
    """Production mode with an insecure setting: the process exits (status 1) naming every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"refusing to start in production mode ({env_name('production')}=1): "
                         f"{len(self.problems)} insecure setting(s):\n{lines}")

    def __str__(self) -> str:
        return str(self.code)


def _secret_problems(settings: Settings) -> list[str]:
    problems = []
    for name, public in _PUBLIC_SECRETS.items():
        value = getattr(settings, name)
        if value in public:
            problems.append(f"{env_name(name)} is a default published with Collateral: set a random secret "
                            f"(e.g. `openssl rand -hex 32`), or {env_name(name)}{FILE_SUFFIX} naming a file holding it")
        elif len(value.encode()) < MIN_SECRET_BYTES:
            problems.append(f"{env_name(name)} is shorter than {MIN_SECRET_BYTES} bytes")
    return problems + _s3_key_problems(settings)


def _s3_key_problems(settings: Settings) -> list[str]:
    """The published static S3 secret key; the access key is a name (it travels in every request), not a secret."""
    if settings.s3_secret_key != _default("s3_secret_key"):
        return []
    return [f"{env_name('s3_secret_key')} is a default published with Collateral: set the S3 user's own secret key "
            f"({env_name('s3_secret_key')}{FILE_SUFFIX} naming a file holding it), or leave "
            f"{env_name('s3_access_key')} and {env_name('s3_secret_key')} empty for the AWS credential chain"]


def _default(field_name: str) -> Any:
    return Settings.__dataclass_fields__[field_name].default


def _connection_problems(settings: Settings) -> list[str]:
    problems = []
    if not settings.es_is_encrypted:
        problems.append(f"{env_name('es_url')} is not https:// ({settings.es_url}): Elasticsearch traffic would be plaintext")
    if not settings.kafka_is_encrypted:
        problems.append(f"{env_name('kafka_security_protocol')} is {settings.kafka_security_protocol}: "
                        "Kafka traffic would be plaintext, use SSL or SASL_SSL")
    if not settings.s3_is_encrypted:
        problems.append(f"{env_name('s3_endpoint')} is not https:// ({settings.s3_endpoint}): use https:// (empty for AWS)")
    problems += _verification_problems(settings)
    if settings.smtp_host and settings.smtp_security == "none":
        problems.append(f"{env_name('smtp_security')} is none: email (one-time codes included) would cross the network "
                        "in plaintext, use starttls or ssl")
    return problems


def _verification_problems(settings: Settings) -> list[str]:
    """Encryption without checking whom it is with: anyone on the path can present a certificate and read along.

    S3 and gRPC clients have no such switch (they always verify; a private CA is configured instead).
    """
    problems = []
    if not settings.es_verify_certs:
        problems.append(f"{env_name('es_verify_certs')} is off: Elasticsearch's certificate and host name would not "
                        f"be checked, set {env_name('es_ca_certs')} to the CA that signed it instead")
    if not settings.kafka_ssl_check_hostname:
        problems.append(f"{env_name('kafka_ssl_check_hostname')} is off: a certificate of any host would pass for the "
                        "brokers', use broker certificates that name the hosts clients connect to")
    return problems


def _grpc_problems(settings: Settings) -> list[str]:
    problems = []
    if not (settings.grpc_tls_cert and settings.grpc_tls_key):
        problems.append(f"{env_name('grpc_tls_cert')} and {env_name('grpc_tls_key')} must both be set: "
                        "gRPC servers would listen in plaintext")
    if bool(settings.grpc_tls_client_cert) != bool(settings.grpc_tls_client_key):
        problems.append(f"{env_name('grpc_tls_client_cert')} and {env_name('grpc_tls_client_key')} must be set together")
    return problems


def _portal_problems(settings: Settings) -> list[str]:
    problems = []
    if not (settings.portal_cookie_secure or settings.portal_public_url.lower().startswith("https://")):
        problems.append(f"portal cookies would lack Secure: set {env_name('portal_public_url')} to an https:// URL "
                        f"or {env_name('portal_cookie_secure')}=1")
    if settings.portal_trusted_user_header and not settings.portal_trusted_proxies.strip():
        problems.append(f"{env_name('portal_trusted_user_header')} is set but {env_name('portal_trusted_proxies')} "
                        "is empty: name the sign-on proxies whose identity header the portal may believe")
    if settings.portal_oidc_issuer.lower().startswith("http://"):
        problems.append(f"{env_name('portal_oidc_issuer')} is http:// ({settings.portal_oidc_issuer}): tokens and "
                        "keys would be fetched in plaintext, use the provider's https:// issuer")
    return problems


def production_problems(settings: Settings) -> list[str]:
    """Every reason these settings are unfit for production, in one list (empty: fit).

    Checked whatever `production` says, so tests and tools can ask; only production mode
    refuses to start on them (refuse_insecure_production).
    """
    return (_secret_problems(settings) + _connection_problems(settings) + _grpc_problems(settings)
            + _portal_problems(settings))


def refuse_insecure_production(settings: Settings) -> None:
    """Raise InsecureProduction (exit status 1) when production mode meets any problem.

    Every process entry calls it before it binds a port or connects anywhere: load() does,
    and so do the gRPC bootstrap, the consumer process loop and the portal factory, which
    may also be handed settings built without load().
    """
    if not settings.production:
        return
    problems = production_problems(settings)
    if problems:
        raise InsecureProduction(problems)


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
