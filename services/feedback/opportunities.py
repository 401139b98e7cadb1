"""Opportunities as reps pick them: their own deals, searchable by opportunity and account name.

The share and room dialogs offer "Opportunity name — Account name" instead of asking for a
CRM id, and lists of share links show the names of the ids they carry. Both read the
`deals` index the join stage writes, so a name appears as soon as the CRM's snapshot is
joined. A rep only ever sees opportunities whose owner_rep_id is their verified identity;
admins may list one rep's or everyone's, and lookups by id (opportunities, account names) give
marketers and admins every rep's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from elasticsearch import Elasticsearch

from services.common import auth, errors, validation

MAX_QUERY_CHARS = 256
MAX_QUERY_WORDS = 8
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_LOOKUP_IDS = validation.MAX_BATCH_IDS
DEFAULT_STAGES = ("open",)
MIN_MS, MAX_MS = -62_135_596_800_000, 253_402_300_799_999  # years 0001..9999, what a stored date can be
SORT = [{"created_at": "desc"}, {"opportunity_id": "asc"}]  # total order: the page token is its last values
SOURCE = ["opportunity_id", "opportunity_name", "account_id", "account_name", "amount", "currency", "stage",
          "created_at", "owner_rep_id"]


@dataclass(frozen=True)
class Scope:
    """Whose opportunities a call may see: one rep's, or everyone's (`rep_id` None)."""

    rep_id: str | None


def scope_of(principal: auth.Principal, requested_rep: str) -> Scope:
    """The caller's own opportunities unless an admin asks for a rep's (or, leaving it empty, all).

    Anyone else naming a rep other than themselves is refused rather than silently given
    their own list, so a misconfigured client notices.
    """
    rep = validation.identifier(requested_rep, "rep_id", required=False)
    if principal.role == auth.Role.ADMIN:
        return Scope(rep or None)
    if rep and rep != principal.subject:
        raise errors.PermissionDenied("only admins may list another rep's opportunities")
    return Scope(principal.subject)


def lookup_scope(principal: auth.Principal) -> Scope:
    """Whose deals a lookup by id may name: a rep's own; a curator's (marketer, admin) everyone's.

    Lookups only turn ids the caller already sees into names (curators see every rep's links
    and hot accounts), so curators are not limited to deals they own, which they have none of.
    """
    return Scope(None if principal.role in auth.CURATORS else principal.subject)


def search_query(scope: Scope, text: str, stages: Sequence[str]) -> dict[str, Any]:
    """The Elasticsearch query of a picker search.

    Every word typed must start a word of the opportunity or the account name (both are
    copied into `names`), so "glob ind" finds "Globex Expansion — Globex Industries" while
    the rep is still typing; a pasted id matches the opportunity or account id exactly.
    """
    filters: list[dict[str, Any]] = [{"terms": {"stage": list(stages)}}]
    if scope.rep_id is not None:
        filters.append({"term": {"owner_rep_id": scope.rep_id}})
    query: dict[str, Any] = {"bool": {"filter": filters}}
    typed = text.strip()
    if typed:
        words = name_words(typed)
        by_name = [{"bool": {"filter": [{"prefix": {"names": word}} for word in words]}}] if words else []
        query["bool"]["should"] = [*by_name, {"term": {"opportunity_id": typed}}, {"term": {"account_id": typed}}]
        query["bool"]["minimum_should_match"] = 1
    return query


def name_words(text: str) -> list[str]:
    """The words of a search as the `names` field indexes them (the standard analyzer: lower
    case, split at anything but letters and digits), at most MAX_QUERY_WORDS of them."""
    return list(dict.fromkeys(_WORD.findall(text.lower())))[:MAX_QUERY_WORDS]


def lookup_query(scope: Scope, ids: Sequence[str]) -> dict[str, Any]:
    """The opportunities of `ids` that the scope may see."""
    filters: list[dict[str, Any]] = [{"ids": {"values": list(ids)}}]
    if scope.rep_id is not None:
        filters.append({"term": {"owner_rep_id": scope.rep_id}})
    return {"bool": {"filter": filters}}


def cursor_of(after: Any) -> list[Any] | None:
    """The search_after values inside a verified page token: [created_at in ms, opportunity id]."""
    if after is None:
        return None
    if not (isinstance(after, list) and len(after) == 2 and type(after[0]) is int
            and MIN_MS <= after[0] <= MAX_MS and isinstance(after[1], str) and 0 < len(after[1]) <= validation.MAX_ID_CHARS):
        raise errors.InvalidArgument("page_token", "malformed page token")
    return after


def search(es: Elasticsearch, index: str, query: dict[str, Any], size: int, after: list[Any] | None,
           timeout_s: float) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """One page of matching deals, newest first, and the sort values to continue after (None: last page)."""
    kwargs: dict[str, Any] = {"index": index, "query": query, "sort": SORT, "size": size + 1, "_source": SOURCE,
                              "track_total_hits": False}
    if after is not None:
        kwargs["search_after"] = after
    hits = es.options(request_timeout=timeout_s).search(**kwargs)["hits"]["hits"]
    page = hits[:size]
    more = len(hits) > size and bool(page)
    return [h["_source"] for h in page], (page[-1]["sort"] if more else None)


def lookup(es: Elasticsearch, index: str, scope: Scope, ids: Sequence[str],
           timeout_s: float) -> list[dict[str, Any]]:
    """The visible deals of `ids`, in the order of `ids` (unknown or foreign ids left out)."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    hits = es.options(request_timeout=timeout_s).search(
        index=index, query=lookup_query(scope, unique), size=len(unique), _source=SOURCE,
        track_total_hits=False)["hits"]["hits"]
    found = {h["_source"]["opportunity_id"]: h["_source"] for h in hits}
    return [found[i] for i in unique if i in found]


ACCOUNT_SOURCE = ["account_id", "account_name", "updated_at"]
ACCOUNT_SORT = [{"updated_at": {"order": "desc", "unmapped_type": "date"}}, {"opportunity_id": "asc"}]


def accounts_query(scope: Scope, ids: Sequence[str]) -> dict[str, Any]:
    """The named deals of the accounts `ids` that the scope may see."""
    filters: list[dict[str, Any]] = [{"terms": {"account_id": list(ids)}}, {"exists": {"field": "account_name"}}]
    if scope.rep_id is not None:
        filters.append({"term": {"owner_rep_id": scope.rep_id}})
    return {"bool": {"filter": filters}}


def account_names(es: Elasticsearch, index: str, scope: Scope, ids: Sequence[str],
                  timeout_s: float) -> list[dict[str, Any]]:
    """{account_id, account_name, updated_at} of each named, visible account of `ids`, in the order of `ids`.

    An account has no record of its own: its name is the one its most recently updated deal
    carries (a CRM rename reaches every deal only as each is updated), so one search collapses
    the named deals by account and keeps the newest of each.
    """
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    hits = es.options(request_timeout=timeout_s).search(
        index=index, query=accounts_query(scope, unique), collapse={"field": "account_id"}, sort=ACCOUNT_SORT,
        size=len(unique), _source=ACCOUNT_SOURCE, track_total_hits=False)["hits"]["hits"]
    found = {h["_source"]["account_id"]: h["_source"] for h in hits if (h["_source"].get("account_name") or "").strip()}
    return [found[i] for i in unique if i in found]
