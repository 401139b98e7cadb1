"""Pure helpers: highlights, CSV export, charts, labels."""

from __future__ import annotations

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
    assert svg.count("<polyline") == 2  # the wide drawing and the phone drawing
    bars = str(charts.bar_chart([("A", 2.0), ("B", 1.0)], "bars"))
    assert bars.count("<rect") == 4


def test_labels():
    assert filters.label("ASSET_TYPE_CASE_STUDY") == "Case study"
    assert filters.label("UNUSED_REASON_SHOWN_NOT_OPENED") == "Shown not opened"
    assert filters.stage(3) == "Decision"
    assert filters.facet_value("cfo", "persona") == "cfo" and filters.facet_value("deck", "type") == "Deck"
    assert filters.file_size(2048) == "2.0 KB" and filters.pct(0.256, 1) == "25.6%"
