"""The engine under systemd's notify protocol: READY once up, WATCHDOG while alive, STOPPING."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.integration


def test_the_engine_tells_systemd_it_is_ready_alive_and_stopping(
    tmp_path, engine_config, engine_env
):
    """A notify socket sees READY=1, then WATCHDOG=1 at the interval, then STOPPING=1."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(30)
    env = {**engine_env, "NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "200000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "--config", str(engine_config), "--log-format", "json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and seen.count("WATCHDOG=1") < 2:
            seen += sock.recv(4096).decode().splitlines()
        proc.send_signal(signal.SIGTERM)
        while "STOPPING=1" not in seen:
            seen += sock.recv(4096).decode().splitlines()
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()
    assert seen.index("READY=1") < seen.index("WATCHDOG=1") < seen.index("STOPPING=1")
    assert f"MAINPID={proc.pid}" in seen
    assert proc.returncode == 0
