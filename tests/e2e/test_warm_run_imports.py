"""A warm `naver-sms run` on SQLite loads only what a cycle on SQLite uses (issue 18).

boto3/botocore (DynamoDB), Selenium (a browser login), the sandbox and
Powertools (Lambda's metrics) each cost memory and start-up a cycle on one
machine with SQLite never uses. The run is a fresh process, as cron starts
it; its `sys.modules` is read after the cycle: no timing, so it cannot flake.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.e2e.conftest import Shop, at

UNUSED_ON_SQLITE = (
    "boto3",
    "botocore",
    "selenium",
    "naver_sms.sandbox",
    "aws_lambda_powertools",
    "naver_sms.database.dynamodb_client",
)
PROBE = """
import json, runpy, sys
sys.argv = ["naver-sms", "run", "--json", "--now", sys.argv[1]]
code = 0
try:
    runpy.run_module("naver_sms", run_name="__main__")
except SystemExit as exc:
    code = exc.code or 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def test_a_warm_run_on_sqlite_imports_neither_aws_nor_selenium_nor_the_sandbox(
    shop: Shop,
) -> None:
    assert len(shop.run(at(9)).report["sent"]) == 10  # the cold cycle: everything sent
    shop.naver.now = at(9, 30)

    done = subprocess.run(
        [sys.executable, "-c", PROBE, at(9, 30).isoformat()],
        env={**os.environ, **shop.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    report = json.loads(done.stdout)
    probe = json.loads(done.stderr.strip().splitlines()[-1])
    assert probe["code"] == 0
    assert report["sent"] == []  # warm: nothing due
    loaded = [
        name
        for name in UNUSED_ON_SQLITE
        if any(m == name or m.startswith(f"{name}.") for m in probe["modules"])
    ]
    assert loaded == []
