"""The hft-tui command line, run as a user runs it (a real process, real engine where needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

ENTRY = [sys.executable, "-m", "hft_tui"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HFT__")}
    env["HFT__ENGINE__STATE_DIR"] = extra.pop("state_dir", "/nonexistent/hft-tui-test-state")
    env.update(extra)
    return env


def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 90):
    return subprocess.run(
        [*ENTRY, *args],
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_help_lists_the_commands():
    """--help names every command a user needs."""
    out = _run("--help")
    assert out.returncode == 0
    for command in ("attach", "kill", "status", "instances", "sim-venue", "bench", "--no-ui"):
        assert command in out.stdout


def test_config_error_is_one_line_and_exit_code_2(tmp_path):
    """A bad config stops the command before anything starts, with one line on stderr."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[ui]\nrefresh_hz = 500.0\n")
    out = _run("--config", str(bad), "--no-ui")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0
    assert "refresh_hz" in out.stderr
    assert f"{bad}:2" in out.stderr


def test_kill_without_a_running_engine_says_so():
    """Killing an instance that does not run fails and says which instance."""
    name = f"t{uuid.uuid4().hex[:10]}"
    out = _run("kill", "--instance", name)
    assert out.returncode == 1
    assert f"no engine {name!r} is running" in out.stderr


def test_attach_without_a_running_engine_lists_what_runs():
    """Attaching to a missing instance fails with the list of running instances."""
    name = f"t{uuid.uuid4().hex[:10]}"
    out = _run("attach", "--instance", name)
    assert out.returncode == 1
    assert "running instances" in out.stderr


def test_attach_to_a_wrong_name_lists_the_engine_that_runs(publisher, instance):
    """With one engine running, attaching to another name names the one that runs."""
    name = f"t{uuid.uuid4().hex[:10]}"
    out = _run("attach", "--instance", name)
    assert out.returncode == 1
    assert f"engine {name!r} is not running" in out.stderr
    assert instance in out.stderr.split("running instances:")[1]


@pytest.mark.integration
def test_no_ui_runs_headless_with_json_logs_and_answers_kill(tmp_path):
    """--no-ui runs the engine in the foreground with JSON log lines; `kill` halts it."""
    name = f"t{uuid.uuid4().hex[:10]}"
    env = _env(
        HFT__ENGINE__INSTANCE=name,
        HFT__CONTROL__PORT="0",
        HFT_CONTROL_TOKEN="secret-" + name,
        state_dir=str(tmp_path / "state"),
    )
    proc = subprocess.Popen(
        [*ENTRY, "--no-ui", "--duration", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if '"state":"live"' in line:
                break
        status = json.loads(_run("status", "--instance", name, env=env).stdout)
        assert status["instance"] == name
        assert status["trading"] == "running"
        killed = _run("kill", "--instance", name, env=env)
        assert killed.returncode == 0
        assert "HALTED" in killed.stdout
        assert json.loads(_run("status", "--instance", name, env=env).stdout)["trading"] == "halted"
        listed = _run("instances", env=env)
        assert name in listed.stdout
        no_token = _run("reset", "--instance", name, env={**env, "HFT_CONTROL_TOKEN": ""})
        assert no_token.returncode == 1
        assert "HFT_CONTROL_TOKEN" in no_token.stderr
        wrong = _run("reset", "--instance", name, env={**env, "HFT_CONTROL_TOKEN": "nope"})
        assert wrong.returncode == 1
        assert "refused" in wrong.stderr
        reset = _run("reset", "--instance", name, env=env)
        assert reset.returncode == 0, reset.stderr
        assert "RUNNING" in reset.stdout
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "secret-" not in out  # the token never reaches the log
    for line in out.splitlines():
        doc = json.loads(line)  # every stdout line is a JSON log record
        assert {"ts", "level", "component", "event"} <= doc.keys()
