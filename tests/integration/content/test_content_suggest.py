"""Type-ahead through the gRPC API: full titles, one suggestion per asset and per title."""

from __future__ import annotations

import pytest

from collateral.v1 import content_pb2

pytestmark = pytest.mark.integration


def test_suggestions_carry_full_titles_once(stub, call_as, new_asset, unique):
    long_title = f"Q{unique} quarterly business review template for enterprise accounts (one pager 288)"
    assert len(long_title) > 60
    long_asset = new_asset(long_title, tags=[f"q{unique}-qbr"])
    twin_a = new_asset(f"Q{unique} pricing guide")
    twin_b = new_asset(f"Q{unique} Pricing  guide")  # the same title, as far as a rep can tell
    rep = call_as("rep")
    suggestions = stub.Suggest(content_pb2.SuggestRequest(prefix=f"q{unique}", limit=8), metadata=rep).suggestions
    texts = [s.text for s in suggestions]
    assert long_title in texts  # never cut at the completion field's 50 characters
    assert [s.title for s in suggestions] == texts
    assert len({s.asset_id for s in suggestions}) == len(suggestions)  # one per asset
    assert len({" ".join(t.lower().split()) for t in texts}) == len(texts)  # identical titles collapse
    assert {s.asset_id for s in suggestions} & {twin_a.asset_id, twin_b.asset_id}
    assert len(suggestions) == 2
    # an inner-word match and a tag match still name the full title of the asset
    inner = stub.Suggest(content_pb2.SuggestRequest(prefix="enterprise accounts (one"), metadata=rep).suggestions
    assert [s.text for s in inner if s.asset_id == long_asset.asset_id] == [long_title]
    tagged = stub.Suggest(content_pb2.SuggestRequest(prefix=f"q{unique}-qb"), metadata=rep).suggestions
    assert [(s.asset_id, s.text) for s in tagged] == [(long_asset.asset_id, long_title)]
