"""`python -m services.usage.notifications`: tell reps when a customer opens their link or deal room.

Its own consumer group (`<ns>.usage-notifications`) reads usage.classified.v1, every stored
usage event with the usage service's bot verdict, and keeps customer opens of a share link
or a deal room (`room_id` names the room; it is treated like `share_id`). For each human
open it decides, from the stored opens of the same link or room in event time, whether it
notifies (notify_model.kind_of): the first open ever, or the first open after
COLLATERAL_USAGE_NOTIFY_QUIET_PERIOD_H hours without one. Bots never notify: the verdict is
read again from the stored event before anything is raised, and a verdict re-published as
bot cancels whatever of its notification is not sent yet.

Delivery is at least once, deduplicated (exactly once in effect):

1. the notification (`_id` = hash of link or room, kind, opening event) and one delivery per
   sent channel (`<notification_id>.email`, `.webhook`) are created with op_type=create and
   state `pending` BEFORE anything is sent; a replay finds them and creates nothing;
2. each pending immediate delivery is sent, then marked `sent` (or `failed` when refused for
   good: a 5xx SMTP answer, a 4xx webhook answer, email not configured); a replay finds
   `sent` and sends nothing;
3. offsets are committed only after that (the shared ConsumerLoop). A send that fails
   temporarily (SMTP server or webhook down: errors.Unavailable) marks what did succeed and
   raises, so the loop pauses and retries the batch with backoff; nothing is lost.

The one window left is a crash between a successful send and its `sent` mark: the message
is sent again on restart, with the same email Message-ID (`<delivery_id@collateral>`) and
webhook `Idempotency-Key`, so the receiver can recognise the repeat.

Daily digests: a channel set to "daily digest" leaves its deliveries pending; the digest job
(every COLLATERAL_USAGE_NOTIFY_DIGEST_INTERVAL_S) sends, for each rep, channel and finished
UTC day, one message listing that day's opens, with the same create-pending-then-send steps
under a digest id.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Sequence

from elasticsearch import Elasticsearch

from services.common import cli, config, errors, es as es_util, kafka_io, logs, metrics, topics
from services.common.consumer import ConsumerLoop, LoopGroup, Message, Parsed, WriteResult, run_process
from services.common.contracts import classified, jsonbytes, times
from services.usage import notify_channels as channels
from services.usage import notify_model as nm
from services.usage import notify_store, store

log = logging.getLogger(__name__)

METRICS_PORT = 9471
# A rep's webhook that keeps failing temporarily is given up after this many attempts (recorded as
# failed), so one broken receiver cannot hold back everyone's notifications; the SMTP relay is the
# deployment's own and is retried until it answers.
WEBHOOK_ATTEMPTS = 5
EARLIER_OPENS_LOOKED_AT = 10  # opens at the very same instant beyond this many are vanishingly rare


@dataclass(frozen=True)
class CustomerOpen:
    """One classified customer open of a link or room."""

    event_id: str
    occurred_at: datetime
    asset_id: str
    rep_id: str
    is_bot: bool
    share_id: str = ""
    room_id: str = ""

    @property
    def target_id(self) -> str:
        return self.room_id or self.share_id

    @property
    def target_field(self) -> str:
        return "room_id" if self.room_id else "share_id"

    @property
    def order(self) -> tuple[datetime, str]:
        return self.occurred_at, self.event_id


def parse_open(raw: dict[str, Any]) -> CustomerOpen | None:
    """A classified event as a customer open of a link or room; None for anything else."""
    doc, _ = classified.parse(raw)
    room_id = str(raw.get("room_id") or "").strip()
    if doc["type"] != "customer_open" or not (room_id or doc.get("share_id")):
        return None
    return CustomerOpen(event_id=doc["event_id"], occurred_at=times.parse_stored(doc["occurred_at"]),
                        asset_id=doc["asset_id"], rep_id=doc["rep_id"], is_bot=doc["is_bot"],
                        share_id=doc.get("share_id", ""), room_id=room_id)


class Sender:
    """Sends one message on one channel (email or webhook); tests and the digest share it."""

    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings

    def send(self, delivery: dict[str, Any], items: Sequence[channels.Open], day: str | None = None) -> None:
        """Raises errors.Unavailable (retry later) or channels.Refused (never retry)."""
        portal = self.settings.portal_public_url
        if delivery["channel"] == nm.EMAIL:
            channels.send_email(self.settings, channels.email_for(delivery["to"], items, delivery["delivery_id"],
                                                                  portal, day))
            return
        payload = channels.webhook_payload(delivery.get("format") or nm.SLACK, items, portal, day)
        channels.post_webhook(delivery["to"], payload, delivery["delivery_id"], self.settings.usage_notify_webhook_timeout_s,
                              public_only=self.settings.production and not self.settings.usage_notify_webhook_private_hosts)


class Deliveries:
    """Sends pending deliveries and records each outcome right after it (shared by the consumer and the digest)."""

    def __init__(self, es: Elasticsearch, names: notify_store.Names, sender: Sender) -> None:
        self.es = es
        self.names = names
        self.sender = sender

    def deliver(self, delivery: dict[str, Any], items: Sequence[channels.Open], day: str | None = None) -> bool:
        """Send one delivery and mark it; False when the channel is down (left pending, to retry)."""
        label = delivery["delivery"]
        try:
            self.sender.send(delivery, items, day)
        except errors.Unavailable as exc:
            return self._temporary_failure(delivery, exc)
        except channels.Refused as exc:
            self.mark(delivery["delivery_id"], {"state": nm.FAILED, "error": str(exc)[:1000]})
            metrics.USAGE_NOTIFICATIONS_FAILED.labels(delivery["channel"], label).inc()
            log.warning("notification refused for good; recorded as failed",
                        extra={"delivery_id": delivery["delivery_id"], "error": str(exc)[:300]})
            return True
        self.mark(delivery["delivery_id"], {"state": nm.SENT, "sent_at": times.now_iso()})
        metrics.USAGE_NOTIFICATIONS_SENT.labels(delivery["channel"], label).inc()
        return True

    def _temporary_failure(self, delivery: dict[str, Any], exc: errors.Unavailable) -> bool:
        """Retry later (False), or give a webhook up after WEBHOOK_ATTEMPTS (True: recorded as failed)."""
        metrics.USAGE_NOTIFICATION_RETRIES.labels(delivery["channel"]).inc()
        attempts = int(delivery.get("attempts") or 0) + 1
        if delivery["channel"] == nm.WEBHOOK and attempts >= WEBHOOK_ATTEMPTS:
            self.mark(delivery["delivery_id"], {"state": nm.FAILED, "attempts": attempts,
                                                "error": f"gave up after {attempts} attempts: {exc}"[:1000]})
            metrics.USAGE_NOTIFICATIONS_FAILED.labels(delivery["channel"], delivery["delivery"]).inc()
            log.warning("webhook kept failing; recorded as failed", extra={"delivery_id": delivery["delivery_id"]})
            return True
        self.mark(delivery["delivery_id"], {"attempts": attempts})
        log.warning("notification channel unavailable; will retry",
                    extra={"delivery_id": delivery["delivery_id"], "error": str(exc)})
        return False

    def mark(self, delivery_id: str, change: dict[str, Any]) -> None:
        notify_store.update_all(self.es, self.names.deliveries, {delivery_id: change})


class NotificationProcessor:
    """Processor of the shared ConsumerLoop for usage.classified.v1 (customer opens only)."""

    name = "usage-notifications"
    pipelined = False  # each batch's sends are recorded before the next batch is decided

    def __init__(self, settings: config.Settings, es: Elasticsearch | None = None,
                 sender: Sender | None = None) -> None:
        self.settings = settings
        self.es = es or es_util.client(settings)
        self.usage = store.Names.of(settings)
        self.names = notify_store.Names.of(settings)
        self.rooms_index = settings.index("usage-rooms")
        self.topics = (topics.USAGE_CLASSIFIED.name(settings),)
        self.dead_letter_topic = topics.USAGE_DLQ.name(settings)
        self.quiet_period = timedelta(hours=settings.usage_notify_quiet_period_h)
        self.deliveries = Deliveries(self.es, self.names, sender or Sender(settings))

    def ensure(self) -> None:
        notify_store.ensure(self.es, self.settings)

    # ---- parse and filter -----------------------------------------------------------------
    def parse(self, message: Message) -> CustomerOpen | None:
        return parse_open(jsonbytes.parse_json_object(message, classified.MAX_BYTES))

    @staticmethod
    def keep(event: CustomerOpen | None) -> bool:
        return event is not None

    # ---- write ------------------------------------------------------------------------------
    def write(self, batch: Sequence[Parsed[CustomerOpen]]) -> WriteResult:
        opens = [p.event for p in batch]
        self._cancel([o for o in opens if o.is_bot])
        humans = self._still_human([o for o in opens if not o.is_bot])
        docs = self._notifications(humans)
        prefs = self._preferences({doc["rep_id"] for doc in docs.values()})
        for doc in docs.values():
            doc["portal"] = prefs[doc["rep_id"]].portal_enabled
        # Searchable before any email or post goes out: a rep who follows one to the portal finds it listed.
        created, existing = notify_store.create_all(self.es, self.names.notifications, docs, refresh="wait_for")
        for nid in created:
            metrics.USAGE_NOTIFICATIONS_RAISED.labels(docs[nid]["kind"]).inc()
        self._create_deliveries(docs, prefs)
        if not self._deliver_immediate(sorted(docs)):
            raise errors.Unavailable("a notification channel is down; the batch is retried")
        newest = max((o.occurred_at.timestamp() for o in opens), default=None)
        return WriteResult(written=len(created), duplicates=existing, newest_event_time_s=newest)

    def _preferences(self, reps: set[str]) -> dict[str, nm.Preferences]:
        """Each rep's stored channels, or the defaults (portal only) for a rep who never changed them."""
        stored = notify_store.get_many(self.es, self.names.settings, reps)
        return {rep: nm.Preferences.of(rep, stored.get(rep)) for rep in reps}

    def _cancel(self, bots: list[CustomerOpen]) -> None:
        """An open re-classified as a bot: whatever of its notification is not sent yet never will be."""
        if not bots:
            return
        ids = [nm.notification_id(o.target_id, kind, o.event_id) for o in bots for kind in nm.KINDS]
        found = notify_store.get_many(self.es, self.names.notifications, ids)
        if not found:
            return
        notify_store.update_all(self.es, self.names.notifications, {i: {"cancelled": True} for i in found})
        pending = {d: doc for d, doc in notify_store.get_many(
            self.es, self.names.deliveries, [nm.delivery_id(i, c) for i in found for c in nm.SENT_CHANNELS]).items()
            if doc["state"] == nm.PENDING}
        notify_store.update_all(self.es, self.names.deliveries, {d: {"state": nm.CANCELLED} for d in pending})

    def _still_human(self, opens: list[CustomerOpen]) -> list[CustomerOpen]:
        """Drop opens whose stored event has since been flagged a bot (the newest verdict wins)."""
        if not opens:
            return []
        docs = [{"_index": self.usage.events_index(times.format_iso(o.occurred_at)), "_id": o.event_id} for o in opens]
        response = self.es.mget(docs=docs, source=["is_bot"])
        bots = {d["_id"] for d in response["docs"] if d.get("found") and d["_source"].get("is_bot")}
        return [o for o in opens if o.event_id not in bots]

    # ---- deciding -----------------------------------------------------------------------------
    def _notifications(self, opens: list[CustomerOpen]) -> dict[str, dict[str, Any]]:
        """{notification_id: document} for the opens that notify (first open, or after the quiet period)."""
        if not opens:
            return {}
        opens = sorted(opens, key=lambda o: o.order)
        earlier = self._latest_earlier_opens(opens)
        owners = self._owners(opens)
        titles = self._asset_titles({o.asset_id for o in opens})
        out: dict[str, dict[str, Any]] = {}
        for o in opens:
            kind = nm.kind_of(o.occurred_at, earlier.get(o.event_id), self.quiet_period)
            if kind is None:
                continue
            owner = owners.get((o.target_field, o.target_id), {})
            doc = notification_document(o, kind, owner, titles.get(o.asset_id, ""))
            out[doc["notification_id"]] = doc
        return out

    def _latest_earlier_opens(self, opens: list[CustomerOpen]) -> dict[str, datetime]:
        """Per open, the latest human open of the same link or room before it (stored, or earlier in the batch).

        The usage consumer publishes verdicts while its refresh runs, so the months these
        opens fall in are refreshed first: an earlier open is always searchable here.
        """
        months = sorted({self.usage.events_index(times.format_iso(o.occurred_at)) for o in opens})
        self.es.indices.refresh(index=",".join(months), ignore_unavailable=True)
        body: list[dict[str, Any]] = []
        for o in opens:
            body += [{"index": self.usage.events, "ignore_unavailable": True, "allow_no_indices": True}, {
                "size": EARLIER_OPENS_LOOKED_AT, "_source": ["event_id", "occurred_at"],
                "sort": [{"occurred_at": "desc"}],
                "query": {"bool": {"filter": [
                    {"term": {"type": "customer_open"}}, {"term": {"is_bot": False}},
                    {"term": {o.target_field: o.target_id}},
                    {"range": {"occurred_at": {"lte": times.format_iso(o.occurred_at)}}}]}}}]
        responses = self.es.msearch(searches=body)["responses"]
        latest: dict[str, datetime] = {}
        seen: dict[str, list[CustomerOpen]] = defaultdict(list)
        for o, response in zip(opens, responses):
            if "error" in response:
                raise errors.Unavailable(f"earlier opens could not be read: {response['error']}")
            candidates = [(times.parse_stored(h["_source"]["occurred_at"]), h["_source"]["event_id"])
                          for h in response["hits"]["hits"]]
            candidates += [p.order for p in seen[o.target_id]]  # earlier opens of this batch (maybe not searchable yet)
            before = [c for c in candidates if c < o.order]
            if before:
                latest[o.event_id] = max(before)[0]
            seen[o.target_id].append(o)
        return latest

    def _owners(self, opens: list[CustomerOpen]) -> dict[tuple[str, str], dict[str, Any]]:
        """The share link or room document of each open: its rep, opportunity, account (and a room's title)."""
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for field, index in (("share_id", self.usage.shares), ("room_id", self.rooms_index)):
            ids = sorted({o.target_id for o in opens if o.target_field == field})
            if not ids:
                continue
            response = self.es.search(index=index, size=len(ids), query={"terms": {field: ids}},
                                      source=[field, "rep_id", "opportunity_id", "account_id", "title"],
                                      ignore_unavailable=True, allow_no_indices=True)
            out.update({(field, h["_source"][field]): h["_source"] for h in response["hits"]["hits"]})
        return out

    def _asset_titles(self, asset_ids: set[str]) -> dict[str, str]:
        found = notify_store.get_many(self.es, self.usage.catalog, asset_ids)
        return {asset_id: doc.get("title", "") for asset_id, doc in found.items()}

    # ---- delivering ---------------------------------------------------------------------------
    def _create_deliveries(self, notifications: dict[str, dict[str, Any]], prefs: dict[str, nm.Preferences]) -> None:
        """One pending delivery per notification and channel the rep has on (created before any send)."""
        docs: dict[str, dict[str, Any]] = {}
        for doc in notifications.values():
            rep = prefs[doc["rep_id"]]
            for channel, delivery in rep.channels().items():
                d = delivery_document(doc, channel, delivery, rep)
                docs[d["delivery_id"]] = d
        notify_store.create_all(self.es, self.names.deliveries, docs)

    def _deliver_immediate(self, notification_ids: list[str]) -> bool:
        """Send every pending immediate delivery of these notifications; False if a channel was down."""
        if not notification_ids:
            return True
        current = notify_store.get_many(self.es, self.names.notifications, notification_ids)
        wanted = [nm.delivery_id(n, c) for n in notification_ids for c in nm.SENT_CHANNELS]
        all_up = True
        for delivery in notify_store.get_many(self.es, self.names.deliveries, wanted).values():
            notification = current.get(delivery["notification_id"])
            if (delivery["state"] != nm.PENDING or delivery["delivery"] != nm.IMMEDIATE or notification is None
                    or notification.get("cancelled")):
                continue
            all_up = self.deliveries.deliver(delivery, [channels.Open.of(notification)]) and all_up
        return all_up


