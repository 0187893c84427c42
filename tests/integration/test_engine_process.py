"""The engine as a process: start-up errors, a bounded run, graceful stop and crash sweep."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.ipc.segments import read_instance, segment_name
from tests.integration.control import control, get_status

pytestmark = pytest.mark.integration

SHM = Path("/dev/shm")  # noqa: S108 - where POSIX shared memory lives on Linux


def _start(config: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "engine", "--config", str(config), "--log-format", "json", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_announced(instance: str, proc: subprocess.Popen[str], timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        info = read_instance(instance)
        if info is not None and info.pid == proc.pid and info.control_url:
            return info
        time.sleep(0.05)
    raise AssertionError("engine did not announce itself")


def test_config_error_stops_start_up_with_one_line(tmp_path, engine_env):
    """A bad config exits with code 2 and a single line naming the file and key."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[control]\nprot = 1\n")
    out = subprocess.run(
        [sys.executable, "-m", "engine", "--config", str(bad)],
        env=engine_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"{bad}:2" in lines[0]
    assert "prot" in lines[0]


def test_sigterm_stops_gracefully_and_removes_segments(engine_config, engine_env, instance):
    """SIGTERM stops the engine with code 0, its local venue child too, and no segment is left."""
    proc = _start(engine_config, engine_env)
    try:
        info = _wait_announced(instance, proc)
        assert all((SHM / name).exists() for name in info.segments)
        assert all((SHM / name).stat().st_mode & 0o777 == 0o600 for name in info.segments)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    events = [json.loads(line)["event"] for line in out.splitlines() if line.startswith("{")]
    assert "engine stopped" in events
    assert not any((SHM / name).exists() for name in info.segments)
    assert read_instance(instance) is None


def test_duration_bounds_the_run(engine_config, engine_env, instance):
    """--duration stops the engine by itself with code 0."""
    proc = _start(engine_config, engine_env, "--duration", "2")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert read_instance(instance) is None


def test_segments_of_a_crashed_engine_are_swept_on_next_start(engine_config, engine_env, instance):
    """After SIGKILL the next start of the same instance removes the stale segments and runs."""
    first = _start(engine_config, engine_env)
    info = _wait_announced(instance, first)
    first.kill()
    first.communicate(timeout=10)
    assert (SHM / segment_name(instance, "events")).exists()
    second = _start(engine_config, engine_env)
    try:
        info2 = _wait_announced(instance, second)
        assert info2.pid != info.pid
        assert info2.pid == second.pid
        status = get_status(info2.control_url)
        assert status["trading"] == "halted"  # an unclean stop always comes back halted
        assert status["halt_reason"] == "unclean stop"
    finally:
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=20)
    assert second.returncode == 0
    assert not (SHM / segment_name(instance, "events")).exists()


def test_second_engine_with_the_same_instance_is_refused(engine_config, engine_env, instance):
    """A second engine under a live instance name exits with code 3 and says who runs it."""
    first = _start(engine_config, engine_env)
    try:
        _wait_announced(instance, first)
        second = _start(engine_config, engine_env)
        out, _ = second.communicate(timeout=60)
        assert second.returncode == 3
        assert str(first.pid) in out
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=20)


def test_clean_start_trades_and_a_halt_survives_a_clean_restart(
    engine_config, engine_env, instance
):
    """A first start trades; a kill is persisted, so the next start is still halted."""
    proc = _start(engine_config, engine_env)
    try:
        info = _wait_announced(instance, proc)
        assert get_status(info.control_url)["trading"] == "running"
        assert control(info.control_url, "/kill", "POST")[0] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    again = _start(engine_config, engine_env)
    try:
        info = _wait_announced(instance, again)
        status = get_status(info.control_url)
        assert status["trading"] == "halted"
        assert status["halt_reason"] == "kill switch (http 127.0.0.1)"
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=20)


def test_reset_needs_the_bearer_token(engine_config, engine_env, instance):
    """POST /reset refuses a missing or wrong token and re-enables trading with the right one."""
    token = "t0k3n-" + instance
    proc = _start(engine_config, {**engine_env, "HFT_CONTROL_TOKEN": token})
    try:
        info = _wait_announced(instance, proc)
        assert control(info.control_url, "/kill", "POST")[0] == 200
        assert control(info.control_url, "/reset", "POST")[0] == 401
        assert control(info.control_url, "/reset", "POST", token="wrong")[0] == 401
        assert get_status(info.control_url)["trading"] == "halted"
        code, body = control(info.control_url, "/reset", "POST", token=token)
        assert (code, body["trading"], body["changed"]) == (200, "running", True)
        assert get_status(info.control_url)["trading"] == "running"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert token not in out  # the token never reaches the log


def test_reset_over_http_is_off_without_a_token(engine_config, engine_env, instance):
    """With no token configured, POST /reset answers 403 and says how to enable it."""
    proc = _start(engine_config, engine_env)
    try:
        info = _wait_announced(instance, proc)
        code, body = control(info.control_url, "/reset", "POST", token="anything")
        assert code == 403
        assert "HFT_CONTROL_TOKEN" in body["error"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)


def test_sigusr1_is_the_kill_switch(engine_config, engine_env, instance):
    """SIGUSR1 halts trading and the engine keeps running and answering."""
    proc = _start(engine_config, engine_env)
    try:
        info = _wait_announced(instance, proc)
        proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while True:
            doc = get_status(info.control_url)
            if doc["trading"] == "halted":
                break
            assert time.monotonic() < deadline, "SIGUSR1 did not halt trading"
            time.sleep(0.05)
        assert doc["halt_reason"] == "kill switch (SIGUSR1)"
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert proc.returncode == 0
