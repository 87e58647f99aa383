"""`naver-sms create-tables` on both stores, as a person runs it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

from naver_sms.database.dynamodb_client import make_client


def naver_sms(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "naver_sms", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_create_tables_makes_the_sqlite_schema_and_can_run_again(tmp_path: Path) -> None:
    env = {"NAVER_SMS_DB": str(tmp_path / "shop.db")}

    first = naver_sms("create-tables", env=env, cwd=tmp_path)
    second = naver_sms("create-tables", env=env, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "sms, session, sms_sent" in second.stdout
    with sqlite3.connect(tmp_path / "shop.db") as db:
        names = {
            (kind, name) for (kind, name) in db.execute("SELECT type, name FROM sqlite_master")
        }
    assert {
        ("table", "sms"),
        ("table", "session"),
        ("table", "sms_sent"),
        ("index", "sms_delivery_due"),
    } <= names


def test_create_tables_makes_the_three_tables_on_a_dynamodb_api_server(
    dynalite_url: str, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    env = {
        "NAVER_SMS_STORE": "dynamodb",
        "AWS_ENDPOINT_URL": dynalite_url,
        "NAVER_SMS_BOOKINGS_TABLE": f"sms_{suffix}",
        "NAVER_SMS_SESSION_TABLE": f"session_{suffix}",
        "NAVER_SMS_SENT_TABLE": f"sent_{suffix}",
    }

    for _ in range(2):
        result = naver_sms("create-tables", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr

    client = make_client(endpoint_url=dynalite_url)
    session = client.describe_table(TableName=f"session_{suffix}")["Table"]
    assert session["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert session["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    bookings = client.describe_table(TableName=f"sms_{suffix}")["Table"]
    assert [
        (index["IndexName"], [key["AttributeName"] for key in index["KeySchema"]])
        for index in bookings["GlobalSecondaryIndexes"]
    ] == [("delivery", ["delivery_queue", "delivery_due"])]
    sent = client.describe_table(TableName=f"sent_{suffix}")["Table"]
    assert [(key["AttributeName"], key["KeyType"]) for key in sent["KeySchema"]] == [
        ("day", "HASH"),
        ("record", "RANGE"),
    ]
    assert sent["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_an_unreachable_dynamodb_is_one_line_and_exit_code_1(tmp_path: Path) -> None:
    env = {
        "NAVER_SMS_STORE": "dynamodb",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }

    result = naver_sms("create-tables", env=env, cwd=tmp_path)

    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("error: create_table: cannot reach DynamoDB")
    )
    assert "Traceback" not in result.stderr


def test_a_bad_store_setting_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    result = naver_sms("create-tables", env={"NAVER_SMS_STORE": "mongo"}, cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: environment variable NAVER_SMS_STORE: Input should be 'sqlite' or 'dynamodb'"
    )
