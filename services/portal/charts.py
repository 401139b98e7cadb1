"""Inline SVG charts: no JavaScript library, no CDN, readable without CSS.

Only numbers and escaped labels go into the markup, and the SVG uses presentation
attributes (no inline style), so the strict Content-Security-Policy holds. The drawing
itself, wide and for a phone, is in services/portal/report_charts.py, which also holds
the reports' own charts (attribution, win rates, usage over time).
"""

from __future__ import annotations

from typing import Sequence

from markupsafe import Markup

from services.portal import report_charts


def line_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], title: str) -> Markup:
    """Lines over time; `series` = [(name, values aligned with labels)].

    The aria-label adds each series' latest value and range to `title`, so the trend
    can be heard, not only seen.
    """
    spoken = "; ".join(f"{name}: latest {values[-1]:g}, from {min(values):g} to {max(values):g}"
                       for name, values in series if values)
    return report_charts.time_series_svg(labels, series, f"{title}. {spoken}." if spoken else title, False,
                                         lambda k, i, v: f"{series[k][0]} {labels[i]}: {v:g}")


def bar_chart(rows: Sequence[tuple[str, float]], title: str, unit: str = "") -> Markup:
    """Horizontal bars, one per (label, value); on a phone the labels sit above the bars."""
    top = max(rows, key=lambda r: r[1], default=None)
    spoken = f"{title}. {len(rows)} bars; highest: {top[0]}, {top[1]:g}{unit}." if top else title
    return report_charts.bar_list_svg(rows, spoken, unit)
