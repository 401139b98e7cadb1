"""Which alert and which dashboard panel watch each metric family Collateral exports.

Every process serves /metrics from prometheus_client's default registry: the families declared in
services/common/metrics.py, and those of the collectors the registry starts with (process_* from
/proc, so on Linux only; python_gc_*, python_info). Each must be in an alert expression
(deploy/prometheus/alerts.yml), in a dashboard panel (deploy/grafana/dashboards/*.json), or
in deploy/prometheus/UNMONITORED.yml with the reason nobody watches it. The table of
docs/operations.md ("Monitoring and alerts") is generated from the same data, so the reader
sees what the checks see:

    .venv/bin/python -m scripts.monitoring_inventory --write    # refresh the table
    .venv/bin/python -m scripts.monitoring_inventory            # print it

tests/unit/deploy/test_monitoring_coverage.py fails when a family is unwatched or the table is stale.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

import yaml
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from services.common import metrics

ROOT = Path(__file__).resolve().parents[1]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
UNMONITORED = ROOT / "deploy" / "prometheus" / "UNMONITORED.yml"
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
DOC = ROOT / "docs" / "operations.md"
TABLE_START = "<!-- metrics:start -->"
TABLE_END = "<!-- metrics:end -->"

# What prometheus_client exports for each type (the _created samples aside: nobody queries them).
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count"),
            "gaugehistogram": ("_bucket", "_gsum", "_gcount"), "info": ("_info",), "stateset": ("",), "unknown": ("",)}


@dataclasses.dataclass(frozen=True)
class Family:
    name: str
    kind: str
    documentation: str

    @property
    def exported(self) -> tuple[str, ...]:
        return tuple(self.name + suffix for suffix in SUFFIXES[self.kind])


@dataclasses.dataclass(frozen=True)
class Watcher:
    """An alert or a dashboard panel, with the PromQL it evaluates."""

    kind: str  # "alert" or "panel"
    name: str
    exprs: tuple[str, ...]


def declared(module: Any = metrics) -> list[Family]:
    """Every metric family declared as a module attribute of `module` (metrics.py declares them all)."""
    found = {}
    for value in vars(module).values():
        if isinstance(value, MetricWrapperBase):
            found[value._name] = Family(value._name, value._type, value._documentation)
    return sorted(found.values(), key=lambda f: f.name)


def collected(registry: CollectorRegistry = REGISTRY, module: Any = metrics) -> list[Family]:
    """The families `registry` exports besides those `module` declares: the default collectors'.

    Read from the registry itself rather than listed here, so a collector that a new
    prometheus_client version (or an imported library) adds shows up as unwatched.
    """
    ours = {f.name for f in declared(module)}
    found = {m.name: Family(m.name, m.type, m.documentation) for m in registry.collect() if m.name not in ours}
    return sorted(found.values(), key=lambda f: f.name)


def families(module: Any = metrics, registry: CollectorRegistry = REGISTRY) -> list[Family]:
    """Every family a Collateral process exports on /metrics."""
    return sorted(declared(module) + collected(registry, module), key=lambda f: f.name)


def alerts(path: Path = ALERTS) -> list[Watcher]:
    rules = [rule for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]]
    return [Watcher("alert", rule["alert"], (rule["expr"],)) for rule in rules if "alert" in rule]


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # collapsed rows hold their panels


def panels(directory: Path = DASHBOARDS) -> list[Watcher]:
    found = []
    for path in sorted(directory.glob("*.json")):
        dashboard = json.loads(path.read_text())
        for panel in _panels(dashboard.get("panels", [])):
            exprs = tuple(t["expr"] for t in panel.get("targets", []) if t.get("expr"))
            if exprs:
                found.append(Watcher("panel", f"{dashboard['title']} / {panel['title']}", exprs))
    return found


def unmonitored(path: Path = UNMONITORED) -> dict[str, str]:
    """Families deliberately watched by nothing, with the reason."""
    return dict(yaml.safe_load(path.read_text()) or {})


def uses(watcher: Watcher, family: Family) -> bool:
    """Whether one of the watcher's expressions selects one of the family's exported series."""
    pattern = re.compile(r"(?<![\w:])(" + "|".join(map(re.escape, family.exported)) + r")(?![\w:])")
    return any(pattern.search(expr) for expr in watcher.exprs)


def coverage(fams: list[Family], watchers: list[Watcher]) -> dict[str, list[Watcher]]:
    return {f.name: [w for w in watchers if uses(w, f)] for f in fams}


def problems(fams: list[Family], watchers: list[Watcher], allowed: dict[str, str]) -> list[str]:
    """Families nobody watches without a reason, and allow-list entries that are wrong or stale."""
    covered = coverage(fams, watchers)
    names = {f.name for f in fams}
    found = [f"{name} is in no alert, no dashboard panel and not in UNMONITORED.yml" for name, ws in covered.items()
             if not ws and name not in allowed]
    found += [f"UNMONITORED.yml lists {name}, which no process exports" for name in allowed if name not in names]
    found += [f"UNMONITORED.yml lists {name} without a reason" for name, why in allowed.items() if not str(why or "").strip()]
    found += [f"UNMONITORED.yml lists {name}, but it is watched by {covered[name][0].name}" for name in allowed
              if covered.get(name)]
    return found


def table(fams: list[Family], watchers: list[Watcher], allowed: dict[str, str]) -> str:
    """The markdown table of docs/operations.md: family -> alerts, panels (or the reason for neither)."""
    covered = coverage(fams, watchers)
    lines = ["| Metric family | Exported as | Alerts | Dashboard panels |", "| --- | --- | --- | --- |"]
    for f in fams:
        alert_names = sorted({w.name for w in covered[f.name] if w.kind == "alert"})
        panel_names = [w.name.split(" / ", 1)[1] for w in covered[f.name] if w.kind == "panel"]
        exported = ", ".join(f"`{n}`" for n in f.exported)
        alert_cell = ", ".join(f"[{a}](runbooks.md#{a.lower()})" for a in alert_names) or "-"
        panel_cell = ", ".join(dict.fromkeys(panel_names)) or (f"not watched: {allowed[f.name]}" if f.name in allowed else "-")
        lines.append(f"| `{f.name}` ({f.kind}) | {exported} | {alert_cell} | {panel_cell} |")
    return "\n".join(lines)


def current_table() -> str:
    return table(families(), alerts() + panels(), unmonitored())


def with_table(doc: str, generated: str) -> str:
    """`doc` with the text between the table markers replaced by `generated`."""
    start, end = doc.index(TABLE_START) + len(TABLE_START), doc.index(TABLE_END)
    return doc[:start] + "\n" + generated + "\n" + doc[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite the table in {DOC.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    generated = current_table()
    if args.write:
        DOC.write_text(with_table(DOC.read_text(), generated))
    else:
        print(generated)
    issues = problems(families(), alerts() + panels(), unmonitored())
    for issue in issues:
        print(f"error: {issue}", file=sys.stderr)
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
