"""Every topic's contract in one place: typed parsing, one error type, one time module.

- `errors.InvalidEvent`: the one error (reason, field path, message) every contract raises;
- `jsonbytes`: Kafka bytes to a JSON object, every way they can be unusable named;
- `schema`: the JSON Schemas in schemas/ (the published contract) compiled into fast checks
  that decide exactly what the schemas decide;
- `times`: strict RFC 3339 in, aware UTC datetimes and epoch seconds out, one stored form;
- one module per topic: `usage_event` (usage.v1), `classified` (usage.classified.v1),
  `deal` (deals.v1), `catalog` (catalog.v1), `search` (search.v1), `signal` (signals.v1).
"""

from services.common.contracts.errors import InvalidEvent

__all__ = ["InvalidEvent"]
