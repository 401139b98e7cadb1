"""Every Prometheus metric Collateral exports, declared once.

Conventions: one `collateral_` prefix, base units (`_seconds`, `_bytes`), `_total`
counters, no ids as label values (label sets stay bounded), and the status code kept
off the latency histogram so its cardinality stays small.
"""

from __future__ import annotations

import threading

from prometheus_client import Counter, Gauge, Histogram, start_http_server

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# ---- gRPC servers -----------------------------------------------------------------
GRPC_REQUESTS = Counter(
    "collateral_grpc_requests", "gRPC calls handled, by final status code.", ["service", "method", "code"]
)
GRPC_DURATION = Histogram(
    "collateral_grpc_request_duration_seconds", "gRPC call latency.", ["service", "method"], buckets=_LATENCY_BUCKETS
)
GRPC_IN_FLIGHT = Gauge("collateral_grpc_requests_in_flight", "gRPC calls being handled.", ["service"])
DEPENDENCY_UP = Gauge(
    "collateral_dependency_up", "1 when the last health probe of a dependency succeeded.", ["service", "dependency"]
)
HEALTH_SERVING = Gauge(
    "collateral_health_serving",
    "1 while a health name is SERVING: (server), the gRPC service, or one of its capabilities.",
    ["service", "name"],
)

# ---- calls to Elasticsearch, S3, Kafka ----------------------------------------------
DEPENDENCY_DURATION = Histogram(
    "collateral_dependency_request_duration_seconds",
    "Latency of calls to Elasticsearch, S3 and Kafka.",
    ["dependency", "operation"],
    buckets=_LATENCY_BUCKETS,
)
DEPENDENCY_ERRORS = Counter(
    "collateral_dependency_errors", "Failed calls to Elasticsearch, S3 and Kafka.", ["dependency", "operation"]
)
EVENTS_PRODUCED = Counter("collateral_events_produced", "Events acknowledged by Kafka.", ["topic"])

# ---- stream consumers --------------------------------------------------------------
CONSUMER_MESSAGES = Counter("collateral_consumer_messages", "Messages polled from Kafka.", ["consumer"])
CONSUMER_EVENTS = Counter(
    "collateral_consumer_events",
    "Consumed events by outcome: written, duplicate, stale, filtered, dead_lettered.",
    ["consumer", "outcome"],
)
CONSUMER_DEAD_LETTERS = Counter(
    "collateral_consumer_dead_letters", "Messages sent to a dead-letter topic, by reason.", ["consumer", "reason"]
)
CONSUMER_BATCH_DURATION = Histogram(
    "collateral_consumer_batch_duration_seconds",
    "Time to process and commit one batch.",
    ["consumer"],
    buckets=_LATENCY_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "collateral_consumer_lag_messages", "End offset minus committed offset.", ["consumer", "topic", "partition"]
)
CONSUMER_EVENT_TIME_LAG = Gauge(
    "collateral_consumer_event_time_lag_seconds", "Now minus the newest processed event time.", ["consumer"]
)
CONSUMER_LAST_COMMIT = Gauge(
    "collateral_consumer_last_commit_timestamp_seconds", "Unix time of the last offset commit.", ["consumer"]
)
CONSUMER_PARSE_WORKER_RESTARTS = Counter(
    "collateral_consumer_parse_worker_restarts",
    "Parse worker processes that died (the batch was parsed in the consumer, new workers started).",
    ["consumer"],
)
CONSUMER_COMMIT_FAILURES = Counter(
    "collateral_consumer_commit_failures",
    "Offset commits that failed because Kafka was unreachable (the batch was written; a later commit covers it).",
    ["consumer"],
)
CONSUMER_RETRIES = Counter(
    "collateral_consumer_downstream_retries", "Batches retried because a downstream store was unavailable.", ["consumer"]
)
CONSUMER_PAUSED = Gauge("collateral_consumer_paused", "1 while consumption is paused for backoff.", ["consumer"])
CONSUMER_HEARTBEAT = Gauge(
    "collateral_consumer_heartbeat_timestamp_seconds",
    "Unix time the consumer loop last made progress (a poll returned or a write finished); liveness follows it.",
    ["consumer"],
)

