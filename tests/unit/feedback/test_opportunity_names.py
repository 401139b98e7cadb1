"""CRM display names on deal outcomes (contract, proto, CSV) and the picker's pure logic."""

from datetime import datetime, timezone

import pytest

from collateral.v1 import feedback_pb2
from services.common import auth, errors
from services.common.consumer import InvalidEvent
from services.feedback import importer, model, opportunities, server

NOW = datetime(2026, 2, 1, tzinfo=timezone.utc)


def deal(**over):
    d = {"event_id": "o1@1", "schema_version": 1, "occurred_at": "2026-01-21T00:00:00Z", "opportunity_id": "O1",
         "account_id": "A", "owner_rep_id": "r1", "stage": "open", "amount": 100, "currency": "USD",
         "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-21T00:00:00Z"}
    d.update(over)
    return d


def test_names_are_kept_with_their_case_and_blanks_collapsed():
    doc = model.validate_deal(deal(opportunity_name="  Acme   Renewal 2027 ", account_name="ACME Corp."), NOW)
    assert (doc["opportunity_name"], doc["account_name"]) == ("Acme Renewal 2027", "ACME Corp.")


@pytest.mark.parametrize("names", [{}, {"opportunity_name": None, "account_name": None},
                                   {"opportunity_name": "   ", "account_name": ""}])
def test_snapshots_without_names_still_validate(names):
    doc = model.validate_deal(deal(**names), NOW)
    assert doc["opportunity_name"] is None and doc["account_name"] is None


@pytest.mark.parametrize("field", ["opportunity_name", "account_name"])
@pytest.mark.parametrize("value", ["x" * 257, 42, ["Acme"]])
def test_bad_names_are_rejected_naming_the_field(field, value):
    with pytest.raises(InvalidEvent) as bad:
        model.validate_deal(deal(**{field: value}), NOW)
    assert model.field_of(bad.value)[0] == field


def test_a_name_of_256_characters_is_accepted():
    assert model.validate_deal(deal(account_name="é" * 256), NOW)["account_name"] == "é" * 256


def test_proto_outcomes_carry_names_only_when_set():
    def proto(**names):
        o = feedback_pb2.DealOutcome(opportunity_id="O1", account_id="A", owner_rep_id="r1",
                                     stage=feedback_pb2.DEAL_STAGE_OPEN, amount=1, currency="USD", **names)
        o.created_at.FromDatetime(datetime(2026, 1, 1))
        o.updated_at.FromDatetime(datetime(2026, 1, 2))
        return o

    named = server.outcome_dict(proto(opportunity_name="Acme Renewal", account_name="Acme"), NOW)
    assert (named["opportunity_name"], named["account_name"]) == ("Acme Renewal", "Acme")
    model.validate_deal(named, NOW)
    unnamed = server.outcome_dict(proto(), NOW)
    assert "opportunity_name" not in unnamed and "account_name" not in unnamed


def csv_row(**over):
    row = {"opportunity_id": "O1", "account_id": "A", "owner_rep_id": "r1", "stage": "open", "amount": "1,000",
           "currency": "USD", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-21T00:00:00Z"}
    row.update(over)
    return row


def test_csv_name_columns_are_optional():
    required, known = importer.contract_columns()
    assert {"opportunity_name", "account_name"} <= known and not {"opportunity_name", "account_name"} & required
    named = importer.row_to_event(csv_row(opportunity_name="Acme Renewal", account_name="Acme"), NOW)
    assert (named["opportunity_name"], named["account_name"]) == ("Acme Renewal", "Acme")
    empty = importer.row_to_event(csv_row(opportunity_name="", account_name=""), NOW)
    assert "opportunity_name" not in empty and "account_name" not in empty
    with pytest.raises(importer.RowErrors) as bad:
        importer.row_to_event(csv_row(account_name="x" * 257), NOW)
    assert [f for f, _ in bad.value.problems] == ["account_name"]


# ---- the picker's search -----------------------------------------------------------------------

REP = auth.Principal("rep-1@demo.local", auth.Role.REP)
ADMIN = auth.Principal("admin@demo.local", auth.Role.ADMIN)


def test_reps_are_scoped_to_themselves_and_admins_to_whom_they_name():
    assert opportunities.scope_of(REP, "") == opportunities.Scope("rep-1@demo.local")
    assert opportunities.scope_of(REP, "rep-1@demo.local") == opportunities.Scope("rep-1@demo.local")
    with pytest.raises(errors.PermissionDenied):
        opportunities.scope_of(REP, "rep-2@demo.local")
    with pytest.raises(errors.PermissionDenied):
        opportunities.scope_of(auth.Principal("m@demo.local", auth.Role.MARKETER), "rep-2@demo.local")
    assert opportunities.scope_of(ADMIN, "rep-2@demo.local") == opportunities.Scope("rep-2@demo.local")
    assert opportunities.scope_of(ADMIN, "") == opportunities.Scope(None)


def test_words_are_lower_case_unique_and_bounded():
    assert opportunities.name_words("Acme  RENEWAL — acme, 2027") == ["acme", "renewal", "2027"]
    assert len(opportunities.name_words(" ".join(f"w{i}" for i in range(20)))) == opportunities.MAX_QUERY_WORDS


def test_every_word_must_prefix_a_name_word_or_the_text_is_an_id():
    query = opportunities.search_query(opportunities.Scope("r1"), " Glob ind ", ("open",))["bool"]
    assert {"term": {"owner_rep_id": "r1"}} in query["filter"] and {"terms": {"stage": ["open"]}} in query["filter"]
    assert query["minimum_should_match"] == 1
    by_name, by_opp, by_account = query["should"]
    assert by_name == {"bool": {"filter": [{"prefix": {"names": "glob"}}, {"prefix": {"names": "ind"}}]}}
    assert by_opp == {"term": {"opportunity_id": "Glob ind"}} and by_account == {"term": {"account_id": "Glob ind"}}


def test_no_text_lists_everything_in_scope_and_admins_see_every_rep():
    query = opportunities.search_query(opportunities.Scope(None), "  ", ("open", "won"))["bool"]
    assert query == {"filter": [{"terms": {"stage": ["open", "won"]}}]}


@pytest.mark.parametrize("cursor", [[1, "o"], [0, "x" * 128], [opportunities.MIN_MS, "o"], [opportunities.MAX_MS, "o"]])
def test_page_cursors_within_stored_dates_are_accepted(cursor):
    assert opportunities.cursor_of(cursor) == cursor


@pytest.mark.parametrize("cursor", [{"o": 1}, [1], [1, "o", 2], ["1", "o"], [1.5, "o"], [True, "o"], [1, ""],
                                    [1, "x" * 129], [opportunities.MAX_MS + 1, "o"], [-(2**63), "o"]])
def test_malformed_page_cursors_are_invalid_arguments(cursor):
    with pytest.raises(errors.InvalidArgument):
        opportunities.cursor_of(cursor)


def test_demo_accounts_have_distinct_names_and_opportunities_read_like_crm_names():
    from scripts import demo_data

    names = [demo_data.account_name(i) for i in range(120)]
    assert len(set(names)) == 120 and names[0] == "Northwind Health"
    assert demo_data.opportunity_name(5, datetime(2026, 3, 1)) == "Platform expansion FY27"
