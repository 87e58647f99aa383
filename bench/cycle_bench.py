"""Cycles of `naver-sms run`: cold (every booking new), delivery checks, warm (nothing due).

Workload W: 8 stores x (50 confirmed visits in the coming days + 10 completed
today, each with a review option), at 20:30 KST so the cold cycle sends 400
confirmations and 80 post-visit events. Latency is added on loopback: sandbox
Naver 50 ms per request, the DynamoDB-API server 10 ms (a proxy in front of
dynalite, or moto_server; or an SQLite file, `--store sqlite`), the fake SENS
100 ms.

The cycles: cold at 20:30 (everything sent), then 20:35 and 20:40 (the 480
delivery results are due: at most 300 SENS lookups a cycle, the rest next
cycle), then warm at 21:30 (nothing due, nothing to check). Each cycle is a
fresh `naver-sms run --json` process (as cron or a Lambda cold start would
run it). Printed: the cycle's own duration (the report's
duration_ms), the process's wall time, calls per remote service against the
minimum a cycle could make, and the process's peak RSS. Last, the warm
cycle once more (21:35) as the Lambda runs it: the handler in an interpreter
that sees only the Zip package (built as bench/lambda_bench.py builds it) and
the runtime's boto3, for the DynamoDB deployment's own peak RSS.

    .venv/bin/python bench/cycle_bench.py [--store dynalite|moto_server|sqlite]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.installed import compile_package
from bench.lambda_bench import build_package, build_runtime
from naver_sms import bootstrap
from naver_sms.config import load_settings
from naver_sms.domain.booking import KST
from naver_sms.sandbox.naver import NaverSandbox, booking_entry
from naver_sms.sandbox.sens import FakeSens
from tests.fault_proxy import FaultProxy
from tests.servers import free_port, start_dynalite, wait_for_port

STORES = [str(5000001 + n) for n in range(8)]
CONFIRMED, COMPLETED = 50, 10
NOW = datetime(2026, 11, 25, 20, 30, tzinfo=KST)
PAGE = 50  # the booking client's page size
NAVER_LATENCY, DYNAMODB_LATENCY, SENS_LATENCY = 0.05, 0.01, 0.1
TARGET_WARM_S, TARGET_CALLS, TARGET_RSS_MB = 0.25, 1.1, 70


class LatencyProxy(FaultProxy):
    """Forwards to the DynamoDB-API server after a delay; counts requests per operation
    and the server's own time per operation (`served`: seconds, one per request)."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.served: dict[str, list[float]] = {}

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        time.sleep(DYNAMODB_LATENCY)
        started = time.perf_counter()
        try:
            return super()._forward(method, path, headers, body)
        finally:
            operation = headers.get("X-Amz-Target", "").rpartition(".")[2]
            with self._lock:
                self.served.setdefault(operation, []).append(time.perf_counter() - started)

    def clear(self) -> None:
        super().clear()
        with self._lock:
            self.served.clear()

    def slowest(self) -> str:
        """The operation the server spent most time on: its requests, median and total."""
        with self._lock:
            if not self.served:
                return "nothing"
            operation, times = max(self.served.items(), key=lambda item: sum(item[1]))
            return (
                f"{operation} x{len(times)}, median {statistics.median(times) * 1000:.0f} ms, "
                f"{sum(times):.2f} s in all"
            )


def raw_booking(biz_id: str, store_no: int, index: int, start: datetime) -> dict[str, Any]:
    return booking_entry(
        biz_id,
        1_200_000_000 + store_no * 1000 + index,
        start,
        status="RC08" if start < NOW else "RC03",
        name="벤치고객",
        phone=f"010{store_no:04d}{index:04d}",
        options=["네이버 리뷰 이벤트 참여"],
    )


