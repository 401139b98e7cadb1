"""The bot classifier: scanners, unfurlers, prefetchers and scripts are not customers."""

from __future__ import annotations

import pytest

from services.usage import bots

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
SAFARI_IOS = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/17.5 Mobile/15E148 Safari/604.1")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
EDGE = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36 Edg/131.0.2903.86")


@pytest.mark.parametrize("ua", [CHROME, SAFARI_IOS, FIREFOX, EDGE])
def test_real_browsers_are_human(ua):
    assert bots.classify(ua) == bots.HUMAN
    assert bots.classify(ua, {"accept": "text/html"}, seconds_since_share=3600) == bots.HUMAN


@pytest.mark.parametrize("ua,reason", [
    ("Mozilla/5.0 (compatible; Proofpoint URL Defense)", "mail_scanner"),
    ("Mimecast-URL-Protect/1.0", "mail_scanner"),
    ("Barracuda Sentinel (EE)", "mail_scanner"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Microsoft SafeLinks", "mail_scanner"),
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "link_preview"),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com", "link_preview"),
    ("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", "link_preview"),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "link_preview"),
    ("WhatsApp/2.23.20.0", "link_preview"),
    ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "link_preview"),
    ("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)", "link_preview"),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "crawler"),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "crawler"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
     "headless_browser"),
    ("Mozilla/5.0 PhantomJS/2.1.1", "headless_browser"),
    ("curl/8.5.0", "http_client"),
    ("python-requests/2.32.3", "http_client"),
    ("Python-urllib/3.11", "http_client"),
    ("Go-http-client/1.1", "http_client"),
    ("Wget/1.21.4", "http_client"),
    ("okhttp/4.12.0", "http_client"),
])
def test_known_automation_is_bot(ua, reason):
    verdict = bots.classify(ua)
    assert verdict.is_bot and verdict.reason == reason


def test_missing_user_agent_is_bot():
    assert bots.classify("") == bots.Verdict(True, "missing_user_agent")
    assert bots.classify(None).is_bot


def test_non_browser_user_agent_is_bot():
    assert bots.classify("AcmeDocReader/1.0").reason == "non_browser"


@pytest.mark.parametrize("headers", [
    {"Sec-Purpose": "prefetch;prerender"},
    {"purpose": "prefetch"},
    {"X-Purpose": "preview"},
    {"x-moz": "prefetch"},
])
def test_prefetch_headers_are_bots_even_with_browser_user_agent(headers):
    assert bots.classify(CHROME, headers) == bots.Verdict(True, "prefetch")


def test_from_header_of_crawlers():
    assert bots.classify(CHROME, {"From": "googlebot(at)googlebot.com"}).is_bot


def test_opens_within_seconds_of_share_are_scanners():
    assert bots.classify(CHROME, seconds_since_share=1.5) == bots.Verdict(True, "fast_open")
    assert bots.classify(CHROME, seconds_since_share=9.9, fast_open_s=10) .is_bot
    assert not bots.classify(CHROME, seconds_since_share=10.0, fast_open_s=10).is_bot
    assert not bots.classify(CHROME, seconds_since_share=None).is_bot
    # Clock skew (an open "before" the share) is not evidence of a scanner.
    assert not bots.classify(CHROME, seconds_since_share=-2).is_bot


def test_rep_events_are_never_bots():
    event = {"type": "download", "user_agent": "curl/8.0"}
    assert bots.classify_event(event, None) == bots.HUMAN
    assert bots.classify_event({"type": "customer_open", "user_agent": "curl/8.0"}, None).is_bot
    assert bots.classify_event({"type": "page_view", "user_agent": CHROME, "headers": {"purpose": "prefetch"}},
                               None).is_bot


def test_rep_events_stay_human_however_fast_after_a_share() -> None:
    assert bots.classify_event({"type": "share", "user_agent": CHROME, "share_id": "s1"}, 0.5) == bots.HUMAN
    assert bots.classify_event({"type": "customer_open", "user_agent": CHROME}, 0.5) == bots.Verdict(True, "fast_open")
