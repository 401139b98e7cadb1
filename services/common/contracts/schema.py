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

A check returns None or the first violation as (field path, message). `validate` first
asks a generated yes/no function (`conforms`, see `_Generator`), which decides a conforming
document at a fraction of the closures' cost; the closures run only to name a violation.
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


class _Generator:
    """Writes one schema as Python source: a function per node answering only "valid?".

    Nearly every message conforms, and for those the closures' work of carrying field paths
    and calling a closure per keyword is wasted: the generated functions test each node's
    keywords in one expression, with the same conditions as the closures, and build no
    path. Only a document they refuse goes through the closures, which find the field and
    the message; a refusal they got wrong is therefore only slower, never a wrong verdict.
    """

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"_equal": _equal}
        self.refs: dict[str, str] = {}
        self.tables: list[dict[str, Any]] = []  # property name -> function name, resolved after exec
        self.count = 0

    def constant(self, value: Any) -> str:
        name = f"_k{len(self.names)}"
        self.names[name] = value
        return name

    def function(self, node: Mapping[str, Any] | bool) -> str:
        """The name of a generated function `f(x) -> bool` for `node`.

        Its keywords' failure conditions are or-ed into as few statements as possible (the
        properties loop splits them); once `type` has passed, the other keywords' own
        type guards are left out.
        """
        self.count += 1
        name = f"_n{self.count}"
        if node is True or node is False:
            self.lines += [f"def {name}(x):", f"    return {node}", ""]
            return name
        single = node.get("type") if isinstance(node.get("type"), str) else None
        body: list[str] = []
        pending: list[str] = []
        for keyword in _ORDER:
            if keyword not in node:
                continue
            if keyword == "properties" or (keyword == "additionalProperties" and "properties" not in node):
                if pending:
                    body.append(f"    if {' or '.join(pending)}: return False")
                    pending = []
                body += self.properties(node)
            else:
                pending += [f"({c})" for c in self.failures(keyword, node, single)]
        body.append(f"    return not ({' or '.join(pending)})" if pending else "    return True")
        self.lines += [f"def {name}(x):", *body, ""]
        return name

    def ref(self, target: str) -> str:
        key = target[len("#/$defs/"):]
        if key not in self.refs:
            self.refs[key] = f"_r_{len(self.refs)}"
            self.lines += [f"def {self.refs[key]}(x):", f"    return {self.function(self.root['$defs'][key])}(x)", ""]
        return self.refs[key]

    def failures(self, keyword: str, node: Mapping[str, Any], single: str | None) -> list[str]:
        """Conditions (on `x`) under which `keyword` fails, as the closures decide it."""
        def guard(kind: str) -> str:
            return "" if single == kind or (kind == "number" and single == "integer") else f"{_TYPE_SOURCE[kind]} and "

        if keyword == "$ref":
            return [f"not {self.ref(node['$ref'])}(x)"]
        if keyword == "type":
            names = node["type"] if isinstance(node["type"], list) else [node["type"]]
            return ["not (" + " or ".join(_TYPE_SOURCE[n] for n in names) + ")"]
        if keyword == "const":
            want = node["const"]
            if type(want) is str:
                return [f"x != {self.constant(want)}"]  # only a string equals a string
            if type(want) in (int, float):
                return [f"not (type(x) in (int, float) and x == {self.constant(want)})"]  # 1 == 1.0, never True
            return [f"not _equal(x, {self.constant(want)})"]
        if keyword == "enum":
            options = node["enum"]
            if all(type(o) is str for o in options):
                return [f"not ({guard('string')}x in {self.constant(frozenset(options))})"]
            return [f"not any(_equal(x, o) for o in {self.constant(list(options))})"]
        if keyword == "required":
            names = " and ".join(f"{json.dumps(n)} in x" for n in node["required"])
            return [f"{guard('object')}not ({names})"]
        if keyword in _LIMITS:
            kind, test = _LIMITS[keyword]
            return [f"{guard(kind)}{test} {self.constant(node[keyword])}"]
        if keyword == "items":
            item = self.function(node["items"])
            return [f"{guard('array')}not all({item}(i) for i in x)"]
        if keyword == "pattern":
            return [f"{guard('string')}not {self.constant(re.compile(node['pattern']).search)}(x)"]
        if keyword == "allOf":
            return [f"not {self.function(sub)}(x)" for sub in node["allOf"]]
        if keyword == "if" and "then" in node:
            condition, then = self.function(node["if"]), self.function(node["then"])
            return [f"{condition}(x) and not {then}(x)"]
        return []  # additionalProperties beside properties, then, if without then: handled or no-ops

    def properties(self, node: Mapping[str, Any]) -> list[str]:
        """The loop over a dict's keys: each known one checked by its function, the others by additionalProperties."""
        table = {name: self.function(sub) for name, sub in node.get("properties", {}).items()}
        self.tables.append(table)
        known = self.constant(table)
        extra = node.get("additionalProperties", True)
        if extra is True:  # only the known keys matter: look them up instead of walking the document
            return ["    if type(x) is dict:",
                    f"        for k, f in {known}.items():",
                    "            if k in x and not f(x[k]): return False"]
        if extra is False:
            other = "return False"
        else:
            other = f"if not {self.function(extra)}(y): return False"
        return ["    if type(x) is dict:",
                "        for k, y in x.items():",
                f"            f = {known}.get(k)",
                "            if f is None:",
                f"                {other}",
                "            elif not f(y): return False"]

    def build(self) -> Callable[[Any], bool]:
        entry = self.function(self.root)
        namespace = dict(self.names)
        exec("\n".join(self.lines), namespace)  # noqa: S102 - source generated above from our own schemas
        for table in self.tables:  # they hold function names until the functions exist
            for key, function_name in table.items():
                table[key] = namespace[function_name]
        return namespace[entry]


# Keywords that bound a size or a value: (the type they apply to, the failing comparison).
_LIMITS = {"maxProperties": ("object", "len(x) >"), "maxItems": ("array", "len(x) >"),
           "minLength": ("string", "len(x) <"), "maxLength": ("string", "len(x) >"),
           "minimum": ("number", "x <"), "maximum": ("number", "x >")}
_TYPE_SOURCE = {
    "object": "type(x) is dict", "array": "type(x) is list", "string": "type(x) is str",
    "boolean": "type(x) is bool", "null": "x is None", "number": "type(x) in (int, float)",
    "integer": "(type(x) is int or (type(x) is float and x.is_integer()))",
}


@functools.lru_cache(maxsize=None)
def compiled(schema_name: str) -> Check:
    """The compiled check of schemas/<schema_name>."""
    root = load(schema_name)
    return _Compiler(root).compile(root)


@functools.lru_cache(maxsize=None)
def conforms(schema_name: str) -> Callable[[Any], bool]:
    """The generated yes/no check of schemas/<schema_name> (compiled first: unknown keywords fail there)."""
    compiled(schema_name)
    return _Generator(load(schema_name)).build()


def violation(schema_name: str, document: Any) -> Violation | None:
    """The first way `document` breaks the schema, as (field path, message); None when it conforms."""
    if conforms(schema_name)(document):
        return None
    return compiled(schema_name)(document, "")


def validate(schema_name: str, document: Any) -> None:
    """Raise InvalidEvent('schema') on the offending field when `document` breaks the schema."""
    if conforms(schema_name)(document):
        return
    found = compiled(schema_name)(document, "")
    if found is not None:
        field, message = found
        raise InvalidEvent.at("schema", field or "(root)", message)