def load_workload(naver: NaverSandbox) -> None:
    today = NOW.replace(hour=10, minute=0)
    for store_no, biz_id in enumerate(STORES):
        for index in range(COMPLETED):
            naver.add_booking(biz_id, raw_booking(biz_id, store_no, index, today))
        for index in range(CONFIRMED):
            start = today + timedelta(days=1 + index % 10, hours=index // 10)
            naver.add_booking(biz_id, raw_booking(biz_id, store_no, COMPLETED + index, start))


def config_file(path: Path) -> Path:
    stores = [
        {"id": biz_id, "name": f"벤치 {n + 1}호점", "sender": "0200000000", "opt_out": "0800000000"}
        for n, biz_id in enumerate(STORES)
    ]
    path.write_text(yaml.safe_dump({"stores": stores}, allow_unicode=True), encoding="utf-8")
    return path


def minimum_calls(*, cold: bool) -> dict[str, int]:
    """The fewest calls one cycle can make for W (the pages of data per store and status)."""
    # Read until a short page: a read of n bookings costs n // PAGE + 1 pages
    # (50 confirmed fill page 0 exactly, so an empty page 1 says "the end").
    pages = (CONFIRMED // PAGE + 1) + (COMPLETED // PAGE + 1)
    # Per store: its pages; the first store's first page checks the session.
    naver = len(STORES) * pages
    keys = len(STORES) * (CONFIRMED + COMPLETED)
    # The session, BatchGetItem of 100 keys, one Query of the delivery queue.
    dynamodb = 1 + math.ceil(keys / 100) + 1
    if cold:
        # One transaction per 100 new records (each with its first claim), one per
        # SENS request's marks, one BatchWriteItem per 25 history entries.
        per_store = CONFIRMED + COMPLETED
        dynamodb += len(STORES) * (
            math.ceil(per_store / 100)
            + math.ceil(CONFIRMED / 100)
            + math.ceil(COMPLETED / 100)
            + math.ceil(CONFIRMED / 25)
            + math.ceil(COMPLETED / 25)
        )
        return {"naver": naver, "dynamodb": dynamodb, "sens": len(STORES) * 2}
    return {"naver": naver, "dynamodb": dynamodb, "sens": 0}


def per_message(requests: int, sent: int) -> str:
    """Issue 18's figure: store requests per message sent (target: at most 1.2)."""
    return f"; {requests / sent:.2f} store requests a message" if sent else ""


@contextmanager
def moto_server_process() -> Iterator[str]:
    """moto's server in a process of its own; its URL.

    Not in a thread of this process: moto keeps every item it stores in
    memory, and a `naver-sms run` started from a large process inherits its
    resident pages until it execs, which counts in the run's peak RSS.
    """
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, 30)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()  # werkzeug may wait on a kept-alive connection
            server.wait(10)


# Runs the command given and writes its peak RSS (KiB) to the file named first.
# A process's peak RSS counts the pages it inherited until it exec'd: a run
# started straight from this process would report this process's own peak
# (the sandboxes, and moto's items when it runs in a thread). Measured from
# a small process's children, it is the run's own.
_PEAK_RSS_OF_CHILD = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def _measured(command: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """(stdout, wall seconds, peak RSS MB) of `command`; the run's failure ends the bench."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as peak:
        started = time.perf_counter()
        process = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS_OF_CHILD, peak.name, *command],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if process.returncode != 0:
            raise SystemExit(
                f"the cycle failed (exit {process.returncode}): {process.stderr[-500:]}"
            )
        return process.stdout, wall, int(peak.read() or 0) / 1024  # KiB on Linux


def run_cycle_process(env: dict[str, str], now: datetime) -> tuple[dict[str, Any], float, float]:
    """(report, wall seconds, peak RSS MB) of one `naver-sms run --json` process."""
    command = [sys.executable, "-m", "naver_sms", "run", "--json", "--now", now.isoformat()]
    output, wall, rss = _measured(command, env)
    return json.loads(output), wall, rss


# One cycle through the Lambda handler, in an interpreter that sees only the
# Zip package and the runtime's boto3 (`-I -S`, as bench/lambda_bench.py
# imports it): the DynamoDB deployment's own memory, without the CLI's
# packages (rich, click, selenium and trio, which httpcore picks up). Its
# result is the last line on stdout, after the metrics' EMF lines.
_HANDLER_CYCLE = (
    "import json, sys\n"
    "sys.path[:0] = sys.argv[2:4]\n"
    "from naver_sms.entrypoints.lambda_handler import handler\n"
    "print(json.dumps(handler({'now': sys.argv[1]})))\n"
)


def run_handler_process(
    env: dict[str, str], now: datetime, package: Path, runtime: Path
) -> tuple[dict[str, Any], float, float]:
    """(report, wall seconds, peak RSS MB) of one cycle run by the Lambda handler."""
    command = [sys.executable, "-I", "-S", "-c", _HANDLER_CYCLE, now.isoformat()]
    output, wall, rss = _measured([*command, str(package), str(runtime)], env)
    return json.loads(output.splitlines()[-1]), wall, rss


def warm_lambda_cycle(env: dict[str, str], naver: NaverSandbox, workdir: Path) -> tuple[str, float]:
    """The printed row and peak RSS (MB) of a warm cycle (21:35) run by the handler
    from the Zip package."""
    package, runtime = build_package(workdir), build_runtime(workdir)
    naver.reset_counters()
    report, wall, rss = run_handler_process(
        env, NOW + timedelta(hours=1, minutes=5), package, runtime
    )
    return (
        f"warm, Lambda package (the handler, 21:35): cycle {report['duration_ms'] / 1000:.2f} s, "
        f"process {wall:.2f} s, peak RSS {rss:.0f} MB: naver list {sum(naver.requests.values())}"
    ), rss


def print_rows(rows: list[tuple[Any, ...]]) -> None:
    """Each cycle's figures: times, peak RSS, what it did, calls against the minimum."""
    for name, report, wall, rss, calls, minimum, kinds, slowest in rows:
        sent = (", ".join(f"{k} {n}" for k, n in sorted(kinds.items()) if n) or "nothing") + (
            per_message(calls["dynamodb"], len(report["sent"])) if "dynamodb" in calls else ""
        )
        print(
            f"{name}: cycle {report['duration_ms'] / 1000:.2f} s, process {wall:.2f} s, "
            f"peak RSS {rss:.0f} MB: {sent}"
        )
        for service in calls:
            checking = name.startswith("checks")
            ratio = calls[service] / minimum[service] if minimum[service] else float("nan")
            shown = f"{ratio:.2f}x" if minimum[service] and not checking else "-"
            print(f"  {service:<9} {calls[service]:>5} calls (minimum {minimum[service]}, {shown})")
        if slowest is not None:
            # Where the fake server's own time (past the 10 ms set) is what the cycle waits for.
            print(f"  the DynamoDB-API server's most time: {slowest}")


def print_targets(warm_row: tuple[Any, ...], lambda_rss: float | None) -> None:
    """The warm cycle against its targets."""
    _name, warm, _wall, warm_rss, warm_calls, warm_min, _kinds, _slowest = warm_row
    print(
        f"warm targets: cycle <= {TARGET_WARM_S} s: {warm['duration_ms'] / 1000:.2f} s; "
        f"calls <= {TARGET_CALLS}x minimum: "
        + ", ".join(
            f"{s} {warm_calls[s] / warm_min[s]:.2f}x"
            for s in ("naver", "dynamodb")
            if s in warm_calls and warm_min[s]
        )
        + f"; peak RSS <= {TARGET_RSS_MB} MB: {warm_rss:.0f} MB (`run`)"
        + ("" if lambda_rss is None else f", {lambda_rss:.0f} MB (the Lambda)")
    )


def store_environment(
    store: str, workdir: Path, stack: ExitStack
) -> tuple[LatencyProxy | None, dict[str, str]]:
    """The store's server (with its latency proxy; none for SQLite) and the runs' variables."""
    if store == "sqlite":
        return None, {"NAVER_SMS_STORE": "sqlite", "NAVER_SMS_DB": str(workdir / "bench.db")}
    if store == "dynalite":
        dynalite, upstream = start_dynalite(workdir / "dynalite")
        stack.callback(dynalite.wait, 10)
        stack.callback(dynalite.terminate)
    else:
        upstream = stack.enter_context(moto_server_process())
    proxy = LatencyProxy(upstream).start()
    stack.callback(proxy.stop)
    suffix = uuid.uuid4().hex[:8]
    return proxy, {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
        "NAVER_SMS_STORE": "dynamodb",
        "AWS_ENDPOINT_URL": proxy.url,
        "NAVER_SMS_BOOKINGS_TABLE": f"sms_{suffix}",
        "NAVER_SMS_SESSION_TABLE": f"session_{suffix}",
        "NAVER_SMS_SENT_TABLE": f"sms_sent_{suffix}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store", choices=["dynalite", "moto_server", "sqlite"], default="dynalite"
    )
    args = parser.parse_args()
    compile_package()
    # boto3 reads credentials from the environment, in this process and the runs.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        naver = stack.enter_context(NaverSandbox(now=NOW, stores=dict.fromkeys(STORES, 0)))
        naver.latency = NAVER_LATENCY
        load_workload(naver)
        sens = stack.enter_context(FakeSens())
        sens.latency = SENS_LATENCY
        proxy, store_env = store_environment(args.store, workdir, stack)
        env = {
            **os.environ,
            "NAVER_SMS_CONFIG": str(config_file(workdir / "bench.yaml")),
            **store_env,
            **naver.environment(),
            "SENS_ACCESS_KEY": sens.access_key,
            "SENS_SECRET_KEY": sens.secret_key,
            "SENS_SERVICE_ID": sens.service_id,
            "SENS_URL": sens.url,
        }
        settings = load_settings(env)
        bootstrap.create_tables(settings)
        with bootstrap.session_repository(settings) as sessions:
            sessions.save_session(json.dumps(naver.issue_session()))

        rows = []
        cycles = (
            ("cold", NOW),
            ("checks", NOW + timedelta(minutes=5)),
            ("checks 2", NOW + timedelta(minutes=10)),
            ("warm", NOW + timedelta(hours=1)),
        )
        for name, now in cycles:
            naver.reset_counters()
            if proxy is not None:
                proxy.clear()
            # Counted by difference: clearing the fake would forget the messages
            # whose results the next cycles look up.
            sens_before, lookups_before = sens.requests, sens.lookup_requests
            report, wall, rss = run_cycle_process(env, now)
            by_kind = dict(naver.requests)
            calls = {"naver": sum(naver.requests.values())}
            if proxy is not None:  # an SQLite file takes no requests
                calls["dynamodb"] = sum(proxy.requests.values())
            calls["sens"] = sens.requests - sens_before
            kinds = Counter(item["kind"] for item in report["sent"])
            kinds["delivered"] = len(report["delivered"])
            kinds["SENS lookups"] = sens.lookup_requests - lookups_before
            kinds.update({f"naver {k}": n for k, n in by_kind.items()})
            minimum = minimum_calls(cold=name == "cold")
            slowest = proxy.slowest() if proxy is not None else None
            rows.append((name, report, wall, rss, calls, minimum, kinds, slowest))
        # The same warm cycle again, as the Lambda runs it (the Lambda stores in DynamoDB).
        lambda_row, lambda_rss = (
            warm_lambda_cycle(env, naver, workdir / "lambda") if proxy is not None else (None, None)
        )

    print(f"date: {datetime.now(KST).isoformat(timespec='seconds')}")
    print(
        f"workload: {len(STORES)} stores x ({CONFIRMED} confirmed + {COMPLETED} completed); "
        f"latency naver {NAVER_LATENCY * 1000:.0f} ms, "
        + (
            "an SQLite file"
            if args.store == "sqlite"
            else f"dynamodb ({args.store}) {DYNAMODB_LATENCY * 1000:.0f} ms"
        )
        + f", sens {SENS_LATENCY * 1000:.0f} ms"
    )
    print_rows(rows)
    if lambda_row is not None:
        print(lambda_row)
    print_targets(rows[-1], lambda_rss)


if __name__ == "__main__":
    main()
