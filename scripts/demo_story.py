"""The demo's year of history, planned as plain data: what `scripts/demo_data.py` loads.

A catalog that grew over the past year (a few drafts, retired and expired assets), a
long tail of rarely used assets next to a handful used a lot, three assets that clearly
help win, deals with outcomes, usage that follows each asset's lifetime (never before it
was published, never after it was retired or expired), customer opens and page views on
share links (a few of them link-preview bots), searches with and without results, and
content requests.

Every draw comes from one seeded generator in a fixed order and every time is an offset
from an anchor day, so the same anchor always gives the same plan (the same ids, times
and outcomes): loading it again changes nothing. Nothing here talks to a server, so the
story's rules are checked by fast unit tests.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timedelta
from typing import Any, Sequence

from collateral.v1 import common_pb2, content_pb2

SEED = 20261123
DAY = timedelta(days=1)
INDUSTRIES = ["healthcare", "financial-services", "manufacturing", "retail", "software", "public-sector"]
REGIONS = ["na", "emea", "apac", "latam"]
PRODUCTS = ["analytics", "platform", "security", "integrations"]
PERSONAS = ["cfo", "cio", "vp-sales", "it-admin", "procurement", "end-user"]
TEAMS = ["enterprise", "mid-market", "smb"]
TOPICS = [
    ("Reducing churn", "retention cohorts renewal playbook churn signals"),
    ("Security review", "soc2 encryption audit compliance questionnaire"),
    ("ROI of analytics", "payback period savings productivity forecast"),
    ("Migration guide", "cutover rollback data migration timeline"),
    ("Competitive comparison", "competitor pricing feature gaps differentiation"),
    ("Customer story", "implementation results testimonial adoption"),
    ("Onboarding plan", "kickoff training success milestones adoption"),
    ("Integration overview", "api webhooks connectors salesforce hubspot"),
    ("Pricing and packaging", "tiers discounts licensing procurement"),
    ("Executive briefing", "strategy board priorities transformation"),
]
# Asset types and buying stages by their proto enum names without the prefix, lower case, in enum order.
TYPE_NAMES = [n.removeprefix("ASSET_TYPE_").lower() for n in content_pb2.AssetType.keys() if not n.endswith("UNSPECIFIED")]
STAGE_NAMES = [n.removeprefix("BUYING_STAGE_").lower() for n in common_pb2.BuyingStage.keys()
               if not n.endswith("UNSPECIFIED")]
OWNERS = ["marketer@demo.local", "marketer@demo.local", "marketer@demo.local", "priya.pmm@demo.local",
          "jordan.enablement@demo.local", "sam.solutions@demo.local"]
REPS = [f"rep{i:02d}@demo.local" for i in range(1, 21)]
# The assets that help win: a customer story, the ROI deck and the security review. Touching
# one of them lifts a deal's chance of winning from BASE_WIN_RATE to WINNER_WIN_RATE.
WINNER_NUMBERS = (5, 12, 21)
BASE_WIN_RATE = 0.22
WINNER_WIN_RATE = 0.68
WINNER_TOUCH_CHANCE = 0.28
HISTORY_DAYS = 365
# Searches that find assets (every word in an asset's title, description or tags) ...
FOUND_QUERIES = ["churn", "renewal playbook", "security questionnaire", "soc2", "roi", "payback period",
                 "migration timeline", "competitor pricing", "customer story", "customer story retail",
                 "onboarding", "salesforce", "pricing", "executive briefing", "battle card", "case study retail",
                 "encryption", "webhooks", "discounts", "testimonial"]
# ... and what reps look for that the catalog does not have: the content gaps. Lost reasons
# and content requests name the same topics, so the gaps report adds them up.
GAP_QUERIES = ["HIPAA BAA template", "hipaa baa template", "GDPR data residency", "total cost of ownership hospitals",
               "Total cost of ownership for hospitals", "pen test summary", "manufacturing case study germany",
               "acme battle card"]
LOST_REASONS = ["price", "competitor", "timing", "no budget", "price", "competitor",
                "missing HIPAA BAA template", "missing total cost of ownership for hospitals", "missing GDPR data residency"]
CONTENT_REQUESTS = [
    ("rep01@demo.local", "Need a HIPAA BAA template"),
    ("rep04@demo.local", "HIPAA BAA template"),
    ("rep07@demo.local", "Total cost of ownership for hospitals"),
    ("rep02@demo.local", "GDPR data residency"),
    ("rep11@demo.local", "GDPR data residency"),
    ("rep15@demo.local", "Pen test summary"),
    ("rep09@demo.local", "Acme battle card"),
    ("rep18@demo.local", "Manufacturing case study Germany"),
]
HUMAN_AGENT = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"
BOT_AGENTS = ["Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
              "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]
REP_KINDS = ["view", "view", "view", "download", "download", "present", "email_attach"]
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class AssetPlan:
    """One asset and its lifetime: usable from `published` until `until` (retired, expired or the anchor)."""

    number: int
    asset_id: str
    title: str
    description: str
    body: str
    pages: int
    asset_type: str  # TYPE_NAMES entry
    topic: str
    tags: list[str]
    industry: str
    product: str
    persona: str
    region: str
    stages: tuple[str, str]  # STAGE_NAMES entries
    owner: str
    created: datetime
    published: datetime | None  # None: a draft
    retired: datetime | None
    expires: datetime
    until: datetime
    popularity: float  # relative chance of being picked (0: never used)
    helps_win: bool

    @cached_property
    def words(self) -> set[str]:
        return set(_WORD.findall(f"{self.title} {self.description} {' '.join(self.tags)}".lower()))

    @cached_property
    def usable(self) -> bool:
        """Published, live for at least a day, and picked by reps at all (the long tail's end is not)."""
        return self.popularity > 0 and self.published is not None and self.until - self.published >= DAY

    def usable_at(self, when: datetime) -> bool:
        return self.published is not None and self.published <= when < self.until

    @property
    def external_id(self) -> str:
        return f"demo:{self.number}"


@dataclass(frozen=True)
class DealPlan:
    number: int
    opportunity_id: str
    account_index: int
    owner_rep_id: str
    stage: str  # won, lost, open
    amount: float
    created: datetime
    closed: datetime | None
    industry: str
    region: str
    team: str
    lost_reason: str | None
    touched: list[str]


@dataclass(frozen=True)
class UsagePlan:
    """One usage event as the usage contract names its fields (schemas/usage-event.v1.json)."""

    event_id: str
    kind: str
    asset_id: str
    rep_id: str
    occurred: datetime
    opportunity_id: str = ""
    account_id: str = ""
    share_id: str = ""
    channel: str = "portal"
    user_agent: str = ""
    page: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class SearchPlan:
    """One search as the content service would have served it: its matches among the assets live then."""

    event_id: str
    rep_id: str
    occurred: datetime
    query: str
    result_count: int
    shown_asset_ids: list[str]


@dataclass
class Story:
    anchor: datetime
    assets: list[AssetPlan]
    deals: list[DealPlan] = field(default_factory=list)
    usage: list[UsagePlan] = field(default_factory=list)
    searches: list[SearchPlan] = field(default_factory=list)

    def asset(self, asset_id: str) -> AssetPlan:
        return self._by_id[asset_id]

    @cached_property
    def _by_id(self) -> dict[str, AssetPlan]:
        return {a.asset_id: a for a in self.assets}


def rep_team(rep: str) -> str:
    return TEAMS[REPS.index(rep) % len(TEAMS)]


def rep_region(rep: str) -> str:
    return REGIONS[REPS.index(rep) % len(REGIONS)]


def asset_id(number: int) -> str:
    return f"demo-asset-{number:03d}"


def plan_assets(anchor: datetime, n_assets: int) -> list[AssetPlan]:
    """The catalog part of `plan` alone (it is drawn first, so it is the same)."""
    return _plan_assets(random.Random(SEED), anchor, n_assets)


def plan(anchor: datetime, n_assets: int, n_deals: int, n_events: int, n_searches: int) -> Story:
    """The whole story for `anchor` (the end of the demo's history: a day boundary at or before now)."""
    rng = random.Random(SEED)
    story = Story(anchor, _plan_assets(rng, anchor, n_assets))
    planner = _UsagePlanner(rng, story)
    story.deals = [_plan_deal(rng, story, planner, d) for d in range(1, n_deals + 1)]
    planner.browse_until(n_events)
    story.usage = planner.events
    story.searches = _plan_searches(rng, story, n_searches)
    return story


# ---- assets -------------------------------------------------------------------------------

def _plan_assets(rng: random.Random, anchor: datetime, n_assets: int) -> list[AssetPlan]:
    popularity = _long_tail(rng, n_assets)
    return [_plan_asset(rng, anchor, i, popularity[i - 1]) for i in range(1, n_assets + 1)]


def _long_tail(rng: random.Random, n_assets: int) -> list[float]:
    """Per asset, a Zipf-like weight over a seeded order; a quarter never used; the winners near the head."""
    order = list(range(1, n_assets + 1))
    rng.shuffle(order)
    head = [n for n in WINNER_NUMBERS if n <= n_assets]
    order = head + [n for n in order if n not in head]
    weights = [0.0] * n_assets
    used = max(len(head), round(n_assets * 0.75))
    for rank, number in enumerate(order[:used], start=1):
        weights[number - 1] = 1.0 / rank ** 1.1
    return weights


def _plan_asset(rng: random.Random, anchor: datetime, i: int, popularity: float) -> AssetPlan:
    topic, words = TOPICS[i % len(TOPICS)]
    industry = INDUSTRIES[i % len(INDUSTRIES)]
    asset_type = TYPE_NAMES[i % len(TYPE_NAMES)]
    type_label = asset_type.replace("_", " ")
    title = f"{topic} for {industry.replace('-', ' ')} ({type_label} {i})"
    product, persona = PRODUCTS[i % len(PRODUCTS)], PERSONAS[i % len(PERSONAS)]
    helps_win = i in WINNER_NUMBERS
    age_days = rng.uniform(330, 360) if helps_win else rng.uniform(3, HISTORY_DAYS)
    created = _whole_seconds(anchor - timedelta(days=age_days))
    draft, retire, expire = i % 23 == 0, i % 41 == 0, i % 37 == 0
    published_after = timedelta(seconds=rng.randint(600, 5 * 86400))
    published = None if draft else min(created + published_after, anchor - timedelta(hours=1))
    retired = expired = None
    if published is not None and retire:
        retired = _between(rng, published, anchor - DAY)
    if published is not None and expire:
        expired = _between(rng, published, anchor - DAY)
    expires = expired or anchor + timedelta(days=rng.randint(120, 540))
    until = min(t for t in (retired, expired, anchor) if t is not None)
    return AssetPlan(
        number=i, asset_id=asset_id(i), title=title, description=f"{topic}: {words}.",
        body=(f"{title}. This {type_label} explains {words}. Written for {persona} buyers in {industry}. "
              f"Covers {product} and {words.split()[0]} outcomes"),
        pages=1 + i % 4, asset_type=asset_type, topic=topic, tags=words.split()[:3], industry=industry,
        product=product, persona=persona, region=REGIONS[i % len(REGIONS)], stages=(STAGE_NAMES[i % len(STAGE_NAMES)], STAGE_NAMES[(i + 2) % len(STAGE_NAMES)]),
        owner=OWNERS[i % len(OWNERS)], created=created, published=published, retired=retired, expires=expires,
        until=until, popularity=0.0 if draft else popularity, helps_win=helps_win)


def _whole_seconds(when: datetime) -> datetime:
    return when.replace(microsecond=0)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A whole-second time in [start, end] (start when the range is empty)."""
    span = max(0, int((end - start).total_seconds()))
    return start + timedelta(seconds=rng.randint(0, span))


# ---- deals and usage ------------------------------------------------------------------------

class _UsagePlanner:
    """Numbers the events (their id is their position in the plan) and keeps each inside its asset's lifetime."""

    def __init__(self, rng: random.Random, story: Story) -> None:
        self.rng, self.story = rng, story
        self.events: list[UsagePlan] = []
        self.shares = 0

    def add(self, kind: str, asset: AssetPlan, rep: str, when: datetime, **fields: Any) -> None:
        assert asset.usable_at(when), (asset.asset_id, when)
        self.events.append(UsagePlan(f"demo-use-{len(self.events) + 1:06d}", kind, asset.asset_id, rep, when,
                                     **fields))

    def deal_usage(self, deal_fields: dict[str, Any], asset: AssetPlan, rep: str, start: datetime,
                   end: datetime) -> None:
        """A rep's use of `asset` for a deal between `start` and `end`; a share brings customer opens."""
        lo, hi = max(start, asset.published or start), min(end, asset.until - timedelta(seconds=1))
        if hi <= lo:
            return
        for kind in self.rng.sample(["view", "download", "present", "email_attach", "share"], k=self.rng.randint(1, 3)):
            when = _between(self.rng, lo, hi)
            if kind != "share":
                self.add(kind, asset, rep, when, **deal_fields)
                continue
            self.shares += 1
            share_id = f"demo-share-{self.shares:05d}"
            self.add("share", asset, rep, when, share_id=share_id, **deal_fields)
            self._customer_opens(asset, rep, when, hi, share_id, deal_fields)

    def _customer_opens(self, asset: AssetPlan, rep: str, shared: datetime, hi: datetime, share_id: str,
                        deal_fields: dict[str, Any]) -> None:
        link = {"share_id": share_id, "channel": "share-link", **deal_fields}
        if self.rng.random() < 0.15 and shared + timedelta(seconds=3) <= hi:  # the link pasted in a chat: a preview bot
            self.add("customer_open", asset, rep, shared + timedelta(seconds=2), user_agent=self.rng.choice(BOT_AGENTS),
                     **link)
        for _ in range(self.rng.choice([0, 1, 1, 2, 3])):
            opened = _between(self.rng, shared + timedelta(minutes=30), min(hi, shared + 10 * DAY))
            if not shared < opened <= hi:
                return
            self.add("customer_open", asset, rep, opened, user_agent=HUMAN_AGENT, **link)
            for page in range(1, self.rng.randint(1, asset.pages) + 1):
                viewed = opened + timedelta(seconds=20 * page)
                if viewed <= hi:
                    self.add("page_view", asset, rep, viewed, user_agent=HUMAN_AGENT, page=page,
                             seconds=float(self.rng.randint(4, 140)), **link)

    def browse_until(self, n_events: int) -> None:
        """Usage outside any deal, by popularity, until the plan holds `n_events` events."""
        used = [a for a in self.story.assets if a.usable]
        weights = [a.popularity for a in used]
        while used and len(self.events) < n_events:
            asset = self.rng.choices(used, weights)[0]
            rep = self.rng.choice(REPS)
            when = _between(self.rng, asset.published, asset.until - timedelta(seconds=1))  # type: ignore[arg-type]
            self.add(self.rng.choice(REP_KINDS), asset, rep, when)


def _plan_deal(rng: random.Random, story: Story, planner: _UsagePlanner, d: int) -> DealPlan:
    anchor = story.anchor
    rep = REPS[d % len(REPS)]
    created = _whole_seconds(anchor - timedelta(days=rng.uniform(5, HISTORY_DAYS - 5)))
    closed: datetime | None = created + timedelta(days=rng.randint(14, 120), seconds=rng.randint(0, 86399))
    end = min(closed, anchor)  # type: ignore[type-var]
    touched = _touched_assets(rng, story.assets, created, end)
    helped = any(a.helps_win for a in touched)
    p_win = (WINNER_WIN_RATE if helped else BASE_WIN_RATE) + (0.04 if d % 5 == 0 else 0.0)
    amount = float(rng.choice([12_000, 25_000, 48_000, 90_000, 150_000]))
    won = rng.random() < p_win
    lost_reason = rng.choice(LOST_REASONS)
    if closed > anchor - 2 * DAY:  # type: ignore[operator]
        stage, closed, lost_reason = "open", None, None
    else:
        stage = "won" if won else "lost"
        lost_reason = lost_reason if stage == "lost" else None
    deal = DealPlan(number=d, opportunity_id=f"demo-opp-{d:04d}", account_index=d % 120, owner_rep_id=rep,
                    stage=stage, amount=amount, created=created, closed=closed,
                    industry=INDUSTRIES[d % len(INDUSTRIES)], region=rep_region(rep), team=rep_team(rep),
                    lost_reason=lost_reason, touched=[a.asset_id for a in touched])
    deal_fields = {"opportunity_id": deal.opportunity_id, "account_id": f"demo-acct-{deal.account_index:03d}"}
    for asset in touched:
        planner.deal_usage(deal_fields, asset, rep, created, end)
    return deal


def _touched_assets(rng: random.Random, assets: Sequence[AssetPlan], start: datetime, end: datetime
                    ) -> list[AssetPlan]:
    """Assets live during the deal: a few by popularity, and each winner with WINNER_TOUCH_CHANCE."""
    live = [a for a in assets if a.usable and max(start, a.published) < min(end, a.until)]  # type: ignore[type-var]
    picked: list[AssetPlan] = []
    ordinary = [a for a in live if not a.helps_win]
    for _ in range(rng.randint(0, 4)):
        if ordinary:
            choice = rng.choices(ordinary, [a.popularity for a in ordinary])[0]
            if choice not in picked:
                picked.append(choice)
    for asset in (a for a in live if a.helps_win):
        if rng.random() < WINNER_TOUCH_CHANCE:
            picked.append(asset)
    return picked


# ---- searches ------------------------------------------------------------------------------

def query_words(query: str) -> set[str]:
    return set(_WORD.findall(query.lower()))


def matches(query: str, asset: AssetPlan) -> bool:
    """Every word of the query is in the asset's title, description or tags."""
    return query_words(query) <= asset.words


def _plan_searches(rng: random.Random, story: Story, n_searches: int) -> list[SearchPlan]:
    by_query = {q: [a for a in story.assets if matches(q, a)] for q in [*FOUND_QUERIES, *GAP_QUERIES]}
    searches = []
    for s in range(1, n_searches + 1):
        query = rng.choice(GAP_QUERIES) if rng.random() < 0.15 else rng.choice(FOUND_QUERIES)
        when = _whole_seconds(story.anchor - timedelta(seconds=rng.randint(3600, HISTORY_DAYS * 86400)))
        found = [a for a in by_query[query] if a.usable_at(when)]
        found.sort(key=lambda a: (-a.popularity, a.number))
        searches.append(SearchPlan(event_id=f"demo-search-{s:05d}", rep_id=rng.choice(REPS), occurred=when,
                                   query=query, result_count=len(found),
                                   shown_asset_ids=[a.asset_id for a in found[:10]]))
    return searches
