"""Server-side portal sessions in the `portal-sessions` index.

The cookie carries only a random session id (signed by Flask); who is signed in, since
when and until when lives here. That is what makes a session endable: sign-out deletes
the record, a password change deletes every record of the user, and a cookie copied
before either is worthless afterwards, on every replica at once, because every request
reads the record with a realtime GET (no cache that could outlive a revocation).

Records are stored under the SHA-256 of the session id, so read access to the index
does not hand out usable cookies. A session ends after `portal_session_idle_timeout_s`
without a request or `portal_session_max_age_s` after sign-in, whichever comes first;
the last-seen time is written at most once a minute, so idle expiry is precise to
that minute and a busy user costs one small write per minute, not one per request.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from services.common import config, es as es_helpers, metrics

log = logging.getLogger(__name__)

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "email": {"type": "keyword"},
        "name": {"type": "keyword", "index": False},
        "role": {"type": "keyword"},
        "created_at": {"type": "date", "format": "epoch_millis"},
        "last_seen_at": {"type": "date", "format": "epoch_millis"},
        "expires_at": {"type": "date", "format": "epoch_millis"},
    },
}

MAX_TOUCH_INTERVAL_S = 60.0
PURGE_INTERVAL_S = 600.0
PAGE = 1000


@dataclass(frozen=True)
class SessionRecord:
    email: str
    name: str
    role: str
    created_at: float  # epoch seconds
    last_seen_at: float


def new_session_id() -> str:
    """256 random bits: unguessable, and a fresh one at every sign-in (no fixation)."""
    return secrets.token_urlsafe(32)


def record_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class SessionStore:
    def __init__(self, settings: config.Settings, client: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = client or es_helpers.client(settings)
        self.alias = settings.index("portal-sessions")
        self.idle_s = float(settings.portal_session_idle_timeout_s)
        self.max_age_s = float(settings.portal_session_max_age_s)
        self.touch_interval_s = min(MAX_TOUCH_INTERVAL_S, self.idle_s / 10)
        self._ready = False
        self._purge_lock = threading.Lock()
        self._last_purge = time.monotonic()

    def ensure(self) -> None:
        if not self._ready:
            es_helpers.ensure_alias(self.es, self.alias, es_helpers.index_body(self.settings, MAPPINGS))
            self._ready = True

    # ---- lifecycle ---------------------------------------------------------------------
    def create(self, email: str, name: str, role: str) -> str:
        """Store a new session for a user who just proved who they are; returns its id."""
        self.ensure()
        self._purge_now_and_then()
        session_id = new_session_id()
        now = time.time()
        doc = {"email": email.strip().lower(), "name": name, "role": role, "created_at": _ms(now),
               "last_seen_at": _ms(now), "expires_at": _ms(self._expires(now, now))}
        self.es.index(index=self.alias, id=record_id(session_id), document=doc, op_type="create")
        return session_id

    def resolve(self, session_id: str) -> SessionRecord | None:
        """The live session behind a cookie, or None when it was ended, revoked or timed out."""
        self.ensure()
        try:
            src = self.es.get(index=self.alias, id=record_id(session_id))["_source"]
        except NotFoundError:
            return None
        record = SessionRecord(src["email"], src.get("name") or src["email"], src["role"],
                               src["created_at"] / 1000, src["last_seen_at"] / 1000)
        now = time.time()
        ended = self._timed_out(record, now)
        if ended:
            self.end(session_id, ended)
            return None
        if now - record.last_seen_at >= self.touch_interval_s and not self._touch(session_id, record, now):
            return None
        return record

    def end(self, session_id: str, reason: str = "sign_out") -> None:
        """Delete one session (sign-out, replaced at sign-in, timed out)."""
        self.ensure()
        try:
            self.es.delete(index=self.alias, id=record_id(session_id))
        except NotFoundError:
            return
        metrics.PORTAL_SESSIONS_ENDED.labels(reason).inc()

    def revoke_user(self, email: str, keep: str | None = None) -> int:
        """End every session of `email` (except `keep`, the caller's own); returns how many.

        The refresh makes sessions created up to now visible to the search, so none
        escapes; deletes are by id, so a concurrent sign-out does no harm.
        """
        self.ensure()
        self.es.indices.refresh(index=self.alias)
        query: dict[str, Any] = {"bool": {"filter": [{"term": {"email": email.strip().lower()}}]}}
        if keep:
            query["bool"]["must_not"] = [{"ids": {"values": [record_id(keep)]}}]
        revoked = self._delete_matching(query)
        metrics.PORTAL_SESSIONS_ENDED.labels("revoked").inc(revoked)
        return revoked

    def purge_expired(self) -> int:
        """Delete records of sessions nobody came back to end; returns how many."""
        self.ensure()
        self.es.indices.refresh(index=self.alias)
        return self._delete_matching({"range": {"expires_at": {"lt": _ms(time.time())}}})

    # ---- internals ---------------------------------------------------------------------
    def _expires(self, created_at: float, last_seen_at: float) -> float:
        return min(created_at + self.max_age_s, last_seen_at + self.idle_s)

    def _timed_out(self, record: SessionRecord, now: float) -> str:
        """'expired' past the absolute lifetime, 'idle' past the idle timeout, else ''.

        Computed from the current settings rather than the stored expiry, so lowering a
        timeout takes effect on existing sessions too.
        """
        if now >= record.created_at + self.max_age_s:
            return "expired"
        if now >= record.last_seen_at + self.idle_s:
            return "idle"
        return ""

    def _touch(self, session_id: str, record: SessionRecord, now: float) -> bool:
        """Record activity; False when the session was deleted meanwhile (revoked)."""
        doc = {"last_seen_at": _ms(now), "expires_at": _ms(self._expires(record.created_at, now))}
        try:
            self.es.update(index=self.alias, id=record_id(session_id), doc=doc)
        except NotFoundError:
            return False
        return True

    def _delete_matching(self, query: dict[str, Any]) -> int:
        deleted = 0
        while True:
            hits = self.es.search(index=self.alias, query=query, size=PAGE, source=False)["hits"]["hits"]
            ops = [{"action": {"delete": {"_index": h["_index"], "_id": h["_id"]}}} for h in hits]
            deleted += len(es_helpers.bulk(self.es, ops, refresh=True).written) if ops else 0
            if len(hits) < PAGE:
                return deleted

    def _purge_now_and_then(self) -> None:
        """Expired records are removed from the sign-in path, at most every ten minutes per
        process, so the index stays the size of the live sessions without a cron job."""
        with self._purge_lock:
            if time.monotonic() - self._last_purge < PURGE_INTERVAL_S:
                return
            self._last_purge = time.monotonic()
        try:
            purged = self.purge_expired()
        except Exception:  # noqa: BLE001 - housekeeping must never fail a sign-in
            log.warning("purging expired sessions failed", exc_info=True)
            return
        metrics.PORTAL_SESSIONS_ENDED.labels("expired").inc(purged)
