"""The marketer reports' charts: attribution per model, win rates with intervals, usage over time.

Each chart is drawn twice, once for a wide screen and once for a phone, and CSS shows the
one that fits (`.chart-wide`, `.chart-narrow`): an SVG scaled from 1000 units down to a
390 px screen would shrink its text to 5 px, so the phone version is laid out for its
width (labels above the bars, fewer axis labels, the legend on several rows).

Every chart carries its own text alternative: role="img" with an aria-label that states
the finding in words, a caption, and the numbers as a table (`ReportChart.headers/rows`,
rendered by templates/reports/_chart.html). Only numbers and escaped text go into the
markup, with presentation attributes and no inline style, so the Content-Security-Policy holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from markupsafe import Markup, escape

from services.portal.filters import money, pct, plural

WIDE, NARROW = 1000, 340
COLORS = ("#2563eb", "#059669", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4b5563")
AXIS, GRID, INK, MUTED = "#6b7280", "#e5e7eb", "#111827", "#374151"
# Average glyph width as a share of the font size, to estimate how many characters fit.
GLYPH = 0.56
SPARSE_MIN_POINTS = 30
SPARSE_MIN_NONZERO_SHARE = 0.5


@dataclass(frozen=True)
class ReportChart:
    """A chart and its text alternative: the SVG pair, a caption and the plotted numbers as a table."""

    svg: Markup
    caption: str
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


# ---- labels ------------------------------------------------------------------------------


def wrap_label(text: str, chars: int, max_lines: int = 2) -> tuple[str, ...]:
    """Word-wrap `text` into at most `max_lines` lines of at most `chars` characters.

    Text that does not fit ends in "…" on the last line; a word longer than a line is cut.
    """
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        while len(word) > chars:  # a word longer than a line is split over lines
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:chars])
            word = word[chars:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= chars:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) <= max_lines:
        return tuple(lines) or ("",)
    kept = lines[:max_lines]
    last = kept[-1]
    kept[-1] = (last if len(last) < chars else last[:chars - 1].rstrip()) + "…"
    return tuple(kept)


def _first_difference(title: str, others: Sequence[str]) -> str:
    """The words of `title` from the first word where it departs from every other title."""
    words = title.split()
    for i in range(len(words)):
        if all(other.split()[:i + 1] != words[:i + 1] for other in others):
            return " ".join(words[i:])
    return ""


def _shortest_unique_suffix(key: str, others: Sequence[str], minimum: int = 4) -> str:
    for n in range(minimum, len(key) + 1):
        if all(not other.endswith(key[-n:]) for other in others):
            return key[-n:]
    return key


def _with_tag(title: str, tag: str, chars: int, max_lines: int) -> tuple[str, ...]:
    """The wrapped title with `tag` closing its last line: "… tag" after a cut, "· tag" otherwise."""
    lines = list(wrap_label(title, chars, max_lines))
    cut = lines[-1].endswith("…")
    last = lines[-1].rstrip("…").rstrip()
    room = chars - len(tag) - 3
    if len(last) > room:
        last = last[:max(0, room)].rsplit(" ", 1)[0] if " " in last[:max(0, room)] else last[:max(0, room)]
        cut = True
    joiner = "…" if cut else "·"
    lines[-1] = f"{last} {joiner} {tag}".strip()
    return tuple(lines)


def distinct_labels(items: Sequence[tuple[str, str]], chars: int, max_lines: int = 2) -> list[tuple[str, ...]]:
    """Wrapped labels for (key, title) pairs, never two alike for different keys.

    When two titles wrap to the same text (they differ only after the cut, or are equal),
    each gets a short disambiguator: the words where its title departs from the others,
    or, for identical titles, the shortest unique tail of its key ("#a1b2").
    """
    labels = [wrap_label(title, chars, max_lines) for _, title in items]
    for group in _collisions(labels, items):
        titles = [items[i][1] for i in group]
        for i in group:
            others = [t for t in titles if t != items[i][1]]
            tail = _first_difference(items[i][1], others) if len(others) == len(titles) - 1 else ""
            if tail:
                labels[i] = _with_tag(items[i][1], wrap_label(tail, 16, 1)[0], chars, max_lines)
    for group in _collisions(labels, items):
        keys = [items[i][0] for i in group]
        for i in group:
            tag = "#" + _shortest_unique_suffix(items[i][0], [k for k in keys if k != items[i][0]])
            labels[i] = _with_tag(items[i][1], tag, chars, max_lines)
    return labels


def _collisions(labels: Sequence[tuple[str, ...]], items: Sequence[tuple[str, str]]) -> list[list[int]]:
    """Groups of indices whose labels are equal although their keys differ."""
    by_label: dict[tuple[str, ...], list[int]] = {}
    for i, lab in enumerate(labels):
        by_label.setdefault(lab, []).append(i)
    return [g for g in by_label.values() if len({items[i][0] for i in g}) > 1]


def chars_that_fit(pixels: float, font_size: float) -> int:
    return max(4, int(pixels / (font_size * GLYPH)))


# ---- scales and small pieces ------------------------------------------------------------------


def nice_ticks(peak: float, max_ticks: int = 5) -> list[float]:
    """Round axis ticks from 0 to at least `peak`: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if peak <= 0:
        return [0.0, 1.0]
    raw = peak / max_ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if peak >= 1 and step < 1:
        step = 1.0
    count = math.ceil(peak / step - 1e-9)
    return [round(i * step, 10) for i in range(count + 1)]


