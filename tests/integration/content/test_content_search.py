"""Search through the gRPC API: document text, filters and facets, visibility, ranking, paging, events."""

from __future__ import annotations

import json
import time
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2

from collateral.v1 import common_pb2, content_pb2
from services.common import kafka_io, topics
from services.content import store

from tests.integration.content.content_helpers import DOCX, PPTX, code_of, make_docx, make_pptx, read_raw, read_topic

pytestmark = pytest.mark.integration


def search(stub, metadata, query="", **kw) -> content_pb2.SearchAssetsResponse:
    return stub.SearchAssets(content_pb2.SearchAssetsRequest(query=query, **kw), metadata=metadata)


def ids(response) -> list[str]:
    return [h.asset.asset_id for h in response.hits]


def test_finds_words_inside_pdf_pptx_and_docx(stub, call_as, new_asset, unique):
    m, rep = call_as("marketer"), call_as("rep")
    pdf = new_asset("Quarterly overview", text=f"the {unique}pdf benchmark inside the body")
    for content_type, payload, word in ((PPTX, make_pptx(f"slide about {unique}ppt"), f"{unique}ppt"),
                                        (DOCX, make_docx(f"memo about {unique}doc"), f"{unique}doc")):
        created = stub.CreateAsset(content_pb2.CreateAssetRequest(
            asset=content_pb2.Asset(title=f"Office {word}x", type=content_pb2.ASSET_TYPE_ONE_PAGER),
            file_content=payload, file_name="f", content_type=content_type), metadata=m).asset
        stub.PublishAsset(content_pb2.PublishAssetRequest(asset_id=created.asset_id), metadata=m)
        assert ids(search(stub, rep, word))[0] == created.asset_id  # fuzzy neighbours may follow
    result = search(stub, rep, f"{unique}pdf")
    assert ids(result)[0] == pdf.asset_id
    assert any(f"<em>{unique}pdf</em>" in h for h in result.hits[0].body_highlights)
    # typo tolerance: one letter changed
    typo = f"{unique}pdf"[:-1] + "x"
    assert pdf.asset_id in ids(search(stub, rep, typo))


def test_title_matches_rank_first_and_are_highlighted(stub, call_as, new_asset, unique):
    body_only = new_asset("Something else", text=f"mentions {unique} in passing", tags=[unique + "t"])
    in_title = new_asset(f"All about {unique}", text="nothing here")
    result = search(stub, call_as("rep"), unique)
    assert ids(result)[:2] == [in_title.asset_id, body_only.asset_id]
    assert result.hits[0].title_highlights == [f"All about <em>{unique}</em>"]


def test_filters_and_facet_counts_agree_with_the_data(stub, call_as, new_asset, unique):
    rep = call_as("rep")
    new_asset("F1", tags=[unique], type=content_pb2.ASSET_TYPE_DECK, industries=["healthcare"], regions=["emea"],
              buying_stages=[common_pb2.BUYING_STAGE_AWARENESS])
    new_asset("F2", tags=[unique], type=content_pb2.ASSET_TYPE_DECK, industries=["retail"], regions=["emea"],
              buying_stages=[common_pb2.BUYING_STAGE_DECISION])
    new_asset("F3", tags=[unique], type=content_pb2.ASSET_TYPE_CASE_STUDY, industries=["healthcare"],
              regions=["amer"], buying_stages=[common_pb2.BUYING_STAGE_DECISION])
    new_asset("F4 draft", publish=False, tags=[unique], type=content_pb2.ASSET_TYPE_DECK)
    base = content_pb2.SearchFilters(tags=[unique])
    everything = search(stub, rep, filters=base)
    assert everything.total_size == 3
    facets = {f.field: {v.value: v.count for v in f.values} for f in everything.facets}
    assert facets["type"] == {"deck": 2, "case_study": 1}
    assert facets["industry"] == {"healthcare": 2, "retail": 1}
    assert facets["buying_stage"] == {"decision": 2, "awareness": 1}
    assert "status" not in facets  # curators only
    decks = search(stub, rep, filters=content_pb2.SearchFilters(tags=[unique], types=[content_pb2.ASSET_TYPE_DECK]))
    assert decks.total_size == 2
    facets = {f.field: {v.value: v.count for v in f.values} for f in decks.facets}
    assert facets["type"] == {"deck": 2, "case_study": 1}  # a facet ignores its own filter
    assert facets["industry"] == {"healthcare": 1, "retail": 1}
    both = search(stub, rep, filters=content_pb2.SearchFilters(
        tags=[unique], types=[content_pb2.ASSET_TYPE_DECK], industries=["HEALTHCARE"]))
    assert [h.asset.title for h in both.hits] == ["F1"]
    curator = search(stub, call_as("marketer"), filters=base)
    assert curator.total_size == 4
    assert {v.value: v.count for f in curator.facets if f.field == "status" for v in f.values} == \
        {"published": 3, "draft": 1}