def notification_document(o: CustomerOpen, kind: str, owner: dict[str, Any], asset_title: str) -> dict[str, Any]:
    """The stored notification; the owner document's rep wins over the event's (it is the link's truth)."""
    doc: dict[str, Any] = {
        "notification_id": nm.notification_id(o.target_id, kind, o.event_id), "kind": kind,
        "rep_id": owner.get("rep_id") or o.rep_id, "target_id": o.target_id, "asset_id": o.asset_id,
        "title": (owner.get("title") if o.room_id else asset_title) or asset_title or o.asset_id,
        "event_id": o.event_id, "opened_at": times.format_iso(o.occurred_at), "created_at": times.now_iso(),
        "portal": True, "read": False, "cancelled": False,
    }
    for name in ("share_id", "room_id"):
        if getattr(o, name):
            doc[name] = getattr(o, name)
    for name in ("opportunity_id", "account_id"):
        if owner.get(name):
            doc[name] = owner[name]
    return doc


def delivery_document(notification: dict[str, Any], channel: str, delivery: str, prefs: nm.Preferences) -> dict[str, Any]:
    return {
        "delivery_id": nm.delivery_id(notification["notification_id"], channel),
        "notification_id": notification["notification_id"], "event_id": notification["event_id"],
        "rep_id": notification["rep_id"], "channel": channel, "delivery": delivery,
        "day": notification["opened_at"][:10], "state": nm.PENDING,
        "to": prefs.email_address() if channel == nm.EMAIL else prefs.webhook_url,
        "format": prefs.webhook_format if channel == nm.WEBHOOK else "", "created_at": times.now_iso(),
    }


