"""Warm cycles of `naver-sms run` for 1, 8, 64 and 500 stores x 50 bookings.

The workload is the reliability suite's (`tests/reliability/workload.py`):
per store 40 confirmed visits and 10 completed today. Latency on loopback
as in `cycle_bench.py`: sandbox Naver 50 ms per request, the DynamoDB-API
server (dynalite behind a proxy) 10 ms. A set-up cycle without latency and
with every rule off stores the records; the measured cycle then finds every
record stored and nothing due, which is the calls of a warm cycle (one where
every message has gone already) without sending 28,500 texts first.

Printed per size: the cycle's duration, the process's wall time and peak
RSS, calls per service against the fewest a cycle can make, and the time per
store, so the figures show how the cost grows with the work.

    .venv/bin/python bench/scale_bench.py [--sizes 1,8,64,500] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import uuid
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cycle_bench import (
    DYNAMODB_LATENCY,
    NAVER_LATENCY,
    LatencyProxy,
    run_cycle_process,
)
from naver_sms import bootstrap
from naver_sms.config import load_settings
from naver_sms.domain.booking import KST
from naver_sms.sandbox.naver import NaverSandbox
from tests.reliability.workload import EVENING, load, store_ids, write_config
from tests.servers import start_dynalite

PER_STORE = 50
TARGET_500_S = 8.0  # issue 18, with the default workers
RULES_OFF = {
    "confirmation": {"enabled": False},
    "reminder": {"enabled": False},
    "event": {"enabled": False},
}


def minimum_calls(stores: int) -> dict[str, int]:
    """Per store and read one short page (40 confirmed or cancelled, 10 completed); the
    first read checks the session, so nothing more."""
    return {
        "naver": stores * 2,
        "dynamodb": 1 + math.ceil(stores * PER_STORE / 100),  # session, BatchGetItem of 100
    }


def measure(size: int, workdir: Path, dynalite: str, workers: int | None) -> dict[str, float]:
    stores = store_ids(size)
    with ExitStack() as stack:
        naver = stack.enter_context(NaverSandbox(now=EVENING, stores=dict.fromkeys(stores, 0)))
        load(naver, stores, PER_STORE)
        proxy = stack.enter_context(LatencyProxy(dynalite))
        suffix = uuid.uuid4().hex[:8]
        env = {
            **os.environ,
            **naver.environment(),
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "ap-northeast-2",
            "NAVER_SMS_CONFIG": str(
                write_config(workdir / f"scale-{size}.yaml", stores, rules=RULES_OFF)
            ),
            "NAVER_SMS_STORE": "dynamodb",
            "AWS_ENDPOINT_URL": dynalite,  # the set-up cycle skips the latency proxy
            "NAVER_SMS_BOOKINGS_TABLE": f"sms_{suffix}",
            "NAVER_SMS_SESSION_TABLE": f"session_{suffix}",
            "NAVER_SMS_OUTBOX": str(workdir / "outbox.jsonl"),
            "NAVER_SMS_LOG_LEVEL": "WARNING",
        }
        if workers is not None:
            env["NAVER_SMS_WORKERS"] = str(workers)
        settings = load_settings(env)
        bootstrap.create_tables(settings)
        with bootstrap.session_repository(settings) as sessions:
            sessions.save_session(json.dumps(naver.issue_session()))
        setup, _wall, _rss = run_cycle_process(env, EVENING)
        if setup["created"] != size * PER_STORE:
            raise SystemExit(f"set-up stored {setup['created']} of {size * PER_STORE} records")

        naver.latency = NAVER_LATENCY
        env["AWS_ENDPOINT_URL"] = proxy.url
        naver.reset_counters()
        proxy.clear()
        report, wall, rss = run_cycle_process(env, EVENING + timedelta(minutes=1))
        if report["created"] or report["bookings"] != size * PER_STORE:
            raise SystemExit(f"not a warm cycle: {report['created']} records created")
        return {
            "stores": size,
            "bookings": report["bookings"],
            "cycle_s": report["duration_ms"] / 1000,
            "process_s": wall,
            "rss_mb": rss,
            "naver": sum(naver.requests.values()),
            "dynamodb": sum(proxy.requests.values()),
            **{f"min_{k}": v for k, v in minimum_calls(size).items()},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,8,64,500")
    parser.add_argument("--workers", type=int, default=None, help="NAVER_SMS_WORKERS")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        dynalite, url = start_dynalite(workdir / "dynalite")
        stack.callback(dynalite.wait, 10)
        stack.callback(dynalite.terminate)
        rows = [measure(size, workdir, url, args.workers) for size in sizes]

    workers = args.workers or "default"
    print(f"date: {datetime.now(KST).isoformat(timespec='seconds')}")
    print(
        f"warm cycle, {PER_STORE} bookings per store; latency naver "
        f"{NAVER_LATENCY * 1000:.0f} ms, dynamodb (dynalite) {DYNAMODB_LATENCY * 1000:.0f} ms; "
        f"workers {workers}"
    )
    print(
        f"{'stores':>6} {'bookings':>8} {'cycle s':>8} {'process s':>9} {'ms/store':>8} "
        f"{'RSS MB':>6} {'naver calls':>12} {'dynamodb calls':>15}"
    )
    for row in rows:
        print(
            f"{row['stores']:>6} {row['bookings']:>8} {row['cycle_s']:>8.2f} "
            f"{row['process_s']:>9.2f} {row['cycle_s'] * 1000 / row['stores']:>8.1f} "
            f"{row['rss_mb']:>6.0f} {row['naver']:>5} (min {row['min_naver']:>4}) "
            f"{row['dynamodb']:>5} (min {row['min_dynamodb']:>3})"
        )
    largest = rows[-1]
    if largest["stores"] == 500:
        verdict = "met" if largest["cycle_s"] <= TARGET_500_S else "MISSED"
        print(f"target: 500 stores <= {TARGET_500_S:.0f} s: {largest['cycle_s']:.2f} s, {verdict}")


if __name__ == "__main__":
    main()
