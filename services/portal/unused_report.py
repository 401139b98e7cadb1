"""The unused-collateral page's query: URL arguments to a ListUnusedAssets request, and back to links.

Every filter, the sort and the page live in the URL, so a filtered view can be bookmarked,
shared and exported as CSV with the same rows, and each action returns to exactly the view
it was started from. Filtering, sorting and paging are done by the usage service; this
module only translates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlencode

from collateral.v1 import common_pb2, content_pb2, usage_pb2
from services.portal import filters

WINDOWS = [(30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "1 year")]
PAGE_SIZES = (25, 50, 100)
MAX_DAYS = 400  # the usage service answers windows up to this wide
# key -> (label, min_age_days, max_age_days); 0 means unbounded.
AGE_BANDS: dict[str, tuple[str, int, int]] = {
    "0-30": ("Up to 30 days", 0, 30),
    "31-90": ("31–90 days", 31, 90),
    "91-180": ("91–180 days", 91, 180),
    "181-365": ("181–365 days", 181, 365),
    "366-": ("Over a year", 366, 0),
}
SORTS: dict[str, tuple[str, int]] = {
    "age": ("Age", usage_pb2.UNUSED_SORT_AGE),
    "last_used": ("Last used", usage_pb2.UNUSED_SORT_LAST_USED),
    "impressions": ("Shown in search", usage_pb2.UNUSED_SORT_IMPRESSIONS),
    "owner": ("Owner", usage_pb2.UNUSED_SORT_OWNER),
    "type": ("Type", usage_pb2.UNUSED_SORT_TYPE),
}
KEYS = ("days", "reason", "owner", "type", "age", "sort", "dir", "page_size")


def reason_keys() -> list[tuple[str, str]]:
    """(URL key, label) of every reason: ("never_used", "Never used")."""
    return [(usage_pb2.UnusedReason.Name(v).removeprefix("UNUSED_REASON_").lower(),
             filters.label(usage_pb2.UnusedReason.Name(v))) for v in usage_pb2.UnusedReason.values() if v]


def type_keys() -> list[tuple[str, str]]:
    """(catalog name, label) of every asset type: ("case_study", "Case study")."""
    return [(content_pb2.AssetType.Name(v).removeprefix("ASSET_TYPE_").lower(),
             filters.label(content_pb2.AssetType.Name(v))) for v in content_pb2.AssetType.values() if v]


def stage_keys() -> list[tuple[str, str]]:
    """(form key, label) of every buying stage, for the promote action."""
    return [(common_pb2.BuyingStage.Name(v).removeprefix("BUYING_STAGE_").lower(),
             filters.label(common_pb2.BuyingStage.Name(v))) for v in common_pb2.BuyingStage.values() if v]


def _int(value: str | None, default: int, allowed: Any) -> int:
    try:
        number = int(value or default)
    except ValueError:
        return default
    return number if number in allowed else default


@dataclass(frozen=True)
class View:
    """The page's state as read from the URL; unknown values fall back to the defaults."""

    days: int = 90
    reason: str = ""
    owner: str = ""
    type: str = ""
    age: str = ""
    sort: str = "age"
    dir: str = "desc"
    page_size: int = 25
    page_token: str = ""

    @classmethod
    def of(cls, args: Mapping[str, str]) -> "View":
        reason = args.get("reason", "")
        asset_type = args.get("type", "")
        return cls(
            days=_int(args.get("days"), 90, range(1, MAX_DAYS + 1)),
            reason=reason if reason in dict(reason_keys()) else "",
            owner=(args.get("owner") or "").strip()[:128],
            type=asset_type if asset_type in dict(type_keys()) else "",
            age=args.get("age", "") if args.get("age", "") in AGE_BANDS else "",
            sort=args.get("sort", "age") if args.get("sort", "age") in SORTS else "age",
            dir="asc" if args.get("dir") == "asc" else "desc",
            page_size=_int(args.get("page_size"), 25, PAGE_SIZES),
            page_token=(args.get("page_token") or "")[:2000],
        )

    def request(self, window: common_pb2.TimeRange) -> usage_pb2.ListUnusedAssetsRequest:
        _, min_age, max_age = AGE_BANDS.get(self.age, ("", 0, 0))
        return usage_pb2.ListUnusedAssetsRequest(
            window=window, owner=self.owner, asset_types=[self.type] if self.type else [],
            reasons=[usage_pb2.UnusedReason.Value("UNUSED_REASON_" + self.reason.upper())] if self.reason else [],
            min_age_days=min_age, max_age_days=max_age, sort=SORTS[self.sort][1], descending=self.dir == "desc",
            page_size=self.page_size, page_token=self.page_token)

    def args(self, **changes: Any) -> dict[str, Any]:
        """The URL arguments of this view with `changes`; the page restarts unless a token is given."""
        out: dict[str, Any] = {k: getattr(self, k) for k in KEYS}
        out.update(changes)
        return {k: v for k, v in out.items() if v not in ("", None)}

    def query(self, **changes: Any) -> str:
        return urlencode(self.args(**changes))

    def sort_link(self, key: str) -> str:
        """The query that sorts by `key`: descending first, the other way when it is already the sort."""
        if self.sort == key:
            return self.query(sort=key, dir="asc" if self.dir == "desc" else "desc")
        return self.query(sort=key, dir="desc")

    def aria_sort(self, key: str) -> str:
        if self.sort != key:
            return "none"
        return "descending" if self.dir == "desc" else "ascending"