def compact(value: float) -> str:
    """Axis text: 1200 -> '1.2k', 2500000 -> '2.5M'."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:g}"


def _svg_open(width: float, height: float, label: str, variant: str) -> str:
    return (f'<svg class="chart chart-{variant}" viewBox="0 0 {width:g} {height:.0f}" role="img" '
            f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>')


def _text_lines(x: float, y: float, lines: Sequence[str], full: str, size: float, anchor: str = "start",
                line_h: float | None = None) -> str:
    """Label text, one <tspan> per line, with the full text as its tooltip."""
    line_h = line_h or size * 1.2
    spans = "".join(f'<tspan x="{x:.1f}" dy="{0 if i == 0 else line_h:.1f}">{escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size:g}" fill="{MUTED}">'
            f'<title>{escape(full)}</title>{spans}</text>')


def _legend(names: Sequence[str], x0: float, y0: float, width: float, size: float = 12) -> tuple[str, float]:
    """Legend swatches that wrap onto more rows when the width runs out; returns (markup, height)."""
    out, x, y, row_h = [], x0, y0, size + 8
    for k, name in enumerate(names):
        advance = 14 + len(name) * size * GLYPH + 16
        if x > x0 and x + advance > x0 + width:
            x, y = x0, y + row_h
        color = COLORS[k % len(COLORS)]
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="10" height="10" rx="2" fill="{color}"/>'
                   f'<text x="{x + 14:.1f}" y="{y + 9:.1f}" font-size="{size:g}" fill="{MUTED}">{escape(name)}</text>')
        x += advance
    return "".join(out), (y - y0) + row_h


def _pair(draw: Callable[[int, str], str]) -> Markup:
    """The wide and the narrow drawing of one chart; CSS shows the one that fits the screen."""
    return Markup(f'<div class="chart-pair">{draw(WIDE, "wide")}{draw(NARROW, "narrow")}</div>')


# ---- attribution -----------------------------------------------------------------------------


def attribution_chart(assets: Sequence[tuple[str, str, Sequence[float]]], models: Sequence[str],
                      top: int = 10) -> ReportChart:
    """Attributed revenue of the top assets, one bar per model, all on one scale.

    `assets` = [(asset_id, title, values aligned with `models`)], in the report's order.
    Side-by-side bars show at a glance where the models agree about an asset and where
    the credit depends on the model chosen.
    """
    shown = list(assets[:top])
    peak = max((v for _, _, vals in shown for v in vals), default=0.0)
    ticks = nice_ticks(peak)
    summary = _attribution_summary(shown, models)

    def draw(width: int, variant: str) -> str:
        narrow = variant == "narrow"
        size = 13 if narrow else 12
        label_w = 0 if narrow else 250
        plot_x, plot_w = (0, width - 8) if narrow else (label_w + 10, width - label_w - 40)
        chars = chars_that_fit(width if narrow else label_w - 8, size)
        labels = distinct_labels([(a, t or a) for a, t, _ in shown], chars)
        legend, legend_h = _legend(models, 0 if narrow else plot_x, 4, plot_w if not narrow else width, size - 1)
        axis_y = legend_h + 18
        bar_h, gap = (8, 2) if narrow else (9, 2)
        scale = lambda v: plot_w * v / ticks[-1]  # noqa: E731
        body, y = [], axis_y + 8
        for (asset_id, title, values), lines in zip(shown, labels):
            full = title or asset_id
            if narrow:
                body.append(_text_lines(0, y + size, lines, full, size))
                y += len(lines) * size * 1.2 + 4
                bars_top = y
            else:
                bars_top = y
                group_h = len(models) * (bar_h + gap)
                body.append(_text_lines(label_w, y + group_h / 2 - (len(lines) - 1) * size * 0.6 + 4, lines, full,
                                        size, anchor="end"))
            for k, name in enumerate(models):
                v = values[k] if k < len(values) else 0.0
                w = max(1.0, scale(v)) if v else 0.0
                body.append(f'<rect x="{plot_x:.1f}" y="{bars_top + k * (bar_h + gap):.1f}" width="{w:.1f}" '
                            f'height="{bar_h}" fill="{COLORS[k % len(COLORS)]}"><title>{escape(full)}, '
                            f'{escape(name)}: {v:,.0f}</title></rect>')
            y = bars_top + len(models) * (bar_h + gap) + (14 if narrow else 16)
        height = y + 4
        grid = []
        for t in ticks:
            gx = plot_x + scale(t)
            grid.append(f'<line x1="{gx:.1f}" x2="{gx:.1f}" y1="{axis_y + 2:.1f}" y2="{height - 6:.1f}" '
                        f'stroke="{GRID}"/><text x="{gx:.1f}" y="{axis_y:.1f}" font-size="{size - 2:g}" '
                        f'text-anchor="{"start" if t == 0 else "end" if t == ticks[-1] else "middle"}" '
                        f'fill="{AXIS}">{compact(t)}</text>')
        return _svg_open(width, height, summary, variant) + legend + "".join(grid) + "".join(body) + "</svg>"

    rows = [[title or asset_id, *[money(v) for v in values]] for asset_id, title, values in shown]
    caption = (f"Revenue each model credits to the top {plural(len(shown), 'asset')}; "
               "hover a bar for its amount, or open the table.")
    return ReportChart(_pair(draw), caption, ["Asset", *models], rows)


def _attribution_summary(shown: Sequence[tuple[str, str, Sequence[float]]], models: Sequence[str]) -> str:
    """The aria-label: what is plotted and, for the first asset, how far the models disagree."""
    text = (f"Grouped bar chart of attributed revenue for the top {plural(len(shown), 'asset')} under "
            f"{plural(len(models), 'model')} ({', '.join(models)}).")
    if shown and models:
        asset_id, title, values = shown[0]
        pairs = list(zip(models, values))
        low, high = min(pairs, key=lambda p: p[1]), max(pairs, key=lambda p: p[1])
        text += (f" {title or asset_id}: from {money(low[1])} ({low[0]}) to {money(high[1])} ({high[0]}).")
    return text + " The table lists every amount."


# ---- win rates ------------------------------------------------------------------------------


def win_rate_chart(rows: Sequence[tuple[str, str, float, float, float]], baseline: float | None) -> ReportChart:
    """Win rate with its 95% interval per asset: (asset_id, title, low, rate, high), rates in 0..1.

    The dashed line is the win rate of all comparable deals, so an interval entirely to
    its right means the asset's deals win more often than the rest.
    """
    summary = _win_rate_summary(rows, baseline)

    def draw(width: int, variant: str) -> str:
        narrow = variant == "narrow"
        size = 13 if narrow else 12
        label_w = 0 if narrow else 270
        plot_x, plot_w = (6, width - 14) if narrow else (label_w + 14, width - label_w - 40)
        chars = chars_that_fit(width - 8 if narrow else label_w - 8, size)
        labels = distinct_labels([(a, t or a) for a, t, *_ in rows], chars)
        px = lambda v: plot_x + plot_w * max(0.0, min(1.0, v))  # noqa: E731
        top = 22
        body, y = [], top + 6
        for (asset_id, title, low, rate, high), lines in zip(rows, labels):
            full = title or asset_id
            if narrow:
                body.append(_text_lines(0, y + size, lines, full, size))
                y += len(lines) * size * 1.2 + 8
                cy = y
                y += 18
            else:
                row_h = max(28, len(lines) * size * 1.2 + 8)
                cy = y + row_h / 2
                body.append(_text_lines(label_w, cy - (len(lines) - 1) * size * 0.6 + 4, lines, full, size,
                                        anchor="end"))
                y += row_h
            body.append(f'<line x1="{px(low):.1f}" x2="{px(high):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" '
                        f'stroke="{COLORS[0]}" stroke-width="3"/><circle cx="{px(rate):.1f}" cy="{cy:.1f}" r="5" '
                        f'fill="{COLORS[0]}"><title>{escape(full)}: {pct(rate, 1)} '
                        f'(95% interval {pct(low, 1)}–{pct(high, 1)})</title></circle>')
        height = y + 8
        grid = []
        for frac in (0, 0.25, 0.5, 0.75, 1):
            anchor = "start" if frac == 0 else "end" if frac == 1 else "middle"
            grid.append(f'<line x1="{px(frac):.1f}" x2="{px(frac):.1f}" y1="{top - 4}" y2="{height - 4:.1f}" '
                        f'stroke="{GRID}"/><text x="{px(frac):.1f}" y="{top - 8}" font-size="{size - 2:g}" '
                        f'text-anchor="{anchor}" fill="{AXIS}">{frac * 100:.0f}%</text>')
        if baseline is not None:
            grid.append(f'<line x1="{px(baseline):.1f}" x2="{px(baseline):.1f}" y1="{top - 4}" '
                        f'y2="{height - 4:.1f}" stroke="#9ca3af" stroke-dasharray="4 3">'
                        f'<title>Baseline: {pct(baseline, 1)} of all comparable deals won</title></line>')
        return _svg_open(width, height, summary, variant) + "".join(grid) + "".join(body) + "</svg>"

    table = [[title or asset_id, pct(rate, 1), f"{pct(low, 1)}–{pct(high, 1)}"]
             for asset_id, title, low, rate, high in rows]
    caption = "Dot: win rate of the deals the asset touched; bar: its 95% interval" + (
        f"; dashed line: {pct(baseline, 1)}, all comparable deals." if baseline is not None else ".")
    return ReportChart(_pair(draw), caption, ["Asset", "Win rate", "95% interval"], table)


def _win_rate_summary(rows: Sequence[tuple[str, str, float, float, float]], baseline: float | None) -> str:
    text = f"Win rate and 95% interval of {plural(len(rows), 'asset')}"
    text += f"; baseline {pct(baseline, 1)} of all comparable deals." if baseline is not None else "."
    if baseline is not None:
        above = sum(1 for _, _, low, _, _ in rows if low > baseline)
        text += f" {plural(above, 'asset')} with the whole interval above the baseline."
    if rows:
        best = max(rows, key=lambda r: r[3])
        text += f" Highest: {best[1] or best[0]}, {pct(best[3], 1)}."
    return text


# ---- usage over time --------------------------------------------------------------------------


def is_sparse(totals: Sequence[float]) -> bool:
    """Whether a series is too thin for a line: under 30 points, or fewer than half of them non-zero.

    A line between rare events suggests activity on the days in between; bars show
    exactly which days had events.
    """
    if len(totals) < SPARSE_MIN_POINTS:
        return True
    return sum(1 for v in totals if v) < SPARSE_MIN_NONZERO_SHARE * len(totals)


def usage_chart(dates: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]], subject: str,
                interval: str = "day") -> ReportChart:
    """Events per day or week: stacked bars when the series is sparse, lines otherwise.

    `dates` are ISO dates of bucket starts; `series` = [(singular noun, legend name, counts)].
    """
    totals = [sum(vals[i] for _, _, vals in series) for i in range(len(dates))]
    bars = is_sparse(totals)
    summary = _usage_summary(dates, series, totals, subject, interval, bars)
    nouns = [noun for noun, _, _ in series]
    svg = time_series_svg([d[5:] for d in dates], [(name, vals) for _, name, vals in series], summary, bars,
                          lambda k, i, v: f"{dates[i]}: {plural(v, nouns[k])}")
    rows = [[day, *[f"{vals[i]:g}" for _, _, vals in series]] for i, day in enumerate(dates)]
    caption = f"Events per {interval}, " + (_why_bars(totals, interval) if bars else "as lines.")
    return ReportChart(svg, caption, [interval.capitalize(), *[name for _, name, _ in series]], rows)


def _why_bars(totals: Sequence[float], interval: str) -> str:
    if sum(1 for v in totals if v) < SPARSE_MIN_NONZERO_SHARE * len(totals):
        return f"as bars: most {interval}s have none, and a line would hide that."
    return f"as bars: {plural(len(totals), interval)} are too few points for a line."


def time_series_svg(axis_labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], summary: str,
                    bars: bool, tip: Callable[[int, int, float], str]) -> Markup:
    """Series over time as stacked bars or as lines, wide and narrow; `tip(series, point, value)` is a tooltip."""
    n = len(axis_labels)
    stacked = [sum(vals[i] for _, vals in series if i < len(vals)) for i in range(n)]
    ticks = nice_ticks(max(stacked if bars else [v for _, vals in series for v in vals], default=0))

    def draw(width: int, variant: str) -> str:
        narrow = variant == "narrow"
        size = 13 if narrow else 11
        left, right = (34, 6) if narrow else (44, 20)
        legend, legend_h = _legend([name for name, _ in series], left, 4, width - left - right, size - 1)
        top, plot_h = legend_h + 14, 150 if narrow else 200
        slot = (width - left - right) / max(1, n)
        y = lambda v: top + plot_h - plot_h * v / ticks[-1]  # noqa: E731
        x = lambda i: left + slot * (i + 0.5)  # noqa: E731
        out = []
        for t in ticks:
            out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="{GRID}"/>'
                       f'<text x="{left - 5}" y="{y(t) + 4:.1f}" text-anchor="end" font-size="{size - 1:g}" '
                       f'fill="{AXIS}">{compact(t)}</text>')
        step = max(1, math.ceil(n / (4 if narrow else 10)))
        for i, text in enumerate(axis_labels):
            if i % step == 0:
                out.append(f'<text x="{x(i):.1f}" y="{top + plot_h + size + 4:.1f}" text-anchor="middle" '
                           f'font-size="{size - 1:g}" fill="{AXIS}">{escape(text)}</text>')
        out.append(_stacked_bars(n, series, x, y, slot, tip) if bars else _lines(series, x, y, tip))
        height = top + plot_h + size + 10
        return _svg_open(width, height, summary, variant) + legend + "".join(out) + "</svg>"

    return _pair(draw)


def _stacked_bars(n: int, series: Sequence[tuple[str, Sequence[float]]], x: Callable[[int], float],
                  y: Callable[[float], float], slot: float, tip: Callable[[int, int, float], str]) -> str:
    """One stacked bar per point in time, one segment per series."""
    out, bar_w = [], max(1.0, min(slot * 0.7, 40))
    for i in range(n):
        base = 0.0
        for k, (_, vals) in enumerate(series):
            v = vals[i] if i < len(vals) else 0
            if not v:
                continue
            out.append(f'<rect x="{x(i) - bar_w / 2:.1f}" y="{y(base + v):.1f}" width="{bar_w:.1f}" '
                       f'height="{y(base) - y(base + v):.1f}" fill="{COLORS[k % len(COLORS)]}">'
                       f'<title>{escape(tip(k, i, v))}</title></rect>')
            base += v
    return "".join(out)


def _lines(series: Sequence[tuple[str, Sequence[float]]], x: Callable[[int], float], y: Callable[[float], float],
           tip: Callable[[int, int, float], str]) -> str:
    out = []
    for k, (_, vals) in enumerate(series):
        color = COLORS[k % len(COLORS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vals))
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        out.extend(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{color}"><title>{escape(tip(k, i, v))}'
                   f'</title></circle>' for i, v in enumerate(vals) if v)
    return "".join(out)


def bar_list_svg(rows: Sequence[tuple[str, float]], summary: str, unit: str = "") -> Markup:
    """One horizontal bar per (label, value), wide (labels left of the bars) and narrow (labels above)."""
    peak = max((v for _, v in rows), default=0.0) or 1.0

    def draw(width: int, variant: str) -> str:
        narrow = variant == "narrow"
        size = 13 if narrow else 12
        label_w = 0 if narrow else 240
        value_w = 56 if narrow else 70
        plot_x, plot_w = (0, width - value_w) if narrow else (label_w + 10, width - label_w - 10 - value_w)
        labels = distinct_labels([(lab, lab) for lab, _ in rows], chars_that_fit(width if narrow else label_w - 8,
                                                                                  size))
        out, y = [], 6.0
        for (lab, v), lines in zip(rows, labels):
            if narrow:
                out.append(_text_lines(0, y + size, lines, lab, size))
                y += len(lines) * size * 1.2 + 4
                bar_y, row_h = y, 16
            else:
                row_h = max(24, len(lines) * size * 1.2 + 6)
                bar_y = y + (row_h - 16) / 2
                out.append(_text_lines(label_w, y + row_h / 2 - (len(lines) - 1) * size * 0.6 + 4, lines, lab, size,
                                       anchor="end"))
            w = max(1.0, plot_w * v / peak) if v else 0.0
            out.append(f'<rect x="{plot_x:.1f}" y="{bar_y:.1f}" width="{w:.1f}" height="16" rx="3" '
                       f'fill="{COLORS[0]}"><title>{escape(lab)}: {v:g}{escape(unit)}</title></rect>'
                       f'<text x="{plot_x + w + 6:.1f}" y="{bar_y + 12:.1f}" font-size="{size:g}" fill="{INK}">'
                       f'{v:g}{escape(unit)}</text>')
            y = (bar_y + 16 + 10) if narrow else y + row_h + 4
        return _svg_open(width, y + 4, summary, variant) + "".join(out) + "</svg>"

    return _pair(draw)


def _usage_summary(dates: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]], totals: Sequence[float],
                   subject: str, interval: str, bars: bool) -> str:
    counts = ", ".join(plural(sum(vals), noun) for noun, _, vals in series)
    active = sum(1 for v in totals if v)
    text = (f"{'Bar' if bars else 'Line'} chart of the usage of {subject} per {interval} over "
            f"{plural(len(dates), interval)}: {counts}. {plural(active, interval)} with events")
    if active:
        busiest = max(range(len(totals)), key=lambda i: totals[i])
        text += f"; the busiest, {dates[busiest]}, had {plural(totals[busiest], 'event')}"
    return text + "."


# ---- from the reports' data ------------------------------------------------------------------


def for_attribution(data: dict[str, Any] | None) -> ReportChart | None:
    """The attribution page's chart from feedback_api.attribution(): Markov only when it was computed."""
    if not data or not data["assets"]:
        return None
    models = [(key, name) for key, name in data["models"] if key != "markov" or data["markov_as_of"]]
    return attribution_chart([(a.asset_id, a.title, [float(getattr(a, key)) for key, _ in models])
                              for a in data["assets"]], [name for _, name in models])


def for_win_rates(data: dict[str, Any] | None, top: int = 15) -> ReportChart | None:
    """The win-rate page's chart from feedback_api.win_rates(): assets with closed deals only."""
    if not data or not data["rates"]:
        return None
    overall = data["overall"]
    rows = [(r.asset_id, r.title, r.win_rate_lower, r.win_rate, r.win_rate_upper) for r in data["rates"][:top]
            if r.closed]
    if not rows:
        return None
    return win_rate_chart(rows, overall.win_rate if overall.won + overall.lost else None)


def for_asset_usage(rows: Sequence[Sequence[Any]], counted: Sequence[tuple[str, str]], subject: str,
                    interval: str) -> ReportChart:
    """The asset usage page's chart from its rows: (bucket date, count per `counted` kind...)."""
    series = [(key.replace("_", " "), name, [float(r[i + 1]) for r in rows])
              for i, (key, name) in enumerate(counted)]
    return usage_chart([str(r[0]) for r in rows], series, subject, interval)
