"""Start-up: `naver-sms --help`, `naver-sms run --help` and the Lambda handler's import.

Each figure is the median wall time of fresh interpreters (what a shell, cron
or a Lambda cold start pays before any work), with the date. Issue 18's
target: `--help` within 0.25 s.

    .venv/bin/python bench/startup_bench.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.installed import compile_package

SRC = Path(__file__).resolve().parent.parent / "src"
KST = timezone(timedelta(hours=9))
TARGET_HELP_S = 0.25


def median_wall(args: list[str], runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=True)
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    compile_package()
    python = sys.executable
    figures = {
        "python -c pass": median_wall([python, "-c", "pass"], runs),
        "naver-sms --help": median_wall([python, "-m", "naver_sms", "--help"], runs),
        "naver-sms run --help": median_wall([python, "-m", "naver_sms", "run", "--help"], runs),
        "import the Lambda handler": median_wall(
            [python, "-c", "import naver_sms.entrypoints.lambda_handler"], runs
        ),
    }
    print(f"date: {datetime.now(UTC).astimezone(KST).isoformat(timespec='seconds')}")
    print(f"python {sys.version.split()[0]}, median of {runs} fresh processes")
    for name, wall in figures.items():
        print(f"  {name:<28} {wall:.3f} s")
    help_s = figures["naver-sms --help"]
    verdict = "met" if help_s <= TARGET_HELP_S else "NOT met"
    print(f"target: --help <= {TARGET_HELP_S} s: {help_s:.3f} s ({verdict})")


if __name__ == "__main__":
    main()
