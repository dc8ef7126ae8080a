"""An artifact store in an S3 bucket (AWS or any S3-compatible endpoint) through boto3.

The endpoint, region and credentials come from boto3's own configuration (AWS_ENDPOINT_URL,
AWS_* variables, ~/.aws), so a MinIO, Ceph or moto server needs no code here. A PUT is all
or nothing, so readers never see a partial object. Each object carries the SHA-256 of its
bytes in its metadata (and a Content-MD5 the server checks on upload); every get verifies
it, so an object replaced or damaged behind the store's back is reported by name instead
of loaded. A network failure or a busy server is retried with exponential backoff a
bounded number of times, then reported as a StoreError; the caller still holds whatever it
was about to write.
"""

from __future__ import annotations

import base64
import hashlib
import random
import time
from collections.abc import Callable
from typing import TypeVar

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
)
from botocore.exceptions import ConnectionError as EndpointUnreachable
from botocore.loaders import create_loader

from orchestrator.errors import StoreError
from orchestrator.settings import redacted
from orchestrator.stores.store import check_key, sha256

T = TypeVar("T")

# Parsing the S3 service description costs about 0.3 s per boto3 session and every job opens
# a store, so sessions share one loader; it caches only those parsed, read-only files.
_LOADER = create_loader()

METADATA_KEY = "sha256"
TRANSIENT_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError"}
)
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
# a conditional put lost: the object exists, or another conditional write is under way
CONFLICT_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
DENIED_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "Forbidden"}
)


