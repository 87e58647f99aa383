"""Start the loopback DynamoDB-API servers (dynalite, moto_server): tests and bench/ use these."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DYNALITE = ROOT / "node_modules" / ".bin" / "dynalite"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def start_dynalite(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """dynalite (npm, pinned in package-lock.json) on a free loopback port, data in `data_dir`."""
    if not DYNALITE.exists():
        raise FileNotFoundError(f"{DYNALITE} is missing: run `npm ci`")
    port = free_port()
    process = subprocess.Popen(
        [
            str(DYNALITE),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--path",
            str(data_dir),
            # Tables are ACTIVE at once instead of after dynalite's simulated 500 ms.
            "--createTableMs",
            "0",
            "--deleteTableMs",
            "0",
            "--updateTableMs",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
    except RuntimeError:
        process.kill()
        raise
    return process, f"http://127.0.0.1:{port}"


def start_moto_server() -> tuple[object, str]:
    """moto's server in a thread on a free loopback port: (server, url); call server.stop()."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - flask is slow to import

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"
