"""The one error every contract raises: a message that can never be processed.

A parse step raises it and the consumer dead-letters the message (it is never retried);
the gRPC ingest paths turn it into INVALID_ARGUMENT naming the field. `reason` is a short
machine-readable code (empty, too_large, bad_encoding, too_deep, bad_json, bad_number,
schema, unknown_type, future_event_time, ...) used as a metric label and the `dlq.reason`
header; `field` is the offending field's path (`headers.from`, `shown_asset_ids.3`) when
one is to blame, and `detail` is "field: message" for humans and the `dlq.detail` header.
"""

from __future__ import annotations


class InvalidEvent(Exception):
    """A contract violation: reason code, field path (or None) and a human message."""

    def __init__(self, reason: str, detail: str, field: str | None = None, message: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.field = field
        self.message = detail if message is None else message

    def __reduce__(self) -> tuple[type["InvalidEvent"], tuple[str, str, str | None, str]]:
        """Pickled with its fields (parse workers send their dead letters back to the consumer)."""
        return type(self), (self.reason, self.detail, self.field, self.message)

    @classmethod
    def at(cls, reason: str, field: str, message: str) -> "InvalidEvent":
        """The violation of one field: its detail reads "field: message"."""
        return cls(reason, f"{field}: {message}", field=field, message=message)


def schema_error(field: str, message: str) -> InvalidEvent:
    """A document that does not match its contract (reason `schema`)."""
    return InvalidEvent.at("schema", field, message)
