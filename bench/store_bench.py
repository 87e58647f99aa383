"""Store throughput: creates, claims and batch reads of 1,000 bookings per backend.

Backends: SQLite (a file in a temporary directory), moto_server and dynalite
on loopback (the DynamoDB API over HTTP, no network latency added). Prints a
table; the README carries the latest figures.

    .venv/bin/python bench/store_bench.py [--bookings 1000] [--threads 8]
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from naver_sms.database.base import BookingRepositoryPort
from naver_sms.database.dynamodb_client import (
    BookingRepository,
    create_tables,
    make_client,
)
from naver_sms.database.sqlite_repository import SqliteBookingRepository
from naver_sms.domain.booking import KST
from naver_sms.utils.logger import configure_logging
from tests.servers import start_dynalite, start_moto_server

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=KST)


@contextmanager
def backends(workdir: Path) -> Iterator[dict[str, Callable[[], BookingRepositoryPort]]]:
    """name -> a factory of fresh stores on the same tables (one per thread)."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    moto, moto_url = start_moto_server()
    dynalite, dynalite_url = start_dynalite(workdir / "dynalite")
    try:
        stores: dict[str, Callable[[], BookingRepositoryPort]] = {
            "sqlite": lambda: SqliteBookingRepository(workdir / "bench.db")
        }
        for name, url in (("moto_server", moto_url), ("dynalite", dynalite_url)):
            client = make_client(endpoint_url=url)
            table = f"sms_{uuid.uuid4().hex[:8]}"
            create_tables(client, bookings_table=table, session_table=f"session_{table}")
            stores[name] = functools.partial(BookingRepository, table, client=client)
        yield stores
    finally:
        moto.stop()  # type: ignore[attr-defined]
        dynalite.terminate()
        dynalite.wait(timeout=10)


def booking(index: int) -> dict[str, Any]:
    return {
        "booking_num": f"5000001_{1100000000 + index}",
        "phone": f"010-0000-{index % 10000:04d}",
        "name": "벤치 고객",
        "booking_time": "2026-11-25 14:00:00",
        "item_name": "스튜디오 A",
    }


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def parallel(threads: int, work: Callable[[int], object], items: int) -> float:
    """Seconds for `threads` threads to share `items` calls of work(index)."""

    def run(offset: int) -> None:
        for index in range(offset, items, threads):
            work(index)

    workers = [threading.Thread(target=run, args=(offset,)) for offset in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def measure(
    factory: Callable[[], BookingRepositoryPort], count: int, threads: int
) -> dict[str, float]:
    store = factory()
    records = [booking(index) for index in range(count)]
    keys = [(record["booking_num"], record["phone"]) for record in records]

    create_s = timed(lambda: [store.create_booking(record) for record in records])
    reads = [timed(lambda: store.get_bookings(keys)) for _ in range(5)]
    if len(store.get_bookings(keys)) != count:
        raise SystemExit(f"batch read lost records on {store!r}")

    claim_s = timed(
        lambda: [store.claim(num, phone, "confirm_sms", "bench-1", NOW) for num, phone in keys]
    )
    # Threads racing for the same claims: every attempt is a conditional write.
    per_thread = [factory() for _ in range(threads)]
    race_s = parallel(
        threads,
        lambda index: per_thread[index % threads].claim(
            keys[index % count][0], keys[index % count][1], "remind_sms", f"t{index}", NOW
        ),
        count,
    )
    return {
        "creates/s": count / create_s,
        "claims/s (1 thread)": count / claim_s,
        f"claims/s ({threads} threads)": count / race_s,
        f"batch read {count} (ms, median of 5)": statistics.median(reads) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    configure_logging("ERROR")  # one JSON line per operation would dominate the timing
    # moto's in-process server logs each request it serves on werkzeug's logger.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory() as tmp, backends(Path(tmp)) as stores:
        results = {
            name: measure(factory, args.bookings, args.threads) for name, factory in stores.items()
        }

    print(f"date: {datetime.now(KST).isoformat(timespec='seconds')}")
    metrics = list(next(iter(results.values())))
    width = max(len(metric) for metric in metrics)
    print(f"{'':{width}}  " + "  ".join(f"{name:>11}" for name in results))
    for metric in metrics:
        print(
            f"{metric:{width}}  " + "  ".join(f"{results[name][metric]:>11.0f}" for name in results)
        )


if __name__ == "__main__":
    main()
