"""Customer-open notifications end to end on the real stack.

Customer opens go in through RecordEvents (as the portal records them), through the usage
consumer (stored, bot-classified, published to usage.classified.v1) to the notifications
process (`python -m services.usage.notifications`, a real subprocess), which sends email to
a real SMTP server (aiosmtpd, Maildir) and posts to a real HTTP receiver started here.
Quiet periods are measured in event time: the process runs with a 3-minute quiet period
and the opens are stamped minutes apart, so no test sleeps.
"""

from __future__ import annotations

import email.header
import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from collateral.v1 import usage_pb2
from scripts.local_services import free_port
from services.common import config, es as es_util, topics
from services.usage import notifications, notify_model as nm, notify_store
from tests.conftest import consumer_lag, metric_value
from tests.integration.usage import catalog_view
from tests.integration.usage.conftest import ROOT, produce_json, wait_until

pytestmark = pytest.mark.integration

CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131 Safari/537.36"
SCANNER = "Mozilla/5.0 (compatible; Proofpoint URL Defense)"
QUIET_MINUTES = 3
T = usage_pb2


# ---- a webhook receiver -----------------------------------------------------------------------

class Receiver:
    """A real HTTP server in a thread recording every POST; paths under /gone/ answer 410 (refused for good),
    under /down/ 503 (a temporary failure)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.posts.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
                self.send_response({"/gone/": 410, "/down/": 503}.get(self.path[:6], 200))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def at(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.posts if p["path"] == path]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


# ---- the notifications process ----------------------------------------------------------------

class Notifier:
    """`python -m services.usage.notifications` (or its crashing variant) in the test namespace."""

    def __init__(self, settings: config.Settings, smtp_port: int, log_path: Path) -> None:
        self.settings = settings
        self.smtp_port = smtp_port
        self.log_path = log_path
        self.metrics_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *module: str) -> None:
        assert self.proc is None or self.proc.poll() is not None
        env = dict(os.environ)
        env.update({
            "COLLATERAL_NAMESPACE": self.settings.namespace, "COLLATERAL_METRICS_PORT": str(self.metrics_port),
            "COLLATERAL_SMTP_HOST": "127.0.0.1", "COLLATERAL_SMTP_PORT": str(self.smtp_port),
            "COLLATERAL_SMTP_SECURITY": "none", "COLLATERAL_SMTP_FROM": "Collateral <noreply@collateral.test>",
            "COLLATERAL_SMTP_TIMEOUT_S": "3", "COLLATERAL_USAGE_NOTIFY_QUIET_PERIOD_H": str(QUIET_MINUTES / 60),
            "COLLATERAL_USAGE_NOTIFY_DIGEST_INTERVAL_S": "0", "COLLATERAL_CONSUMER_MAX_BACKOFF_S": "1",
            "COLLATERAL_CONSUMER_SESSION_TIMEOUT_S": "6", "COLLATERAL_LOG_FORMAT": "text", "PYTHONUNBUFFERED": "1",
        })
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", *(module or ("services.usage.notifications",))],
                                         cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def caught_up(self) -> bool:
        group = self.settings.group(notifications.NotificationProcessor.name)
        return consumer_lag(self.settings, group, [topics.USAGE_CLASSIFIED.name(self.settings)]) == 0


@pytest.fixture(scope="module")
def notifier(usage_env, consumer, mail_server, tmp_path_factory) -> Iterator[Notifier]:
    es = es_util.client(usage_env)
    notify_store.ensure(es, usage_env)
    es.close()
    proc = Notifier(usage_env, mail_server.port, tmp_path_factory.mktemp("notify") / "notifier.log")
    proc.start()
    yield proc
    proc.stop()


# ---- helpers ---------------------------------------------------------------------------------------

def ts(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


def share(stub, call_as, usage_env, raw_producer, es, names, rep: str, asset: str, **kw: Any) -> usage_pb2.ShareLink:
    catalog_view.publish(usage_env, raw_producer, es, names, {asset: "published"})
    request = usage_pb2.CreateShareLinkRequest(asset_id=asset, account_id=kw.pop("account_id", "acme"), **kw)
    return stub.CreateShareLink(request, metadata=call_as("rep", rep)).share


def prefer(stub, call_as, rep: str, **fields: Any) -> usage_pb2.NotificationSettings:
    settings = usage_pb2.NotificationSettings(portal_enabled=True, **fields)
    return stub.UpdateNotificationSettings(usage_pb2.UpdateNotificationSettingsRequest(settings=settings),
                                           metadata=call_as("rep", rep)).settings


def open_link(stub, call_as, link: usage_pb2.ShareLink, minutes: float, ua: str = CHROME, event_id: str = "") -> str:
    """A customer open `minutes` after the link was created, recorded as the portal records it."""
    when = link.created_at.ToDatetime(tzinfo=timezone.utc) + timedelta(minutes=minutes)
    event = usage_pb2.UsageEvent(event_id=event_id, type=T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, asset_id=link.asset_id,
                                 rep_id=link.rep_id, share_id=link.share_id, occurred_at=ts(when), user_agent=ua,
                                 ip="203.0.113.7")
    return stub.RecordEvents(usage_pb2.RecordEventsRequest(events=[event]),
                             metadata=call_as("service", "portal")).event_ids[0]


def listed(stub, call_as, rep: str) -> usage_pb2.ListNotificationsResponse:
    return stub.ListNotifications(usage_pb2.ListNotificationsRequest(page_size=100), metadata=call_as("rep", rep))


def emails(mail_server, rep: str) -> list[Any]:
    return mail_server.messages(to=rep)


def subject(message: Any) -> str:
    """The decoded Subject (non-ASCII subjects travel RFC 2047-encoded)."""
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


def settled(notifier: Notifier, usage_consumer) -> bool:
    """Everything produced so far went through both consumers (nothing more can arrive)."""
    usage_group = usage_consumer.settings.group("usage-consumer")
    lag = consumer_lag(usage_consumer.settings, usage_group, [topics.USAGE.name(usage_consumer.settings)])
    return lag == 0 and notifier.caught_up()


@pytest.fixture
def env(stub, call_as, usage_env, raw_producer, es, names, notifier, consumer, receiver, mail_server, uid):
    """Everything a test needs, in one place."""

    class Env:
        rep = f"rep-{uid}@example.com"
        hook = f"/hook/{uid}"

        def share(self, asset: str = f"a-{uid}", **kw: Any) -> usage_pb2.ShareLink:
            return share(stub, call_as, usage_env, raw_producer, es, names, self.rep, asset, **kw)

        def open(self, link: usage_pb2.ShareLink, minutes: float, ua: str = CHROME) -> str:
            return open_link(stub, call_as, link, minutes, ua)

        def settled(self) -> None:
            wait_until(lambda: settled(notifier, consumer), what="usage and notification consumers caught up")

    return Env()


# ---- tests -----------------------------------------------------------------------------------------

def test_first_open_notifies_every_enabled_channel_once_then_the_quiet_period_holds(
        env, stub, call_as, mail_server, receiver):
    prefer(stub, call_as, env.rep, email_enabled=True, webhook_enabled=True, webhook_url=receiver.url + env.hook,
           webhook_format=T.WEBHOOK_FORMAT_SLACK)
    link = env.share(account_id="acme-corp")

    env.open(link, minutes=1)
    [message] = wait_until(lambda: emails(mail_server, env.rep), what="the first-open email")
    [post] = wait_until(lambda: receiver.at(env.hook), what="the first-open webhook post")
    portal = wait_until(lambda: listed(stub, call_as, env.rep).notifications, what="the portal notification")
    assert len(portal) == 1 and portal[0].kind == T.NOTIFICATION_KIND_FIRST_OPEN
    assert portal[0].share_id == link.share_id and portal[0].account_id == "acme-corp"
    assert listed(stub, call_as, env.rep).unread_count == 1
    assert subject(message) == f"Account acme-corp opened \u201cAsset {link.asset_id}\u201d for the first time"
    delivery = nm.delivery_id(portal[0].notification_id, nm.EMAIL)
    assert message["Message-ID"] == f"<{delivery}@collateral>"
    assert set(post["json"]) == {"text"} and "for the first time" in post["json"]["text"]
    assert post["headers"]["Idempotency-Key"] == nm.delivery_id(portal[0].notification_id, nm.WEBHOOK)

    # Two minutes later: within the quiet period, nothing new anywhere.
    env.open(link, minutes=2)
    env.settled()
    assert len(emails(mail_server, env.rep)) == 1 and len(receiver.at(env.hook)) == 1
    assert len(listed(stub, call_as, env.rep).notifications) == 1

    # More than the quiet period after the last open: notified again, on every channel.
    env.open(link, minutes=2 + QUIET_MINUTES + 1)
    wait_until(lambda: len(emails(mail_server, env.rep)) == 2, what="the reopen email")
    wait_until(lambda: len(receiver.at(env.hook)) == 2, what="the reopen webhook post")
    again = wait_until(lambda: next((r for r in [listed(stub, call_as, env.rep)] if len(r.notifications) == 2), None),
                       what="two portal notifications")
    assert [n.kind for n in again.notifications] == [T.NOTIFICATION_KIND_REOPEN, T.NOTIFICATION_KIND_FIRST_OPEN]
    assert again.unread_count == 2
    assert "opened again" in subject(emails(mail_server, env.rep)[1])
    env.settled()
    assert len(emails(mail_server, env.rep)) == 2 and len(receiver.at(env.hook)) == 2


def test_a_deal_room_notifies_like_a_link_once_for_all_its_assets(env, stub, call_as, usage_env, raw_producer, es,
                                                                  names, mail_server):
    prefer(stub, call_as, env.rep, email_enabled=True)
    assets = [f"{env.hook[6:]}-r{i}" for i in range(2)]
    catalog_view.publish(usage_env, raw_producer, es, names, {a: "published" for a in assets})
    room = stub.CreateRoom(usage_pb2.CreateRoomRequest(title="Q4 plan", asset_ids=assets, account_id="initech"),
                           metadata=call_as("rep", env.rep)).room
    created = room.created_at.ToDatetime(tzinfo=timezone.utc)
    events = [usage_pb2.UsageEvent(type=T.USAGE_EVENT_TYPE_CUSTOMER_OPEN, asset_id=asset, rep_id=env.rep,
                                   room_id=room.room_id, occurred_at=ts(created + timedelta(minutes=1 + i / 2)),
                                   user_agent=CHROME, ip="203.0.113.9") for i, asset in enumerate(assets)]
    stub.RecordEvents(usage_pb2.RecordEventsRequest(events=events), metadata=call_as("service", "portal"))
    [message] = wait_until(lambda: emails(mail_server, env.rep), what="the room's first-open email")
    assert subject(message) == "Account initech opened deal room \u201cQ4 plan\u201d for the first time"
    env.settled()
    [n] = listed(stub, call_as, env.rep).notifications
    assert (n.room_id, n.share_id, n.account_id, n.kind) == (room.room_id, "", "initech", T.NOTIFICATION_KIND_FIRST_OPEN)
    assert len(emails(mail_server, env.rep)) == 1  # the second asset opened a moment later: the same visit


def test_a_bot_open_never_notifies(env, stub, call_as, mail_server, receiver):
    prefer(stub, call_as, env.rep, email_enabled=True, webhook_enabled=True, webhook_url=receiver.url + env.hook)
    link = env.share()
    env.open(link, minutes=1, ua=SCANNER)
    env.open(link, minutes=2, ua="python-requests/2.32")
    env.settled()
    assert emails(mail_server, env.rep) == [] and receiver.at(env.hook) == []
    assert listed(stub, call_as, env.rep).notifications == []
    # The first human open after the bots is the link's first open.
    env.open(link, minutes=2.5)
    [n] = wait_until(lambda: listed(stub, call_as, env.rep).notifications, what="the human open's notification")
    assert n.kind == T.NOTIFICATION_KIND_FIRST_OPEN


def test_teams_receives_an_adaptive_card(env, stub, call_as, receiver):
    prefer(stub, call_as, env.rep, webhook_enabled=True, webhook_url=receiver.url + env.hook,
           webhook_format=T.WEBHOOK_FORMAT_TEAMS)
    link = env.share(account_id="globex")
    env.open(link, minutes=1)
    [post] = wait_until(lambda: receiver.at(env.hook), what="the Teams post")
    assert post["headers"]["Content-Type"] == "application/json"
    [attachment] = post["json"]["attachments"]
    assert post["json"]["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["body"][0]["text"].startswith("Account globex opened")


def test_a_webhook_refusing_for_good_is_recorded_failed_and_does_not_block(env, stub, call_as, es, usage_env,
                                                                           mail_server, receiver):
    gone = env.hook.replace("/hook/", "/gone/")
    prefer(stub, call_as, env.rep, email_enabled=True, webhook_enabled=True, webhook_url=receiver.url + gone)
    first = env.share(asset=f"{env.hook[6:]}-1")
    env.open(first, minutes=1)
    wait_until(lambda: receiver.at(gone), what="the refused post")
    [n] = wait_until(lambda: listed(stub, call_as, env.rep).notifications, what="the notification")
    names = notify_store.Names.of(usage_env)
    delivery = nm.delivery_id(n.notification_id, nm.WEBHOOK)
    wait_until(lambda: es.get(index=names.deliveries, id=delivery)["_source"]["state"] == nm.FAILED,
               what="the refused delivery recorded as failed")
    # The loop went on: the email of the same notification and a later link's notification arrive.
    second = env.share(asset=f"{env.hook[6:]}-2")
    env.open(second, minutes=1)
    wait_until(lambda: len(emails(mail_server, env.rep)) == 2, what="both emails despite the refusing webhook")
    # A notification's channels are sent one after the other: its post may follow its email.
    wait_until(lambda: len(receiver.at(gone)) == 2, what="the second notification's refused post")
    env.settled()
    assert len(receiver.at(gone)) == 2  # each refused once, never retried


def test_a_webhook_that_stays_down_is_given_up_after_a_few_attempts_and_blocks_nobody(
        env, stub, call_as, es, usage_env, mail_server, receiver):
    down = env.hook.replace("/hook/", "/down/")
    prefer(stub, call_as, env.rep, email_enabled=True, webhook_enabled=True, webhook_url=receiver.url + down)
    link = env.share()
    env.open(link, minutes=1)
    [n] = wait_until(lambda: listed(stub, call_as, env.rep).notifications, what="the notification")
    names = notify_store.Names.of(usage_env)
    delivery = nm.delivery_id(n.notification_id, nm.WEBHOOK)
    failed = wait_until(lambda: (d := es.get(index=names.deliveries, id=delivery)["_source"])["state"] == nm.FAILED
                        and d, what="the webhook given up")
    assert failed["attempts"] == notifications.WEBHOOK_ATTEMPTS and "gave up" in failed["error"]
    assert len(receiver.at(down)) == notifications.WEBHOOK_ATTEMPTS
    assert len(emails(mail_server, env.rep)) == 1  # the email of the same notification went out once
    env.settled()
    assert len(receiver.at(down)) == notifications.WEBHOOK_ATTEMPTS


def test_a_daily_digest_sends_one_message_with_the_days_opens(env, stub, call_as, usage_env, mail_server, receiver):
    prefer(stub, call_as, env.rep, email_enabled=True, email_delivery=T.NOTIFICATION_DELIVERY_DAILY_DIGEST,
           webhook_enabled=True, webhook_url=receiver.url + env.hook, webhook_delivery=T.NOTIFICATION_DELIVERY_DAILY_DIGEST)
    links = [env.share(asset=f"{env.hook[6:]}-{i}", account_id=f"acct-{i}") for i in range(3)]
    for link in links:
        env.open(link, minutes=1)
    wait_until(lambda: len(listed(stub, call_as, env.rep).notifications) == 3, what="three portal notifications")
    env.settled()
    assert emails(mail_server, env.rep) == [] and receiver.at(env.hook) == []  # nothing before the day ends

    opened_day = links[0].created_at.ToDatetime(tzinfo=timezone.utc).date()
    tomorrow = datetime.combine(opened_day + timedelta(days=1), datetime.min.time(), timezone.utc) + timedelta(hours=1)
    job = notifications.DigestJob(usage_env, clock=lambda: tomorrow, sender=notifications.Sender(
        _smtp(usage_env, mail_server.port)))
    try:
        assert job.publish() >= 2  # this rep's email and webhook digests (other tests' reps may have some too)
        assert job.publish() == 0  # a second run finds nothing pending
    finally:
        job.close()
    [digest] = emails(mail_server, env.rep)
    assert subject(digest) == f"3 customer opens of your shared content on {opened_day.isoformat()}"
    text = next(part.get_payload(decode=True).decode() for part in digest.walk()
                if part.get_content_type() == "text/plain")
    assert all(f"Account acct-{i} opened" in text for i in range(3))
    [post] = receiver.at(env.hook)
    assert post["json"]["text"].startswith(f"3 customer opens of your shared content on {opened_day.isoformat()}")


def test_an_open_reflagged_as_bot_before_its_digest_is_never_sent(env, stub, call_as, usage_env, es, names,
                                                                  raw_producer, mail_server):
    prefer(stub, call_as, env.rep, email_enabled=True, email_delivery=T.NOTIFICATION_DELIVERY_DAILY_DIGEST)
    link = env.share()
    event_id = env.open(link, minutes=1)
    [n] = wait_until(lambda: listed(stub, call_as, env.rep).notifications, what="the notification")
    # The usage consumer re-flags a stored open (as it does for beacon floods) and re-publishes its verdict.
    stored = es.search(index=names.events, query={"term": {"event_id": event_id}})["hits"]["hits"][0]
    es.update(index=stored["_index"], id=event_id, doc={"is_bot": True, "bot_reason": "beacon_flood"}, refresh=True)
    verdict = {"event_id": event_id, "schema_version": 1, "occurred_at": stored["_source"]["occurred_at"],
               "type": "customer_open", "asset_id": link.asset_id, "rep_id": env.rep, "share_id": link.share_id,
               "account_id": "acme", "is_bot": True, "bot_reason": "beacon_flood"}
    produce_json(raw_producer, topics.USAGE_CLASSIFIED.name(usage_env), "acme", verdict)
    raw_producer.flush()
    wait_until(lambda: listed(stub, call_as, env.rep).notifications == [], what="the notification withdrawn")
    delivery = es.get(index=notify_store.Names.of(usage_env).deliveries, id=nm.delivery_id(n.notification_id, nm.EMAIL))
    assert delivery["_source"]["state"] == nm.CANCELLED
    day = link.created_at.ToDatetime(tzinfo=timezone.utc).date()
    job = notifications.DigestJob(usage_env, clock=lambda: datetime.combine(day + timedelta(days=2), datetime.min.time(),
                                                                            timezone.utc),
                                  sender=notifications.Sender(_smtp(usage_env, mail_server.port)))
    try:
        job.publish()
    finally:
        job.close()
    assert emails(mail_server, env.rep) == []


def test_smtp_down_then_up_delivers_the_email_once_after(env, stub, call_as, notifier, mail_server):
    prefer(stub, call_as, env.rep, email_enabled=True)
    link = env.share()
    retries_before = metric_value(notifier.metrics_port, "collateral_usage_notification_retries_total",
                                  channel="email") or 0.0
    mail_server.stop()
    try:
        env.open(link, minutes=1)
        wait_until(lambda: (metric_value(notifier.metrics_port, "collateral_usage_notification_retries_total",
                                         channel="email") or 0.0) > retries_before, what="a failed send being retried")
    finally:
        mail_server.start()
    [message] = wait_until(lambda: emails(mail_server, env.rep), what="the email after the SMTP server came back")
    assert "for the first time" in subject(message)
    env.settled()
    assert len(emails(mail_server, env.rep)) == 1


@pytest.mark.parametrize("point", ["before-commit", "before-mark"])
def test_a_crash_around_the_send_never_loses_and_never_silently_duplicates(
        point, env, stub, call_as, notifier, mail_server, receiver, tmp_path):
    """SIGKILL after marking sent but before the offset commit: the replay sends nothing (exactly once).
    SIGKILL after sending but before marking: the replay sends again with the same ids (recognisable)."""
    prefer(stub, call_as, env.rep, email_enabled=True, webhook_enabled=True, webhook_url=receiver.url + env.hook)
    link = env.share()
    env.settled()  # the crashing process's first batch is this test's open
    notifier.stop()
    marker = tmp_path / "crashed"
    try:
        notifier.start("tests.integration.usage.notifier_crash", point, str(marker))
        env.open(link, minutes=1)
        wait_until(lambda: notifier.proc.poll() is not None, what="the notifications process killing itself")
        assert notifier.proc.returncode == -signal.SIGKILL and marker.read_text() == point
        # Email goes first: before-mark dies with the email sent and unmarked, before-commit after both.
        assert len(emails(mail_server, env.rep)) == 1
        assert len(receiver.at(env.hook)) == (1 if point == "before-commit" else 0)
    finally:
        notifier.stop()
        notifier.start()  # the ordinary process replays the uncommitted batch
    env.settled()
    wait_until(lambda: receiver.at(env.hook), what="the webhook post")
    mails, posts = emails(mail_server, env.rep), receiver.at(env.hook)
    assert len({m["Message-ID"] for m in mails}) == 1 and len({p["headers"]["Idempotency-Key"] for p in posts}) == 1
    # Exactly once when the crash came after the mark; the one resend (same Message-ID) when it came before.
    assert (len(mails), len(posts)) == ((1, 1) if point == "before-commit" else (2, 1))
    assert len(listed(stub, call_as, env.rep).notifications) == 1


# ---- the RPCs ------------------------------------------------------------------------------------

def test_settings_default_to_the_portal_and_are_validated_with_field_paths(stub, call_as, uid):
    rep = f"rep-{uid}@example.com"
    got = stub.GetNotificationSettings(usage_pb2.GetNotificationSettingsRequest(), metadata=call_as("rep", rep)).settings
    assert (got.rep_id, got.portal_enabled, got.email_enabled, got.webhook_enabled) == (rep, True, False, False)
    assert not got.HasField("updated_at")
    for fields, path in (({"email_enabled": True, "email": "nope"}, "settings.email"),
                         ({"webhook_enabled": True, "webhook_url": "ftp://x.example.com/"}, "settings.webhook_url"),
                         ({"webhook_enabled": True}, "settings.webhook_url"),
                         ({"webhook_format": 7}, "settings.webhook_format"),
                         ({"email_delivery": 9}, "settings.email_delivery")):
        with pytest.raises(grpc.RpcError) as caught:
            stub.UpdateNotificationSettings(usage_pb2.UpdateNotificationSettingsRequest(
                settings=usage_pb2.NotificationSettings(**fields)), metadata=call_as("rep", rep))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and path in caught.value.details()
    updated = prefer(stub, call_as, rep, email_enabled=True, webhook_enabled=True,
                     webhook_url="http://127.0.0.1:9/hook", webhook_delivery=T.NOTIFICATION_DELIVERY_DAILY_DIGEST)
    assert updated.email_enabled and updated.webhook_delivery == T.NOTIFICATION_DELIVERY_DAILY_DIGEST
    assert stub.GetNotificationSettings(usage_pb2.GetNotificationSettingsRequest(),
                                        metadata=call_as("rep", rep)).settings.webhook_url == "http://127.0.0.1:9/hook"


def test_reps_manage_only_their_own_settings_and_admins_anyones(stub, call_as, uid):
    rep, other = f"rep-{uid}@example.com", f"other-{uid}@example.com"
    for call in (lambda: stub.GetNotificationSettings(usage_pb2.GetNotificationSettingsRequest(rep_id=other),
                                                      metadata=call_as("rep", rep)),
                 lambda: stub.UpdateNotificationSettings(usage_pb2.UpdateNotificationSettingsRequest(
                     settings=usage_pb2.NotificationSettings(rep_id=other)), metadata=call_as("rep", rep))):
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    stub.UpdateNotificationSettings(usage_pb2.UpdateNotificationSettingsRequest(
        settings=usage_pb2.NotificationSettings(rep_id=other, portal_enabled=False)), metadata=call_as("admin"))
    got = stub.GetNotificationSettings(usage_pb2.GetNotificationSettingsRequest(rep_id=other),
                                       metadata=call_as("admin")).settings
    assert got.rep_id == other and not got.portal_enabled


def test_list_pages_newest_first_and_marking_read_updates_the_unread_count(env, stub, call_as):
    links = [env.share(asset=f"{env.hook[6:]}-{i}") for i in range(3)]
    for i, link in enumerate(links):
        env.open(link, minutes=1 + i)
    wait_until(lambda: listed(stub, call_as, env.rep).unread_count == 3, what="three unread notifications")
    me = call_as("rep", env.rep)
    page = stub.ListNotifications(usage_pb2.ListNotificationsRequest(page_size=2), metadata=me)
    rest = stub.ListNotifications(usage_pb2.ListNotificationsRequest(page_size=2, page_token=page.next_page_token),
                                  metadata=me)
    ordered = list(page.notifications) + list(rest.notifications)
    assert [n.share_id for n in ordered] == [link.share_id for link in reversed(links)] and not rest.next_page_token
    assert listed(stub, call_as, f"someone-else-{env.hook[6:]}").notifications == []  # only one's own

    marked = stub.MarkNotificationsRead(usage_pb2.MarkNotificationsReadRequest(
        notification_ids=[ordered[0].notification_id]), metadata=me)
    assert (marked.marked, marked.unread_count) == (1, 2)
    unread = stub.ListNotifications(usage_pb2.ListNotificationsRequest(unread_only=True), metadata=me)
    assert [n.notification_id for n in unread.notifications] == [n.notification_id for n in ordered[1:]]
    other = stub.MarkNotificationsRead(usage_pb2.MarkNotificationsReadRequest(
        notification_ids=[ordered[1].notification_id]), metadata=call_as("rep", "intruder@example.com"))
    assert other.marked == 0  # someone else's ids change nothing
    done = stub.MarkNotificationsRead(usage_pb2.MarkNotificationsReadRequest(all=True), metadata=me)
    assert (done.marked, done.unread_count) == (2, 0)
    with pytest.raises(grpc.RpcError) as caught:
        stub.MarkNotificationsRead(usage_pb2.MarkNotificationsReadRequest(), metadata=me)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "notification_ids" in caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListNotifications(usage_pb2.ListNotificationsRequest(page_token="garbage"), metadata=me)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def _smtp(settings: config.Settings, port: int) -> config.Settings:
    import dataclasses

    return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                               smtp_from="Collateral <noreply@collateral.test>")
