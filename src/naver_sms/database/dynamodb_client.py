"""The seed's data layer on DynamoDB: `BookingRepository` and `SessionRepository`.

Tables and keys are the seed's (`sms`: booking_num HASH + phone RANGE;
`session`: id HASH; PAY_PER_REQUEST), plus what delivery checks need: the
sparse index `delivery` on `sms` (the records with a message not yet final,
by when to look next) and the table `sms_sent` (which records sent something
on which KST day). Nothing in a cycle's path scans. The low-level client is used rather
than the resource API so that batch reads, conditional writes and error codes
are explicit; values are converted so that both stores hand out plain Python
(int and float, never Decimal).

Every botocore error is translated here into `database.exceptions`.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import boto3
from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from naver_sms.database import exceptions
from naver_sms.database.base import (
    READ_BATCH_KEYS,
    BookingKey,
    claim_attributes,
    sent_attributes,
    skipped_attribute,
    unclear_attribute,
)
from naver_sms.database.records import BookingRepositoryBase, SessionRepositoryBase
from naver_sms.domain.record import DELIVERY_DUE, DELIVERY_PENDING, DELIVERY_QUEUE
from naver_sms.domain.session import SESSION_ID
from naver_sms.utils.logger import get_logger, logged_operation

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

__all__ = [
    "BOOKINGS_TABLE",
    "DEFAULT_CONFIG",
    "DELIVERY_INDEX",
    "SENT_TABLE",
    "SESSION_TABLE",
    "BookingRepository",
    "SessionRepository",
    "TableSpec",
    "create_tables",
    "make_client",
]

# Pinned retry behaviour: "standard" mode retries throttling, 5xx and
# connection errors with jittered exponential backoff, a bounded number of
# times; then the error reaches us and is translated. Timeouts are short
# because a cycle runs every few minutes: failing fast beats hanging a Lambda.
DEFAULT_CONFIG: Final = Config(
    retries={"mode": "standard", "total_max_attempts": 5},
    connect_timeout=3,
    read_timeout=10,
    max_pool_connections=32,
)
DEFAULT_REGION: Final = "ap-northeast-2"

_THROTTLING_CODES: Final = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
    }
)
_PERMISSION_CODES: Final = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "ExpiredTokenException",
    }
)
_NETWORK_ERRORS: Final = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)
_CONDITION_FAILED: Final = "ConditionalCheckFailedException"
# A transaction not applied: one of its conditions failed, or it met another.
_TRANSACTION_CANCELLED: Final = "TransactionCanceledException"
# How a DynamoDB-API server says it has no transactions (dynalite): 400 UnknownOperation.
_UNKNOWN_OPERATION: Final = frozenset({"UnknownOperationException", "UnknownOperation"})
# Items one BatchWriteItem carries at most (DynamoDB's limit).
_HISTORY_BATCH: Final = 25

log = get_logger(__name__)


def make_client(
    region_name: str | None = None,
    endpoint_url: str | None = None,
    config: Config | None = None,
) -> DynamoDBClient:
    """A DynamoDB client with the pinned retry config. Low-level clients are thread-safe."""
    session = boto3.session.Session()
    client = session.client(
        "dynamodb",
        region_name=region_name or DEFAULT_REGION,
        endpoint_url=endpoint_url,
        config=config or DEFAULT_CONFIG,
    )
    read_batches_as_json(client)
    return client


# The fields of a BatchGetItem answer read as plain JSON; an answer with any other
# (ConsumedCapacity: floats) or with a binary (base64 on the wire, bytes once parsed)
# goes through botocore's own parser.
_PLAIN_BATCH_FIELDS: Final = frozenset({"Responses", "UnprocessedKeys"})
_BINARY_TAGS: Final = (b'"B"', b'"BS"')


def read_batches_as_json(client: DynamoDBClient) -> None:
    """Have `client` read BatchGetItem answers with `json.loads`, not botocore's parser.

    botocore walks every attribute value against the service model: in a warm
    500-store cycle that was more CPU than everything else the cycle does. On
    the wire an answer of strings, numbers, maps and lists is already the
    parsed shape (numbers stay strings either way), so those answers are
    handed over as they are. Registered once per client; errors are untouched.
    """
    client.meta.events.register(
        "before-parse.dynamodb.BatchGetItem",
        _plain_batch_answer,
        unique_id="naver-sms-plain-batch-get",
    )


def _plain_batch_answer(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not isinstance(body, bytes):
        return
    if any(tag in body for tag in _BINARY_TAGS):
        return
    try:
        answer = json.loads(body)
    except ValueError:
        return  # botocore says what is wrong with it
    if not isinstance(answer, dict) or not answer.keys() <= _PLAIN_BATCH_FIELDS:
        return
    customized_response_dict.update(answer)
    response_dict["body"] = b"{}"  # what is left for botocore to parse: nothing


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """A global secondary index: its name and keys, every attribute projected."""

    name: str
    keys: tuple[tuple[str, str], ...]  # (attribute, HASH | RANGE), all strings

    def request(self) -> dict[str, Any]:
        return {
            "IndexName": self.name,
            "KeySchema": [{"AttributeName": name, "KeyType": kind} for name, kind in self.keys],
            "Projection": {"ProjectionType": "ALL"},
        }


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A table's key schema: the one source of truth for create-tables and deployment."""

    default_name: str
    keys: tuple[tuple[str, str], ...]  # (attribute, HASH | RANGE), all strings
    indexes: tuple[IndexSpec, ...] = ()

    def attribute_definitions(self) -> list[dict[str, str]]:
        names = dict.fromkeys(
            [name for name, _ in self.keys]
            + [name for index in self.indexes for name, _ in index.keys]
        )
        return [{"AttributeName": name, "AttributeType": "S"} for name in names]

    def create_table_request(self, table_name: str | None = None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": table_name or self.default_name,
            "KeySchema": [{"AttributeName": name, "KeyType": kind} for name, kind in self.keys],
            "AttributeDefinitions": self.attribute_definitions(),
            "BillingMode": "PAY_PER_REQUEST",
        }
        if self.indexes:
            request["GlobalSecondaryIndexes"] = [index.request() for index in self.indexes]
        return request


