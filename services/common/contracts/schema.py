"""The JSON Schemas in schemas/ compiled into plain Python checks.

The schemas are the published contract. Validating each message with jsonschema cost a
quarter of the feedback router's time, so each schema is compiled once into nested
closures that decide exactly what jsonschema (draft 2020-12, `format` as an annotation)
decides, for the keywords the contracts use: type, const, enum, required, properties,
additionalProperties, maxProperties, items, maxItems, minLength, maxLength, pattern,
minimum, maximum, $ref into $defs, allOf and if/then. A schema using any other keyword
fails to compile, so a contract can never silently lose a rule.
tests/unit/common/test_contracts_schema.py checks the equivalence with jsonschema over
generated valid and mutated documents. Time fields (`format: date-time`) are checked by
each contract's parser with contracts.times, which is stricter than an annotation.

A check returns None or the first violation as (field path, message).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, Callable, Mapping

from services.common.contracts.errors import InvalidEvent

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"

Violation = tuple[str, str]
Check = Callable[[Any, str], "Violation | None"]

_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "format", "$defs", "$comment", "examples"})
_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "string": lambda v: type(v) is str,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "number": lambda v: type(v) in (int, float),
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
}


def _child(path: str, name: Any) -> str:
    return f"{path}.{name}" if path else str(name)


def _kind(value: Any) -> str:
    for name in ("boolean", "integer", "number", "string", "array", "object", "null"):
        if _TYPE_TESTS[name](value):
            return name
    return type(value).__name__


def _equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema applies it: booleans are not numbers, 1 == 1.0."""
    if type(one) is bool or type(two) is bool:
        return type(one) is type(two) and one == two
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two))
    if type(one) in (int, float) and type(two) in (int, float):
        return one == two
    return type(one) is type(two) and one == two


