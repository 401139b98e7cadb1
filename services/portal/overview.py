"""The marketer overview (adoption at a glance): turns GetAdoptionOverview into rows a page
and a CSV export show the same way, each figure with its previous-period value and change.

Shares are compared in percentage points (40% after 35% is "+5 pts"), counts by their
difference; the arrow is what a reader scans for, the words are for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

PERIODS = [(30, "30 days"), (90, "90 days"), (365, "1 year")]
DEFAULT_DAYS = 90
UNKNOWN = "Unknown"


def period_days(requested: int) -> int:
    """The offered period closest to `requested` (links from other reports carry 7 or 180 days)."""
    return min((d for d, _ in PERIODS), key=lambda d: (abs(d - requested), d))


def percent(used: int, total: int) -> float:
    """Share in percent, 0 for an empty denominator."""
    return 100.0 * used / total if total else 0.0


@dataclass(frozen=True)
class Change:
    """A figure's change against the previous period."""

    delta: float  # percentage points for shares, units for counts
    unit: str  # "pts" or ""

    @property
    def arrow(self) -> str:
        return "▲" if self.delta > 0 else "▼" if self.delta < 0 else "="

    @property
    def direction(self) -> str:
        return "up" if self.delta > 0 else "down" if self.delta < 0 else "flat"

    @property
    def text(self) -> str:
        """E.g. "+5 pts", "-3", "±0"."""
        if self.delta == 0:
            return "±0" + (f" {self.unit}" if self.unit else "")
        value = f"{self.delta:+.1f}".rstrip("0").rstrip(".") if self.unit else f"{self.delta:+.0f}"
        return value + (f" {self.unit}" if self.unit else "")


def share_change(used: int, total: int, prev_used: int, prev_total: int) -> Change:
    return Change(round(percent(used, total) - percent(prev_used, prev_total), 1), "pts")


def count_change(current: int, previous: int) -> Change:
    return Change(float(current - previous), "")


@dataclass(frozen=True)
class ShareFigure:
    """One "N of M (P%)" figure of the period and the previous one."""

    key: str
    label: str
    used: int
    total: int
    prev_used: int
    prev_total: int
    noun: str

    @property
    def share(self) -> float:
        return percent(self.used, self.total)

    @property
    def prev_share(self) -> float:
        return percent(self.prev_used, self.prev_total)

    @property
    def change(self) -> Change:
        return share_change(self.used, self.total, self.prev_used, self.prev_total)

    @property
    def sentence(self) -> str:
        """E.g. "412 of 1,020 published assets, 40%"."""
        return f"{self.used:,} of {self.total:,} {self.noun}, {self.share:.0f}%"


def headline(reply: Any) -> list[ShareFigure]:
    """The three headline figures: rep adoption, customer adoption, active reps."""
    cur, prev = reply.current, reply.previous
    return [
        ShareFigure("rep_adoption", "Catalog used by reps", cur.rep_used_assets, cur.published_assets,
                    prev.rep_used_assets, prev.published_assets, "published assets"),
        ShareFigure("customer_adoption", "Catalog used by customers", cur.customer_used_assets,
                    cur.published_assets, prev.customer_used_assets, prev.published_assets, "published assets"),
        ShareFigure("active_reps", "Active reps", cur.active_reps, cur.known_reps, prev.active_reps,
                    prev.known_reps, "reps"),
    ]


def groups(rows: Sequence[Any]) -> list[ShareFigure]:
    """Active reps per team or region; the unknown bucket named "Unknown"."""
    return [ShareFigure(g.name or UNKNOWN, g.name or UNKNOWN, g.active_reps, g.known_reps, g.previous_active_reps,
                        g.previous_known_reps, "reps") for g in rows]


@dataclass(frozen=True)
class WeekRow:
    label: str  # first day, YYYY-MM-DD
    published: int
    rep_used: int
    customer_used: int

    @property
    def rep_share(self) -> float:
        return percent(self.rep_used, self.published)

    @property
    def customer_share(self) -> float:
        return percent(self.customer_used, self.published)


def weeks(rows: Sequence[Any]) -> list[WeekRow]:
    return [WeekRow(w.start.ToDatetime().strftime("%Y-%m-%d"), w.published_assets, w.rep_used_assets,
                    w.customer_used_assets) for w in rows]


def mover_percent(mover: Any) -> str:
    """"+50%", or "new" when the asset had no uses before."""
    return "new" if mover.new_in_period else f"{mover.change_percent:+.0f}%"


CSV_HEADER = ["section", "name", "value", "of", "share_percent", "previous_value", "previous_of",
              "previous_share_percent", "change", "change_percent"]


def csv_rows(reply: Any) -> list[list[Any]]:
    """Every figure of the page, one row each: headline, weeks, teams, regions, risers, fallers.

    `change` is in percentage points for shares and in uses for movers; `change_percent`
    (movers only) is empty for an asset new in the period.
    """
    def figure_row(section: str, f: ShareFigure) -> list[Any]:
        return [section, f.key, f.used, f.total, round(f.share, 1), f.prev_used, f.prev_total,
                round(f.prev_share, 1), f"{f.change.delta:g}", ""]

    out = [figure_row("headline", f) for f in headline(reply)]
    for w in weeks(reply.weeks):
        out.append(["week_reps", w.label, w.rep_used, w.published, round(w.rep_share, 1), "", "", "", "", ""])
        out.append(["week_customers", w.label, w.customer_used, w.published, round(w.customer_share, 1),
                    "", "", "", "", ""])
    out += [figure_row("team", f) for f in groups(reply.teams)]
    out += [figure_row("region", f) for f in groups(reply.regions)]
    for section, movers in (("riser", reply.risers), ("faller", reply.fallers)):
        out += [[section, m.asset_id, m.uses, "", "", m.previous_uses, "", "", m.change,
                 "" if m.new_in_period else round(m.change_percent, 1)] for m in movers]
    return out
