"""catalog.v1 (schemas/catalog-event.v1.json): an asset's full snapshot after each change.

Consumers keep their own view of the catalog, upserting the snapshot with `version` as the
external version, so a replayed or older event never overwrites a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from services.common.contracts import schema, times

SCHEMA = "catalog-event.v1.json"
MAX_BYTES = 256 * 1024
FIELDS = ("asset_id", "title", "type", "status", "owner", "buying_stages", "industries", "regions",
          "products", "personas", "tags", "language", "created_at", "updated_at", "published_at",
          "expires_at", "version")
TIME_FIELDS = ("created_at", "updated_at", "published_at", "expires_at")


@dataclass(frozen=True)
class CatalogSnapshot:
    """One asset as of `version`; `doc` holds FIELDS present (times canonical) and event_type."""

    asset_id: str
    version: int
    doc: dict[str, Any]

    def projected(self, fields: tuple[str, ...]) -> dict[str, Any]:
        """The snapshot reduced to the fields a consumer keeps."""
        return {k: v for k, v in self.doc.items() if k in fields}


def parse(raw: Mapping[str, Any]) -> CatalogSnapshot:
    """A catalog event as a snapshot; InvalidEvent(`schema`) naming the field otherwise."""
    schema.validate(SCHEMA, raw)
    times.check(raw, ("occurred_at", "received_at"))
    doc = {k: raw[k] for k in FIELDS if raw.get(k) is not None}
    for name in TIME_FIELDS:
        if name in doc:
            doc[name] = times.parse_to_canonical(doc[name], name)[1]
    doc["event_type"] = raw["event_type"]
    return CatalogSnapshot(raw["asset_id"], int(raw["version"]), doc)
