"""Domain errors that handlers raise and the gRPC bootstrap turns into status codes.

Handlers never touch the gRPC context to fail a call: they raise one of these, and
`grpc_server` maps it to a status with a `google.rpc.BadRequest` detail naming the
offending field, so clients get INVALID_ARGUMENT (never INTERNAL) for bad input.
"""

from __future__ import annotations

import grpc


class ServiceError(Exception):
    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidArgument(ServiceError):
    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field)


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(ServiceError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(ServiceError):
    code = grpc.StatusCode.UNAUTHENTICATED


class Unavailable(ServiceError):
    """A dependency (Elasticsearch, Kafka, S3) did not answer; the client may retry."""

    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(ServiceError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class ResourceExhausted(ServiceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


def require(condition: bool, field: str, message: str) -> None:
    """Raise InvalidArgument for `field` unless `condition` holds."""
    if not condition:
        raise InvalidArgument(field, message)
