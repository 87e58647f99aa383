"""Benches measure the package as installed: with its bytecode compiled.

pip compiles a package's modules when it installs them. A checkout run from
source compiles each module on its first import and keeps the result, unless
PYTHONDONTWRITEBYTECODE is set (as on some CI and container images): then
every process compiles the project's 40-odd modules again, about 0.1 s that
no installed copy pays. Compiling them first (into the git-ignored
`__pycache__`) makes the figures the installed copy's, whatever that setting.
"""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "naver_sms"


def compile_package() -> None:
    """Write the bytecode of every module of the package that has none or an old one."""
    compileall.compile_dir(PACKAGE, quiet=1, workers=0)
