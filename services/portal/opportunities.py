"""The signed-in user's CRM opportunities, for the opportunity picker and lists of share links.

Names are a convenience on top of ids: when the feedback service is down or the CRM has
not sent a deal yet, the picker offers nothing (the rep can still paste an id) and lists
show the id, so sharing never depends on this lookup.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable

import grpc

from services.portal import backends
from services.portal.security import rpc

log = logging.getLogger(__name__)

PICKER_SIZE = 10
MAX_QUERY_CHARS = 256
LOOKUP_BATCH = 100  # GetOpportunities' and GetAccounts' limit
TIMEOUT_S = 3.0


def label(opportunity: Any) -> str:
    """"Opportunity name — Account name", falling back to the ids the CRM has no names for."""
    return f"{opportunity.opportunity_name or opportunity.opportunity_id} — " \
           f"{opportunity.account_name or opportunity.account_id}"


def picker_options(query: str) -> list[dict[str, str]]:
    """The caller's open opportunities matching `query` (all of them, newest first, when empty)."""
    pb = backends.proto("feedback")
    if pb is None:
        return []
    request = pb.ListOpportunitiesRequest(query=query.strip()[:MAX_QUERY_CHARS], page_size=PICKER_SIZE)
    try:
        reply = rpc("feedback", "ListOpportunities", request, timeout=TIMEOUT_S)
    except grpc.RpcError as exc:
        log.warning("opportunity picker: ListOpportunities failed: %s", exc.code())
        return []
    return [{"opportunity_id": o.opportunity_id, "opportunity_name": o.opportunity_name, "account_id": o.account_id,
             "account_name": o.account_name, "label": label(o)} for o in reply.opportunities]


def by_id(opportunity_ids: Iterable[str]) -> dict[str, Any]:
    """{opportunity id: Opportunity} for the ids the caller may see; unknown ids are left out."""
    pb = backends.proto("feedback")
    unique = list(dict.fromkeys(i for i in opportunity_ids if i))
    if pb is None or not unique:
        return {}
    found: dict[str, Any] = {}
    for start in range(0, len(unique), LOOKUP_BATCH):
        request = pb.GetOpportunitiesRequest(opportunity_ids=unique[start:start + LOOKUP_BATCH])
        try:
            reply = rpc("feedback", "GetOpportunities", request, timeout=TIMEOUT_S)
        except grpc.RpcError as exc:
            log.warning("share list: GetOpportunities failed: %s", exc.code())
            return found
        found.update((o.opportunity_id, o) for o in reply.opportunities)
    return found


@dataclass(frozen=True)
class DealNames:
    """The CRM names of a page's opportunity and account ids; an id without one is shown as itself.

    Templates render them with templates/_deal_names.html (name with the id as tooltip, or the
    id marked as having no name yet).
    """

    opportunities: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)

    def opportunity(self, opportunity_id: str) -> str:
        """The opportunity's name, or "" when the CRM sent none (or the lookup failed)."""
        return self.opportunities.get(opportunity_id, "")

    def account(self, account_id: str) -> str:
        """The account's name, or "" when the CRM sent none (or the lookup failed)."""
        return self.accounts.get(account_id, "")


def deal_names(opportunity_ids: Iterable[str], account_ids: Iterable[str]) -> DealNames:
    """Names for the ids one page shows, in at most two calls (GetOpportunities, GetAccounts).

    A page shows at most LOOKUP_BATCH of each; ids past that keep showing as ids. Either call
    failing (feedback service down, an old server without GetAccounts) leaves its ids unnamed
    and the page renders anyway.
    """
    pb = backends.proto("feedback")
    if pb is None:
        return DealNames()
    opps = _unique(opportunity_ids)
    accounts = _unique(account_ids)
    found = DealNames()
    if opps:
        reply = _lookup("GetOpportunities", pb.GetOpportunitiesRequest(opportunity_ids=opps))
        found.opportunities.update((o.opportunity_id, o.opportunity_name) for o in getattr(reply, "opportunities", ())
                                   if o.opportunity_name)
    if accounts:
        reply = _lookup("GetAccounts", pb.GetAccountsRequest(account_ids=accounts))
        found.accounts.update((a.account_id, a.account_name) for a in getattr(reply, "accounts", ()) if a.account_name)
    return found


def _unique(ids: Iterable[str]) -> list[str]:
    """The distinct non-empty ids, first LOOKUP_BATCH of them, in page order."""
    return list(dict.fromkeys(i for i in ids if i))[:LOOKUP_BATCH]


def _lookup(method: str, request: Any) -> Any:
    """One name lookup; None when the feedback service cannot answer (names are optional)."""
    try:
        return rpc("feedback", method, request, timeout=TIMEOUT_S)
    except grpc.RpcError as exc:
        log.warning("deal names: %s failed: %s", method, exc.code())
        return None