# Sparse: only a record with a message not yet final has its keys (see
# `domain.record.DELIVERY_QUEUE`), so one Query finds what is due, oldest first.
DELIVERY_INDEX: Final = IndexSpec("delivery", ((DELIVERY_QUEUE, "HASH"), (DELIVERY_DUE, "RANGE")))
BOOKINGS_TABLE: Final = TableSpec(
    "sms", (("booking_num", "HASH"), ("phone", "RANGE")), (DELIVERY_INDEX,)
)
SESSION_TABLE: Final = TableSpec("session", (("id", "HASH"),))
# The history's index: one item per record and KST day with a message sent. A
# table, not an index of `sms`: an item sits under one key of an index, but a
# record's messages go out on different days (the confirmation weeks before
# the visit, the event message after it).
SENT_TABLE: Final = TableSpec("sms_sent", (("day", "HASH"), ("record", "RANGE")))


# -- errors ---------------------------------------------------------------------------------


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == _CONDITION_FAILED


def _translate_client_error(
    exc: ClientError, operation: str, table: str
) -> exceptions.DynamoDBException:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    reason = str(error.get("Message") or code)
    if code in _THROTTLING_CODES:
        return exceptions.ThrottlingError(
            f"throttled by DynamoDB after retries ({code}) on table {table!r}", operation
        )
    if code in _PERMISSION_CODES:
        return exceptions.PermissionError(
            f"not allowed on table {table!r} ({code}): check the IAM policy and credentials",
            operation,
        )
    if code == "ResourceNotFoundException":
        return exceptions.DynamoDBException(
            f"table {table!r} does not exist: run `naver-sms create-tables` ({reason})", operation
        )
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return exceptions.DynamoDBException(
        f"DynamoDB error {code} (HTTP {status}) on table {table!r}: {reason}", operation
    )