# ---- content service ------------------------------------------------------------------
CONTENT_SEARCHES = Counter(
    "collateral_content_searches", "Searches served, by whether they found anything (zero_result, found).", ["result"]
)
CONTENT_EXTRACTIONS = Counter(
    "collateral_content_extractions", "Text extractions from uploaded files, by outcome (ok, failed, unsupported).", ["status"]
)
CONTENT_UPLOAD_BYTES = Counter("collateral_content_upload_bytes", "Bytes of asset files stored in S3.")
CONTENT_FILES_REFUSED = Counter(
    "collateral_content_files_refused",
    "Uploaded files refused for breaking a processing limit, by limit (bounds, cpu, memory, crash).",
    ["limit"],
)
CONTENT_WORKER_KILLS = Counter(
    "collateral_content_worker_kills",
    "Sandboxed file workers killed or lost and replaced, by reason (cpu, memory, crash, timeout, start).",
    ["reason"],
)
CONTENT_OFFICE_CONVERSIONS = Counter(
    "collateral_content_office_conversions",
    "Office-to-PDF preview conversions by outcome (ok, bounds, timeout, cpu, crash, failed, missing, busy).",
    ["outcome"],
)
CONTENT_IMPORTED = Counter(
    "collateral_content_imported_assets",
    "Items of ImportAssets by outcome: created, updated, file_updated, unchanged, failed.",
    ["outcome"],
)
CONTENT_SIGNALS = Counter(
    "collateral_content_signals", "Ranking signals consumed, by outcome (applied, stale, unknown_asset).", ["outcome"]
)

# ---- usage service ----------------------------------------------------------------------
USAGE_EVENTS_RECORDED = Counter(
    "collateral_usage_events_recorded", "Usage events accepted by RecordEvents and acknowledged by Kafka.", ["type"]
)
USAGE_BOT_EVENTS = Counter(
    "collateral_usage_bot_events", "Customer events classified as bots (link scanners, previews), by reason.", ["reason"]
)
USAGE_UNKNOWN_ASSET_EVENTS = Counter(
    "collateral_usage_unknown_asset_events", "Usage events stored for asset ids the catalog did not know yet."
)
USAGE_ROLLUPS_WRITTEN = Counter(
    "collateral_usage_rollups_written", "Daily per-asset rollup documents recomputed and written."
)
USAGE_SIGNALS_PUBLISHED = Counter(
    "collateral_usage_signals_published", "Per-asset usage signals produced to the signals topic."
)
USAGE_CLASSIFIED_PUBLISHED = Counter(
    "collateral_usage_classified_published",
    "Stored usage events published with their bot verdict to usage.classified.v1, by cause (stored, replayed, reflagged).",
    ["cause"],
)
USAGE_SHARE_LINKS = Counter(
    "collateral_usage_share_links", "Share link operations, by outcome (created, resolved, expired, revoked, not_found, revealed; deal rooms: room_created, room_resolved, room_expired, room_revoked, room_not_found, room_revealed).",
    ["outcome"],
)

# ---- usage notifications (services/usage/notifications.py) ----------------------------------
USAGE_NOTIFICATIONS_RAISED = Counter(
    "collateral_usage_notifications_raised", "Customer-open notifications raised for reps, by kind (first_open, reopen).",
    ["kind"],
)
USAGE_NOTIFICATIONS_SENT = Counter(
    "collateral_usage_notifications_sent",
    "Notification messages delivered, by channel (email, webhook) and delivery (immediate, digest).",
    ["channel", "delivery"],
)
USAGE_NOTIFICATIONS_FAILED = Counter(
    "collateral_usage_notifications_failed",
    "Notification messages refused for good and recorded as failed (never retried), by channel and delivery.",
    ["channel", "delivery"],
)
USAGE_NOTIFICATION_RETRIES = Counter(
    "collateral_usage_notification_retries",
    "Notification sends that failed temporarily (SMTP server or webhook down) and will be retried, by channel.",
    ["channel"],
)
USAGE_NOTIFICATION_DIGEST_RUNS = Counter(
    "collateral_usage_notification_digest_runs", "Daily digest job runs, by outcome (ok, failed).", ["outcome"]
)