class S3Store:
    """Objects under `s3://bucket/prefix/`; keys are relative paths below that prefix.

    `attempts` calls are made per operation, sleeping `backoff_s`, then twice that, ...
    (with jitter, so many workers do not retry in step) between them; each call waits at
    most `connect_timeout_s` for a connection and `read_timeout_s` per read. With the
    defaults an unreachable endpoint is reported after at most about 10 s.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        attempts: int = 4,
        backoff_s: float = 0.25,
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 60.0,
    ) -> None:
        if not bucket:
            raise StoreError(
                "artifact root s3://: no bucket; use s3://bucket/prefix (ORCHESTRATOR_ARTIFACT_ROOT)"
            )
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.bucket = bucket
        self.prefix = check_key(prefix.strip("/")) if prefix.strip("/") else ""
        self.root = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self.attempts = attempts
        self.backoff_s = backoff_s
        # botocore's own retries are off: one bounded loop here decides how long we wait.
        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
        )
        self.client = _new_session().client("s3", config=config)
        self.endpoint = redacted(self.client.meta.endpoint_url)  # it may carry user:password@

    def _object_key(self, key: str) -> str:
        key = check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._object_key(key)}"

    def put_bytes(self, key: str, data: bytes) -> None:
        self._put(f"write {self.uri(key)}", key, data)

    def _put(self, action: str, key: str, data: bytes, **conditions: str) -> None:
        """One PUT carrying the data's MD5 (checked by the server) and SHA-256 (by gets)."""
        name = self._object_key(key)
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
        self._call(
            action,
            lambda: self.client.put_object(
                Bucket=self.bucket,
                Key=name,
                Body=data,
                ContentMD5=md5,
                Metadata={METADATA_KEY: sha256(data)},
                **conditions,
            ),
            writing=True,
        )

    def get_bytes(self, key: str) -> bytes:
        name = self._object_key(key)

        def read() -> tuple[bytes, str | None]:
            response = self.client.get_object(Bucket=self.bucket, Key=name)
            return response["Body"].read(), response.get("Metadata", {}).get(METADATA_KEY)

        data, expected = self._call(f"read {self.uri(key)}", read)
        if expected is not None and expected != sha256(data):
            raise StoreError(
                f"{self.uri(key)}: checksum mismatch (corrupt or replaced behind the store's "
                "back); delete it to recompute"
            )
        return data

    def create_if_absent(self, key: str, data: bytes) -> bool:
        """Write `key` only if no object is there yet (S3 conditional put, If-None-Match: *);
        of racing writers exactly one wins. Job claims (leases) rely on it."""
        try:
            self._put(f"create {self.uri(key)}", key, data, IfNoneMatch="*")
        except _Exists:
            return False
        return True

    def delete(self, key: str) -> None:
        name = self._object_key(key)
        self._call(
            f"delete {self.uri(key)}",
            lambda: self.client.delete_object(Bucket=self.bucket, Key=name),
            writing=True,
        )

    def exists(self, key: str) -> bool:
        name = self._object_key(key)
        try:
            self._call(
                f"check {self.uri(key)}",
                lambda: self.client.head_object(Bucket=self.bucket, Key=name),
            )
        except _Missing:
            return False
        return True

    def list(self, prefix: str) -> list[str]:
        """Keys below the folder `prefix` (relative to the store root), sorted."""
        folder = self._object_key(prefix).rstrip("/") + "/"
        strip = len(self.prefix) + 1 if self.prefix else 0

        def collect() -> list[str]:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder
            )
            return [item["Key"][strip:] for page in pages for item in page.get("Contents", [])]

        return sorted(self._call(f"list s3://{self.bucket}/{folder}", collect))

    def _call(self, action: str, operation: Callable[[], T], writing: bool = False) -> T:
        """Run `operation`, retrying transient failures; turn every failure into StoreError."""
        started = time.monotonic()
        for attempt in range(1, self.attempts + 1):
            try:
                return operation()
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if code in MISSING_CODES:
                    raise _Missing(f"{action}: not found") from None
                if code in CONFLICT_CODES:
                    raise _Exists(f"{action}: exists already") from None
                if code == "NoSuchBucket":
                    raise StoreError(
                        f"{action}: bucket {self.bucket!r} does not exist at {self.endpoint}; "
                        "create it or fix ORCHESTRATOR_ARTIFACT_ROOT"
                    ) from None
                if code in DENIED_CODES:
                    raise StoreError(
                        f"{action}: access denied by {self.endpoint} ({code}); check the "
                        "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE credentials"
                    ) from None
                if not (code in TRANSIENT_CODES or status >= 500):
                    raise StoreError(
                        f"{action}: {code or status}: {redacted(str(error))}"
                    ) from None
                last: Exception = error
            except NoCredentialsError:
                raise StoreError(
                    f"{action}: no S3 credentials; set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"
                ) from None
            except (EndpointUnreachable, HTTPClientError, IncompleteReadError) as error:
                last = error
            except BotoCoreError as error:
                raise StoreError(
                    f"{action}: {type(error).__name__}: {redacted(str(error))}"
                ) from None
            if attempt < self.attempts:
                delay = self.backoff_s * 2 ** (attempt - 1)
                time.sleep(random.uniform(0.5 * delay, delay))
        elapsed = time.monotonic() - started
        kept = (
            "nothing was written and nothing was lost: the data is still held by this process"
            if writing
            else "nothing was lost: the store was not changed"
        )
        raise StoreError(
            f"{action}: S3 endpoint {self.endpoint} unreachable or failing after "
            f"{self.attempts} attempts in {elapsed:.1f} s ({type(last).__name__}: {redacted(str(last))}); "
            f"{kept}; check AWS_ENDPOINT_URL and the network, then resubmit"
        )


def _new_session() -> boto3.session.Session:
    """A fresh session (boto3 sessions are not thread-safe), so credentials and the endpoint
    are read from the current environment and AWS config, as boto3 itself would."""
    core = botocore.session.Session()
    core.register_component("data_loader", _LOADER)
    return boto3.session.Session(botocore_session=core)


class _Exists(StoreError):
    """A conditional create found the object there: `create_if_absent` answers False."""


class _Missing(StoreError):
    """The object is not there (a 404): `exists` answers False, `get_bytes` names it."""
