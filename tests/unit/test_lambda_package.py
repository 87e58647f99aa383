"""The Zip Lambda package: what it holds, its size, and what its handler imports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bench.lambda_bench import (
    RUNTIME_PROVIDED,
    build_package,
    build_runtime,
    import_in_fresh_interpreter,
    left_out,
    zip_package,
)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Only the browser (selenium's stack) and the command line (click, rich's stack) need these.
NOT_IN_ZIP = {
    "attrs",
    "click",
    "markdown-it-py",
    "mdurl",
    "outcome",
    "pygments",
    "pysocks",
    "rich",
    "selenium",
    "sniffio",
    "sortedcontainers",
    "trio",
    "trio-websocket",
    "websocket-client",
    "wsproto",
}


def _entries(path: Path) -> dict[str, str]:
    """name -> the whole entry (pin and hashes) of a hashed requirements file."""
    text = path.read_text(encoding="utf-8").strip()
    return {
        entry.split("==")[0]: entry
        for entry in re.split(r"\n(?=\S)", text)
        if not entry.startswith("#")
    }


def test_the_zip_requirements_are_the_image_s_without_the_browser_the_cli_and_boto3() -> None:
    image, zipped = _entries(DEPLOY / "requirements.txt"), _entries(DEPLOY / "requirements-zip.txt")
    assert set(zipped) == set(image) - NOT_IN_ZIP - set(RUNTIME_PROVIDED)
    for name, entry in zipped.items():
        assert entry == image[name], f"{name}: the zip's pin and hashes differ from the image's"
    assert "selenium" in image  # the image variant keeps its browser


def test_sam_builds_the_zip_function_with_the_makefile_and_bytecode() -> None:
    text = (DEPLOY / "template.yaml").read_text(encoding="utf-8")
    template = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    function = template["Resources"]["CycleFunction"]
    assert function["Metadata"] == {"BuildMethod": "makefile", "ContextPath": "."}
    assert function["Properties"]["Runtime"] == "python3.12"
    makefile = (DEPLOY / "Makefile").read_text(encoding="utf-8")
    assert "build-CycleFunction:" in makefile
    assert '-r "$(HERE)requirements-zip.txt"' in makefile
    assert "--require-hashes --only-binary=:all:" in makefile
    assert "--invalidation-mode unchecked-hash" in makefile
    # The bench builds the zip leaving out what the Makefile's `rm -rf` lines name.
    assert sorted(left_out()) == [
        "demo.py",
        "entrypoints/cli_web.py",
        "sandbox",
        "web",
    ]
    # A manifest in samconfig.toml would replace the Makefile as what `sam build` runs.
    assert "manifest" not in (DEPLOY / "samconfig.toml").read_text(encoding="utf-8")


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags read as plain values."""


_Loader.add_multi_constructor("!", lambda loader, _suffix, node: None)


@pytest.mark.slow
def test_the_zip_is_small_and_its_handler_imports_nothing_of_the_browser_or_cli(
    tmp_path: Path,
) -> None:
    package = build_package(tmp_path)
    archive = zip_package(package, tmp_path / "function.zip")
    assert archive.stat().st_size <= 15_000_000
    assert not (package / "selenium").exists()
    assert not (package / "naver_sms" / "sandbox").exists()
    assert list((package / "naver_sms" / "__pycache__").glob("*.pyc"))

    _seconds, modules = import_in_fresh_interpreter(package, build_runtime(tmp_path))

    assert "naver_sms.entrypoints.lambda_handler" in modules
    for heavy in ("selenium", "trio", "rich", "click", "pygments", "naver_sms.sandbox"):
        assert heavy not in modules, f"{heavy} is loaded by the Lambda handler"
