"""Generate the judged relevance set: a realistic sales-collateral catalog and graded queries.

    .venv/bin/python bench/relevance/generate.py            # writes bench/relevance/judged.json

The catalog is built from ordinary B2B sales vocabulary (asset kinds, industries, personas,
products and their use cases, fictional competitors, buying stages, compliance regimes,
fictional customers) with a fixed seed, so the output is byte-for-byte reproducible. Every
asset carries its ground truth: the attributes it is *about* (`primary`) and the ones its
text only *mentions* in passing (`mentions`), e.g. a retail case study whose body says it
"also passed a GDPR review".

Grading rule (applied to the ground truth only, never to any ranking). A query states its
intent as attributes, the first being its head (what the rep asks for most):

- 3: the asset is about every intent attribute;
- 2: every intent attribute is about or mentioned, at least one only mentioned; or the
  intent has three or more attributes and exactly one is missing while the head is about;
- 1: the head attribute is about but the rest is not covered, or (single-attribute intents)
  the attribute is only mentioned;
- 0: anything else (not stored).

- legacy assets (an older edition: a newer one of the same material exists) lose one grade.

Known-item queries (a title typed from memory) name their asset explicitly and grade it 3;
those judgments are checked by hand and listed in `HAND_JUDGMENTS`.

Signals follow what reps experience: current assets are used and win deals, legacy editions
are rarely used. Some assets get skewed usage and win-rate signals (very popular,
high-win-rate but generic decks, and a few random ones), so a ranking that lets signals
overturn better text matches loses nDCG, while one that uses them to break near-ties
between a current and a legacy edition gains.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "judged.json"
SEED = 20261129
ASSETS = 620

# kind (what reps call it) -> stored asset type
KINDS: dict[str, str] = {
    "case study": "case_study", "battle card": "battle_card", "one-pager": "one_pager", "deck": "deck",
    "whitepaper": "whitepaper", "roi calculator": "roi_calculator", "datasheet": "datasheet",
    "demo video": "video", "playbook": "other", "webinar": "webinar", "email template": "email_template",
    "demo script": "demo_script", "proposal template": "proposal_template",
}
KIND_WEIGHTS = {"case study": 16, "battle card": 9, "one-pager": 10, "deck": 12, "whitepaper": 8, "roi calculator": 5,
                "datasheet": 8, "demo video": 6, "playbook": 5, "webinar": 5, "email template": 4, "demo script": 3,
                "proposal template": 3}

# industry -> words its texts use
INDUSTRIES: dict[str, list[str]] = {
    "healthcare": ["hospital", "health system", "patient records", "clinicians", "payers"],
    "financial services": ["banks", "credit unions", "payments", "lenders", "wealth managers"],
    "retail": ["stores", "shoppers", "e-commerce", "merchandising", "loyalty programs"],
    "manufacturing": ["plants", "production lines", "suppliers", "factory floor", "OEMs"],
    "public sector": ["agencies", "citizens", "state and local government", "procurement rules", "municipalities"],
    "insurance": ["carriers", "claims", "policyholders", "underwriting", "brokers"],
    "telecommunications": ["carriers", "subscribers", "network operations", "5G rollout", "prepaid plans"],
    "energy": ["utilities", "grid operators", "meters", "field crews", "renewables"],
}
PERSONAS = ["CIO", "CISO", "CFO", "CTO", "VP Sales", "VP Marketing", "COO", "Head of Procurement",
            "Data Protection Officer", "IT Director"]
PERSONA_CARES = {
    "CIO": "modernizing the stack without adding headcount", "CISO": "reducing risk and passing audits",
    "CFO": "payback period and total cost of ownership", "CTO": "architecture, APIs and scalability",
    "VP Sales": "pipeline velocity and quota attainment", "VP Marketing": "campaign attribution and engagement",
    "COO": "operational efficiency across teams", "Head of Procurement": "pricing, contract terms and vendor risk",
    "Data Protection Officer": "data residency and subject access requests", "IT Director": "rollout effort and support",
}
# product -> its use cases
PRODUCTS: dict[str, list[str]] = {
    "Sentinel": ["fraud detection", "anti-money laundering", "transaction monitoring", "identity verification"],
    "Atlas Analytics": ["churn prediction", "demand forecasting", "revenue analytics", "predictive maintenance"],
    "Relay Connect": ["cloud migration", "api integration", "legacy modernization", "data pipeline"],
    "Vault": ["data privacy", "encryption", "access governance", "audit readiness"],
    "Pulse CX": ["customer onboarding", "omnichannel engagement", "contact center automation", "self-service portal"],
}
COMPETITORS = ["Quantiva", "NimbusIQ", "Castellan Cloud", "Veritrack", "Orbitra"]
COMPLIANCE = ["HIPAA", "SOC 2", "GDPR", "PCI DSS", "ISO 27001", "FedRAMP", "CCPA"]
INDUSTRY_COMPLIANCE = {"healthcare": ["HIPAA", "SOC 2"], "financial services": ["PCI DSS", "SOC 2"],
                       "retail": ["PCI DSS", "CCPA"], "public sector": ["FedRAMP"], "insurance": ["SOC 2", "GDPR"],
                       "manufacturing": ["ISO 27001"], "telecommunications": ["GDPR"], "energy": ["ISO 27001"]}
STAGES = ["awareness", "consideration", "decision", "onboarding", "expansion"]
KIND_STAGES = {"case study": ["consideration", "decision"], "battle card": ["consideration", "decision"],
               "one-pager": ["awareness"], "deck": ["awareness", "consideration"], "whitepaper": ["awareness"],
               "roi calculator": ["decision"], "datasheet": ["consideration"], "demo video": ["consideration"],
               "playbook": ["onboarding", "expansion"], "webinar": ["awareness"], "email template": ["awareness"],
               "demo script": ["consideration"], "proposal template": ["decision"]}
CUSTOMERS = {
    "healthcare": ["Mercy Valley Health", "Northbridge Medical Center", "Cascade Health Partners", "St. Aldric Clinics"],
    "financial services": ["Harborview Bank", "Summit Credit Union", "Meridian Capital", "Bluestem Lending"],
    "retail": ["Urban Threads", "FreshCart Grocers", "Peak Outfitters", "Lumen Home"],
    "manufacturing": ["Kessler Industrial", "Granite Motors", "Altamira Plastics", "Vector Aerospace"],
    "public sector": ["City of Lakewood", "Ridge County", "State Revenue Agency", "Port of Easton"],
    "insurance": ["Guardian Mutual", "Keystone Assurance", "Pinecrest Insurance", "Tidewater Re"],
    "telecommunications": ["Skyline Telecom", "Arcwave Mobile", "Northern Fiber", "Telvia"],
    "energy": ["Prairie Power", "Coastal Utilities", "Helio Renewables", "Midland Gas & Electric"],
}
METRICS = ["cut false positives by 38%", "reduced churn by 12%", "saved $2.4M a year", "went live in 9 weeks",
           "doubled analyst productivity", "cut audit preparation from 6 weeks to 4 days",
           "improved forecast accuracy by 21%", "reduced handle time by 30%", "retired 14 legacy systems"]
# popular generic assets that touch everything, with skewed signals
GENERIC_TITLES = ["Corporate overview deck", "Company pitch deck 2026", "Platform overview", "Why customers choose us",
                  "Executive briefing deck", "Partner kit overview", "Analyst highlights", "Product tour",
                  "Customer success stories digest", "Annual customer summit recap", "Sales kickoff highlights",
                  "Platform security overview"]


def pick(rng: random.Random, items: list[Any], k: int) -> list[Any]:
    return rng.sample(items, k)


def title_for(kind: str, a: dict[str, Any], rng: random.Random) -> str:
    product, use, ind = a["product"], a["use_case"], a["industry"]
    comp, persona, customer, regime = a.get("competitor"), a["persona"], a.get("customer"), a.get("compliance")
    options = {
        "case study": [f"{customer}: {use} with {product}", f"How {customer} {rng.choice(METRICS)}",
                       f"{ind.title()} case study: {customer}", f"{customer} case study ({use})"],
        "battle card": [f"Battle card: {product} vs {comp}", f"Competing against {comp}", f"{comp} competitive battle card",
                        f"Win against {comp} in {ind}"],
        "one-pager": [f"{product} one-pager for {ind}", f"{use.capitalize()} at a glance", f"{product} for {persona}s: one pager"],
        "deck": [f"{product} pitch deck for {ind}", f"{use.capitalize()} deck for the {persona}", f"{product} first-call deck"],
        "whitepaper": [f"{(regime or use).upper() if regime else use.capitalize()} in {ind}: a whitepaper",
                       f"The {persona}'s guide to {use}", f"{regime or use.capitalize()} readiness whitepaper"],
        "roi calculator": [f"{product} ROI calculator", f"{use.capitalize()} business case calculator for {ind}",
                           f"ROI model for the {persona}"],
        "datasheet": [f"{product} datasheet", f"{product} {use} datasheet", f"{regime or product} compliance datasheet"],
        "demo video": [f"{product} demo: {use}", f"Five-minute {product} demo video", f"{use.capitalize()} walkthrough video"],
        "playbook": [f"{product} sales playbook for {ind}", f"{use.capitalize()} discovery playbook", f"Selling to the {persona}: playbook"],
        "webinar": [f"Webinar: {use} trends in {ind}", f"{ind.title()} roundtable on {use}", f"Webinar recording: {product} roadmap"],
        "email template": [f"Prospecting email: {use} for {ind}", f"Follow-up email template for the {persona}",
                           f"{product} meeting request email"],
        "demo script": [f"{product} demo script ({use})", f"Demo script: {use} for {ind}"],
        "proposal template": [f"{product} proposal template", f"Proposal template: {use} for {ind}"],
    }[kind]
    return rng.choice(options)


def body_for(kind: str, a: dict[str, Any], rng: random.Random) -> str:
    ind, use, product, persona = a["industry"], a["use_case"], a["product"], a["persona"]
    words = INDUSTRIES[ind]
    parts = [
        f"{product} helps {rng.choice(words)} and other {ind} organizations with {use}.",
        f"For the {persona}, the priority is {PERSONA_CARES[persona]}; this {kind} shows how {product} delivers it.",
        f"Typical results: teams {rng.choice(METRICS)} within the first year.",
    ]
    if a.get("customer"):
        parts.append(f"{a['customer']} selected {product} after a competitive evaluation; the team {rng.choice(METRICS)}.")
    if a.get("competitor"):
        parts.append(f"Where {a['competitor']} relies on manual rules, {product} adapts automatically. "
                     f"Handle objections about {a['competitor']} pricing with total cost of ownership.")
    if a.get("compliance"):
        parts.append(f"Covers {a['compliance']} requirements: controls, evidence and audit trails for {rng.choice(words)}.")
    for extra in a["mention_text"]:
        parts.append(extra)
    # shared boilerplate: mentions case studies and a few industries, as real footers do
    others = pick(rng, sorted(INDUSTRIES), 2)
    parts.append(f"Read our customer case studies and find out why teams in {others[0]} and {others[1]} trust us.")
    return " ".join(parts)


def make_asset(i: int, rng: random.Random) -> dict[str, Any]:
    kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    industry = rng.choice(sorted(INDUSTRIES))
    product = rng.choice(sorted(PRODUCTS))
    a: dict[str, Any] = {"industry": industry, "product": product, "use_case": rng.choice(PRODUCTS[product]),
                         "persona": rng.choice(PERSONAS)}
    if kind == "case study":
        a["customer"] = rng.choice(CUSTOMERS[industry])
    if kind == "battle card" or (kind in ("deck", "one-pager") and rng.random() < 0.2):
        a["competitor"] = rng.choice(COMPETITORS)
    if kind in ("whitepaper", "datasheet", "one-pager") and rng.random() < 0.6 or product == "Vault" and rng.random() < 0.7:
        a["compliance"] = rng.choice(INDUSTRY_COMPLIANCE[industry] if rng.random() < 0.7 else COMPLIANCE)
    personas = [a["persona"]] + ([rng.choice([p for p in PERSONAS if p != a["persona"]])] if rng.random() < 0.3 else [])
    mentions: dict[str, list[str]] = {}
    mention_text: list[str] = []
    if rng.random() < 0.3:
        other = rng.choice([x for x in sorted(INDUSTRIES) if x != industry])
        mentions.setdefault("industry", []).append(other)
        mention_text.append(f"The same approach also works in {other}.")
    if rng.random() < 0.2 and not a.get("compliance"):
        regime = rng.choice(COMPLIANCE)
        mentions.setdefault("compliance", []).append(regime)
        mention_text.append(f"The deployment also passed a {regime} review.")
    if rng.random() < 0.15 and not a.get("competitor"):
        comp = rng.choice(COMPETITORS)
        mentions.setdefault("competitor", []).append(comp)
        mention_text.append(f"Several customers switched from {comp}.")
    if rng.random() < 0.2:
        other_use = rng.choice([u for u in PRODUCTS[product] if u != a["use_case"]])
        mentions.setdefault("use_case", []).append(other_use)
        mention_text.append(f"Many teams extend it to {other_use} later.")
    a["mention_text"] = mention_text
    legacy = rng.random() < 0.15
    title = title_for(kind, a, rng) + (" (2021 edition)" if legacy else "")
    description = ("Previous edition. " if legacy else "") + (
        f"{kind.capitalize()} for {', '.join(personas)} in {industry}: {a['use_case']} with {product}"
        + (f", positioned against {a['competitor']}" if a.get("competitor") else "")
        + (f", covering {a['compliance']}" if a.get("compliance") else "") + ".")
    primary = {"kind": [kind], "industry": [industry], "product": [product], "use_case": [a["use_case"]],
               "persona": personas, "stage": KIND_STAGES[kind][:1 + (rng.random() < 0.4)]}
    for key in ("competitor", "compliance", "customer"):
        if a.get(key):
            primary[key] = [a[key]]
    tags = [a["use_case"]] + ([a["compliance"].lower()] if a.get("compliance") else []) + \
           ([a["competitor"].lower()] if a.get("competitor") else [])
    return {
        "asset_id": f"rel-{i:04d}", "title": title, "description": description, "body": body_for(kind, a, rng),
        "type": KINDS[kind], "industries": [industry], "personas": personas, "products": [product],
        "buying_stages": primary["stage"], "tags": tags, "regions": [rng.choice(["amer", "emea", "apac"])],
        "primary": primary, "mentions": mentions, "legacy": legacy,
    }


def make_generic(i: int, title: str, rng: random.Random) -> dict[str, Any]:
    """A popular, generic asset that mentions everything and is about nothing in particular."""
    inds, uses = pick(rng, sorted(INDUSTRIES), 5), pick(rng, [u for v in PRODUCTS.values() for u in v], 6)
    regimes, comps = pick(rng, COMPLIANCE, 3), pick(rng, COMPETITORS, 2)
    body = (f"Our platform serves {', '.join(inds)}. Customers use it for {', '.join(uses)}. "
            f"Certified for {', '.join(regimes)}. Teams moving from {' and '.join(comps)} go live fast. "
            f"See our case studies, datasheets and ROI calculator. Built for the CIO, CFO and CISO.")
    return {
        "asset_id": f"rel-{i:04d}", "title": title, "description": "A tour of the whole platform for any audience.",
        "body": body, "type": "deck", "industries": [], "personas": [], "products": sorted(PRODUCTS),
        "buying_stages": ["awareness"], "tags": ["overview"], "regions": ["amer"],
        "primary": {"kind": ["deck"], "product": sorted(PRODUCTS), "stage": ["awareness"]},
        "mentions": {"industry": inds, "use_case": uses, "compliance": regimes, "competitor": comps,
                     "kind": ["case study", "datasheet", "roi calculator"], "persona": ["CIO", "CFO", "CISO"]},
        "generic": True,
    }


def signals_for(asset: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Ordinary assets get modest signals; generic ones (and a few random ones) skewed high ones."""
    if asset.get("generic") or rng.random() < 0.05:
        return {"usage_score": round(rng.uniform(2000, 6000), 1), "win_rate_lower": round(rng.uniform(0.6, 0.75), 3),
                "deals_closed": rng.randint(150, 400)}
    if asset.get("legacy"):
        return {"usage_score": round(rng.uniform(0, 2), 1), "win_rate_lower": round(rng.uniform(0, 0.05), 3),
                "deals_closed": rng.randint(0, 3)}
    if rng.random() < 0.1:
        return {}  # too new to have signals
    return {"usage_score": round(rng.uniform(5, 60), 1), "win_rate_lower": round(rng.uniform(0.1, 0.45), 3),
            "deals_closed": rng.randint(5, 40)}


