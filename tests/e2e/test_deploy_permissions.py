"""The function's IAM policy, measured: each variant's cycle against a DynamoDB-API server.

The Lambda handler runs in this process against dynalite, with the botocore
calls it makes recorded per table. Each variant of deploy/template.yaml must
grant exactly the calls its own cycles made: none missing (the cycle would
fail in AWS) and none more (least privilege). The Zip variant's cycles run
with no browser; the image variant's include a real headless Chromium login.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient
from cfnlint.decode import decode  # type: ignore[import-untyped]

from naver_sms import bootstrap
from naver_sms.config import load_settings
from naver_sms.entrypoints.lambda_handler import CycleFailed, handler
from tests.e2e.conftest import Shop, at

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "template.yaml"
TABLES = {"BookingsTable": "bookings", "SessionTable": "session", "SentTable": "sent"}
Calls = dict[str, set[str]]

pytestmark = pytest.mark.parametrize("any_shop", ["dynalite"], indirect=True)


def _resolve(node: Any, conditions: dict[str, bool]) -> Any:
    """The template fragment with every Fn::If decided by `conditions`."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return _resolve(yes if conditions[name] else no, conditions)
        return {key: _resolve(value, conditions) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, conditions) for item in node]
    return node


def _resource(resource: dict[str, Any]) -> str:
    """`bookings`, `session`, `sent`, or an index as `bookings/index/NAME`."""
    if "Fn::GetAtt" in resource:
        return TABLES[resource["Fn::GetAtt"][0]]
    # An index: !Sub "${BookingsTable.Arn}/index/NAME"
    table, _, index = str(resource["Fn::Sub"]).partition(".Arn}/index/")
    return f"{TABLES[table.removeprefix('${')]}/index/{index}"


def granted(image: bool) -> Calls:
    """table -> the DynamoDB actions the variant's role allows on it (stack-made tables)."""
    template, errors = decode(str(TEMPLATE))
    assert not errors
    conditions = {"UseImage": image, "UseZip": not image, "CreateTables": True}
    role = _resolve(template["Resources"]["FunctionRole"], conditions)
    found: Calls = defaultdict(set)
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            actions = actions if isinstance(actions, list) else [actions]
            if not str(actions[0]).startswith("dynamodb:"):
                continue
            found[_resource(statement["Resource"])].update(
                action.removeprefix("dynamodb:") for action in actions
            )
    return dict(found)


@pytest.fixture
def lambda_shop(any_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Shop:
    for name, value in any_shop.env.items():
        monkeypatch.setenv(name, value)
    # The Zip package: no browser on PATH, none configured.
    monkeypatch.setenv("PATH", str(any_shop.tmp / "no-browser-here"))
    monkeypatch.delenv("CHROME_BIN", raising=False)
    monkeypatch.delenv("CHROMEDRIVER_BIN", raising=False)
    return any_shop


class Recorder:
    """table -> the DynamoDB operations made (bookings or session), unless paused."""

    def __init__(self, bookings_table: str, session_table: str, sent_table: str) -> None:
        self.names = {bookings_table: "bookings", session_table: "session", sent_table: "sent"}
        self.made: Calls = defaultdict(set)
        self.paused = False

    def record(self, operation: str, params: dict[str, Any]) -> None:
        if self.paused:
            return
        tables = [params["TableName"]] if "TableName" in params else []
        for table in [*tables, *params.get("RequestItems", {})]:
            name = self.names[table]
            if "IndexName" in params:
                name = f"{name}/index/{params['IndexName']}"
            self.made[name].add(operation)
        # IAM checks a transaction item by item, as the write each one is.
        for item in params.get("TransactItems", []):
            for kind, write in item.items():
                self.made[self.names[write["TableName"]]].add(f"{kind}Item")

    @contextmanager
    def pause(self) -> Iterator[None]:
        self.paused = True
        try:
            yield
        finally:
            self.paused = False


@pytest.fixture
def calls(lambda_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    env = lambda_shop.env
    recorder = Recorder(
        env["NAVER_SMS_BOOKINGS_TABLE"], env["NAVER_SMS_SESSION_TABLE"], env["NAVER_SMS_SENT_TABLE"]
    )
    real = BaseClient._make_api_call  # type: ignore[attr-defined]  # private, not in the stubs

    def recording(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            recorder.record(operation, params)
        return real(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return recorder


def _cycle(shop: Shop, hour: int) -> dict[str, Any] | None:
    shop.naver.now = at(hour)
    try:
        return handler({"now": at(hour).isoformat()}, None)
    except CycleFailed:
        return None


def _claimed_elsewhere(shop: Shop, recorder: Recorder, booking_num: str) -> None:
    """Another cycle holds the claim on a booking's reminder: this cycle must read to see it."""
    settings = load_settings()
    with recorder.pause(), bootstrap.booking_repository(settings) as store:
        (record,) = [r for r in store.list_bookings() if r["booking_num"] == booking_num]
        assert store.claim(booking_num, record["phone"], "remind_sms", "another-cycle", at(10))


def test_the_zip_function_is_granted_exactly_what_its_cycles_call(
    lambda_shop: Shop, calls: Recorder
) -> None:
    report = _cycle(lambda_shop, 9)  # confirmations and reminders: every record write
    assert report is not None
    assert len(report["sent"]) == 10
    _claimed_elsewhere(lambda_shop, calls, "5000001_1100000007")  # its visit is at 12:00
    report = _cycle(lambda_shop, 10)  # a lost claim is read back
    assert report is not None
    assert "5000001_1100000007" not in {sent["booking_num"] for sent in report["sent"]}
    lambda_shop.naver.expire_sessions()
    assert _cycle(lambda_shop, 11) is None  # refused, and no browser to log in with
    assert lambda_shop.naver.requests["login"] == 0
    assert dict(calls.made) == granted(image=False)


@pytest.mark.browser
def test_the_image_function_is_granted_exactly_what_its_cycles_call(
    lambda_shop: Shop,
    calls: Recorder,
    browser_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        **browser_env,
        "NAVER_USERNAME": "sandbox-owner",
        "NAVER_PASSWORD": "sandbox-password",
    }.items():
        monkeypatch.setenv(name, value)
    lambda_shop.naver.expire_sessions()
    report = _cycle(lambda_shop, 9)  # a browser login replaces the session, then sends
    assert report is not None
    assert len(report["sent"]) == 10
    assert lambda_shop.naver.requests["login"] == 1
    _claimed_elsewhere(lambda_shop, calls, "5000001_1100000007")
    assert _cycle(lambda_shop, 10) is not None
    assert dict(calls.made) == granted(image=True)
