"""Is a customer open a human, or a link scanner / unfurler / prefetcher?

Shared links are opened automatically long before (or instead of) the customer: mail
security gateways (Proofpoint, Mimecast, Barracuda, Microsoft Safe Links, ...) click
every link in an incoming mail, chat tools (Slack, Teams, LinkedIn, WhatsApp, ...)
fetch a preview when the link is pasted, browsers and mail clients prefetch, and
scripts use plain HTTP clients. Counting those as customer opens misleads reps ("she
opened it 3 seconds after I sent it!"), so every customer event is classified here and
kept out of the customer counts when it looks automated.

The classifier is a pure function of what the portal saw: the user agent, a few
request headers and the time since the share was created. It errs on the side of
"human" for ordinary browsers: a false "bot" hides a real open, which is worse for a
rep than a scanner counted once, except for the near-instant opens that only scanners
produce.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping

# Event types produced by a customer's client (the only ones that can be bots).
CUSTOMER_TYPES = frozenset({"customer_open", "page_view", "customer_download"})

DEFAULT_FAST_OPEN_S = 10.0
FLOOD_REASON = "beacon_flood"  # a customer open beyond its share link's caps


@dataclass(frozen=True)
class Verdict:
    is_bot: bool
    reason: str = ""  # machine-readable; "" for humans


HUMAN = Verdict(False)

# (reason, pattern) in order: the first match decides. Patterns are matched case-insensitively.
_UA_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.IGNORECASE))
    for reason, pattern in (
        # Mail security gateways and URL rewriters that pre-click links.
        ("mail_scanner", r"proofpoint|mimecast|barracuda|ironport|messagelabs|symantec|forcepoint|trend ?micro|"
                         r"fireeye|trellix|sophos|zscaler|cisco.?secure|safelinks|safe ?links|avanan|abnormal|"
                         r"checkpoint|check ?point|fortinet|fortiguard|mailscanner|vadesecure|spamtitan|appriver"),
        # Chat, social and office link previews (unfurlers).
        ("link_preview", r"slackbot|slack-imgproxy|slack-linkexpanding|skypeuripreview|microsoftpreview|"
                         r"teams.*preview|msteams|linkedinbot|facebookexternalhit|facebot|twitterbot|discordbot|"
                         r"whatsapp|telegrambot|viber|snapchat|pinterestbot|redditbot|embedly|iframely|"
                         r"outbrain|quora link preview|bitlybot|tumblr|vkshare|w3c_validator|"
                         r"google-pagerenderer|googleimageproxy|ggpht\.com|yahoomailproxy|bingpreview|"
                         r"ms-office|microsoft office|microsoft outlook|applebot|preview"),
        # Search engines and generic crawlers.
        ("crawler", r"googlebot|google-inspectiontool|adsbot|apis-google|mediapartners-google|google-safety|"
                    r"google-read-aloud|feedfetcher|bingbot|msnbot|yandex|baiduspider|duckduckbot|ahrefsbot|"
                    r"semrushbot|mj12bot|petalbot|bytespider|gptbot|ccbot|claudebot|amazonbot|"
                    r"\bbot\b|bot/|crawler|spider|scanner|scraper|fetcher|monitor|uptime|pingdom|statuscake|"
                    r"validator|linkcheck|link checker"),
        # Headless and automated browsers.
        ("headless_browser", r"headlesschrome|headless|phantomjs|puppeteer|playwright|selenium|webdriver|"
                             r"electron/.*\bheadless|lighthouse|chrome-lighthouse|prerender|splash"),
        # Plain HTTP clients and libraries.
        ("http_client", r"^curl/|\bcurl\b|^wget/|\bwget\b|python-requests|python-urllib|python-httpx|aiohttp|"
                        r"^python/|httpx|go-http-client|^java/|okhttp|apache-httpclient|libwww-perl|lwp::|"
                        r"node-fetch|undici|axios|got \(|postmanruntime|insomnia|httpie|restsharp|guzzle|"
                        r"^ruby|faraday|dart:io|cfnetwork(?!.*safari)|powershell|winhttp|http_request2"),
    )
)

# Request headers that only prefetchers and previewers send.
_PREFETCH_HEADERS = {
    "sec-purpose": re.compile(r"prefetch|prerender", re.IGNORECASE),
    "purpose": re.compile(r"prefetch|preview", re.IGNORECASE),
    "x-purpose": re.compile(r"preview|prefetch|instant", re.IGNORECASE),
    "x-moz": re.compile(r"prefetch", re.IGNORECASE),
    "sec-fetch-purpose": re.compile(r"prefetch", re.IGNORECASE),
}
_BOT_FROM = re.compile(r"bot|crawl|spider|google|bing", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def classify_user_agent(ua: str) -> Verdict:
    """The user-agent part of the verdict (cached: a few thousand agents cover most traffic)."""
    if not ua:
        return Verdict(True, "missing_user_agent")
    for reason, pattern in _UA_RULES:
        if pattern.search(ua):
            return Verdict(True, reason)
    if not ua.lower().startswith(("mozilla/", "opera")):
        # Every mainstream browser (desktop and mobile, in-app views too) sends Mozilla/...
        return Verdict(True, "non_browser")
    return HUMAN


def classify(
    user_agent: str | None,
    headers: Mapping[str, str] | None = None,
    seconds_since_share: float | None = None,
    fast_open_s: float = DEFAULT_FAST_OPEN_S,
) -> Verdict:
    """Classify one customer request.

    `seconds_since_share` is the time from the share link's creation to this event
    (None when unknown); opens faster than `fast_open_s` are scanners that click every
    link on delivery, whatever user agent they pretend to be.
    """
    return timed(classify_request(user_agent, headers), seconds_since_share, fast_open_s)


def classify_request(user_agent: str | None, headers: Mapping[str, str] | None = None) -> Verdict:
    """The verdict on what the request itself shows (agent and headers), before its timing is known.

    A function of the event alone, so the usage consumer decides it while parsing; the
    timing needs the share link's creation time, looked up by the write (`timed`)."""
    by_agent = classify_user_agent((user_agent or "").strip()[:1024])
    if by_agent.is_bot and by_agent.reason != "non_browser":
        return by_agent
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    for name, pattern in _PREFETCH_HEADERS.items():
        value = lowered.get(name)
        if value and pattern.search(value):
            return Verdict(True, "prefetch")
    if _BOT_FROM.search(lowered.get("from", "")):
        return Verdict(True, "crawler")
    return by_agent


