"""One-time email codes of the customer access gate, in the `portal-share-codes` index.

A customer who must verify an email gets a 6-digit code by email. What is stored is
only a keyed hash of the code (HMAC under the portal secret, bound to the challenge id),
the address, the link it opens, an expiry (10 minutes) and a count of attempts. Every
check spends an attempt *before* the code is compared (a compare-and-set write), so
parallel guesses cannot share one attempt, and after 5 the challenge is dead: a new
code must be requested (which the gate throttles). The challenge id lives only in the
customer's signed session cookie; a successful check deletes the challenge.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from services.common import config, errors, es as es_helpers

log = logging.getLogger(__name__)

CODE_TTL_S = 600
PURGE_INTERVAL_S = 600.0
WRITE_ATTEMPTS = 10
MAX_ATTEMPTS = 5
CODE_DIGITS = 6

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "key": {"type": "keyword"},
        "email": {"type": "keyword", "index": False},
        "code_hash": {"type": "keyword", "index": False},
        "attempts": {"type": "integer", "index": False},
        "expires_at": {"type": "date", "format": "epoch_millis"},
    },
}

# Verdicts of a code check.
PASSED, WRONG, EXPIRED, EXHAUSTED, UNKNOWN = "passed", "wrong", "expired", "exhausted", "unknown"


@dataclass(frozen=True)
class Challenge:
    """A code sent to `email` to open the link or room named `key`."""

    key: str
    email: str
    code_hash: str
    expires_at: float  # epoch seconds
    attempts: int = 0


# ---- pure logic, unit tested ------------------------------------------------------------

def new_code() -> str:
    """Six random digits (leading zeros kept)."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def new_challenge_id() -> str:
    return secrets.token_urlsafe(24)


def hash_code(secret: str, challenge_id: str, code: str) -> str:
    """Keyed and bound to the challenge: a stored hash neither reveals the code offline nor fits another challenge."""
    return hmac.new(secret.encode(), f"share-code:{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def normalize_code(entered: str) -> str:
    """What the customer typed, without spaces or dashes ("123 456" and "123-456" are fine)."""
    return "".join(ch for ch in entered if ch not in " -\t")[:CODE_DIGITS + 4]


def judge(challenge: Challenge | None, challenge_id: str, key: str, entered: str, secret: str, now: float) -> str:
    """The verdict of one check, given the challenge *after* this attempt was counted.

    `attempts` already includes this check, so the fifth wrong code is WRONG and the
    sixth try is EXHAUSTED without comparing anything.
    """
    if challenge is None or challenge.key != key:
        return UNKNOWN
    if now >= challenge.expires_at:
        return EXPIRED
    if challenge.attempts > MAX_ATTEMPTS:
        return EXHAUSTED
    code = normalize_code(entered)
    if len(code) == CODE_DIGITS and code.isdigit() and hmac.compare_digest(
            hash_code(secret, challenge_id, code), challenge.code_hash):
        return PASSED
    return WRONG


def attempts_left(challenge: Challenge) -> int:
    return max(0, MAX_ATTEMPTS - challenge.attempts)


# ---- the shared store -------------------------------------------------------------------

class CodeStore:
    """Challenges in Elasticsearch, so every portal replica checks the same attempts."""

    def __init__(self, settings: config.Settings, client: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = client or es_helpers.client(settings)
        self.alias = settings.index("portal-share-codes")
        self._ready = False
        self._last_purge = time.monotonic()
        self._purge_lock = threading.Lock()

    def ensure(self) -> None:
        if not self._ready:
            es_helpers.ensure_alias(self.es, self.alias, es_helpers.index_body(self.settings, MAPPINGS))
            self._ready = True

    def create(self, key: str, email: str, code: str, now: float | None = None) -> str:
        """Store a new challenge for `code`; its id (for the customer's session)."""
        self.ensure()
        challenge_id = new_challenge_id()
        expires = (now or time.time()) + CODE_TTL_S
        self.es.index(index=self.alias, id=challenge_id, op_type="create", refresh="wait_for", document={
            "key": key, "email": email, "code_hash": hash_code(self.settings.portal_secret_key, challenge_id, code),
            "attempts": 0, "expires_at": int(expires * 1000)})
        self._purge_now_and_then()
        return challenge_id

    def spend_attempt(self, challenge_id: str) -> Challenge | None:
        """Count one attempt (compare-and-set on the document's sequence number, retried when
        a parallel check counted first); the challenge as it is after (None when unknown)."""
        self.ensure()
        for _ in range(WRITE_ATTEMPTS):
            try:
                found = self.es.get(index=self.alias, id=challenge_id)
            except NotFoundError:
                return None
            spent = dataclasses.replace(_parse(found["_source"]), attempts=int(found["_source"]["attempts"]) + 1)
            try:
                self.es.index(index=self.alias, id=challenge_id,
                              document=dict(found["_source"], attempts=spent.attempts),
                              if_seq_no=found["_seq_no"], if_primary_term=found["_primary_term"])
            except ConflictError:
                continue
            return spent
        raise errors.Unavailable("the code is being checked concurrently; try again")

    def delete(self, challenge_id: str) -> None:
        self.ensure()
        try:
            self.es.delete(index=self.alias, id=challenge_id)
        except NotFoundError:
            pass

    def check(self, challenge_id: str, key: str, entered: str, now: float | None = None) -> "CheckResult":
        """The verdict on one entered code; a passed challenge is deleted (one use)."""
        challenge = self.spend_attempt(challenge_id)
        verdict = judge(challenge, challenge_id, key, entered, self.settings.portal_secret_key, now or time.time())
        if verdict == PASSED:
            self.delete(challenge_id)
        return CheckResult(verdict, attempts_left(challenge) if challenge else 0,
                           challenge.email if challenge and verdict == PASSED else "")

    def _purge_now_and_then(self) -> None:
        with self._purge_lock:
            if time.monotonic() - self._last_purge < PURGE_INTERVAL_S:
                return
            self._last_purge = time.monotonic()
        try:
            self.purge_expired()
        except Exception:  # noqa: BLE001 - housekeeping must never fail sending a code
            log.warning("purging expired access codes failed", exc_info=True)

    def purge_expired(self) -> int:
        """Challenges nobody finished: deleted now and then (an expired one never passes anyway)."""
        self.ensure()
        self.es.indices.refresh(index=self.alias)
        hits = self.es.search(index=self.alias, size=1000, source=False,
                              query={"range": {"expires_at": {"lt": int(time.time() * 1000)}}})["hits"]["hits"]
        ops = [{"action": {"delete": {"_index": h["_index"], "_id": h["_id"]}}} for h in hits]
        return len(es_helpers.bulk(self.es, ops).written) if ops else 0


@dataclass(frozen=True)
class CheckResult:
    verdict: str
    attempts_left: int
    email: str = ""  # the verified address, when passed


def _parse(src: dict[str, Any]) -> Challenge:
    return Challenge(key=src["key"], email=src["email"], code_hash=src["code_hash"],
                     expires_at=src["expires_at"] / 1000, attempts=int(src["attempts"]))