@contextmanager
def _translated(operation: str, table: str) -> Iterator[None]:
    """Vendor errors in, the seed's exceptions out (conditional failures stay ClientError)."""
    try:
        yield
    except ClientError as exc:
        if _is_condition_failure(exc):
            raise
        raise _translate_client_error(exc, operation, table) from exc
    except _NETWORK_ERRORS as exc:
        raise exceptions.NetworkError(
            f"cannot reach DynamoDB for table {table!r}: {exc}", operation
        ) from exc
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise exceptions.PermissionError(
            f"no usable AWS credentials for table {table!r}: {exc}", operation
        ) from exc
    except BotoCoreError as exc:
        raise exceptions.DynamoDBException(f"{type(exc).__name__}: {exc}", operation) from exc


# -- values ---------------------------------------------------------------------------------

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
# DynamoDB numbers carry at most 38 significant digits; an integer this short is exact.
_EXACT_DIGITS: Final = 38


def _to_dynamo_value(value: Any) -> Any:
    """DynamoDB numbers must be Decimal; floats go through str to keep their digits."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _to_dynamo_value(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_to_dynamo_value(item) for item in value]
    return value


def _from_dynamo_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _from_dynamo_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_dynamo_value(item) for item in value]
    if isinstance(value, set):
        return {_from_dynamo_value(item) for item in value}
    return value


def _serialize(item: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    return {
        key: _serializer.serialize(_to_dynamo_value(value))
        for key, value in item.items()
        if value is not None
    }


def _plain_number(text: str) -> int | float:
    """A DynamoDB number as `_from_dynamo_value` gives it: int when integral, else float."""
    digits = text[1:] if text[:1] == "-" else text
    if digits.isascii() and digits.isdigit() and len(digits) <= _EXACT_DIGITS:
        return int(text)  # the common case (counts, epoch seconds) without a Decimal
    number = DYNAMODB_CONTEXT.create_decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


def _plain(value: Mapping[str, Any]) -> Any:
    """One attribute value as plain Python: what TypeDeserializer then `_from_dynamo_value`
    give, without their per-value method lookups (a 500-store cycle reads 325,000 values)."""
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag in {"S", "BOOL"}:
            return inner
        if tag == "N":
            return _plain_number(inner)
        if tag == "M":
            return {key: _plain(item) for key, item in inner.items()}
        if tag == "L":
            return [_plain(item) for item in inner]
        if tag == "NULL":
            return None
    # Sets, binaries and anything odd: the library's own conversion, errors included.
    return _from_dynamo_value(_deserializer.deserialize(value))  # type: ignore[arg-type]


def _deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _plain(value) for key, value in item.items()}


def _key(booking_num: str, phone: str) -> dict[str, AttributeValueTypeDef]:
    return {"booking_num": {"S": booking_num}, "phone": {"S": phone}}


def _history_entry(booking_num: str, phone: str) -> str:
    """A history item's range key; booking numbers are digits and `_`, so `#` splits it."""
    return f"{booking_num}#{phone}"