# ---- daily digests --------------------------------------------------------------------------------

class DigestJob:
    """Periodic job: one message per rep, channel and finished UTC day listing that day's opens."""

    def __init__(self, settings: config.Settings, es: Elasticsearch | None = None, sender: Sender | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.settings = settings
        self.es = es or es_util.client(settings)
        self.names = notify_store.Names.of(settings)
        self.deliveries = Deliveries(self.es, self.names, sender or Sender(settings))
        self.clock = clock

    def publish(self) -> int:
        """Send the digests due now (the periodic runner's entry point); returns how many were sent."""
        try:
            sent = self.run(self.clock())
        except Exception:
            metrics.USAGE_NOTIFICATION_DIGEST_RUNS.labels("failed").inc()
            raise
        metrics.USAGE_NOTIFICATION_DIGEST_RUNS.labels("ok").inc()
        return sent

    def run(self, now: datetime) -> int:
        """Digests of every day before `now`'s UTC day whose digest deliveries are still pending."""
        self.es.indices.refresh(index=self.names.deliveries)
        response = self.es.search(index=self.names.deliveries, size=10_000, query={"bool": {"filter": [
            {"term": {"delivery": nm.DIGEST}}, {"term": {"state": nm.PENDING}},
            {"range": {"day": {"lt": now.date().isoformat()}}}],
            "must_not": [{"exists": {"field": "members"}}]}})
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for hit in response["hits"]["hits"]:
            d = hit["_source"]
            groups[(d["rep_id"], d["channel"], d["day"])].append(d)
        return sum(self._digest(rep, channel, day, members) for (rep, channel, day), members in sorted(groups.items()))

    def _digest(self, rep: str, channel: str, day: str, members: list[dict[str, Any]]) -> int:
        """Create the digest pending, send it, then mark it and its members; 1 if it was sent now."""
        members = sorted(members, key=lambda d: d["delivery_id"])
        member_ids = [d["delivery_id"] for d in members]
        digest_id = nm.digest_id(rep, channel, day + "|" + hashlib.sha256(",".join(member_ids).encode()).hexdigest())
        newest = members[-1]
        digest = {"delivery_id": digest_id, "rep_id": rep, "channel": channel, "delivery": nm.DIGEST, "day": day,
                  "state": nm.PENDING, "members": member_ids, "to": newest["to"], "format": newest.get("format", ""),
                  "created_at": times.now_iso()}
        notify_store.create_all(self.es, self.names.deliveries, {digest_id: digest})
        digest = notify_store.get_many(self.es, self.names.deliveries, [digest_id])[digest_id]
        sent_now = 0
        if digest["state"] == nm.PENDING:
            notifications = notify_store.get_many(self.es, self.names.notifications,
                                                  [d["notification_id"] for d in members])
            items = sorted((channels.Open.of(n) for n in notifications.values() if not n.get("cancelled")),
                           key=lambda i: i.opened_at)
            if not items:
                self.deliveries.mark(digest_id, {"state": nm.CANCELLED})
            elif not self.deliveries.deliver(digest, items, day):
                return 0  # channel down: everything stays pending for the next run
            else:
                sent_now = 1
            digest = notify_store.get_many(self.es, self.names.deliveries, [digest_id])[digest_id]
        notify_store.update_all(self.es, self.names.deliveries, {
            m: {"state": digest["state"], "digest_id": digest_id} for m in member_ids}, refresh="wait_for")
        return sent_now

    def close(self) -> None:
        self.es.close()


def main(argv: list[str] | None = None) -> None:
    cli.parse_no_arguments("python -m services.usage.notifications", __doc__, argv)
    settings = config.load()
    logs.configure(NotificationProcessor.name, settings.log_level, settings.log_format)
    processor = NotificationProcessor(settings)
    kafka_io.retry_until_available(settings, lambda: topics.ensure_all(settings), "topics")  # waits, never crash-loops
    es_util.retry_until_available(lambda: (store.ensure(processor.es, settings), processor.ensure()))
    run_process(processor.name, LoopGroup([ConsumerLoop(processor, settings)], settings), METRICS_PORT, [
        ("usage-notify-digest", settings.usage_notify_digest_interval_s, lambda: DigestJob(settings))])


if __name__ == "__main__":
    main()