def test_retired_and_expired_disappear_for_reps_only(stub, call_as, new_asset, unique):
    m, rep = call_as("marketer"), call_as("rep")
    retired = new_asset("To retire", tags=[unique])
    expiring = new_asset("To expire", tags=[unique])
    live = new_asset("Stays", tags=[unique])
    stub.RetireAsset(content_pb2.RetireAssetRequest(asset_id=retired.asset_id), metadata=m)
    past = timestamp_pb2.Timestamp(seconds=int(time.time()) - 60)
    stub.UpdateAsset(content_pb2.UpdateAssetRequest(
        asset=content_pb2.Asset(asset_id=expiring.asset_id, expires_at=past),
        update_mask=field_mask_pb2.FieldMask(paths=["expires_at"]), expected_version=expiring.version), metadata=m)
    filters = content_pb2.SearchFilters(tags=[unique])
    assert ids(search(stub, rep, filters=filters)) == [live.asset_id]
    code, _ = code_of(lambda: stub.GetAsset(content_pb2.GetAssetRequest(asset_id=expiring.asset_id), metadata=rep))
    assert code == grpc.StatusCode.NOT_FOUND
    assert set(ids(search(stub, m, filters=content_pb2.SearchFilters(tags=[unique], include_expired=True)))) == \
        {retired.asset_id, expiring.asset_id, live.asset_id}
    code, _ = code_of(lambda: search(stub, rep, filters=content_pb2.SearchFilters(include_expired=True)))
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_pagination_with_signed_search_after_tokens(stub, call_as, new_asset, unique):
    rep = call_as("rep")
    created = {new_asset(f"Page {i}", tags=[unique]).asset_id for i in range(5)}
    for sort in (content_pb2.SEARCH_SORT_RELEVANCE, content_pb2.SEARCH_SORT_NEWEST, content_pb2.SEARCH_SORT_MOST_USED):
        seen: list[str] = []
        token = ""
        while True:
            page = search(stub, rep, filters=content_pb2.SearchFilters(tags=[unique]), page_size=2, page_token=token,
                          sort=sort)
            seen += ids(page)
            token = page.next_page_token
            if not token:
                break
        assert sorted(seen) == sorted(created) and len(seen) == 5
    first = search(stub, rep, filters=content_pb2.SearchFilters(tags=[unique]), page_size=2)
    code, violations = code_of(lambda: search(stub, rep, query="other", filters=content_pb2.SearchFilters(tags=[unique]),
                                              page_size=2, page_token=first.next_page_token))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and violations[0][0] == "page_token"
    code, violations = code_of(lambda: search(stub, rep, page_token=first.next_page_token[:-3] + "abc"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and violations[0][0] == "page_token"


def test_misspelt_queries_fall_back_to_typo_tolerance_and_page_consistently(stub, call_as, new_asset, unique):
    """Exact matching first; a misspelt word (no exact match) runs typo-tolerant, and its
    later pages stay typo-tolerant (the page token carries the choice)."""
    rep = call_as("rep")
    word = f"{unique}zebra"
    created = {new_asset(f"All about {word} {i}").asset_id for i in range(3)}
    typo = word[:-1] + "x"
    seen: list[str] = []
    token = ""
    while True:
        page = search(stub, rep, typo, page_size=2, page_token=token)
        assert page.total_size == 3
        seen += ids(page)
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(created)
    exact = search(stub, rep, word)
    assert set(ids(exact)) == created and exact.total_size == 3


def test_enough_exact_matches_leave_typo_neighbours_out(stub, call_as, new_asset, unique):
    """With at least FUZZY_FALLBACK_BELOW exact matches the query does not expand typo
    variants (the costly part of a search), so a near-miss word is not mixed in."""
    rep = call_as("rep")
    word = f"{unique}heron"
    exact = {new_asset(f"Notes on {word} {i}").asset_id for i in range(store.FUZZY_FALLBACK_BELOW)}
    neighbour = new_asset(f"Notes on {word[:-1]}x").asset_id
    result = search(stub, rep, word, page_size=20)
    assert set(ids(result)) == exact and result.total_size == len(exact)
    assert neighbour in ids(search(stub, rep, word[:-1] + "x"))  # a typo in the query still finds it


def test_search_events_on_kafka(stub, call_as, new_asset, unique, stack):
    asset = new_asset(f"Evented search {unique}")
    found = search(stub, call_as("rep", "rep-search"), unique)
    missing = search(stub, call_as("rep", "rep-search"), f"nothing{unique}", filters=content_pb2.SearchFilters(
        industries=["mining"]))
    events = read_topic(stack, topics.SEARCHES.name(stack), lambda e: unique in e["query"])
    by_id = {e["search_id"]: e for e in events}
    assert by_id[found.search_id]["shown_asset_ids"] == [asset.asset_id]
    assert by_id[found.search_id]["result_count"] == 1 and by_id[found.search_id]["rep_id"] == "rep-search"
    zero = by_id[missing.search_id]
    assert zero["result_count"] == 0 and zero["filters"] == {"industry": ["mining"]}
    from services.common import events as contracts

    for event in events:
        contracts.validate("search-event.v1.json", event)


def test_suggest_completes_titles_with_typos_and_hides_drafts(stub, call_as, new_asset, unique):
    rep = call_as("rep")
    shown = new_asset(f"Zebracorn{unique} pricing guide")
    new_asset(f"Zebracorn{unique} draft plan", publish=False)
    texts = [s.text for s in stub.Suggest(content_pb2.SuggestRequest(prefix=f"zebracorn{unique}"), metadata=rep)
             .suggestions]
    assert texts == [f"Zebracorn{unique} pricing guide"]
    typo = stub.Suggest(content_pb2.SuggestRequest(prefix=f"zebracprn{unique}"[:12]), metadata=rep).suggestions
    assert shown.asset_id in [s.asset_id for s in typo]
    inner = stub.Suggest(content_pb2.SuggestRequest(prefix="pricing gui"), metadata=rep).suggestions
    assert shown.asset_id in [s.asset_id for s in inner]
    curator = stub.Suggest(content_pb2.SuggestRequest(prefix=f"zebracorn{unique}"), metadata=call_as("admin"))
    assert len(curator.suggestions) == 2


def test_a_signal_event_changes_ranking(stub, call_as, new_asset, unique, stack, signals_loop):
    rep = call_as("rep")
    a = new_asset(f"Signal {unique} alpha", text="same words")
    b = new_asset(f"Signal {unique} bravo", text="same words")
    before = ids(search(stub, rep, unique))
    loser, winner = before[0], before[1]  # equal text: push the second one up
    now = time.time()
    producer = kafka_io.Producer(stack, "test-signals")

    def signal(asset_id: str, computed_at: float, **wins) -> kafka_io.Record:
        event = {"event_id": uuid.uuid4().hex, "schema_version": 1,
                 "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(computed_at)),
                 "computed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(computed_at)),
                 "asset_id": asset_id, "source": "feedback", "wins": wins}
        return kafka_io.Record(topics.SIGNALS.name(stack), asset_id, json.dumps(event).encode())

    try:
        producer.send_and_wait([
            signal(winner, now - 10, deals_closed=40, won=30, win_rate=0.75, win_rate_lower=0.6),
            signal(winner, now - 3600, deals_closed=1, won=0, win_rate=0.0, win_rate_lower=0.0),  # older: ignored
            signal("no-such-asset", now, deals_closed=1, won=1, win_rate=1.0, win_rate_lower=0.2),
        ])
    finally:
        producer.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ids(search(stub, rep, unique))[0] == winner:
            break
        time.sleep(0.5)
    assert ids(search(stub, rep, unique)) == [winner, loser]
    got = stub.GetAsset(content_pb2.GetAssetRequest(asset_id=winner), metadata=rep).asset
    assert got.signals.win_rate_lower == pytest.approx(0.6) and got.signals.deals_closed == 40
    by_win_rate = search(stub, rep, unique, sort=content_pb2.SEARCH_SORT_BEST_WIN_RATE)
    assert ids(by_win_rate)[0] == winner
    assert {a.asset_id, b.asset_id} == {winner, loser}


def test_bad_signals_are_dead_lettered_with_a_reason(stack, signals_loop, unique):
    producer = kafka_io.Producer(stack, "test-signals-bad")
    bad_schema = {"event_id": unique, "schema_version": 1, "occurred_at": "2026-01-01T00:00:00Z",
                  "asset_id": unique, "source": "feedback", "computed_at": "2026-01-01T00:00:00Z",
                  "wins": {"deals_closed": 3, "win_rate_lower": 7}}
    try:
        producer.send_and_wait([
            kafka_io.Record(topics.SIGNALS.name(stack), unique, f"not json {unique}".encode()),
            kafka_io.Record(topics.SIGNALS.name(stack), unique, json.dumps(bad_schema).encode()),
        ])
    finally:
        producer.close()
    dead = read_raw(stack, topics.CONTENT_DLQ.name(stack), lambda r: r.key == unique.encode())
    deadline = time.monotonic() + 20
    while len(dead) < 2 and time.monotonic() < deadline:
        dead = read_raw(stack, topics.CONTENT_DLQ.name(stack), lambda r: r.key == unique.encode(), timeout_s=2)
    reasons = sorted(dict(r.headers)["dlq.reason"].decode() for r in dead)
    assert reasons == ["bad_json", "schema"]
    assert any(r.value == f"not json {unique}".encode() for r in dead)  # original bytes kept


def test_an_asset_pinned_for_a_stage_ranks_first_when_the_search_filters_by_it(stub, call_as, new_asset, unique):
    rep, decision = call_as("rep"), common_pb2.BUYING_STAGE_DECISION
    stages = [common_pb2.BUYING_STAGE_AWARENESS, decision]
    strong = new_asset(f"{unique} {unique} guide", text=f"{unique} everywhere {unique}", buying_stages=stages)
    weak = new_asset("Barely related", text=f"mentions {unique} once", buying_stages=stages)
    pinned = stub.UpdateAsset(content_pb2.UpdateAssetRequest(
        asset=content_pb2.Asset(asset_id=weak.asset_id, pinned_stages=[decision]),
        update_mask=field_mask_pb2.FieldMask(paths=["pinned_stages"]), expected_version=weak.version),
        metadata=call_as("marketer")).asset
    assert list(pinned.pinned_stages) == [decision]

    def ranked(*filter_stages):
        return ids(search(stub, rep, unique, filters=content_pb2.SearchFilters(buying_stages=filter_stages)))

    assert ranked(decision) == [weak.asset_id, strong.asset_id]  # pinned for the filtered stage: first
    assert ranked() == [strong.asset_id, weak.asset_id]  # no stage filter: text relevance alone
    assert ranked(common_pb2.BUYING_STAGE_AWARENESS) == [strong.asset_id, weak.asset_id]  # pinned elsewhere only
    unpinned = stub.UpdateAsset(content_pb2.UpdateAssetRequest(
        asset=content_pb2.Asset(asset_id=weak.asset_id),
        update_mask=field_mask_pb2.FieldMask(paths=["pinned_stages"]), expected_version=pinned.version),
        metadata=call_as("marketer")).asset
    assert not unpinned.pinned_stages
    assert ranked(decision) == [strong.asset_id, weak.asset_id]
