"""The compiled schema checks decide exactly what jsonschema decides, on every contract.

Documents are generated from each schema (valid ones) and then mutated (a field dropped,
an unknown one added, a value replaced by any JSON value, a string stretched to its
limits), so both sides of every keyword are exercised. `format` is an annotation for
both (times are checked by the contracts' time parsing, tested separately).
"""

from __future__ import annotations

import string
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from services.common.contracts import schema

SCHEMAS = sorted(p.name for p in schema.SCHEMA_DIR.glob("*.json"))

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
                         st.sampled_from([0, 1, 1.0, -1, 0.5, 1e13, 1e13 + 1, 86400, 86400.5, 100000, 100001, "", "1"]))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                 st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=8)


TWINS: dict[Any, list[Any]] = {
    "int": [True, False, 1.0, 1.5, "1", None, [1]],
    "float": [True, 1, int(1e13) + 1, "0.5", None, float("nan")],
    "bool": [1, 0, 1.0, "true", None],
    "str": [1, True, None, ["x"], {"x": "y"}, ""],
    "list": [{}, "x", None, [None], [1]],
    "dict": [[], "x", None, {"": None}, {"k": 1}],
}


def _twin_key(value: Any) -> str:
    return type(value).__name__ if type(value).__name__ in TWINS else "other"


def reference(name: str) -> jsonschema.protocols.Validator:
    document = schema.load(name)
    return jsonschema.validators.validator_for(document)(document)  # no format checker: format is an annotation


def resolve(root: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = root["$defs"][node["$ref"].split("/")[-1]]
    return node


def value_for(root: dict[str, Any], node: Any) -> st.SearchStrategy[Any]:
    """A strategy for values that (mostly) satisfy `node`; mutations cover the rest."""
    node = resolve(root, node)
    if node is True or not isinstance(node, dict):
        return JSON_VALUES
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kinds = node.get("type", "string")
    kind = kinds[0] if isinstance(kinds, list) else kinds
    if kind == "string":
        if "pattern" in node:
            return st.from_regex(node["pattern"], fullmatch=True).filter(lambda s: len(s) <= node.get("maxLength", 10**9)
                                                                          and len(s) >= node.get("minLength", 0))
        if node.get("format") == "date-time":
            return st.sampled_from(["2026-11-23T12:00:00Z", "2026-11-23T12:00:00.123+01:00"])
        return st.text(string.ascii_letters, min_size=node.get("minLength", 0), max_size=min(node.get("maxLength", 12), 12))
    if kind == "integer":
        return st.integers(node.get("minimum", -10), int(min(node.get("maximum", 10**6), 10**6)))
    if kind == "number":
        return st.floats(node.get("minimum", -10.0), min(node.get("maximum", 1e6), 1e13))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(value_for(root, node.get("items", True)), max_size=min(node.get("maxItems", 3), 3))
    if kind == "object":
        return object_for(root, node)
    return JSON_VALUES


def object_for(root: dict[str, Any], node: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    props = node.get("properties", {})
    required = set(node.get("required", ()))
    for part in node.get("allOf", ()):  # if/then branches may require more: include them sometimes
        required |= set(part.get("then", {}).get("required", ()))
    optional = {k: value_for(root, v) for k, v in props.items() if k not in required}
    extra = node.get("additionalProperties", True)
    extras = st.just({}) if extra is False else st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=6),
                                                                value_for(root, extra), max_size=2)
    return st.builds(lambda req, opt, more: {**more, **req, **opt},
                     st.fixed_dictionaries({k: value_for(root, props.get(k, True)) for k in required}),
                     st.fixed_dictionaries({}, optional=optional), extras)