def timed(request: Verdict, seconds_since_share: float | None, fast_open_s: float = DEFAULT_FAST_OPEN_S) -> Verdict:
    """`request` (from `classify_request`) once the time since the link was shared is known:
    a request that looks human but came faster than `fast_open_s` is a scanner."""
    if request.is_bot or seconds_since_share is None or not 0 <= seconds_since_share < fast_open_s:
        return request
    return Verdict(True, "fast_open")


def classify_event(event: Mapping[str, object], seconds_since_share: float | None,
                   fast_open_s: float = DEFAULT_FAST_OPEN_S) -> Verdict:
    """Rep events are authenticated actions and never bots; customer events are classified."""
    if event.get("type") not in CUSTOMER_TYPES:
        return HUMAN
    return timed(classify_event_request(event), seconds_since_share, fast_open_s)


def classify_event_request(event: Mapping[str, object]) -> Verdict:
    """`classify_request` of a usage event: HUMAN for rep events (authenticated actions)."""
    if event.get("type") not in CUSTOMER_TYPES:
        return HUMAN
    headers = event.get("headers")
    return classify_request(str(event.get("user_agent") or ""), headers if isinstance(headers, Mapping) else None)


# ---- share-link open caps ---------------------------------------------------------------
#
# Anyone holding a share link can post open beacons with fresh visit ids; each is a
# distinct event, so deduplication alone cannot stop a flood. Opens of one link are
# therefore capped per UTC day: per client (keyed IP hash) and over all clients. The
# rule is a pure function of the set of opens, ordered by (occurred_at, event_id), so
# the usage consumer reaches the same verdicts whatever order the events arrive in:
#
#   an open counts iff it is among the first `per_client` opens of its client that
#   day, and among the first `per_link` of the opens passing that client test.
#
# Adding an open never turns an over-cap open into a counted one (it can only push
# counted opens out), which is what lets the consumer apply the rule to the opens
# counted so far plus a new batch instead of to the whole history.


@dataclass(frozen=True)
class OpenCaps:
    per_client: int
    per_link: int


def cap_link(event: Mapping[str, object]) -> tuple[str, ...] | None:
    """What the caps count opens of: ("share", share_id), or ("room", room_id, asset_id).

    Each asset of a deal room is capped like a share link of its own:
    a customer reading every asset of a 20-asset room once is 20 opens, which a
    whole-room cap of a link's size would flag, while a flood of one room stays bounded
    by the room's asset count (at most rooms.MAX_ASSETS) times a link's caps.
    """
    if event.get("share_id"):
        return "share", str(event["share_id"])
    if event.get("room_id"):
        return "room", str(event["room_id"]), str(event["asset_id"])
    return None


def open_cap_key(event: Mapping[str, object]) -> tuple[tuple[str, ...], str] | None:
    """(link, UTC day) of a customer open the caps apply to (see cap_link); None for anything else."""
    link = cap_link(event) if event.get("type") == "customer_open" else None
    if link is None:
        return None
    return link, str(event["occurred_at"])[:10]


def opens_over_cap(opens: Iterable[Mapping[str, object]], caps: OpenCaps) -> set[str]:
    """Event ids of the opens beyond the caps, among human customer opens of any links.

    Opens without an IP hash (written by an integration rather than the portal) share
    one client budget per link. Duplicate event ids count once.
    """
    by_key: dict[tuple[tuple[str, ...], str], dict[str, Mapping[str, object]]] = defaultdict(dict)
    for event in opens:
        key = open_cap_key(event)
        if key is not None:
            by_key[key].setdefault(str(event["event_id"]), event)
    over: set[str] = set()
    for events_of_key in by_key.values():
        ordered = sorted(events_of_key.values(), key=lambda e: (str(e["occurred_at"]), str(e["event_id"])))
        per_client: Counter[str] = Counter()
        counted = 0
        for event in ordered:
            client = str(event.get("ip_hash") or "")
            if per_client[client] >= caps.per_client:
                over.add(str(event["event_id"]))
                continue
            per_client[client] += 1
            if counted >= caps.per_link:
                over.add(str(event["event_id"]))
                continue
            counted += 1
    return over
