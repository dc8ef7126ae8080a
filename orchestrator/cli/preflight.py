"""Cheap checks, before a command starts, that the places the settings name are usable.

A workspace that is a file or cannot be written, or a tracking server that does not
answer, then costs one clear line (exit 2) at once, instead of a traceback halfway
through a submission or minutes of MLflow retrying a port nobody listens on.
"""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from orchestrator.errors import UserError
from orchestrator.settings import Settings, redacted

TRACKING_CONNECT_TIMEOUT_S = 5.0


def check_writable_places(settings: Settings) -> None:
    """The workspace, and a file:// artifact root, are folders this user can write."""
    check_writable_folder(settings.workspace, "ORCHESTRATOR_WORKSPACE")
    root = urlsplit(settings.artifact_root or "")
    if root.scheme == "file":
        check_writable_folder(Path(root.path), "ORCHESTRATOR_ARTIFACT_ROOT")


def check_writable_folder(folder: Path, setting: str) -> None:
    """Create `folder` if missing and write a scratch file in it; refuse with the setting named."""
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{setting}={folder}: is a file, not a folder: point it at a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UserError(
            f"{setting}={folder}: cannot write there ({reason}): point it at a folder you can "
            "write to"
        ) from None


def check_tracking_server(uri: str | None) -> None:
    """An http(s) tracking URI must be well formed and its port must accept a connection.

    Other schemes (sqlite, file, ...) are checked by MLflow itself when the client opens.
    """
    try:
        parts = urlsplit(uri or "")
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise UserError(f"MLFLOW_TRACKING_URI {redacted(uri)}: not a valid URI ({error})") from None
    if parts.scheme not in ("http", "https"):
        return
    if not host:
        raise UserError(f"MLFLOW_TRACKING_URI {redacted(uri)}: no host name: use http://HOST:PORT")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=TRACKING_CONNECT_TIMEOUT_S):
            pass
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise UserError(
            f"MLflow tracking server {redacted(uri)} does not answer ({reason}): start it, or "
            "fix MLFLOW_TRACKING_URI (unset, it uses a SQLite file in the workspace)"
        ) from None
