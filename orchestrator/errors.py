"""Errors a user can fix; the CLI prints them as one line and exits 2."""

from __future__ import annotations


class UserError(Exception):
    """Bad input: the message says what, where and how to fix it."""


class SpecError(UserError):
    """A sweep file is invalid; names the file, line and field."""

    def __init__(self, file: str, line: int | None, field: str, message: str) -> None:
        self.file, self.line, self.field, self.message = file, line, field, message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


class StoreError(UserError):
    """An artifact or table could not be read or written (corrupt, missing, unreachable)."""