# (query, class, intent as [[attribute, value], ...] head first)
QUERIES: list[tuple[str, str, list[list[str]]]] = [
    ("healthcare", "single", [["industry", "healthcare"]]),
    ("battle card", "single", [["kind", "battle card"]]),
    ("whitepaper", "single", [["kind", "whitepaper"]]),
    ("roi calculator", "single", [["kind", "roi calculator"]]),
    ("datasheet", "single", [["kind", "datasheet"]]),
    ("fraud detection", "single", [["use_case", "fraud detection"]]),
    ("churn prediction", "single", [["use_case", "churn prediction"]]),
    ("cloud migration", "single", [["use_case", "cloud migration"]]),
    ("HIPAA", "single", [["compliance", "HIPAA"]]),
    ("PCI DSS", "single", [["compliance", "PCI DSS"]]),
    ("case study healthcare", "multi_term", [["industry", "healthcare"], ["kind", "case study"]]),
    ("financial services case study", "multi_term", [["industry", "financial services"], ["kind", "case study"]]),
    ("retail one pager", "multi_term", [["industry", "retail"], ["kind", "one-pager"]]),
    ("manufacturing roi calculator", "multi_term", [["kind", "roi calculator"], ["industry", "manufacturing"]]),
    ("public sector whitepaper", "multi_term", [["industry", "public sector"], ["kind", "whitepaper"]]),
    ("insurance deck", "multi_term", [["industry", "insurance"], ["kind", "deck"]]),
    ("healthcare datasheet", "multi_term", [["industry", "healthcare"], ["kind", "datasheet"]]),
    ("predictive maintenance manufacturing", "multi_term", [["use_case", "predictive maintenance"], ["industry", "manufacturing"]]),
    ("Sentinel demo video", "multi_term", [["product", "Sentinel"], ["kind", "demo video"]]),
    ("Atlas Analytics deck", "multi_term", [["product", "Atlas Analytics"], ["kind", "deck"]]),
    ("Vault datasheet", "multi_term", [["product", "Vault"], ["kind", "datasheet"]]),
    ("Pulse CX contact center automation insurance", "multi_term",
     [["use_case", "contact center automation"], ["industry", "insurance"], ["product", "Pulse CX"]]),
    ("Relay Connect legacy modernization manufacturing", "multi_term",
     [["use_case", "legacy modernization"], ["industry", "manufacturing"], ["product", "Relay Connect"]]),
    ("GDPR data privacy", "multi_term", [["compliance", "GDPR"], ["use_case", "data privacy"]]),
    ("FedRAMP public sector", "multi_term", [["compliance", "FedRAMP"], ["industry", "public sector"]]),
    ("awareness webinar telecommunications", "multi_term", [["kind", "webinar"], ["industry", "telecommunications"]]),
    ("Quantiva", "competitor", [["competitor", "Quantiva"]]),
    ("battle card NimbusIQ", "competitor", [["competitor", "NimbusIQ"], ["kind", "battle card"]]),
    ("Sentinel vs Quantiva", "competitor", [["competitor", "Quantiva"], ["product", "Sentinel"]]),
    ("Veritrack comparison", "competitor", [["competitor", "Veritrack"]]),
    ("Orbitra battle card", "competitor", [["competitor", "Orbitra"], ["kind", "battle card"]]),
    ("CFO", "persona", [["persona", "CFO"]]),
    ("CISO whitepaper", "persona", [["persona", "CISO"], ["kind", "whitepaper"]]),
    ("deck for the CIO", "persona", [["persona", "CIO"], ["kind", "deck"]]),
    ("VP Sales playbook", "persona", [["persona", "VP Sales"], ["kind", "playbook"]]),
    ("CFO roi calculator", "persona", [["persona", "CFO"], ["kind", "roi calculator"]]),
    ("Data Protection Officer GDPR", "persona", [["persona", "Data Protection Officer"], ["compliance", "GDPR"]]),
    ("helthcare case study", "misspelling", [["industry", "healthcare"], ["kind", "case study"]]),
    ("fraud detetcion", "misspelling", [["use_case", "fraud detection"]]),
    ("battlecard Quantvia", "misspelling", [["competitor", "Quantiva"], ["kind", "battle card"]]),
    ("whitepapr GDPR", "misspelling", [["compliance", "GDPR"], ["kind", "whitepaper"]]),
    ("predictve maintenance", "misspelling", [["use_case", "predictive maintenance"]]),
    ("churn predicton retail", "misspelling", [["use_case", "churn prediction"], ["industry", "retail"]]),
    ("finacial services case study", "misspelling", [["industry", "financial services"], ["kind", "case study"]]),
    ("manufacturng datasheet", "misspelling", [["industry", "manufacturing"], ["kind", "datasheet"]]),
    ("\"customer onboarding\"", "phrase", [["use_case", "customer onboarding"]]),
    ("\"transaction monitoring\"", "phrase", [["use_case", "transaction monitoring"]]),
    ("\"identity verification\" financial services", "phrase",
     [["use_case", "identity verification"], ["industry", "financial services"]]),
    ("\"contact center automation\"", "phrase", [["use_case", "contact center automation"]]),
    ("do we have a hipaa compliance document", "question", [["compliance", "HIPAA"]]),
    ("which customers use us for fraud detection", "question", [["use_case", "fraud detection"], ["kind", "case study"]]),
    ("what is our pitch deck for the CFO", "question", [["persona", "CFO"], ["kind", "deck"]]),
    ("how do we compare against NimbusIQ", "question", [["competitor", "NimbusIQ"]]),
    ("is there a case study for a hospital", "question", [["industry", "healthcare"], ["kind", "case study"]]),
    ("what do we have on SOC 2 for financial services", "question",
     [["compliance", "SOC 2"], ["industry", "financial services"]]),
    ("who uses Atlas Analytics in retail", "question",
     [["product", "Atlas Analytics"], ["industry", "retail"], ["kind", "case study"]]),
    ("are there any demo videos for Relay Connect", "question", [["product", "Relay Connect"], ["kind", "demo video"]]),
    ("where is the GDPR whitepaper", "question", [["compliance", "GDPR"], ["kind", "whitepaper"]]),
    ("how do I handle objections about Castellan Cloud", "question", [["competitor", "Castellan Cloud"]]),
    ("which customers use us for demand forecasting", "question", [["use_case", "demand forecasting"], ["kind", "case study"]]),
]


