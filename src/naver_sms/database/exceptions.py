"""What can go wrong in a repository, in our words; the seed's table for DynamoDB.

Both adapters translate their vendor's errors at the boundary, so nothing
above the database layer catches botocore or sqlite3 errors. Code above
catches the repository words (`RepositoryError`, `RepositoryBusy`,
`RepositoryUnreachable`, `RepositoryDenied`). DynamoDB raises the seed's
names (`DynamoDBException`, `ThrottlingError`, `NetworkError`,
`PermissionError`), each also one of those words; SQLite raises the words
themselves, never a DynamoDB name. `PermissionError` deliberately shadows the
builtin *inside this module only*: elsewhere import the module (`from
naver_sms.database import exceptions`) and write `exceptions.PermissionError`.
"""

from __future__ import annotations


class RepositoryError(Exception):
    """A repository operation failed. Retry or escalate."""

    def __init__(self, message: str, operation: str | None = None) -> None:
        self.operation = operation
        super().__init__(f"{operation}: {message}" if operation else message)


class RepositoryBusy(RepositoryError):
    """The repository kept refusing for load (throttled, locked) after bounded retries."""


class RepositoryUnreachable(RepositoryError):
    """The repository could not be reached (connection refused, timeout, DNS)."""


class RepositoryDenied(RepositoryError):
    """The credentials or the file mode do not allow this; no retry helps."""


class DynamoDBException(RepositoryError):
    """A DynamoDB operation failed (the seed's name). Retry or escalate."""


class ThrottlingError(DynamoDBException, RepositoryBusy):
    """DynamoDB kept refusing for load after the bounded retries. Back off."""


class NetworkError(DynamoDBException, RepositoryUnreachable):
    """DynamoDB could not be reached (connection refused, timeout, DNS)."""


class PermissionError(DynamoDBException, RepositoryDenied):  # noqa: A001 - the seed's name
    """The credentials may not do this (IAM policy, unknown key)."""
