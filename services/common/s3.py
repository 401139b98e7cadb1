"""The S3 client every service uses (SigV4, path-style: works on S3Proxy, MinIO and AWS).

Every S3 client is built by `_client`, which applies the credentials (static keys or the
standard AWS credential chain) and the CA bundle.
"""

from __future__ import annotations

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from services.common import config


def client(settings: config.Settings, public: bool = False) -> BaseClient:
    """A client; `public=True` signs URLs for the endpoint browsers reach."""
    endpoint = (settings.s3_public_endpoint or settings.s3_endpoint) if public else settings.s3_endpoint
    return _client(settings, endpoint, retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5,
                   read_timeout=60)


def _client(settings: config.Settings, endpoint: str, retries: dict[str, object], connect_timeout: float,
            read_timeout: float) -> BaseClient:
    # A session of its own, not boto3's process-wide default one: the default session resolves
    # the credential chain once and keeps the answer for every later client, and boto3 sessions
    # are not thread-safe.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=settings.s3_region,
        **credential_options(settings),
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries=retries,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        ),
    )


def credential_options(settings: config.Settings) -> dict[str, object]:
    """Static keys when configured; otherwise nothing, so boto3's default credential chain applies
    (environment, shared profile, web identity as on EKS, ECS task role, EC2 instance role), with
    its own refresh of temporary credentials. `verify` is the private CA bundle, when one is set."""
    options: dict[str, object] = {}
    if not settings.s3_uses_credential_chain:
        options.update(aws_access_key_id=settings.s3_access_key, aws_secret_access_key=settings.s3_secret_key)
    if settings.s3_ca_bundle:
        options["verify"] = settings.s3_ca_bundle
    return options


def ensure_bucket(s3: BaseClient, bucket: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
            raise
        try:
            s3.create_bucket(Bucket=bucket)
        except ClientError as create_exc:
            if create_exc.response.get("Error", {}).get("Code") not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise


def probe_client(settings: config.Settings, timeout_s: float) -> BaseClient:
    """A client for health probes: one attempt, `timeout_s` to connect and to read.

    The serving client retries three times with a 60 s read timeout, right for uploads
    but far too patient for a probe that must notice a hung endpoint.
    """
    return _client(settings, settings.s3_endpoint, retries={"total_max_attempts": 1, "mode": "standard"},
                   connect_timeout=timeout_s, read_timeout=timeout_s)


def reachable(s3: BaseClient, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except Exception:  # noqa: BLE001 - a health probe: any failure means down
        return False
