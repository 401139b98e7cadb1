"""gRPC transport security: the one place that builds client channels and server credentials.

Every client (portal, importer, rejoin, scripts, tests) opens its channel through
`channel()`, and the bootstrap takes its port credentials from `server_credentials()`, so
TLS and mutual TLS are configured once (grpc_tls_* settings) and no connection can be
left plaintext by a forgotten call site. With no TLS setting both stay plaintext, the
local default.
"""

from __future__ import annotations

from pathlib import Path

import grpc

from services.common import config

CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.enable_retries", 1),
    # round_robin spreads calls over every address a name resolves to (a headless
    # Kubernetes Service), which per-connection balancing cannot do for HTTP/2.
    ("grpc.lb_policy_name", "round_robin"),
)


class TlsConfigError(ValueError):
    """A TLS file is missing or unreadable, or a certificate lacks its key."""


def _read(path: str, variable: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"{config.env_name(variable)}={path!r}: cannot be read: {exc.strerror or exc}") from None


def _optional(path: str, variable: str) -> bytes | None:
    return _read(path, variable) if path else None


def _pair(settings: config.Settings, cert: str, key: str) -> tuple[bytes, bytes] | None:
    """(certificate chain, key) from two settings that must be set together, or None."""
    cert_path, key_path = getattr(settings, cert), getattr(settings, key)
    if bool(cert_path) != bool(key_path):
        raise TlsConfigError(f"{config.env_name(cert)} and {config.env_name(key)} must be set together")
    if not cert_path:
        return None
    return _read(cert_path, cert), _read(key_path, key)


def server_credentials(settings: config.Settings) -> grpc.ServerCredentials | None:
    """TLS credentials for the servers' port, or None for plaintext (no certificate configured).

    With grpc_tls_client_ca set, the handshake requires a client certificate signed by it.
    """
    pair = _pair(settings, "grpc_tls_cert", "grpc_tls_key")
    if pair is None:
        if settings.grpc_tls_client_ca:
            raise TlsConfigError(f"{config.env_name('grpc_tls_client_ca')} needs {config.env_name('grpc_tls_cert')} "
                                 f"and {config.env_name('grpc_tls_key')}: mutual TLS is TLS first")
        return None
    client_ca = _optional(settings.grpc_tls_client_ca, "grpc_tls_client_ca")
    chain, key = pair
    return grpc.ssl_server_credentials([(key, chain)], root_certificates=client_ca,
                                       require_client_auth=client_ca is not None)


def client_credentials(settings: config.Settings) -> grpc.ChannelCredentials | None:
    """TLS credentials for client channels, or None for plaintext (client TLS off)."""
    if not settings.grpc_client_tls:
        return None
    pair = _pair(settings, "grpc_tls_client_cert", "grpc_tls_client_key")
    return grpc.ssl_channel_credentials(
        root_certificates=_optional(settings.grpc_tls_ca, "grpc_tls_ca"),
        private_key=pair[1] if pair else None,
        certificate_chain=pair[0] if pair else None,
    )


def channel(address: str, settings: config.Settings | None = None) -> grpc.Channel:
    """A client channel to `address` with the options and transport security every client uses.

    `settings` default to the environment's (config.load()).
    """
    settings = config.load() if settings is None else settings
    credentials = client_credentials(settings)
    if credentials is None:
        return grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
    return grpc.secure_channel(address, credentials, options=CHANNEL_OPTIONS)
