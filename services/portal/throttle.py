"""Sign-in throttling that slows password guessing without handing out a lockout.

A hard lock per account (N failures, then refused) lets anyone who knows a colleague's
email lock the colleague out. Instead, three rules, each answered with 429 and a
Retry-After before the password is even checked:

* **delay** (per account, per client): a client that has failed for an account more
  than `portal_signin_free_failures` times waits 1, 2, 4, ... seconds after its own last
  failure, capped at `portal_signin_max_delay_s`. The delay grows with the failures of
  the account from every address, so a distributed guesser slows down too, but it is
  always measured from the client's own last failure and applies only to clients that
  have failed for that account: someone else's failures never stop the owner's right
  password, and a client's own wait is never longer than the cap.
* **address**: more than `portal_signin_address_max_failures` failures from one client
  address within `portal_signin_window_s` refuse that address (only that one) for the
  rest of the window: one machine spraying many accounts is stopped.
* **global**: at most `portal_signin_checks_per_s` password checks per second per
  process (a token bucket); scrypt is CPU-bound, and this keeps a flood of guesses from
  starving every other page. Per process on purpose: the resource it protects, the
  process's CPU, is per process.

The failure counters live in Elasticsearch (`portal-sign-in-failures`), so every
replica sees the same counts; documents are keyed by a hash of the key, not the email
or address in clear.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from services.common import config, es as es_helpers

log = logging.getLogger(__name__)

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "failures": {"type": "integer", "index": False},
        "window_start": {"type": "date", "format": "epoch_millis"},
        "last_failure": {"type": "date", "format": "epoch_millis"},
        "expires_at": {"type": "date", "format": "epoch_millis"},
    },
}
WRITE_ATTEMPTS = 5
PURGE_INTERVAL_S = 600.0


# ---- policy: pure, unit tested ----------------------------------------------------------

@dataclass(frozen=True)
class Failures:
    """Failed sign-ins counted for one key since `window_start` (epoch seconds)."""

    count: int = 0
    window_start: float = 0.0
    last_failure: float = 0.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: str = ""  # delay | address | global when refused
    retry_after_s: float = 0.0

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after_s)))


ALLOW = Verdict(True)


@dataclass(frozen=True)
class Policy:
    window_s: float
    free_failures: int
    max_delay_s: float
    address_max_failures: int

    @classmethod
    def from_settings(cls, settings: config.Settings) -> "Policy":
        return cls(float(settings.portal_signin_window_s), settings.portal_signin_free_failures,
                   settings.portal_signin_max_delay_s, settings.portal_signin_address_max_failures)

    def current(self, failures: Failures, now: float) -> Failures:
        """The count as of `now`: nothing once the window it started has passed."""
        return failures if now - failures.window_start < self.window_s else Failures()

    def delay_s(self, failures: int) -> float:
        """0 up to the free failures, then 1, 2, 4, ... seconds, capped."""
        if failures <= self.free_failures:
            return 0.0
        return min(self.max_delay_s, 2.0 ** (failures - self.free_failures - 1))

    def failed(self, failures: Failures, now: float) -> Failures:
        """The counter after one more failure at `now`."""
        live = self.current(failures, now)
        start = live.window_start if live.count else now
        return Failures(live.count + 1, start, now)

    def decide(self, address: Failures, account: Failures, pair: Failures, now: float) -> Verdict:
        """Whether a client at `address` may try a password for the account now."""
        address = self.current(address, now)
        if address.count >= self.address_max_failures:
            return Verdict(False, "address", address.window_start + self.window_s - now)
        pair = self.current(pair, now)
        if pair.count == 0:
            return ALLOW  # a client that has not been failing for this account is never delayed
        strikes = max(pair.count, self.current(account, now).count)
        wait = pair.last_failure + self.delay_s(strikes) - now
        return Verdict(False, "delay", wait) if wait > 0 else ALLOW


class CheckBudget:
    """Token bucket: `rate_per_s` password checks per second, bursts up to twice that."""

    def __init__(self, rate_per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_s
        self.capacity = max(1.0, 2 * rate_per_s)
        self.clock = clock
        self._tokens = self.capacity
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self.clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


# ---- keys -------------------------------------------------------------------------------

def address_key(address: str) -> str:
    return f"address\0{address}"


def account_key(email: str) -> str:
    return f"account\0{email}"


def pair_key(email: str, address: str) -> str:
    return f"pair\0{email}\0{address}"


def _doc_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


# ---- the shared store -------------------------------------------------------------------

class FailureCounters:
    """Failure counts in Elasticsearch: realtime GETs to read, optimistic concurrency to write."""

    def __init__(self, settings: config.Settings, client: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.es = client or es_helpers.client(settings)
        self.alias = settings.index("portal-sign-in-failures")
        self.window_s = float(settings.portal_signin_window_s)
        self._ready = False
        self._purge_lock = threading.Lock()
        self._last_purge = time.monotonic()

    def ensure(self) -> None:
        if not self._ready:
            es_helpers.ensure_alias(self.es, self.alias, es_helpers.index_body(self.settings, MAPPINGS))
            self._ready = True

    def read(self, keys: list[str]) -> list[Failures]:
        """The stored counters of `keys`, in order (zero for a key never failed)."""
        self.ensure()
        docs = self.es.mget(index=self.alias, ids=[_doc_id(k) for k in keys])["docs"]
        return [self._parse(d["_source"]) if d.get("found") else Failures() for d in docs]

    def record(self, key: str, update: Callable[[Failures], Failures]) -> None:
        """Apply `update` to one counter; retried when another replica wrote it meanwhile."""
        self.ensure()
        doc_id = _doc_id(key)
        for _ in range(WRITE_ATTEMPTS):
            try:
                current = self.es.get(index=self.alias, id=doc_id)
            except NotFoundError:
                current = None
            new = update(self._parse(current["_source"]) if current else Failures())
            source = {"failures": new.count, "window_start": _ms(new.window_start),
                      "last_failure": _ms(new.last_failure), "expires_at": _ms(new.window_start + self.window_s)}
            try:
                if current is None:
                    self.es.index(index=self.alias, id=doc_id, document=source, op_type="create")
                else:
                    self.es.index(index=self.alias, id=doc_id, document=source,
                                  if_seq_no=current["_seq_no"], if_primary_term=current["_primary_term"])
                return
            except ConflictError:
                continue
        log.warning("sign-in failure not counted after repeated write conflicts")

    def clear(self, key: str) -> None:
        self.ensure()
        try:
            self.es.delete(index=self.alias, id=_doc_id(key))
        except NotFoundError:
            pass
        self._purge_now_and_then()

    def purge_expired(self) -> int:
        self.ensure()
        self.es.indices.refresh(index=self.alias)
        hits = self.es.search(index=self.alias, query={"range": {"expires_at": {"lt": _ms(time.time())}}},
                              size=1000, source=False)["hits"]["hits"]
        ops = [{"action": {"delete": {"_index": h["_index"], "_id": h["_id"]}}} for h in hits]
        return len(es_helpers.bulk(self.es, ops).written) if ops else 0

    @staticmethod
    def _parse(src: dict) -> Failures:
        return Failures(int(src["failures"]), src["window_start"] / 1000, src["last_failure"] / 1000)

    def _purge_now_and_then(self) -> None:
        """Counters of finished windows are deleted from the success path, at most every ten
        minutes per process; a stale counter is harmless (it reads as zero) until then."""
        with self._purge_lock:
            if time.monotonic() - self._last_purge < PURGE_INTERVAL_S:
                return
            self._last_purge = time.monotonic()
        try:
            self.purge_expired()
        except Exception:  # noqa: BLE001 - housekeeping must never fail a sign-in
            log.warning("purging sign-in failure counters failed", exc_info=True)


class SignInGuard:
    """The policy over the shared counters and this process's check budget."""

    def __init__(self, policy: Policy, counters: FailureCounters, budget: CheckBudget) -> None:
        self.policy = policy
        self.counters = counters
        self.budget = budget

    @classmethod
    def from_settings(cls, settings: config.Settings, counters: FailureCounters | None = None) -> "SignInGuard":
        return cls(Policy.from_settings(settings), counters or FailureCounters(settings),
                   CheckBudget(settings.portal_signin_checks_per_s))

    def check(self, email: str, address: str) -> Verdict:
        """Whether this attempt may check a password; takes from the budget when it may."""
        counts = self.counters.read([address_key(address), account_key(email), pair_key(email, address)])
        verdict = self.policy.decide(*counts, now=time.time())
        if not verdict.allowed:
            return verdict
        if not self.budget.take():
            return Verdict(False, "global", 1.0)
        return ALLOW

    def failed(self, email: str, address: str) -> None:
        now = time.time()
        for key in (address_key(address), account_key(email), pair_key(email, address)):
            self.counters.record(key, lambda failures: self.policy.failed(failures, now))

    def succeeded(self, email: str, address: str) -> None:
        """The client proved itself: its own delay ends. The account's and the address's
        counts stay, so one success does not reset a distributed guesser's slow-down."""
        self.counters.clear(pair_key(email, address))