def grade(asset: dict[str, Any], intent: list[list[str]]) -> int:
    """The grading rule of the module docstring."""
    def level(attr: str, value: str) -> int:
        if value in asset["primary"].get(attr, []):
            return 2
        return 1 if value in asset["mentions"].get(attr, []) else 0

    levels = [level(attr, value) for attr, value in intent]
    return max(0, _grade(levels) - 1) if asset.get("legacy") else _grade(levels)


def _grade(levels: list[int]) -> int:
    if all(x == 2 for x in levels):
        return 3
    if all(x >= 1 for x in levels) or (len(levels) >= 3 and levels[0] == 2 and levels.count(0) == 1
                                       and levels.count(1) == 0):
        return 2
    if (len(levels) > 1 and levels[0] == 2) or (len(levels) == 1 and levels[0] == 1):
        return 1
    return 0


# Known-item queries, checked by hand: (query typed, asset id, class). The asset's grade is 3;
# assets sharing its kind and product get 1 (a plausible alternative), everything else 0.
HAND_JUDGMENTS: list[tuple[str, str, str]] = []


def known_items(assets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Three titles typed from memory: exact, lower-case partial, and with a typo."""
    out = []
    chosen = [a for a in assets if not a.get("generic") and not a.get("legacy") and len(a["title"].split()) >= 4][:60:20]
    variants = [(lambda t: t, "known_item"), (lambda t: " ".join(t.lower().split()[:4]), "known_item"),
                (lambda t: t.replace("e", "a", 1), "misspelling")]
    for asset, (transform, cls) in zip(chosen, variants):
        query = transform(asset["title"])
        judgments = {a["asset_id"]: 1 for a in assets
                     if a["primary"]["kind"] == asset["primary"]["kind"]
                     and a["primary"].get("product") == asset["primary"].get("product")}
        judgments[asset["asset_id"]] = 3
        HAND_JUDGMENTS.append((query, asset["asset_id"], cls))
        out.append({"query": query, "class": cls, "intent": [["asset_id", asset["asset_id"]]],
                    "judgments": dict(sorted(judgments.items()))})
    return out


def build() -> dict[str, Any]:
    rng = random.Random(SEED)
    assets = [make_asset(i, rng) for i in range(ASSETS)]
    assets += [make_generic(ASSETS + j, t, rng) for j, t in enumerate(GENERIC_TITLES)]
    for asset in assets:
        asset["signals"] = signals_for(asset, rng)
    queries = []
    for query, cls, intent in QUERIES:
        judgments = {a["asset_id"]: g for a in assets if (g := grade(a, intent))}
        queries.append({"query": query, "class": cls, "intent": intent, "judgments": judgments})
    queries += known_items(assets)
    return {
        "description": "Judged relevance set of the content search; generated by bench/relevance/generate.py "
                       "(seed %d); grades follow the rule in that file's docstring." % SEED,
        "seed": SEED,
        "assets": assets,
        "queries": queries,
    }


def dumps(data: dict[str, Any]) -> str:
    """Compact JSON with one asset or query per line, so diffs of the set stay readable."""
    lines = ["{"]
    for key, value in data.items():
        if isinstance(value, list):
            items = ",\n".join("  " + json.dumps(item, ensure_ascii=False) for item in value)
            lines.append(f" {json.dumps(key)}: [\n{items}\n ],")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
    lines[-1] = lines[-1].rstrip(",")
    return "\n".join(lines) + "\n}\n"


def main() -> None:
    data = build()
    OUT.write_text(dumps(data))
    sizes = [len(q["judgments"]) for q in data["queries"]]
    print(f"{OUT}: {len(data['assets'])} assets, {len(data['queries'])} queries, "
          f"{min(sizes)}-{max(sizes)} judged assets per query", file=sys.stderr)


if __name__ == "__main__":
    main()
