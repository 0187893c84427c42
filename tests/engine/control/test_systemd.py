"""sd_notify datagrams reach a real AF_UNIX datagram socket the test binds, as systemd's would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.control.systemd import (
    Notifier,
    NotifySocketError,
    notify_address,
    watchdog_interval_ns,
)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket bound at a path, like systemd's notify socket; yields it and the path."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    try:
        yield sock, path
    finally:
        sock.close()


def _lines(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_ready_sends_ready_and_main_pid(listener, monkeypatch):
    """ready() sends READY=1 with this process's MAINPID and the status line in one datagram."""
    sock, path = listener
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    assert Notifier().ready("trading on sim")
    assert _lines(sock) == ["READY=1", f"MAINPID={os.getpid()}", "STATUS=trading on sim"]


def test_abstract_namespace_names_are_reached(monkeypatch):
    """An '@' name in NOTIFY_SOCKET is the abstract socket of that name (leading NUL)."""
    name = f"hft-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(10)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert Notifier().stopping()
        assert _lines(sock) == ["STOPPING=1"]


def test_watchdog_is_sent_only_when_watchdog_usec_is_set(listener, monkeypatch):
    """Without WATCHDOG_USEC watchdog() sends nothing; with it, WATCHDOG=1 goes out."""
    sock, path = listener
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    quiet = Notifier()
    assert quiet.watchdog_interval_ns is None
    assert not quiet.watchdog()
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    watched = Notifier()
    assert watched.watchdog()
    assert quiet.status("marker")  # the quiet one sent nothing before this: the next is ours
    assert _lines(sock) == ["WATCHDOG=1"]
    assert _lines(sock) == ["STATUS=marker"]


def test_watchdog_interval_is_half_of_watchdog_usec():
    """The interval is half the period systemd gives, in integer nanoseconds."""
    assert watchdog_interval_ns({"WATCHDOG_USEC": "20000000"}) == 10_000_000_000
    assert watchdog_interval_ns({"WATCHDOG_USEC": "3"}) == 1_500
    assert watchdog_interval_ns({}) is None
    assert watchdog_interval_ns({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval_ns({"WATCHDOG_USEC": "soon"}) is None


def test_watchdog_for_another_pid_is_not_ours():
    """WATCHDOG_PID naming another process means the watchdog is not this process's to pet."""
    env = {"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert watchdog_interval_ns(env) is None
    env["WATCHDOG_PID"] = str(os.getpid())
    assert watchdog_interval_ns(env) == 500_000_000


def test_status_text_stays_on_one_line(listener, monkeypatch):
    """A status with newlines is sent as one STATUS line, so it cannot inject assignments."""
    sock, path = listener
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    assert Notifier().status("halted\nREADY=1")
    assert _lines(sock) == ["STATUS=halted READY=1"]


def test_outside_systemd_every_call_is_a_no_op(monkeypatch):
    """With no NOTIFY_SOCKET nothing is sent and every call returns False."""
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    assert not notifier.ready()
    assert not notifier.stopping()
    assert not notifier.status("x")


def test_a_gone_socket_is_reported_not_raised(tmp_path, monkeypatch, caplog):
    """A socket path with nobody listening logs one warning and returns False."""
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody.sock"))
    notifier = Notifier()
    assert not notifier.ready()
    assert not notifier.status("again")
    assert [r.getMessage() for r in caplog.records] == ["sd_notify failed"]


def test_bad_notify_socket_values_are_named():
    """A relative path or a bare '@' is refused naming the variable."""
    with pytest.raises(NotifySocketError, match="NOTIFY_SOCKET"):
        notify_address({"NOTIFY_SOCKET": "relative.sock"})
    with pytest.raises(NotifySocketError, match="NOTIFY_SOCKET"):
        notify_address({"NOTIFY_SOCKET": "@"})
    assert notify_address({"NOTIFY_SOCKET": "@x"}) == b"\0x"
    assert notify_address({}) is None


def test_module_functions_read_the_process_environment(listener):
    """In a fresh process the module-level calls use $NOTIFY_SOCKET and $WATCHDOG_USEC."""
    sock, path = listener
    code = (
        "from engine.control import systemd\n"
        "assert systemd.watchdog_interval() == 2_500_000_000\n"
        "assert systemd.ready() and systemd.watchdog() and systemd.status('s') "
        "and systemd.stopping()\n"
    )
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "5000000"}
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()
    first = _lines(sock)
    assert first[0] == "READY=1"
    assert first[1].startswith("MAINPID=")
    assert [_lines(sock), _lines(sock), _lines(sock)] == [
        ["WATCHDOG=1"],
        ["STATUS=s"],
        ["STOPPING=1"],
    ]