class _Compiler:
    """Compiles one schema document; $refs resolve against its $defs."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, node: Mapping[str, Any] | bool) -> Check:
        if node is True:
            return lambda value, path: None
        if node is False:
            return lambda value, path: (path or "(root)", "is not allowed")
        unknown = set(node) - _ANNOTATIONS - set(_KEYWORDS)
        if unknown:
            raise ValueError(f"schema keyword(s) not supported by the compiler: {sorted(unknown)}")
        checks = [_KEYWORDS[k](self, node) for k in _ORDER if k in node]
        checks = [c for c in checks if c is not None]
        if len(checks) == 1:
            return checks[0]

        def check_all(value: Any, path: str) -> Violation | None:
            for check in checks:
                found = check(value, path)
                if found is not None:
                    return found
            return None

        return check_all

    def ref(self, node: Mapping[str, Any]) -> Check:
        target = node["$ref"]
        if not target.startswith("#/$defs/"):
            raise ValueError(f"only local #/$defs references are supported, not {target!r}")
        name = target[len("#/$defs/"):]
        if name not in self.refs:
            self.refs[name] = self.compile(self.root["$defs"][name])
        return self.refs[name]


def _type(c: _Compiler, node: Mapping[str, Any]) -> Check:
    names = node["type"] if isinstance(node["type"], list) else [node["type"]]
    tests = tuple(_TYPE_TESTS[n] for n in names)
    expected = " or ".join(names)
    if names == ["string"]:
        return lambda v, p: None if type(v) is str else (p, f"expected string, got {_kind(v)}")

    def check(value: Any, path: str) -> Violation | None:
        for test in tests:
            if test(value):
                return None
        return path, f"expected {expected}, got {_kind(value)}"

    return check


def _const(c: _Compiler, node: Mapping[str, Any]) -> Check:
    want = node["const"]
    return lambda v, p: None if _equal(v, want) else (p, f"must be {json.dumps(want)}")


def _enum(c: _Compiler, node: Mapping[str, Any]) -> Check:
    options = node["enum"]
    message = f"must be one of {', '.join(json.dumps(o) for o in options)}"
    if all(type(o) is str for o in options):
        allowed = frozenset(options)
        return lambda v, p: None if type(v) is str and v in allowed else (p, message)
    return lambda v, p: None if any(_equal(v, o) for o in options) else (p, message)


def _required(c: _Compiler, node: Mapping[str, Any]) -> Check:
    names = tuple(node["required"])

    def check(value: Any, path: str) -> Violation | None:
        if type(value) is dict:
            for name in names:
                if name not in value:
                    return _child(path, name), "is required"
        return None

    return check


def _properties(c: _Compiler, node: Mapping[str, Any]) -> Check:
    """properties and additionalProperties together: each key is checked once."""
    known = {name: c.compile(sub) for name, sub in node.get("properties", {}).items()}
    extra = node.get("additionalProperties", True)
    other: Check | None = None if extra is True else c.compile(extra) if extra is not False else None
    forbid_other = extra is False

    def check(value: Any, path: str) -> Violation | None:
        if type(value) is not dict:
            return None
        for name, item in value.items():
            sub = known.get(name)
            if sub is not None:
                found = sub(item, _child(path, name))
            elif forbid_other:
                return _child(path, name), "unknown field"
            elif other is not None:
                found = other(item, _child(path, name))
            else:
                continue
            if found is not None:
                return found
        return None

    return check


def _max_properties(c: _Compiler, node: Mapping[str, Any]) -> Check:
    limit = node["maxProperties"]
    return lambda v, p: (p, f"at most {limit} properties") if type(v) is dict and len(v) > limit else None


def _items(c: _Compiler, node: Mapping[str, Any]) -> Check:
    item_check = c.compile(node["items"])

    def check(value: Any, path: str) -> Violation | None:
        if type(value) is list:
            for i, item in enumerate(value):
                found = item_check(item, _child(path, i))
                if found is not None:
                    return found
        return None

    return check


def _max_items(c: _Compiler, node: Mapping[str, Any]) -> Check:
    limit = node["maxItems"]
    return lambda v, p: (p, f"at most {limit} items") if type(v) is list and len(v) > limit else None


def _min_length(c: _Compiler, node: Mapping[str, Any]) -> Check:
    limit = node["minLength"]
    message = "must not be empty" if limit == 1 else f"at least {limit} characters"
    return lambda v, p: (p, message) if type(v) is str and len(v) < limit else None


def _max_length(c: _Compiler, node: Mapping[str, Any]) -> Check:
    limit = node["maxLength"]
    return lambda v, p: (p, f"at most {limit} characters") if type(v) is str and len(v) > limit else None


def _pattern(c: _Compiler, node: Mapping[str, Any]) -> Check:
    search = re.compile(node["pattern"]).search  # jsonschema searches (an unanchored pattern matches anywhere)
    message = f"must match {node['pattern']}"
    return lambda v, p: (p, message) if type(v) is str and not search(v) else None


def _minimum(c: _Compiler, node: Mapping[str, Any]) -> Check:
    limit = node["minimum"]
    return lambda v, p: (p, f"must be at least {limit}") if type(v) in (int, float) and v < limit else None


def _maximum(c: _Compiler, node: Mapping[str, Any]) -> Check:
    limit = node["maximum"]
    return lambda v, p: (p, f"must be at most {limit}") if type(v) in (int, float) and v > limit else None


def _ref(c: _Compiler, node: Mapping[str, Any]) -> Check:
    name = node["$ref"]
    c.ref(node)  # compiled now: an unknown keyword fails at load time
    refs = c.refs
    key = name[len("#/$defs/"):]
    return lambda v, p: refs[key](v, p)


def _all_of(c: _Compiler, node: Mapping[str, Any]) -> Check:
    parts = [c.compile(sub) for sub in node["allOf"]]

    def check(value: Any, path: str) -> Violation | None:
        for part in parts:
            found = part(value, path)
            if found is not None:
                return found
        return None

    return check


def _if(c: _Compiler, node: Mapping[str, Any]) -> Check | None:
    if "then" not in node:
        return None
    condition, then = c.compile(node["if"]), c.compile(node["then"])
    return lambda v, p: then(v, p) if condition(v, p) is None else None


_KEYWORDS: dict[str, Callable[[_Compiler, Mapping[str, Any]], Check | None]] = {
    "type": _type, "const": _const, "enum": _enum, "required": _required, "properties": _properties,
    "additionalProperties": lambda c, n: None if "properties" in n else _properties(c, n),
    "maxProperties": _max_properties, "items": _items, "maxItems": _max_items, "minLength": _min_length,
    "maxLength": _max_length, "pattern": _pattern, "minimum": _minimum, "maximum": _maximum, "$ref": _ref,
    "allOf": _all_of, "if": _if, "then": lambda c, n: None,
}
# Cheap, whole-document checks first; the first violation found is the one reported.
_ORDER = ("$ref", "type", "const", "enum", "required", "maxProperties", "properties", "additionalProperties",
          "maxItems", "items", "minLength", "maxLength", "pattern", "minimum", "maximum", "allOf", "if", "then")


@functools.lru_cache(maxsize=None)
def load(schema_name: str) -> dict[str, Any]:
    """A schema document from schemas/."""
    return json.loads((SCHEMA_DIR / schema_name).read_text())


@functools.lru_cache(maxsize=None)
def compiled(schema_name: str) -> Check:
    """The compiled check of schemas/<schema_name>."""
    root = load(schema_name)
    return _Compiler(root).compile(root)


def violation(schema_name: str, document: Any) -> Violation | None:
    """The first way `document` breaks the schema, as (field path, message); None when it conforms."""
    return compiled(schema_name)(document, "")


def validate(schema_name: str, document: Any) -> None:
    """Raise InvalidEvent('schema') on the offending field when `document` breaks the schema."""
    found = compiled(schema_name)(document, "")
    if found is not None:
        field, message = found
        raise InvalidEvent.at("schema", field or "(root)", message)
