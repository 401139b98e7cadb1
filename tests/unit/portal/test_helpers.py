"""Pure helpers: highlights, CSV export, charts, labels."""

from __future__ import annotations

import re

from services.portal import charts, filters, helpers


def test_highlight_escapes_everything_but_em():
    out = str(helpers.highlight('<em>a</em> <b onclick="x">b</b> &amp; &lt;c&gt;'))
    assert out == '<em>a</em> &lt;b onclick=&#34;x&#34;&gt;b&lt;/b&gt; &amp; &lt;c&gt;'


def test_csv_cells_cannot_become_formulas():
    response = helpers.csv_response("x y", ["a", "b"], [["=HYPERLINK(1)", -3], ["+1", "@x"]])
    text = response.get_data(as_text=True).splitlines()
    assert text == ["a,b", "'=HYPERLINK(1),-3", "'+1,'@x"]
    assert response.headers["Content-Disposition"] == 'attachment; filename="x_y.csv"'


def test_charts_escape_labels_and_scale():
    svg = str(charts.line_chart(["<d1>", "d2"], [("Views <x>", [0, 4])], "t<script>"))
    assert "<script>" not in svg and "&lt;d1&gt;" in svg and "Views &lt;x&gt;" in svg
    assert svg.count("<polyline") == 1
    bars = str(charts.bar_chart([("A", 2.0), ("B", 1.0)], "bars"))
    assert bars.count("<rect") == 2
    ci = str(charts.interval_chart([("A", 0.2, 0.4, 0.6)], 0.3, "ci"))
    assert "stroke-dasharray" in ci


def test_labels():
    assert filters.label("ASSET_TYPE_CASE_STUDY") == "Case study"
    assert filters.label("UNUSED_REASON_SHOWN_NOT_OPENED") == "Shown not opened"
    assert filters.stage(3) == "Decision"
    assert filters.facet_value("cfo", "persona") == "cfo" and filters.facet_value("deck", "type") == "Deck"
    assert filters.file_size(2048) == "2.0 KB" and filters.pct(0.256, 1) == "25.6%"


def test_grouped_bar_chart_one_bar_per_model_on_one_scale():
    svg = str(charts.grouped_bar_chart(["Deck <1>", "Case study"], [("Linear", [300.0, 100.0]), ("Markov", [150.0, 0.0])],
                                       "revenue <t>"))
    assert "<script" not in svg and "Deck &lt;1&gt;" in svg and "revenue &lt;t&gt;" in svg
    bars = re.findall(r'<rect x="220" y="[0-9.]+" width="([0-9.]+)" height="9"', svg)
    assert len(bars) == 4  # two assets x two models (the legend swatches sit elsewhere)
    widths = [float(w) for w in bars]
    assert widths[0] == max(widths) and widths[1] == widths[0] / 2 and widths[3] == 0  # shared scale; zero is no bar
