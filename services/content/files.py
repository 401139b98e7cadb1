"""Asset files in S3: checked uploads, presigned URLs; rendered PDF pages come from render.py.

An upload is first spooled (memory, then a temporary file) while its size, SHA-256 and
magic bytes are checked, so a bad file is refused before S3 sees a byte; the stored
object is written with boto3's managed transfer, which uses a multipart upload (and
aborts it on failure) above 8 MiB. Keys carry the file version, so a new version never
overwrites the bytes an older download URL points at.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import time
import unicodedata
import uuid
from dataclasses import dataclass
from typing import IO, Any, Iterable

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from services.common import config, errors, metrics, s3
from services.common.errors import InvalidArgument
from services.content import extract
from services.content.render import UnreadablePdf, render_pdf_page  # noqa: F401 - part of this module's API

PART_SIZE = 8 * 1024 * 1024
SPOOL_MEMORY = 8 * 1024 * 1024
_TRANSFER = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE, max_concurrency=4)
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


# One path component on common filesystems (S3Proxy and MinIO store keys as files); the
# stored name is ASCII, so this is also its length in bytes.
MAX_NAME_CHARS = 255
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._ -]")


def safe_name(file_name: str, field: str = "file_name") -> str:
    """The stored name of an uploaded file, or INVALID_ARGUMENT naming `field`.

    A file name is a base name, never a path: it becomes the last component of the S3
    key and the download's Content-Disposition, where `..`, separators or control
    characters would address another object or break the header. Such names are
    refused; any other character outside [A-Za-z0-9._ -] is replaced by `_` (one
    character each, so the same name always maps to the same stored name), and the
    stored name has at most 255 characters.
    """
    if any(unicodedata.category(c) == "Cc" for c in file_name):
        raise InvalidArgument(field, "must not contain NUL or other control characters")
    name = file_name.strip()
    if not name:
        raise InvalidArgument(field, "is required")
    if "/" in name or "\\" in name:
        raise InvalidArgument(field, "must be a file name, not a path (no / or \\)")
    if not name.strip("."):
        raise InvalidArgument(field, f"{name!r} is not a file name")
    stored = _UNSAFE_NAME_CHARS.sub("_", name)
    if len(stored) > MAX_NAME_CHARS:
        raise InvalidArgument(field, f"at most {MAX_NAME_CHARS} characters")
    return stored


def check_sha(value: str, field: str = "sha256") -> str:
    value = value.strip().lower()
    if value and not _SHA_RE.match(value):
        raise InvalidArgument(field, "must be 64 hex characters")
    return value


@dataclass
class Spooled:
    """A checked upload waiting to be stored."""

    data: IO[bytes]
    size: int
    sha256: str
    content_type: str
    file_name: str

    def close(self) -> None:
        self.data.close()


def spool(chunks: Iterable[bytes], content_type: str, file_name: str, max_bytes: int,
          claimed_sha: str = "", claimed_size: int = 0, field_prefix: str = "") -> Spooled:
    """Consume `chunks`, enforcing the size limit, the content type and the checksum."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            if size > max_bytes:
                raise InvalidArgument(f"{field_prefix}size_bytes", f"file larger than the limit of {max_bytes} bytes")
            if len(head) < 64:
                head += chunk[: 64 - len(head)]
            digest.update(chunk)
            out.write(chunk)
        if size == 0:
            raise InvalidArgument("chunk" if field_prefix else "file_content", "file is empty")
        extract.check_sniff(content_type, head, f"{field_prefix}content_type")
        sha = digest.hexdigest()
        if claimed_sha and claimed_sha != sha:
            raise InvalidArgument(f"{field_prefix}sha256", f"checksum mismatch: received content has sha256 {sha}")
        if claimed_size and claimed_size != size:
            raise InvalidArgument(f"{field_prefix}size_bytes", f"declared {claimed_size} bytes, received {size}")
        out.seek(0)
        return Spooled(out, size, sha, content_type, file_name)
    except BaseException:
        out.close()
        raise


class _KeepOpen(io.RawIOBase):
    """boto3's transfer manager closes the file it uploads; the spool is still needed."""

    def __init__(self, inner: IO[bytes]) -> None:
        super().__init__()
        self._inner = inner

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def close(self) -> None:  # the owner closes the spool
        pass


def _s3_call(operation: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    except ClientError:
        metrics.DEPENDENCY_ERRORS.labels("s3", operation).inc()
        raise
    except Exception as exc:  # noqa: BLE001 - connection trouble means "retry later"
        metrics.DEPENDENCY_ERRORS.labels("s3", operation).inc()
        raise errors.Unavailable(f"S3 unavailable: {exc}") from exc
    finally:
        metrics.DEPENDENCY_DURATION.labels("s3", operation).observe(time.perf_counter() - started)


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


class FileStore:
    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.bucket = settings.s3_bucket
        self.s3 = s3.client(settings)
        self.public = s3.client(settings, public=True)

    def ensure(self) -> None:
        s3.ensure_bucket(self.s3, self.bucket)

    def reachable(self) -> bool:
        return s3.reachable(self.s3, self.bucket)

    @staticmethod
    def key_for(asset_id: str, file_name: str) -> str:
        """A fresh key per stored file: an upload that loses a race deletes only its own object."""
        return f"assets/{asset_id}/{uuid.uuid4().hex[:16]}/{file_name}"

    @staticmethod
    def preview_key_for(key: str) -> str:
        """The converted PDF of the file at `key`: `assets/<asset_id>/<random>/preview/<name>.pdf`.

        Beside the original in the same per-upload folder, and never equal to an original's
        key (those have no further `/` after the random part).
        """
        folder, _, name = key.rpartition("/")
        return f"{folder}/preview/{name}.pdf"

    @staticmethod
    def incoming_key(asset_id: str, upload_id: str, file_name: str) -> str:
        return f"incoming/{asset_id}/{upload_id}/{file_name}"

    def put(self, key: str, spooled: Spooled) -> None:
        spooled.data.seek(0)
        _s3_call("put", self.s3.upload_fileobj, _KeepOpen(spooled.data), self.bucket, key,
                 ExtraArgs={"ContentType": spooled.content_type, "Metadata": {"sha256": spooled.sha256}},
                 Config=_TRANSFER)
        metrics.CONTENT_UPLOAD_BYTES.inc(spooled.size)
        spooled.data.seek(0)

    def delete(self, key: str) -> None:
        try:
            _s3_call("delete", self.s3.delete_object, Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if not _missing(exc):
                raise

    def exists(self, key: str) -> bool:
        try:
            _s3_call("head", self.s3.head_object, Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if _missing(exc):
                return False
            raise

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            return _s3_call("head", self.s3.head_object, Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def stream(self, key: str) -> Iterable[bytes]:
        body = _s3_call("get", self.s3.get_object, Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(1024 * 1024)
        finally:
            body.close()

    def read(self, key: str) -> bytes | None:
        try:
            return _s3_call("get", self.s3.get_object, Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def put_bytes(self, key: str, payload: bytes, content_type: str) -> None:
        _s3_call("put", self.s3.put_object, Bucket=self.bucket, Key=key, Body=payload, ContentType=content_type)

    def presign_put(self, key: str, content_type: str, ttl_s: int) -> str:
        return self.public.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type}, ExpiresIn=ttl_s)

    def presign_get(self, key: str, file_name: str, content_type: str, ttl_s: int) -> str:
        return self.public.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type,
                    "ResponseContentDisposition": f'attachment; filename="{file_name}"'},
            ExpiresIn=ttl_s)