class _Expression:
    """Placeholders for an update or condition expression: every name and value bound."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValueTypeDef] = {}

    def name(self, attribute: str) -> str:
        for placeholder, known in self.names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: AttributeValueTypeDef) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def changes(self, changes: Mapping[str, str | None]) -> tuple[list[str], list[str]]:
        """(SET parts, REMOVE parts) of attribute changes, None meaning removed."""
        sets = [
            f"{self.name(name)} = {self.value({'S': value})}"
            for name, value in changes.items()
            if value is not None
        ]
        removes = [self.name(name) for name, value in changes.items() if value is None]
        return sets, removes


def _update_expression(sets: list[str], removes: list[str]) -> str:
    parts = []
    if sets:
        parts.append("SET " + ", ".join(sets))
    if removes:
        parts.append("REMOVE " + ", ".join(removes))
    return " ".join(parts)


# -- repositories ---------------------------------------------------------------------------


class _Repository:
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None,
        region_name: str | None,
        endpoint_url: str | None,
    ) -> None:
        self.table_name = table_name
        if client is not None:
            read_batches_as_json(client)
        self._client = client
        self._region_name = region_name
        self._endpoint_url = endpoint_url
        self._client_lock = threading.Lock()

    @property
    def client(self) -> DynamoDBClient:
        """Built on first use, so constructing a repository does no I/O."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = make_client(self._region_name, self._endpoint_url)
        return self._client

    def _translated(self, operation: str) -> AbstractContextManager[None]:
        return _translated(operation, self.table_name)


