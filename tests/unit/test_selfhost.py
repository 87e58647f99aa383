"""The self-hosting recipes (deploy/systemd, deploy/selfhost) hold what the README promises.

Read as files, offline: nothing is built or started here.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy/systemd/naver-sms.service"
DOCKERFILE = ROOT / "deploy/selfhost/Dockerfile"
DOCKERIGNORE = ROOT / "deploy/selfhost/Dockerfile.dockerignore"
COMPOSE = ROOT / "deploy/selfhost/compose.yaml"
SECRET_NAMES = ("SENS_ACCESS_KEY", "SENS_SECRET_KEY", "NAVER_PASSWORD", "TELEGRAM_BOT_TOKEN")


def unit_entries() -> dict[str, list[tuple[str, str]]]:
    """Each section's (key, value) lines in order; systemd allows a key more than once."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
            continue
        key, _, value = line.partition("=")
        assert current is not None, line
        sections[current].append((key.strip(), value.strip()))
    return sections


def service() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in unit_entries()["Service"]:
        values.setdefault(key, []).append(value)
    return values


def test_the_unit_serves_as_its_own_user_with_the_records_in_its_state_directory() -> None:
    values = service()

    assert values["ExecStart"] == ["/opt/naver-sms/bin/naver-sms serve --every 300"]
    assert values["User"] == ["naver-sms"]
    assert values["StateDirectory"] == ["naver-sms"]
    assert values["StateDirectoryMode"] == ["0700"]
    environment = dict(value.split("=", 1) for value in values["Environment"])
    assert environment["NAVER_SMS_STORE"] == "sqlite"
    assert environment["NAVER_SMS_DB"].startswith("/var/lib/naver-sms/")
    assert environment["NAVER_SMS_OUTBOX"].startswith("/var/lib/naver-sms/")
    assert values["EnvironmentFile"] == ["/etc/naver-sms/naver-sms.env"]
    # The keys live in the env file only, never in the unit anyone can read.
    assert not any(name in environment for name in SECRET_NAMES)


def test_the_unit_restarts_after_a_crash_but_not_after_a_config_mistake() -> None:
    values = service()

    assert values["Restart"] == ["on-failure"]
    assert values["RestartPreventExitStatus"] == ["2"]
    assert values["KillSignal"] == ["SIGTERM"]
    assert int(values["TimeoutStopSec"][0]) >= 60


def test_the_unit_is_hardened_without_what_breaks_a_chromium_login() -> None:
    values = service()

    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert values[key] == [value], key
    # V8 writes the code it runs; Chromium's sandbox makes user namespaces.
    for key in ("MemoryDenyWriteExecute", "RestrictNamespaces", "PrivateUsers"):
        assert key not in values, key


def dockerfile_lines() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [" ".join(part.split()) for part in "\n".join(lines).replace("\\\n", " ").split("\n")]


def test_the_container_base_and_debian_packages_are_pinned() -> None:
    lines = dockerfile_lines()
    base = next(line for line in lines if line.startswith("ARG PYTHON_BASE="))
    snapshot = next(line for line in lines if line.startswith("ARG DEBIAN_SNAPSHOT="))

    assert re.fullmatch(r"ARG PYTHON_BASE=python:3\.12-slim-\w+@sha256:[0-9a-f]{64}", base)
    assert [line for line in lines if line.startswith("FROM ")] == ["FROM ${PYTHON_BASE}"]
    assert re.fullmatch(r"ARG DEBIAN_SNAPSHOT=\d{8}T\d{6}Z", snapshot)
    install = next(line for line in lines if "apt-get install" in line)
    assert "snapshot.debian.org/archive/" in install
    assert "chromium chromium-driver" in install
    pip = next(line for line in lines if "pip install" in line)
    assert "--require-hashes" in pip
    assert "--only-binary=:all:" in pip
    assert "-r /tmp/requirements.txt" in pip


def test_the_container_copies_no_secret_and_serves_as_a_non_root_user() -> None:
    lines = dockerfile_lines()
    copies = [line.split()[1] for line in lines if line.startswith("COPY ")]

    assert copies == ["deploy/requirements.txt", "src/naver_sms"]
    assert DOCKERIGNORE.read_text(encoding="utf-8").split("\n*\n")[1].split() == [
        "!src/naver_sms",
        "!deploy/requirements.txt",
        "**/__pycache__",
        "**/*.py[cod]",
    ]
    text = "\n".join(lines)
    assert not any(name in text for name in SECRET_NAMES)
    user = next(index for index, line in enumerate(lines) if line.startswith("USER "))
    assert lines[user] == "USER naver-sms:naver-sms"
    assert user > max(i for i, line in enumerate(lines) if line.startswith("RUN "))
    assert 'VOLUME ["/data"]' in lines
    assert "NAVER_SMS_DB=/data/naver-sms.db" in text
    assert lines[-2:] == [
        'ENTRYPOINT ["python", "-m", "naver_sms"]',
        'CMD ["serve", "--every", "300"]',
    ]


def test_compose_keeps_the_records_on_a_volume_and_the_keys_in_an_env_file() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    app = compose["services"]["naver-sms"]

    assert (
        COMPOSE.parent / app["build"]["context"] / app["build"]["dockerfile"]
    ).resolve() == DOCKERFILE
    assert "naver-sms-data:/data" in app["volumes"]
    assert "naver-sms-data" in compose["volumes"]
    assert "./naver-sms.yaml:/config/naver-sms.yaml:ro" in app["volumes"]
    assert app["env_file"] == [{"path": "naver-sms.env", "required": True}]
    assert not set(app.get("environment", {})) & set(SECRET_NAMES)
    assert app["restart"] == "unless-stopped"
    assert app["read_only"] is True
    assert app["cap_drop"] == ["ALL"]
