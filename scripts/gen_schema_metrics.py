#!/usr/bin/env python3
"""Regenerates the metrics part of docs/schema/result.schema.json (the per-metric `properties`
entries and `$defs/metricName`) from the metric registry in src/core/metric_registry.cpp.

    python3 scripts/gen_schema_metrics.py        # rewrites the schema in place

The schema test (tests/unit/schema_registry_test.cpp) fails until this has been run after a
registry change."""
import json
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
registry = (root / "src/core/metric_registry.cpp").read_text(encoding="utf-8")
schema_path = root / "docs/schema/result.schema.json"
schema = json.loads(schema_path.read_text(encoding="utf-8"))

# {"name", "unit", D::kDirection, "description" [, G::kGate [, "same_as" or {} [, zero_baseline_limit]]]}
entry = re.compile(r'\{"([a-z0-9_]+)",\s*"([^"]*)",\s*D::k(LowerIsBetter|HigherIsBetter|Neutral),\s*((?:"(?:[^"\\]|\\.)*"\s*)+)'
                   r'(?:,\s*G::k(?:CanBlock|InformOnly)(?:,\s*(?:"[a-z0-9_]*"|\{\})(?:,\s*[0-9.eE+-]+)?)?\s*)?\}')
direction = {"LowerIsBetter": "lower", "HigherIsBetter": "higher", "Neutral": "neutral"}
words = {"lower": "lower is better", "higher": "higher is better", "neutral": "neutral"}
metrics = []
for m in entry.finditer(registry):
    name, unit, d, text = m.group(1), m.group(2), direction[m.group(3)], m.group(4)
    definition = "".join(json.loads(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', text))
    metrics.append((name, unit, d, definition))
metrics.sort()
props = {}
for name, unit, d, definition in metrics:
    props[name] = {
        "description": f"{definition} [{unit}; {words[d]}]",
        "$ref": "#/$defs/metric",
        "properties": {"unit": {"const": unit}, "direction": {"const": d}},
    }
schema["properties"]["metrics"]["properties"] = props
schema["$defs"]["metricName"]["enum"] = [m[0] for m in metrics]
schema_path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
print(f"{schema_path.relative_to(root)}: {len(metrics)} metrics")
