"""What the marketer's catalog page asks the content service: search, filters, sort and paging.

A plain listing (no words, no type, the default order) uses ListAssets, ordered by the last
change, which is what catalog upkeep needs and publishes no search event. Anything else uses
SearchAssets (full text, type and expiry filters, usage and win-rate sorts) with expired assets included,
because curators manage those too. Both return page tokens bound to the same parameters, so
the page forwards the token with the same query string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from collateral.v1 import content_pb2

STATUSES = ("draft", "published", "retired")
SORTS = {"": ("Last changed", 0), "relevance": ("Best match", content_pb2.SEARCH_SORT_RELEVANCE),
         "newest": ("Newest published", content_pb2.SEARCH_SORT_NEWEST),
         "most_used": ("Most used", content_pb2.SEARCH_SORT_MOST_USED),
         "best_win_rate": ("Best win rate", content_pb2.SEARCH_SORT_BEST_WIN_RATE)}
EXPIRY = {"": "Any", "expiring_soon": "Expiring in 30 days", "expired": "Expired", "no_expiry": "No expiry"}
PAGE_SIZES = (25, 50, 100)
MAX_QUERY = 512


@dataclass(frozen=True)
class CatalogQuery:
    """The catalog page's parameters, cleaned: unknown values fall back to "no filter"."""

    q: str = ""
    status: str = ""
    owner: str = ""
    type: str = ""
    expiry: str = ""
    sort: str = ""
    page_size: int = 25
    page_token: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "CatalogQuery":
        status = args.get("status", "")
        kind = (args.get("type") or "").lower()
        sort = args.get("sort", "")
        expiry = args.get("expiry", "")
        try:
            size = int(args.get("page_size") or 25)
        except ValueError:
            size = 25
        return cls(q=(args.get("q") or "").strip()[:MAX_QUERY],
                   status=status if status in STATUSES else "",
                   owner=(args.get("owner") or "").strip()[:128],
                   type=kind if kind and "ASSET_TYPE_" + kind.upper() in content_pb2.AssetType.keys() else "",
                   expiry=expiry if expiry in EXPIRY else "",
                   sort=sort if sort in SORTS else "",
                   page_size=size if size in PAGE_SIZES else 25,
                   page_token=(args.get("page_token") or "")[:2000])

    def uses_search(self) -> bool:
        return bool(self.q or self.type or self.expiry or self.sort)

    def statuses(self) -> list[int]:
        return [content_pb2.AssetStatus.Value("ASSET_STATUS_" + self.status.upper())] if self.status else []

    def args(self, **changes: str) -> dict[str, str]:
        """The query string of this view (without the page token), with `changes` applied."""
        out = {"q": self.q, "status": self.status, "owner": self.owner, "type": self.type, "expiry": self.expiry,
               "sort": self.sort,
               "page_size": str(self.page_size) if self.page_size != 25 else ""}
        out.update(changes)
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class CatalogPage:
    """One page of the catalog, whichever RPC answered."""

    assets: list[Any]
    total_size: int
    next_page_token: str


def backend_call(query: CatalogQuery) -> tuple[str, Any]:
    """(method, request) of the content service RPC that answers `query`."""
    if not query.uses_search():
        return "ListAssets", content_pb2.ListAssetsRequest(
            page_size=query.page_size, page_token=query.page_token, statuses=query.statuses(), owner=query.owner)
    filters = content_pb2.SearchFilters(statuses=query.statuses(), include_expired=True,
                                        owners=[query.owner] if query.owner else [])
    if query.expiry:
        filters.expiry = content_pb2.ExpiryWindow.Value("EXPIRY_WINDOW_" + query.expiry.upper())
    if query.type:
        filters.types.append(content_pb2.AssetType.Value("ASSET_TYPE_" + query.type.upper()))
    return "SearchAssets", content_pb2.SearchAssetsRequest(
        query=query.q, filters=filters, sort=SORTS[query.sort][1], page_size=query.page_size,
        page_token=query.page_token)


def page_of(reply: Any) -> CatalogPage:
    """The assets of either reply (search hits carry the asset)."""
    if hasattr(reply, "hits"):
        return CatalogPage([h.asset for h in reply.hits], reply.total_size, reply.next_page_token)
    return CatalogPage(list(reply.assets), reply.total_size, reply.next_page_token)


def type_choices() -> list[tuple[str, str]]:
    """(value, label) of every asset type, for the type filter."""
    return [(name[len("ASSET_TYPE_"):].lower(), name[len("ASSET_TYPE_"):].replace("_", " ").capitalize())
            for name in content_pb2.AssetType.keys() if name != "ASSET_TYPE_UNSPECIFIED"]


def type_initials(asset: Any) -> str:
    """Two letters for the placeholder of an asset without a preview ("CS" for a case study)."""
    name = content_pb2.AssetType.Name(asset.type)[len("ASSET_TYPE_"):] if asset.type else "OTHER"
    words = name.split("_")
    return (words[0][:1] + words[1][:1]) if len(words) > 1 else words[0][:2].capitalize()