class BookingRepository(_Repository, BookingRepositoryBase):
    """The `sms` table: booking records and their sent flags (the seed's BookingRepository),
    and `sms_sent`, the per-day index of the records' sent messages."""

    def __init__(
        self,
        table_name: str = BOOKINGS_TABLE.default_name,
        client: DynamoDBClient | None = None,
        *,
        sent_table_name: str = SENT_TABLE.default_name,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        batch_attempts: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(table_name, client, region_name, endpoint_url)
        self.sent_table_name = sent_table_name
        self._batch_attempts = batch_attempts
        self._sleep = sleep
        # While a batch is being built, this thread's writes are gathered here
        # (as transaction actions) instead of sent.
        self._gathering = threading.local()
        # False once the server said it has no TransactWriteItems (dynalite):
        # remembered for this repository's life, so it is asked once.
        self._transactions = True

    # Over HTTP a batch's fallback overlaps its single writes' round trips.
    _single_writes_at_once = 8

    def _atomically(self, writes: Sequence[Callable[[], bool]]) -> bool:
        if not self._transactions:
            return False
        actions: list[dict[str, Any]] = []
        self._gathering.actions = actions
        try:
            for write in writes:
                write()
        finally:
            self._gathering.actions = None
        try:
            # botocore gives the call a ClientRequestToken and resends it on its own
            # retries: DynamoDB then applies a transaction whose answer was lost
            # once, and answers the retry with success.
            self.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == _TRANSACTION_CANCELLED:
                return False  # a condition failed, or a racing transaction: one by one
            if code in _UNKNOWN_OPERATION:
                self._transactions = False
                log.warning(
                    "This DynamoDB server has no TransactWriteItems; writes go one by one",
                    operation="write_batch",
                    context={"table": self.table_name},
                )
                return False
            raise
        return True

    def _gathered(self, action: dict[str, Any]) -> bool:
        """True when a batch is being built on this thread: `action` joins it."""
        actions: list[dict[str, Any]] | None = getattr(self._gathering, "actions", None)
        if actions is None:
            return False
        actions.append(action)
        return True

    def _get(self, booking_num: str, phone: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=_key(booking_num, phone), ConsistentRead=True
        )
        item = response.get("Item")
        return _deserialize(item) if item else None

    def _get_many(self, keys: list[BookingKey]) -> Iterator[dict[str, Any]]:
        for start in range(0, len(keys), READ_BATCH_KEYS):
            chunk = keys[start : start + READ_BATCH_KEYS]
            yield from self._batch_get([_key(num, phone) for num, phone in chunk])

    def _insert(self, item: dict[str, Any]) -> bool:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": _serialize(item),
            "ConditionExpression": "attribute_not_exists(booking_num)",
        }
        if self._gathered({"Put": request}):
            return True
        try:
            self.client.put_item(**request)
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def _set_flag(self, booking_num: str, phone: str, flag: str, value: bool) -> bool:
        return self._conditional_update(
            booking_num,
            phone,
            update="SET #flag = :value",
            condition="attribute_exists(booking_num)",
            names={"#flag": flag},
            values={":value": {"BOOL": value}},
        )

    def _set_time(
        self,
        booking_num: str,
        phone: str,
        booking_time: str,
        reset: tuple[str, ...],
        moved_from: str | None,
    ) -> bool:
        names: dict[str, str] = {}
        sets, removes = ["booking_time = :time"], []
        values: dict[str, AttributeValueTypeDef] = {":time": {"S": booking_time}}
        if moved_from is not None:
            sets.append("moved_from = :from")
            values[":from"] = {"S": moved_from}
        for index, flag in enumerate(reset):
            claim_attr, until_attr = claim_attributes(flag)
            names.update(
                {
                    f"#f{index}": flag,
                    f"#c{index}": claim_attr,
                    f"#u{index}": until_attr,
                    f"#x{index}": unclear_attribute(flag),
                    f"#s{index}": skipped_attribute(flag),
                }
            )
            sets.append(f"#f{index} = :false")
            removes += [f"#c{index}", f"#u{index}", f"#x{index}", f"#s{index}"]
        update = f"SET {', '.join(sets)}" + (f" REMOVE {', '.join(removes)}" if removes else "")
        if reset:
            values[":false"] = {"BOOL": False}
        return self._conditional_update(
            booking_num,
            phone,
            update=update,
            condition="attribute_exists(booking_num) AND booking_time <> :time",
            names=names,
            values=values,
        )

    def _list(self, biz_id: str | None, day: str | None) -> Iterator[dict[str, Any]]:
        conditions, values = [], {}
        if biz_id is not None:
            conditions.append("begins_with(booking_num, :store)")
            values[":store"] = {"S": f"{biz_id}_"}
        if day is not None:
            conditions.append("begins_with(booking_time, :day)")
            values[":day"] = {"S": f"{day} "}
        request: dict[str, Any] = {"TableName": self.table_name}
        if conditions:
            request["FilterExpression"] = " AND ".join(conditions)
            request["ExpressionAttributeValues"] = values
        for page in self.client.get_paginator("scan").paginate(**request):
            for raw in page.get("Items", []):
                yield _deserialize(raw)

    def _unnotified(self) -> Iterator[tuple[str, object]]:
        pages = self.client.get_paginator("scan").paginate(
            TableName=self.table_name,
            ProjectionExpression="booking_num, booking_time",
            FilterExpression="attribute_not_exists(option_sms) OR option_sms = :false",
            ExpressionAttributeValues={":false": {"BOOL": False}},
        )
        for page in pages:
            for raw in page.get("Items", []):
                item = _deserialize(raw)
                yield str(item.get("booking_num")), item.get("booking_time")

    def _take_claim(
        self, booking_num: str, phone: str, flag: str, owner: str, until: int, now: int
    ) -> bool:
        claim_attr, until_attr = claim_attributes(flag)
        return self._conditional_update(
            booking_num,
            phone,
            update="SET #claim = :owner, #until = :until",
            condition=(
                "attribute_exists(booking_num)"
                " AND (attribute_not_exists(#flag) OR #flag = :false)"
                " AND (attribute_not_exists(#until) OR #until <= :now)"
            ),
            names={"#flag": flag, "#claim": claim_attr, "#until": until_attr},
            values={
                ":owner": {"S": owner},
                ":until": {"N": str(until)},
                ":now": {"N": str(now)},
                ":false": {"BOOL": False},
            },
        )

    def _complete_claim(
        self,
        booking_num: str,
        phone: str,
        flag: str,
        owner: str,
        request_id: str,
        at: str,
        life: Mapping[str, str | None],
    ) -> bool:
        claim_attr, until_attr = claim_attributes(flag)
        request_attr, at_attr = sent_attributes(flag)
        # The mark's own part first, as it always read (tools that watch the
        # requests, such as the reliability suite's kill proxy, know it by it).
        life_expression = _Expression()
        life_sets, life_removes = life_expression.changes(life)
        sets = ["#flag = :true", "#rid = :rid", "#at = :at", *life_sets]
        removes = ["#claim", "#until", *life_removes]
        return self._conditional_update(
            booking_num,
            phone,
            update=_update_expression(sets, removes),
            condition="#claim = :owner",
            names={
                "#flag": flag,
                "#rid": request_attr,
                "#at": at_attr,
                "#claim": claim_attr,
                "#until": until_attr,
                **life_expression.names,
            },
            values={
                ":true": {"BOOL": True},
                ":rid": {"S": request_id},
                ":at": {"S": at},
                ":owner": {"S": owner},
                **life_expression.values,
            },
        )

    def _apply_delivery(
        self,
        booking_num: str,
        phone: str,
        changes: Mapping[str, str | None],
        expected: Mapping[str, str | None],
        days: frozenset[str],
    ) -> bool:
        expression = _Expression()
        sets, removes = expression.changes(changes)
        conditions = ["attribute_exists(booking_num)"]
        for name, value in expected.items():
            placeholder = expression.name(name)
            conditions.append(
                f"attribute_not_exists({placeholder})"
                if value is None
                else f"{placeholder} = {expression.value({'S': value})}"
            )
        return self._conditional_update(
            booking_num,
            phone,
            update=_update_expression(sets, removes),
            condition=" AND ".join(conditions),
            names=expression.names,
            values=expression.values,
        )

    def _add_histories(self, entries: Sequence[tuple[str, str, str]]) -> None:
        # BatchWriteItem, the one write path to the history table (so the function's
        # role needs one action there): the entries are unconditional, idempotent puts.
        puts = [
            {
                "PutRequest": {
                    "Item": {
                        "day": {"S": day},
                        "record": {"S": _history_entry(booking_num, phone)},
                    }
                }
            }
            for day, booking_num, phone in dict.fromkeys(entries)
        ]
        with _translated("add_history", self.sent_table_name):
            for start in range(0, len(puts), _HISTORY_BATCH):
                self._batch_write(puts[start : start + _HISTORY_BATCH])

    def _batch_write(self, puts: list[dict[str, Any]]) -> None:
        request: dict[str, Any] = {self.sent_table_name: puts}
        for attempt in range(self._batch_attempts):
            response = self.client.batch_write_item(RequestItems=request)
            request = dict(response.get("UnprocessedItems") or {})
            if not request:
                return
            # Unprocessed items mean the table is at capacity: back off, as reads do.
            self._sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))  # noqa: S311
        raise exceptions.ThrottlingError(
            f"{sum(len(part) for part in request.values())} history entries still "
            f"unprocessed after {self._batch_attempts} BatchWriteItem attempts "
            f"on table {self.sent_table_name!r}",
            "add_history",
        )

    def _due(self, due: str, limit: int) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": DELIVERY_INDEX.name,
            "KeyConditionExpression": "#queue = :pending AND #due <= :now",
            "ExpressionAttributeNames": {"#queue": DELIVERY_QUEUE, "#due": DELIVERY_DUE},
            "ExpressionAttributeValues": {
                ":pending": {"S": DELIVERY_PENDING},
                ":now": {"S": due},
            },
            "ScanIndexForward": True,
        }
        left = limit
        while left > 0:
            response = self.client.query(**request, Limit=left)
            items = response.get("Items", [])
            for raw in items[:left]:
                yield _deserialize(raw)
            left -= len(items)
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _sent_on(self, day: str, biz_id: str | None) -> Iterator[dict[str, Any]]:
        condition = "#day = :day"
        values: dict[str, AttributeValueTypeDef] = {":day": {"S": day}}
        if biz_id is not None:
            condition += " AND begins_with(#record, :store)"
            values[":store"] = {"S": f"{biz_id}_"}
        keys = []
        with _translated("sent_on", self.sent_table_name):
            pages = self.client.get_paginator("query").paginate(
                TableName=self.sent_table_name,
                KeyConditionExpression=condition,
                ExpressionAttributeNames={"#day": "day", "#record": "record"}
                if biz_id is not None
                else {"#day": "day"},
                ExpressionAttributeValues=values,
            )
            for page in pages:
                for raw in page.get("Items", []):
                    booking_num, _, phone = str(raw["record"].get("S", "")).rpartition("#")
                    keys.append(_key(booking_num, phone))
        for start in range(0, len(keys), READ_BATCH_KEYS):
            yield from self._batch_get(keys[start : start + READ_BATCH_KEYS])

    def _drop_claim(self, booking_num: str, phone: str, flag: str, owner: str) -> bool:
        claim_attr, until_attr = claim_attributes(flag)
        return self._conditional_update(
            booking_num,
            phone,
            update="REMOVE #claim, #until",
            condition="#claim = :owner",
            names={"#claim": claim_attr, "#until": until_attr},
            values={":owner": {"S": owner}},
        )

    def _set_skipped(self, booking_num: str, phone: str, flag: str, reason: str) -> bool:
        return self._conditional_update(
            booking_num,
            phone,
            update="SET #skipped = :reason",
            condition=(
                "attribute_exists(booking_num) AND (attribute_not_exists(#flag) OR #flag = :false)"
            ),
            names={"#skipped": skipped_attribute(flag), "#flag": flag},
            values={":reason": {"S": reason}, ":false": {"BOOL": False}},
        )

    def _set_unclear(
        self, booking_num: str, phone: str, flag: str, owner: str, window: str
    ) -> bool:
        return self._conditional_update(
            booking_num,
            phone,
            update="SET #unclear = :window",
            condition="#claim = :owner",
            names={"#unclear": unclear_attribute(flag), "#claim": claim_attributes(flag)[0]},
            values={":window": {"S": window}, ":owner": {"S": owner}},
        )

    def _conditional_update(
        self,
        booking_num: str,
        phone: str,
        *,
        update: str,
        condition: str,
        names: dict[str, str],
        values: dict[str, AttributeValueTypeDef],
    ) -> bool:
        """True when the update was applied, False when its condition did not hold."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": _key(booking_num, phone),
            "UpdateExpression": update,
            "ConditionExpression": condition,
        }
        # DynamoDB refuses an empty map of either.
        if names:
            request["ExpressionAttributeNames"] = names
        if values:
            request["ExpressionAttributeValues"] = values
        if self._gathered({"Update": request}):
            return True
        try:
            self.client.update_item(**request)
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def _batch_get(self, keys: list[dict[str, AttributeValueTypeDef]]) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {self.table_name: {"Keys": keys}}
        for attempt in range(self._batch_attempts):
            response = self.client.batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(self.table_name, []):
                yield _deserialize(raw)
            request = dict(response.get("UnprocessedKeys") or {})
            if not request:
                return
            # Unprocessed keys mean the table is at capacity: back off (full
            # jitter, capped) before asking for just those keys again.
            self._sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))  # noqa: S311
        raise exceptions.ThrottlingError(
            f"{sum(len(part['Keys']) for part in request.values())} keys still unprocessed "
            f"after {self._batch_attempts} BatchGetItem attempts on table {self.table_name!r}",
            "get_bookings",
        )


class SessionRepository(_Repository, SessionRepositoryBase):
    """The `session` table: the Naver login cookies, one record with id "1"."""

    def __init__(
        self,
        table_name: str = SESSION_TABLE.default_name,
        client: DynamoDBClient | None = None,
        *,
        region_name: str | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        super().__init__(table_name, client, region_name, endpoint_url)

    def _read(self) -> tuple[str, str | None] | None:
        response = self.client.get_item(
            TableName=self.table_name, Key={"id": {"S": SESSION_ID}}, ConsistentRead=True
        )
        item = response.get("Item", {})
        cookies = item.get("cookies", {}).get("S")
        if cookies is None:
            return None
        saved_at = item.get("saved_at", {}).get("S")
        return str(cookies), str(saved_at) if saved_at is not None else None

    def _write(self, cookies: str, saved_at: str) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item={"id": {"S": SESSION_ID}, "cookies": {"S": cookies}, "saved_at": {"S": saved_at}},
        )

    def _delete(self) -> None:
        self.client.delete_item(TableName=self.table_name, Key={"id": {"S": SESSION_ID}})

    # Notes are items of this table too, under ids the seed's "1" can never be.

    def _read_note(self, name: str) -> dict[str, str] | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=_note_key(name), ConsistentRead=True
        )
        values = response.get("Item", {}).get("values", {}).get("M")
        if values is None:
            return None
        return {key: str(value.get("S", "")) for key, value in values.items()}

    def _write_note(self, name: str, values: dict[str, str]) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item={
                **_note_key(name),
                "values": {"M": {key: {"S": value} for key, value in values.items()}},
            },
        )

    def _delete_note(self, name: str) -> None:
        self.client.delete_item(TableName=self.table_name, Key=_note_key(name))


def _note_key(name: str) -> dict[str, Any]:
    return {"id": {"S": f"note#{name}"}}


def create_tables(
    client: DynamoDBClient,
    bookings_table: str = BOOKINGS_TABLE.default_name,
    session_table: str = SESSION_TABLE.default_name,
    sent_table: str = SENT_TABLE.default_name,
) -> list[str]:
    """Create the three tables if missing and wait until they are active (idempotent).

    A bookings table made by an earlier version gets the indexes it lacks (the
    `delivery` index), and this waits until they are ACTIVE too: until then a
    cycle's Query on them fails.
    """
    created = []
    for spec, name in (
        (BOOKINGS_TABLE, bookings_table),
        (SESSION_TABLE, session_table),
        (SENT_TABLE, sent_table),
    ):
        with (
            logged_operation("create_table", "Table ready", table=name) as ctx,
            _translated("create_table", name),
        ):
            try:
                client.create_table(**spec.create_table_request(name))
                ctx["created"] = True
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                    raise
                ctx["created"] = False
            _wait_until_active(client, name)
            added = _add_missing_indexes(client, spec, name)
            if added:
                ctx["indexes_added"] = added
        created.append(name)
    return created


def _add_missing_indexes(client: DynamoDBClient, spec: TableSpec, table: str) -> list[str]:
    """Add `spec`'s indexes an existing table lacks, one per UpdateTable (DynamoDB's rule)."""
    described = client.describe_table(TableName=table)["Table"]
    present = {index["IndexName"] for index in described.get("GlobalSecondaryIndexes", [])}
    added = []
    for index in spec.indexes:
        if index.name not in present:
            client.update_table(
                TableName=table,
                AttributeDefinitions=spec.attribute_definitions(),  # type: ignore[arg-type]
                GlobalSecondaryIndexUpdates=[{"Create": index.request()}],  # type: ignore[typeddict-item]
            )
            added.append(index.name)
        _wait_until_active(client, table)
    return added


def _wait_until_active(client: DynamoDBClient, table: str, seconds: float = 600.0) -> None:
    """Wait until the table and each of its indexes is ACTIVE.

    Like boto3's `table_exists` waiter, but it polls from 0.1 s up, not every
    whole second: local servers are ready in milliseconds, AWS in seconds. An
    index added to a table with records backfills first (minutes on AWS).
    """
    deadline = time.monotonic() + seconds
    delay = 0.1
    while not _active(client.describe_table(TableName=table)["Table"]):
        if time.monotonic() > deadline:
            raise exceptions.DynamoDBException(
                f"table {table!r} or an index of it is not ACTIVE after {seconds:.0f} s",
                "create_table",
            )
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def _active(table: Mapping[str, Any]) -> bool:
    return table.get("TableStatus") == "ACTIVE" and all(
        index.get("IndexStatus", "ACTIVE") == "ACTIVE"
        for index in table.get("GlobalSecondaryIndexes", [])
    )
