"""Calling any RPC by its descriptor: the fuzz test and the every-RPC-over-TLS test share it."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor


def _serialize(message: Any) -> bytes:
    return message if isinstance(message, bytes) else message.SerializeToString()


def _identity(data: bytes) -> bytes:
    return data


def call_method(channel: grpc.Channel, service: ServiceDescriptor, method: MethodDescriptor, payload: Any,
                metadata: Any, timeout_s: float, parse_response: bool = False) -> tuple[grpc.StatusCode, str]:
    """Send `payload` (a message, raw bytes, or a list of either for client streams); the status code and details.

    `parse_response` decodes each response into its message class, so an answer the contract
    cannot parse fails the call too; the fuzz test keeps the raw bytes.
    """
    path = f"/{service.full_name}/{method.name}"
    deserialize = (message_factory.GetMessageClass(method.output_type).FromString if parse_response else _identity)
    kwargs = {"request_serializer": _serialize, "response_deserializer": deserialize}
    try:
        if method.client_streaming and method.server_streaming:
            list(channel.stream_stream(path, **kwargs)(iter(payload), metadata=metadata, timeout=timeout_s))
        elif method.client_streaming:
            channel.stream_unary(path, **kwargs)(iter(payload), metadata=metadata, timeout=timeout_s)
        elif method.server_streaming:
            list(channel.unary_stream(path, **kwargs)(payload, metadata=metadata, timeout=timeout_s))
        else:
            channel.unary_unary(path, **kwargs)(payload, metadata=metadata, timeout=timeout_s)
    except grpc.RpcError as err:
        return err.code(), err.details() or ""
    return grpc.StatusCode.OK, ""
