"""The Zip Lambda package: its size and the handler's cold import time.

Builds what deploy/Makefile builds (`sam build`), from this environment's
installed distributions instead of downloaded wheels, so it runs offline:
the distributions of deploy/requirements-zip.txt, the naver_sms package
without the sandbox, the demo and the owner's page, bytecode compiled with unchecked-hash
invalidation. This interpreter's version, not Lambda's 3.12, so the figures
are close, not exact. Then zips it and imports the handler in fresh
interpreters that see only the package (no site-packages).

    .venv/bin/python bench/lambda_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import compileall
import py_compile
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime
from importlib.metadata import distribution
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "deploy" / "requirements-zip.txt"
HANDLER = "naver_sms.entrypoints.lambda_handler"
# What the Makefile leaves out of the naver_sms package.
MAKEFILE = ROOT / "deploy" / "Makefile"
# What the Lambda Python runtime provides (/var/runtime): not in the zip.
RUNTIME_PROVIDED = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
)
TARGET_MB, TARGET_IMPORT_S = 15, 0.8


def requirement_names(path: Path = REQUIREMENTS) -> list[str]:
    """The distribution names pinned in a hashed requirements file."""
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==", line)
        if match:
            names.append(match.group(1))
    return names


def copy_distributions(names: list[str] | tuple[str, ...], package: Path) -> None:
    """The installed files of `names` under `package`, as `pip install --target` lays them out."""
    for name in names:
        dist = distribution(name)
        for file in dist.files or []:
            parts = file.parts
            # Installed scripts live outside site-packages; bytecode is compiled below.
            if parts[0] == ".." or "__pycache__" in parts or file.suffix == ".pyc":
                continue
            target = package / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(str(dist.locate_file(file))), target)


def build_runtime(dest: Path) -> Path:
    """A stand-in for the runtime's own boto3 (Lambda's /var/runtime), after the package."""
    runtime = dest / "runtime"
    runtime.mkdir(parents=True)
    copy_distributions(RUNTIME_PROVIDED, runtime)
    return runtime


def left_out(makefile: Path = MAKEFILE) -> list[str]:
    """What deploy/Makefile removes from the naver_sms package (paths inside it): read
    from the Makefile itself, so this build cannot drift from `sam build`'s."""
    text = makefile.read_text(encoding="utf-8")
    return re.findall(r'"\$\(ARTIFACTS_DIR\)/naver_sms/([^"]+)"', text)


def build_package(dest: Path) -> Path:
    """The Zip package's directory under `dest`, built from the installed distributions."""
    package = dest / "package"
    package.mkdir(parents=True)
    copy_distributions(requirement_names(), package)
    ours = package / "naver_sms"
    shutil.copytree(
        ROOT / "src" / "naver_sms", ours, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    for path in left_out():
        target = ours / path
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    compileall.compile_dir(
        package,
        quiet=2,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    return package


def zip_package(package: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(package.rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(package))
    return archive


def import_in_fresh_interpreter(package: Path, runtime: Path) -> tuple[float, list[str]]:
    """(seconds to import the handler, sorted top-level modules loaded) in a new process.

    `-I -S`: no site-packages, no PYTHONPATH, no user site: only the package
    and the standard library, then the runtime's boto3, as on Lambda.
    """
    code = (
        "import sys, time\n"
        f"sys.path[:0] = [{str(package)!r}, {str(runtime)!r}]\n"
        "started = time.perf_counter()\n"
        f"import {HANDLER}\n"
        "print(time.perf_counter() - started)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('naver_sms.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=package,
    )
    seconds, top, ours = done.stdout.splitlines()
    return float(seconds), top.split() + ours.split()


def size_mb(path: Path) -> float:
    return path.stat().st_size / 1_000_000


def tree_mb(package: Path) -> float:
    return sum(p.stat().st_size for p in package.rglob("*") if p.is_file()) / 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        package = build_package(Path(tmp))
        built = time.perf_counter() - started
        runtime = build_runtime(Path(tmp))
        archive = zip_package(package, Path(tmp) / "function.zip")
        times = [import_in_fresh_interpreter(package, runtime)[0] for _ in range(args.runs)]
        print(f"date: {datetime.now().astimezone().isoformat(timespec='seconds')}")
        print(f"python {sys.version.split()[0]} (Lambda runs 3.12); built in {built:.1f} s")
        print(
            f"zip: {size_mb(archive):.1f} MB (target <= {TARGET_MB} MB), "
            f"unpacked {tree_mb(package):.1f} MB, "
            f"{len(requirement_names())} distributions"
        )
        print(
            f"handler import, fresh interpreter, bytecode shipped: median "
            f"{statistics.median(times):.2f} s, max {max(times):.2f} s over {args.runs} "
            f"(target <= {TARGET_IMPORT_S} s)"
        )


if __name__ == "__main__":
    main()
