"""Artifact stores: where checkpoints, masks and Parquet parts live (file:// or s3://).

Keys are relative, '/'-separated paths that cannot escape the root. Every put is atomic
(readers see the old object or the new one, never a part) and records a SHA-256 that every
get verifies, so a corrupt or truncated file is reported by name instead of loaded.
Parquet parts are the exception on local disk: they carry their checksum in their own
footer (orchestrator/stores/results.py), since a file beside them breaks every other Parquet
reader of their folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import urlparse

from orchestrator.errors import StoreError

CHECKSUM_SUFFIX = ".sha256"
SELF_CHECKED_SUFFIX = ".parquet"


def check_key(key: str) -> str:
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key:
        raise StoreError(f"artifact key {key!r} must be a relative path inside the store root")
    return str(path)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ArtifactStore(Protocol):
    root: str

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def get_bytes(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def list(self, prefix: str) -> list[str]: ...

    def uri(self, key: str) -> str: ...

    def create_if_absent(self, key: str, data: bytes) -> bool:
        """Write `data` only if nothing is at `key` yet; True when this call wrote it."""
        ...


class LocalStore:
    """A folder on local (or shared network) disk."""

    def __init__(self, root: Path) -> None:
        self.path = root
        self.root = root.as_uri()

    def _file(self, key: str) -> Path:
        return self.path / check_key(key)

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        checksum = target.with_name(target.name + CHECKSUM_SUFFIX)
        if target.name.endswith(SELF_CHECKED_SUFFIX):
            checksum.unlink(missing_ok=True)  # one left by an older version would now mismatch
        else:
            _atomic_write(checksum, sha256(data).encode())
        _atomic_write(target, data)

    def get_bytes(self, key: str) -> bytes:
        target = self._file(key)
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"{target}: not found") from None
        checksum = target.with_name(target.name + CHECKSUM_SUFFIX)
        if checksum.exists() and checksum.read_text().strip() != sha256(data):
            raise StoreError(
                f"{target}: checksum mismatch (corrupt or truncated); delete it to recompute"
            )
        return data

    def exists(self, key: str) -> bool:
        return self._file(key).is_file()

    def delete(self, key: str) -> None:
        target = self._file(key)
        target.with_name(target.name + CHECKSUM_SUFFIX).unlink(missing_ok=True)
        target.unlink(missing_ok=True)

    def create_if_absent(self, key: str, data: bytes) -> bool:
        """Write `key` only if it does not exist yet; of racing writers exactly one wins."""
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.link(temporary, target)  # atomic, and refuses an existing target
            return True
        except FileExistsError:
            return False
        finally:
            Path(temporary).unlink(missing_ok=True)

    def list(self, prefix: str) -> list[str]:
        folder = self.path / check_key(prefix)
        if not folder.is_dir():
            return []
        files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
        for path in files:  # older versions' checksum files of parts deleted since
            of_a_part = path.name.endswith(SELF_CHECKED_SUFFIX + CHECKSUM_SUFFIX)
            if of_a_part and not path.with_suffix("").exists():
                with contextlib.suppress(OSError):  # a read-only store still lists
                    path.unlink()
        return sorted(
            str(p.relative_to(self.path).as_posix())
            for p in files
            if not p.name.endswith(CHECKSUM_SUFFIX)
        )

    def uri(self, key: str) -> str:
        return self._file(key).as_uri()


def _atomic_write(target: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def open_store(root_uri: str) -> ArtifactStore:
    parsed = urlparse(root_uri)
    if parsed.scheme == "file":
        return LocalStore(Path(parsed.path))
    if parsed.scheme == "s3":
        from orchestrator.stores.s3store import S3Store

        return S3Store(parsed.netloc, parsed.path.lstrip("/"))
    raise StoreError(
        f"artifact root {root_uri!r}: unsupported scheme; use file:///path or s3://bucket/prefix "
        "(ORCHESTRATOR_ARTIFACT_ROOT)"
    )
