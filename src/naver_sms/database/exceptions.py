"""The seed's exception table, raised by every store adapter.

Both adapters (DynamoDB and SQLite) translate their vendor's errors into these
at the boundary, so nothing above the database layer catches botocore or
sqlite3 errors. The names are the seed's; `PermissionError` deliberately
shadows the builtin *inside this module only*: elsewhere in the package import
the module (`from naver_sms.database import exceptions`) and write
`exceptions.PermissionError`.
"""

from __future__ import annotations


class DynamoDBException(Exception):
    """A store operation failed. Retry or escalate."""

    def __init__(self, message: str, operation: str | None = None) -> None:
        self.operation = operation
        super().__init__(f"{operation}: {message}" if operation else message)


class ThrottlingError(DynamoDBException):
    """The store kept refusing for load after the bounded retries. Back off."""


class NetworkError(DynamoDBException):
    """The store could not be reached (connection refused, timeout, DNS)."""


class PermissionError(DynamoDBException):  # noqa: A001 - the seed's name, see module doc
    """The credentials may not do this (IAM policy, unknown key, file mode)."""
