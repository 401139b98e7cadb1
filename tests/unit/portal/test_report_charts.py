"""The report charts: label wrapping and disambiguation, bars or a line by how sparse the
series is, both drawings (wide and phone) with their text alternatives, and counts with
their nouns in the right number."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from collateral.v1 import feedback_pb2, usage_pb2
from services.portal import filters, report_charts
from services.portal.report_charts import distinct_labels, is_sparse, wrap_label
from tests.unit.portal.conftest import login_as

SVG = "{http://www.w3.org/2000/svg}"
MODELS = ["First touch", "Last touch", "Linear", "Time decay", "U-shaped", "W-shaped", "Markov"]


def _svgs(markup: str) -> dict[str, ET.Element]:
    """The chart pair parsed as XML (so malformed markup fails), keyed by variant."""
    root = ET.fromstring(str(markup))
    assert root.get("class") == "chart-pair"
    return {svg.get("class").split()[-1].removeprefix("chart-"): svg for svg in root.findall(f"{SVG}svg")}


# ---- labels ----------------------------------------------------------------------------------


def test_a_long_label_wraps_to_two_lines_and_ends_in_an_ellipsis():
    assert wrap_label("Healthcare ROI Case Study", 30) == ("Healthcare ROI Case Study",)
    assert wrap_label("Healthcare ROI Case Study for Mercy Health", 20) == ("Healthcare ROI Case", "Study for Mercy…")
    lines = wrap_label("A very long title about enterprise security compliance and audits", 18)
    assert len(lines) == 2 and lines[-1].endswith("…") and all(len(line) <= 18 for line in lines)


def test_a_word_longer_than_a_line_is_split_not_overflowing():
    lines = wrap_label("Supercalifragilisticexpialidocious deck", 12)
    assert all(len(line) <= 12 for line in lines) and lines[0] == "Supercalifra"


def test_titles_that_differ_only_after_the_cut_get_the_words_that_tell_them_apart():
    items = [("a1", "Healthcare ROI Case Study for the Mercy Health system 2024 edition"),
             ("b2", "Healthcare ROI Case Study for the Mercy Health system 2025 edition"),
             ("c3", "Pricing guide")]
    labels = distinct_labels(items, 20)
    assert wrap_label(items[0][1], 20) == wrap_label(items[1][1], 20), "the plain cut collides"
    assert labels[0] != labels[1]
    assert labels[0][-1].endswith("2024 edition") and labels[1][-1].endswith("2025 edition")
    assert all(len(line) <= 20 for lab in labels for line in lab) and all(len(lab) <= 2 for lab in labels)
    assert labels[2] == ("Pricing guide",), "a label that collides with nothing stays as it is"


def test_identical_titles_are_told_apart_by_the_end_of_their_ids():
    labels = distinct_labels([("asset-0001-aaaa", "Deck"), ("asset-0002-bbbb", "Deck")], 30)
    assert labels == [("Deck · #aaaa",), ("Deck · #bbbb",)]


def test_the_same_asset_twice_is_not_a_collision():
    assert distinct_labels([("x", "Deck"), ("x", "Deck")], 30) == [("Deck",), ("Deck",)]


def test_win_rate_labels_wrap_and_carry_the_full_title_as_tooltip():
    long = "Competitive Battle Card: Acme Corporation enterprise edition for EMEA healthcare buyers"
    chart = report_charts.win_rate_chart([("a", long + " 2024", 0.3, 0.5, 0.7), ("b", long + " 2025", 0.1, 0.2, 0.4)],
                                         0.25)
    for svg in _svgs(chart.svg).values():
        labels = [t for t in svg.iter(f"{SVG}text") if t.find(f"{SVG}tspan") is not None]
        assert [t.find(f"{SVG}title").text for t in labels] == [long + " 2024", long + " 2025"]
        shown = [tuple(s.text for s in t.findall(f"{SVG}tspan")) for t in labels]
        assert all(len(lines) == 2 for lines in shown) and shown[0] != shown[1]
        assert shown[0][-1].endswith("2024") and shown[1][-1].endswith("2025")
        assert len(list(svg.iter(f"{SVG}circle"))) == 2
    assert chart.rows == [[long + " 2024", "50.0%", "30.0%–70.0%"], [long + " 2025", "20.0%", "10.0%–40.0%"]]
    assert "baseline 25.0%" in _svgs(chart.svg)["wide"].get("aria-label")
    assert "1 asset with the whole interval above the baseline" in _svgs(chart.svg)["wide"].get("aria-label")


# ---- bars or a line --------------------------------------------------------------------------


@pytest.mark.parametrize("totals, sparse", [
    ([1] * 29, True),                      # under 30 points: bars, however full
    ([1] * 15 + [0] * 15, False),          # half the days have events: a line
    ([1] * 14 + [0] * 16, True),           # fewer than half: bars
    ([0, 3] * 30, False),
    ([5] + [0] * 59, True),
    ([], True),
])
def test_a_series_is_sparse_with_few_points_or_mostly_empty_days(totals, sparse):
    assert is_sparse(totals) is sparse


def _days(n: int) -> list[str]:
    return [f"2026-{10 + i // 30:02d}-{1 + i % 30:02d}" for i in range(n)]


def test_a_sparse_usage_series_is_drawn_as_bars_with_counts_in_words():
    views = [0.0] * 30
    views[3], views[20] = 1.0, 4.0
    shares = [0.0] * 30
    shares[20] = 2.0
    chart = report_charts.usage_chart(_days(30), [("view", "Views", views), ("share", "Shares", shares)],
                                      "Pricing deck")
    for svg in _svgs(chart.svg).values():
        assert not list(svg.iter(f"{SVG}polyline"))
        tips = [r.find(f"{SVG}title").text for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
        assert tips == ["2026-10-04: 1 view", "2026-10-21: 4 views", "2026-10-21: 2 shares"]
        label = svg.get("aria-label")
        assert label.startswith("Bar chart") and "5 views, 2 shares" in label and "2 days with events" in label
        assert "2026-10-21, had 6 events" in label
    assert "as bars" in chart.caption
    assert chart.headers == ["Day", "Views", "Shares"] and chart.rows[20] == ["2026-10-21", "4", "2"]


def test_a_dense_usage_series_is_drawn_as_lines():
    views = [float(1 + i % 3) for i in range(40)]
    chart = report_charts.usage_chart(_days(40), [("view", "Views", views), ("share", "Shares", [0.0] * 40)],
                                      "Pricing deck")
    for svg in _svgs(chart.svg).values():
        assert len(list(svg.iter(f"{SVG}polyline"))) == 2
        assert svg.get("aria-label").startswith("Line chart")
        assert not [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]


def test_the_phone_drawing_has_fewer_date_labels_than_the_wide_one():
    chart = report_charts.usage_chart(_days(60), [("view", "Views", [1.0] * 60)], "Deck")
    svgs = _svgs(chart.svg)
    dates = {k: [t.text for t in svg.iter(f"{SVG}text") if t.text and t.text[:2].isdigit() and "-" in t.text]
             for k, svg in svgs.items()}
    assert 0 < len(dates["narrow"]) <= 4 < len(dates["wide"]) <= 10
    assert svgs["narrow"].get("viewBox").split()[2] == str(report_charts.NARROW)


# ---- attribution -----------------------------------------------------------------------------


def _assets(n: int) -> list[tuple[str, str, list[float]]]:
    return [(f"asset-{i}", f"Asset {i}", [1000.0 * (i + 1) + k * 100 for k in range(len(MODELS))]) for i in range(n)]


def test_attribution_chart_groups_one_bar_per_model_for_the_top_assets():
    chart = report_charts.attribution_chart(_assets(12), MODELS, top=10)
    for variant, svg in _svgs(chart.svg).items():
        bars = [r.find(f"{SVG}title").text for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
        assert len(bars) == 10 * len(MODELS), variant
        assert "Asset 0, Markov: 1,600" in bars and not any(b.startswith("Asset 10,") for b in bars)
        legend = [t.text for t in svg.iter(f"{SVG}text") if t.text in MODELS]
        assert legend == MODELS, "every model in the legend, in order"
        label = svg.get("aria-label")
        assert svg.get("role") == "img" and "top 10 assets under 7 models" in label
        assert "Asset 0: from 1,000 (First touch) to 1,600 (Markov)" in label
    assert chart.headers == ["Asset", *MODELS] and len(chart.rows) == 10
    assert chart.rows[0] == ["Asset 0", "1,000", "1,100", "1,200", "1,300", "1,400", "1,500", "1,600"]


def test_on_a_phone_asset_labels_sit_above_their_bars():
    svg = _svgs(report_charts.attribution_chart(_assets(2), MODELS).svg)["narrow"]
    label = next(t for t in svg.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None
                 and t.find(f"{SVG}title").text == "Asset 1")
    first_bar = next(r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None
                     and r.find(f"{SVG}title").text.startswith("Asset 1,"))
    assert label.get("text-anchor") == "start" and float(label.get("y")) < float(first_bar.get("y"))
    assert float(first_bar.get("x")) < 10, "bars use the whole width below the label"
    widths = [float(r.get("x")) + float(r.get("width")) for r in svg.iter(f"{SVG}rect")]
    assert max(widths) <= report_charts.NARROW


def test_attribution_page_leaves_markov_out_until_it_is_computed():
    from services.portal.feedback_api import ATTRIBUTION_MODELS

    asset = feedback_pb2.AssetAttribution(asset_id="deck", title="Deck", linear=400, markov=0)
    data = {"assets": [asset], "models": ATTRIBUTION_MODELS, "markov_as_of": None}
    assert report_charts.for_attribution(data).headers == ["Asset", *MODELS[:-1]]
    assert report_charts.for_attribution({**data, "markov_as_of": "2026-11-29"}).headers == ["Asset", *MODELS]
    assert report_charts.for_attribution({**data, "assets": []}) is None


@pytest.mark.parametrize("peak, ticks", [
    (0, [0, 1]), (3, [0, 1, 2, 3]), (7, [0, 2, 4, 6, 8]), (78_000, [0, 20_000, 40_000, 60_000, 80_000]),
    (0.4, [0, 0.1, 0.2, 0.3, 0.4]), (1_234_567, [0, 250_000, 500_000, 750_000, 1_000_000, 1_250_000]),
])
def test_axis_ticks_are_round_and_cover_the_peak(peak, ticks):
    assert report_charts.nice_ticks(peak) == ticks


# ---- counts in words -------------------------------------------------------------------------


@pytest.mark.parametrize("n, args, shown", [
    (1, ("event",), "1 event"), (2, ("event",), "2 events"), (0, ("event",), "0 events"),
    (1200, ("event",), "1,200 events"), (1.0, ("deal",), "1 deal"), (None, ("deal",), "0 deals"),
    (1, ("opportunity", "opportunities"), "1 opportunity"), (3, ("opportunity", "opportunities"), "3 opportunities"),
    (2.5, ("day",), "2.5 days"), (0.25, ("day",), "0.25 days"),
])
def test_plural_puts_the_noun_in_the_right_number(n, args, shown):
    assert filters.plural(n, *args) == shown


# ---- on the pages ------------------------------------------------------------------------------


def _usage_reply(active_days: dict[int, int], days: int = 30, bots: int = 1) -> usage_pb2.GetAssetUsageResponse:
    reply = usage_pb2.GetAssetUsageResponse(known_asset=True)
    reply.totals.bot_events = bots
    for i in range(days):
        bucket = reply.buckets.add()
        bucket.start.FromSeconds(1_790_000_000 + i * 86400)
        if active_days.get(i):
            bucket.summary.counts.add(type=usage_pb2.USAGE_EVENT_TYPE_VIEW, count=active_days[i])
    return reply


def test_asset_usage_page_shows_sparse_days_as_bars_with_a_data_table(client, backends):
    backends.handlers[("usage", "GetAssetUsage")] = lambda req: _usage_reply({2: 1, 9: 3})
    backends.handlers[("usage", "ListShareLinks")] = lambda req: usage_pb2.ListShareLinksResponse()
    login_as(client, "marketer")
    html = client.get("/reports/assets/deck-1").get_data(as_text=True)
    figure = html.split('id="usage-chart"')[1].split("</figure>")[0]
    assert figure.count('role="img"') == 2 and "<polyline" not in figure
    assert 'aria-label="Bar chart of the usage of deck-1 per day over 30 days: 4 views' in figure
    assert "<summary>Chart data as a table</summary>" in figure and figure.count("<tr>") == 31
    assert "1 event from link scanners and previews is not counted." in html


def test_asset_usage_page_draws_a_line_when_most_days_have_events(client, backends):
    backends.handlers[("usage", "GetAssetUsage")] = lambda req: _usage_reply({i: 2 for i in range(40)}, days=40,
                                                                             bots=3)
    backends.handlers[("usage", "ListShareLinks")] = lambda req: usage_pb2.ListShareLinksResponse()
    login_as(client, "marketer")
    html = client.get("/reports/assets/deck-1?days=40").get_data(as_text=True)
    figure = html.split('id="usage-chart"')[1].split("</figure>")[0]
    assert figure.count("<polyline") == 8, "4 series, wide and narrow"
    assert "3 events from link scanners and previews are not counted." in html


def test_win_rate_page_chart_has_its_table_and_tiny_p_values_read_below_0_001(client, backends):
    common = dict(deals_touched=60, won=40, lost=20, closed=60, win_rate=0.667, win_rate_lower=0.54,
                  win_rate_upper=0.78, ranked=True, lift=0.2)
    rates = [feedback_pb2.AssetWinRate(asset_id=f"a{i}", title="Healthcare ROI Case Study for the Mercy Health "
                                       f"system {2024 + i} edition", p_value=1e-9, q_value=0.0, significant=True,
                                       **common) for i in range(2)]
    overall = feedback_pb2.WinRateBaseline(deals=500, won=200, lost=250, win_rate=0.444, min_closed_deals=1,
                                           significance_level=0.05)
    backends.handlers[("feedback", "ListAssetWinRates")] = lambda req: feedback_pb2.ListAssetWinRatesResponse(
        rates=rates, overall=overall, total_size=2)
    login_as(client, "marketer")
    html = client.get("/reports/win-rates").get_data(as_text=True)
    figure = html.split('id="win-rate-chart"')[1].split("</figure>")[0]
    assert figure.count('role="img"') == 2 and "Chart data as a table" in figure
    assert "2024 edition</tspan>" in figure and "2025 edition</tspan>" in figure
    table = html.split('id="win-rates-table"')[1]
    assert table.count('class="num">&lt; 0.001</td>') == 4 and "0.000<" not in html
    assert "at least 1 closed deal with and without it" in html


def test_chart_markup_escapes_titles():
    chart = report_charts.attribution_chart([("x", "<script>alert(1)</script>", [1.0])], ["Linear"])
    assert "<script>" not in str(chart.svg) and "&lt;script&gt;" in str(chart.svg)
    _svgs(chart.svg)  # still well-formed XML


def test_report_sentences_put_counts_in_the_right_number(client, backends):
    reply = feedback_pb2.GetAttributionResponse(assets=[feedback_pb2.AssetAttribution(
        asset_id="deck", title="Deck", linear=400, won_deals=1)], won_deals=1, attributed_total=400, half_life_days=1)
    backends.handlers[("feedback", "GetAttribution")] = lambda req: reply
    backends.handlers[("usage", "ListUnusedAssets")] = lambda req: usage_pb2.ListUnusedAssetsResponse()
    login_as(client, "marketer")
    assert "halves a touch's weight every 1 day before the close" in \
        client.get("/reports/attribution?half_life=1").get_data(as_text=True)
    assert "No published asset went unused in the last 1 day." in \
        client.get("/reports/unused?days=1").get_data(as_text=True)


def test_top_assets_bars_put_labels_above_the_bars_on_a_phone():
    from services.portal import charts

    svgs = _svgs(charts.bar_chart([("Platform Overview Deck", 12.0), ("Pricing guide", 3.0)], "Customer opens"))
    assert svgs["wide"].get("aria-label") == "Customer opens. 2 bars; highest: Platform Overview Deck, 12."
    for variant, svg in svgs.items():
        label = next(t for t in svg.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None)
        bar = next(svg.iter(f"{SVG}rect"))
        assert bar.find(f"{SVG}title").text == "Platform Overview Deck: 12"
        if variant == "narrow":
            assert float(label.get("y")) < float(bar.get("y")) and float(bar.get("x")) == 0
        else:
            assert label.get("text-anchor") == "end" and float(label.get("x")) < float(bar.get("x"))
        assert max(float(r.get("x")) + float(r.get("width")) for r in svg.iter(f"{SVG}rect")) <= \
            float(svg.get("viewBox").split()[2])


def test_line_chart_speaks_each_series_latest_value_and_range():
    from services.portal import charts

    svgs = _svgs(charts.line_chart(["11-02", "11-09", "11-16"], [("Used by reps %", [20.0, 35.5, 30.0])],
                                   "Catalog used"))
    assert set(svgs) == {"wide", "narrow"}
    assert svgs["narrow"].get("aria-label") == "Catalog used. Used by reps %: latest 30, from 20 to 35.5."
    assert [c.find(f"{SVG}title").text for c in svgs["narrow"].iter(f"{SVG}circle")] == [
        "Used by reps % 11-02: 20", "Used by reps % 11-09: 35.5", "Used by reps % 11-16: 30"]


@pytest.mark.parametrize("counts, caption", [
    ([1.0, 2.0], "Events per week, as bars: 2 weeks are too few points for a line."),
    ([1.0, 0.0, 0.0], "Events per week, as bars: most weeks have none, and a line would hide that."),
])
def test_the_caption_says_why_a_series_is_drawn_as_bars(counts, caption):
    dates = [f"2026-11-{1 + 7 * i:02d}" for i in range(len(counts))]
    assert report_charts.usage_chart(dates, [("view", "Views", counts)], "Deck", "week").caption == caption


def test_attribution_bars_share_one_scale_and_zero_draws_no_bar():
    chart = report_charts.attribution_chart([("d", "Deck", [300.0, 150.0]), ("c", "Case study", [100.0, 0.0])],
                                            ["Linear", "Markov"])
    for svg in _svgs(chart.svg).values():
        widths = {r.find(f"{SVG}title").text: float(r.get("width")) for r in svg.iter(f"{SVG}rect")
                  if r.find(f"{SVG}title") is not None}
        assert widths["Deck, Markov: 150"] == pytest.approx(widths["Deck, Linear: 300"] / 2, abs=0.1)
        assert widths["Case study, Linear: 100"] == pytest.approx(widths["Deck, Linear: 300"] / 3, abs=0.1)
        assert widths["Case study, Markov: 0"] == 0
