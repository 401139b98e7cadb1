"""Inline SVG charts: no JavaScript library, no CDN, readable without CSS.

Only numbers and escaped labels go into the markup, and the SVG uses presentation
attributes (no inline style), so the strict Content-Security-Policy holds.
"""

from __future__ import annotations

from typing import Sequence

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#059669", "#d97706", "#dc2626", "#7c3aed", "#0891b2")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 50000, 100000):
        if value <= step:
            return float(step)
    return float(value)


def line_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], title: str,
               width: int = 1000, height: int = 280) -> Markup:
    """Lines over time; `series` = [(name, values aligned with labels)]."""
    left, right, top, bottom = 44, 28, 16, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(labels))
    peak = _nice_max(max((v for _, vals in series for v in vals), default=0))
    x = lambda i: left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)  # noqa: E731
    y = lambda v: top + plot_h - plot_h * (v / peak)  # noqa: E731
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for frac in (0, 0.25, 0.5, 0.75, 1):
        gy = y(peak * frac)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" font-size="11" fill="#6b7280">'
                   f'{peak * frac:g}</text>')
    step = max(1, n // 8)
    for i, lab in enumerate(labels):
        if i % step == 0 or i == n - 1:
            out.append(f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" '
                       f'fill="#6b7280">{escape(lab)}</text>')
    for k, (name, values) in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>')
        for i, v in enumerate(values):
            if v:
                out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{color}">'
                           f'<title>{escape(name)} {escape(labels[i])}: {v:g}</title></circle>')
        lx = left + k * 130
        out.append(f'<rect x="{lx}" y="{height - 16}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{lx + 14}" y="{height - 7}" font-size="11" fill="#374151">{escape(name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(rows: Sequence[tuple[str, float]], title: str, width: int = 1000, unit: str = "") -> Markup:
    """Horizontal bars, one per (label, value)."""
    bar_h, gap, label_w, top = 20, 8, 220, 8
    height = top * 2 + len(rows) * (bar_h + gap)
    peak = max((v for _, v in rows), default=0) or 1
    plot_w = width - label_w - 70
    out = [f'<svg class="chart" viewBox="0 0 {width} {max(height, 40)}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i, (lab, v) in enumerate(rows):
        yy = top + i * (bar_h + gap)
        w = max(1.0, plot_w * v / peak) if v else 0
        short = lab if len(lab) <= 32 else lab[:31] + "…"
        out.append(f'<text x="{label_w - 8}" y="{yy + 14}" text-anchor="end" font-size="12" fill="#374151">'
                   f'{escape(short)}</text>')
        out.append(f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="{bar_h}" rx="3" fill="{PALETTE[0]}">'
                   f'<title>{escape(lab)}: {v:g}{escape(unit)}</title></rect>')
        out.append(f'<text x="{label_w + w + 6:.1f}" y="{yy + 14}" font-size="12" fill="#111827">{v:g}{escape(unit)}'
                   f'</text>')
    out.append("</svg>")
    return Markup("".join(out))


def interval_chart(rows: Sequence[tuple[str, float, float, float]], baseline: float | None, title: str,
                   width: int = 1000) -> Markup:
    """Win rates with their confidence intervals: (label, low, rate, high), all in 0..1."""
    row_h, label_w, top = 26, 220, 20
    height = top + len(rows) * row_h + 10
    plot_w = width - label_w - 30
    px = lambda v: label_w + plot_w * max(0.0, min(1.0, v))  # noqa: E731
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for frac in (0, 0.25, 0.5, 0.75, 1):
        out.append(f'<line x1="{px(frac):.1f}" x2="{px(frac):.1f}" y1="{top - 6}" y2="{height - 6}" '
                   f'stroke="#e5e7eb"/><text x="{px(frac):.1f}" y="{top - 8}" font-size="10" text-anchor="middle" '
                   f'fill="#6b7280">{frac * 100:.0f}%</text>')
    if baseline is not None:
        out.append(f'<line x1="{px(baseline):.1f}" x2="{px(baseline):.1f}" y1="{top - 6}" y2="{height - 6}" '
                   f'stroke="#9ca3af" stroke-dasharray="4 3"><title>baseline {baseline * 100:.1f}%</title></line>')
    for i, (lab, low, rate, high) in enumerate(rows):
        cy = top + i * row_h + row_h / 2
        short = lab if len(lab) <= 32 else lab[:31] + "…"
        out.append(f'<text x="{label_w - 8}" y="{cy + 4:.1f}" text-anchor="end" font-size="12" fill="#374151">'
                   f'{escape(short)}</text>')
        out.append(f'<line x1="{px(low):.1f}" x2="{px(high):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" stroke="{PALETTE[0]}" '
                   f'stroke-width="3"/><circle cx="{px(rate):.1f}" cy="{cy:.1f}" r="5" fill="{PALETTE[0]}">'
                   f'<title>{escape(lab)}: {rate * 100:.1f}% ({low * 100:.1f}–{high * 100:.1f}%)</title></circle>')
    out.append("</svg>")
    return Markup("".join(out))


def grouped_bar_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], title: str,
                      width: int = 1000, unit: str = "") -> Markup:
    """Horizontal bars grouped per label, one bar per series: e.g. an asset's revenue under each model.

    `series` = [(name, values aligned with labels)]; every bar shares one scale, so the
    models' disagreement about an asset is visible at a glance.
    """
    bar_h, inner_gap, group_gap, label_w, top, legend_h = 9, 1, 12, 220, 8, 22
    per_group = len(series) * (bar_h + inner_gap) + group_gap
    height = top + len(labels) * per_group + legend_h
    peak = max((v for _, values in series for v in values), default=0) or 1
    plot_w = width - label_w - 90
    out = [f'<svg class="chart" viewBox="0 0 {width} {max(height, 40)}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i, lab in enumerate(labels):
        y0 = top + i * per_group
        short = lab if len(lab) <= 32 else lab[:31] + "…"
        out.append(f'<text x="{label_w - 8}" y="{y0 + per_group / 2:.1f}" text-anchor="end" font-size="12" '
                   f'fill="#374151">{escape(short)}</text>')
        for k, (name, values) in enumerate(series):
            v = values[i] if i < len(values) else 0.0
            yy = y0 + k * (bar_h + inner_gap)
            w = max(1.0, plot_w * v / peak) if v else 0
            out.append(f'<rect x="{label_w}" y="{yy:.1f}" width="{w:.1f}" height="{bar_h}" '
                       f'fill="{PALETTE[k % len(PALETTE)] if k < len(PALETTE) else "#6b7280"}">'
                       f'<title>{escape(lab)}, {escape(name)}: {v:,.0f}{escape(unit)}</title></rect>')
    for k, (name, _) in enumerate(series):
        lx = label_w + k * 110
        color = PALETTE[k % len(PALETTE)] if k < len(PALETTE) else "#6b7280"
        out.append(f'<rect x="{lx}" y="{height - 16}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{lx + 14}" y="{height - 7}" font-size="11" fill="#374151">{escape(name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
