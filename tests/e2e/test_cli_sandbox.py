"""`naver-sms sandbox` as a separate process, then the README's "Try it first" steps against it.

The sandbox runs as a person starts it; the test reads its printed `export`
lines as a shell would, then runs `init`, `session import`, `run --dry-run`,
`run` and `messages` with the CLI, and reads from the sandbox's own closing
line how many texts its fake SENS accepted.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from naver_sms.domain.booking import KST

# Runs `naver-sms` with the sandbox command registered, as cli.py will have it.
LAUNCH = (
    "from naver_sms.entrypoints.cli import cli, main\n"
    "from naver_sms.entrypoints.cli_sandbox import sandbox\n"
    "cli.commands.setdefault('sandbox', sandbox)\n"
    "main()\n"
)
EXPORTED = {
    "NAVER_BOOKING_URL",
    "NAVER_LOGIN_URL",
    "SENS_ACCESS_KEY",
    "SENS_SECRET_KEY",
    "SENS_SERVICE_ID",
    "SENS_ALIMTALK_SERVICE_ID",
    "SENS_URL",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_CHAT_ID",
    "TELEGRAM_API_URL",
    "NAVER_USERNAME",
    "NAVER_PASSWORD",
    "NAVER_SMS_STORE",
    "NAVER_SMS_DB",
    "NAVER_SMS_OUTBOX",
}


def _clean_environment() -> dict[str, str]:
    """The test process's environment without any naver-sms setting a developer may have."""
    prefixes = ("NAVER_", "SENS_", "TELEGRAM_", "AWS_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


class Sandbox:
    def __init__(self, folder: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, "sandbox", *args],
            cwd=folder,
            env=_clean_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def exports(self) -> dict[str, str]:
        """The `export` lines as a shell reads them, once all of them are printed."""
        found: dict[str, str] = {}
        while not found.keys() >= EXPORTED:
            line = self.lines.get(timeout=20)
            if line is None:
                pytest.fail(f"the sandbox ended early: {self.stop()[1]}")
            words = shlex.split(line)
            assert words[0] == "export", line
            name, _, value = words[1].partition("=")
            found[name] = value
        return found

    def stop(self) -> tuple[int, str]:
        """SIGTERM, as systemd or `kill` sends it: (exit code, what it said on stderr)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=20)
        return self.process.returncode, stderr


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path)
    try:
        yield sandbox
    finally:
        if sandbox.process.poll() is None:
            sandbox.process.kill()
            sandbox.process.communicate(timeout=20)


def naver_sms(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "naver_sms", *args],
        cwd=folder,
        env={**_clean_environment(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"naver-sms {' '.join(args)}: {result.stderr}"
    return result


def test_the_readme_steps_against_the_sandbox_text_the_fake_sens_once(
    started: Sandbox, tmp_path: Path
) -> None:
    env = started.exports()
    cookies = tmp_path / "naver-sandbox-cookies.json"

    assert stat.S_IMODE(cookies.stat().st_mode) == 0o600
    for name in ("NAVER_BOOKING_URL", "SENS_URL", "TELEGRAM_API_URL"):
        assert env[name].startswith("http://127.0.0.1:"), name
    naver_sms(tmp_path, env, "init")
    imported = naver_sms(tmp_path, env, "session", "import", str(cookies))
    assert imported.stdout.startswith("imported 2 cookies (NID_AUT, NID_SES)")

    rehearsal = json.loads(naver_sms(tmp_path, env, "run", "--dry-run", "--json").stdout)
    real = json.loads(naver_sms(tmp_path, env, "run", "--json").stdout)
    again = json.loads(naver_sms(tmp_path, env, "run", "--json").stdout)
    listed = naver_sms(tmp_path, env, "messages", "--json")

    assert rehearsal["dry_run"] is True
    assert rehearsal["sent"], "tomorrow's confirmed bookings are due a confirmation"
    assert Path(env["NAVER_SMS_OUTBOX"]).read_text(encoding="utf-8").count("\n") == len(
        rehearsal["sent"]
    )
    assert {(s["booking_num"], s["kind"]) for s in real["sent"]} == {
        (s["booking_num"], s["kind"]) for s in rehearsal["sent"]
    }
    assert again["sent"] == []
    rows = json.loads(listed.stdout)
    assert len(rows) == len(real["sent"])
    assert all("****" in row["phone_masked"] for row in rows)
    assert {row["store"] for row in rows} == {"5000001", "5000002"}

    code, said = started.stop()

    assert code == 0, said
    assert "FAKE AND LOCAL" in said
    assert "user sandbox-owner, password sandbox-password" in said
    today = datetime.now(KST).date().isoformat()
    assert today in said
    # Only the real run reached the fake SENS: the rehearsal and the repeat sent nothing.
    assert said.strip().splitlines()[-1] == (
        f"sandbox stopped: the fake SENS accepted {len(real['sent'])} texts and 0 AlimTalk."
    )
    assert Path(env["NAVER_SMS_DB"]).parent == tmp_path


def test_a_port_already_in_use_is_one_line_naming_the_option(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        sandbox = Sandbox(tmp_path, "--port", str(port))
        _, stderr = sandbox.process.communicate(timeout=30)

    assert sandbox.process.returncode == 2
    assert stderr.splitlines() == [
        f"error: --port {port}: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "another program (an earlier sandbox?) uses it: stop it, or choose another --port "
        "(the sandbox takes 3 ports from it)"
    ]
    assert not (tmp_path / "naver-sandbox-cookies.json").exists()


def three_free_ports() -> int:
    """A port free on loopback whose next two are free too (the sandbox takes three)."""
    for _attempt in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port > 65533:
            continue
        sockets = [socket.socket() for _ in range(3)]
        try:
            for offset, sock in enumerate(sockets):
                sock.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return port
    raise AssertionError("no three consecutive free ports on loopback")


def test_a_fixed_port_gives_the_same_urls_after_a_restart(tmp_path: Path) -> None:
    port = three_free_ports()
    urls = []
    for _ in range(2):
        sandbox = Sandbox(tmp_path, "--port", str(port))
        env = sandbox.exports()
        code, said = sandbox.stop()
        assert code == 0, said
        urls.append((env["NAVER_BOOKING_URL"], env["SENS_URL"], env["TELEGRAM_API_URL"]))

    assert (
        urls[0]
        == urls[1]
        == (
            f"http://127.0.0.1:{port}",
            f"http://127.0.0.1:{port + 1}",
            f"http://127.0.0.1:{port + 2}",
        )
    )


def test_the_readme_lists_the_steps_this_test_runs() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Try it first with the sandbox", 1)[1].split("\n## ", 1)[0]
    commands = [
        " ".join(line.split("#", 1)[0].split()[:3])
        for block in section.split("```sh\n")[1:]
        for line in block.split("```", 1)[0].splitlines()
    ]

    assert commands == [
        "naver-sms sandbox",
        "naver-sms init",
        "naver-sms session import",
        "naver-sms run --dry-run",
        "naver-sms run",
        "naver-sms messages",
    ]