@st.composite
def mutated(draw: st.DrawFn, name: str) -> Any:
    root = schema.load(name)
    document = draw(object_for(root, root))
    for _ in range(draw(st.integers(0, 2))):
        action = draw(st.sampled_from(["drop", "add", "replace", "stretch", "nest", "confuse"]))
        keys = sorted(document)
        if action == "drop" and keys:
            document.pop(draw(st.sampled_from(keys)))
        elif action == "add":
            document[draw(st.text(max_size=10))] = draw(JSON_VALUES)
        elif action == "replace" and keys:
            document[draw(st.sampled_from(keys))] = draw(JSON_VALUES)
        elif action == "stretch" and keys:
            key = draw(st.sampled_from(keys))
            node = resolve(root, root.get("properties", {}).get(key, {}))
            limit = node.get("maxLength", 0) if isinstance(node, dict) else 0
            document[key] = "x" * (limit + draw(st.sampled_from([0, 1])))
        elif action == "confuse" and keys:  # a look-alike of another JSON type: True for 1, 1.0 for 1, "1" ...
            key = draw(st.sampled_from(keys))
            document[key] = draw(st.sampled_from(TWINS.get(_twin_key(document[key]), [None, True, "", [], {}])))
        elif action == "nest" and keys:
            key = draw(st.sampled_from(keys))
            if isinstance(document[key], dict):
                document[key][draw(st.text(max_size=6))] = draw(JSON_VALUES)
            elif isinstance(document[key], list):
                document[key].append(draw(JSON_VALUES))
    return document


@pytest.mark.parametrize("name", SCHEMAS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_compiled_schema_decides_like_jsonschema(name: str, data: st.DataObject) -> None:
    document = data.draw(mutated(name))
    errors = list(reference(name).iter_errors(document))
    found = schema.violation(name, document)
    assert (found is None) == (not errors), (document, found, [e.message for e in errors])
    assert schema.conforms(name)(document) == (not errors)  # the generated fast path decides alone too
    if found is not None:  # the field it names is one jsonschema blames too (or the missing/unknown key under it)
        blamed = {".".join(str(p) for p in e.absolute_path) for e in errors}
        field = found[0]
        assert field in blamed or field.rpartition(".")[0] in blamed or "" in blamed, (field, blamed)


@pytest.mark.parametrize("name", SCHEMAS)
def test_generated_documents_are_mostly_valid(name: str) -> None:
    """The generator must produce valid documents, or the equivalence test would only see rejections."""
    root = schema.load(name)
    valid = 0

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(object_for(root, root))
    def count(document: dict[str, Any]) -> None:
        nonlocal valid
        valid += reference(name).is_valid(document)

    count()
    assert valid >= 10


def test_unsupported_keywords_fail_to_compile() -> None:
    with pytest.raises(ValueError, match="patternProperties"):
        schema._Compiler({}).compile({"type": "object", "patternProperties": {"^x": {}}})


@pytest.mark.parametrize("document,field", [
    ({}, "event_id"),
    ({"event_id": "e1", "schema_version": 1, "occurred_at": "2026-11-23T12:00:00Z", "type": "view", "asset_id": "a",
      "rep_id": "r", "colour": "red"}, "colour"),
    ({"event_id": "e1", "schema_version": 1, "occurred_at": "2026-11-23T12:00:00Z", "type": "view", "asset_id": "a",
      "rep_id": "r", "headers": {"from": 1}}, "headers.from"),
])
def test_violations_name_the_field(document: dict[str, Any], field: str) -> None:
    found = schema.violation("usage-event.v1.json", document)
    assert found is not None and found[0] == field


@pytest.mark.parametrize("name", SCHEMAS)
@settings(max_examples=10, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no slow shrinking
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_every_field_against_every_look_alike_value(name: str, data: st.DataObject) -> None:
    """A table from the schema: each field of a valid document replaced by each type look-alike and edge value."""
    root = schema.load(name)
    base = data.draw(object_for(root, root).filter(reference(name).is_valid))
    for key in sorted(set(base) | set(root.get("properties", {}))):
        for twin in [v for values in TWINS.values() for v in values] + ["x" * 129, -1, 0, 2, 1e13 + 1]:
            document = dict(base, **{key: twin})
            assert (schema.violation(name, document) is None) == reference(name).is_valid(document), (key, twin)
            assert schema.conforms(name)(document) == reference(name).is_valid(document), (key, twin)