# ---- feedback service ---------------------------------------------------------------------
FEEDBACK_OUTCOMES_RECORDED = Counter(
    "collateral_feedback_outcomes_recorded", "Deal outcomes accepted by RecordDealOutcomes and acknowledged by Kafka."
)
FEEDBACK_TOUCHES_WRITTEN = Counter(
    "collateral_feedback_touches_written", "Touch documents (asset x opportunity) recomputed and written by the join."
)
FEEDBACK_TOUCHES_DELETED = Counter(
    "collateral_feedback_touches_deleted", "Touch documents deleted because they no longer hold (correction, window)."
)
FEEDBACK_ROUTED = Counter(
    "collateral_feedback_routed", "Join inputs re-keyed by opportunity to feedback.join.v1 by the router, by kind (deal, event).",
    ["kind"],
)
FEEDBACK_JOIN_CACHED = Gauge(
    "collateral_feedback_join_cached_opportunities", "Opportunities whose join state the join stage holds in memory."
)
FEEDBACK_JOIN_CACHED_BYTES = Gauge(
    "collateral_feedback_join_cached_bytes",
    "Estimated memory of the join states held (bounded by COLLATERAL_FEEDBACK_JOIN_CACHE_MB at the end of each batch).",
)
FEEDBACK_JOIN_RELOADS = Counter(
    "collateral_feedback_join_reloads",
    "Opportunities whose join state was (re)loaded from Elasticsearch, by cause (deal, miss).", ["cause"],
)
FEEDBACK_CREDITS_WRITTEN = Counter(
    "collateral_feedback_credits_written", "Attribution credit documents (won deal x asset) written with recomputed touches."
)
FEEDBACK_CREDITS_DELETED = Counter(
    "collateral_feedback_credits_deleted", "Attribution credit documents deleted (the deal is no longer won, or the asset no longer touches it)."
)
FEEDBACK_ROLLUPS_WRITTEN = Counter(
    "collateral_feedback_rollups_written",
    "Rollup documents (asset x close month) recomputed from touches and credits and written (stale versions excluded).",
)
FEEDBACK_MARKOV_COMPUTED = Gauge(
    "collateral_feedback_markov_computed_timestamp_seconds",
    "When this process last stored the background Markov removal-effect attribution (its as-of time).",
)
FEEDBACK_MARKOV_DURATION = Gauge(
    "collateral_feedback_markov_duration_seconds", "How long the last background Markov attribution run took."
)
FEEDBACK_SIGNALS_PUBLISHED = Counter(
    "collateral_feedback_signals_published", "Per-asset win-rate signals produced to the signals topic."
)
FEEDBACK_SUBMISSIONS = Counter(
    "collateral_feedback_submissions", "Rep feedback stored, by kind (rating, content_request).", ["kind"]
)

# ---- portal ---------------------------------------------------------------------------------
PORTAL_REQUESTS = Counter(
    "collateral_portal_requests", "Portal HTTP requests, by route, method and status code.", ["route", "method", "status"]
)
PORTAL_REQUEST_DURATION = Histogram(
    "collateral_portal_request_duration_seconds", "Portal HTTP request latency.", ["route"], buckets=_LATENCY_BUCKETS
)
PORTAL_BACKEND_ERRORS = Counter(
    "collateral_portal_backend_errors", "Failed gRPC calls from the portal, by service and status code.", ["service", "code"]
)
PORTAL_SIGN_INS = Counter("collateral_portal_sign_ins", "Sign-in attempts, by outcome (ok, failed, throttled).", ["outcome"])
PORTAL_SIGN_IN_THROTTLED = Counter(
    "collateral_portal_sign_in_throttled",
    "Sign-in attempts answered 429 before the password was checked, by rule (delay, address, global).",
    ["rule"],
)
PORTAL_SESSIONS_ENDED = Counter(
    "collateral_portal_sessions_ended",
    "Portal sessions ended, by reason (sign_out, replaced, idle, expired, revoked).",
    ["reason"],
)
PORTAL_SHARE_VISITS = Counter(
    "collateral_portal_share_visits",
    "Share link visits, by outcome (shown, beacon_open, beacon_over_cap, page_view, expired, revoked, not_found).",
    ["outcome"],
)
PORTAL_SHARE_GATE = Counter(
    "collateral_portal_share_gate",
    "Customer access checks of share links and rooms, by step (passcode, email, code) and outcome (passed, wrong, "
    "throttled, sent, refused, unavailable, expired, exhausted).",
    ["step", "outcome"],
)

# ---- audit log -----------------------------------------------------------------------
AUDIT_ENTRIES = Counter(
    "collateral_audit_entries", "Audit entries stored, by service and phase (attempt, final).", ["service", "phase"]
)
AUDIT_WRITE_FAILURES = Counter(
    "collateral_audit_write_failures",
    "Audit entries that could not be stored, by service and phase: an attempt failure refused the change "
    "(UNAVAILABLE); a final failure left only the attempt entry (alert on it).",
    ["service", "phase"],
)

_started: set[int] = set()
_lock = threading.Lock()


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics on `port` once per process (a second call for the same port is a no-op)."""
    with _lock:
        if port in _started:
            return
        start_http_server(port, addr=host)
        _started.add(port)
