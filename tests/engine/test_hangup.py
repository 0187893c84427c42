"""SIGHUP reload: the file's limits and log level go in force; a bad file changes nothing."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import msgspec
import pytest

from engine.core.config import load_config
from engine.hangup import reload_config, restart_only_changes
from engine.ipc.segments import read_instance
from engine.risk.limits import LimitsError, RiskLimits

CONFIG = """
[engine]
log_level = "INFO"

[risk]
daily_loss_limit = "{loss}"

[risk.defaults]
max_position = "{position}"
"""


class _Engine:
    """What reload_config uses of the engine: its config and set_risk_limits."""

    def __init__(self, config) -> None:
        self.config = config
        self.changes: list[tuple[RiskLimits, str]] = []
        self.refuse = False

    def set_risk_limits(self, limits: RiskLimits, actor: str) -> None:
        if self.refuse:
            raise LimitsError("defaults", "max_position", "-1", "must be positive")
        self.changes.append((limits, actor))


def _write(path: Path, *, loss: str = "2000", position: str = "5", extra: str = "") -> None:
    path.write_text(CONFIG.format(loss=loss, position=position) + extra)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment without the operator's HFT__ overrides, state in tmp_path."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HFT__")}
    clean["HFT__ENGINE__STATE_DIR"] = str(tmp_path / "state")
    clean["HFT__ENGINE__INSTANCE"] = "hup"
    return clean


def test_changed_limits_and_log_level_are_put_in_force(tmp_path, env):
    """A new daily loss limit reaches set_risk_limits as SIGHUP; the root level follows the file."""
    path = tmp_path / "engine.toml"
    _write(path)
    engine = _Engine(load_config(str(path), env))
    _write(path, loss="750", extra="")
    path.write_text(path.read_text().replace('log_level = "INFO"', 'log_level = "WARNING"'))
    root = logging.getLogger()
    before = root.level
    try:
        assert reload_config(engine, str(path), env)  # type: ignore[arg-type]
        assert root.level == logging.WARNING
    finally:
        root.setLevel(before)
    [(limits, actor)] = engine.changes
    assert actor == "SIGHUP"
    assert limits.daily_loss_limit == "750"
    assert engine.config.risk.daily_loss_limit == "750"
    assert engine.config.engine.log_level == "WARNING"


def test_unchanged_file_limits_leave_the_limits_in_force(tmp_path, env):
    """Limits set over the control plane since are not undone by a reload for another reason."""
    path = tmp_path / "engine.toml"
    _write(path)
    engine = _Engine(load_config(str(path), env))
    assert reload_config(engine, str(path), env)  # type: ignore[arg-type]
    assert engine.changes == []


def test_a_file_that_does_not_load_changes_nothing(tmp_path, env, caplog):
    """A bad value is logged with the key; the old config stays."""
    path = tmp_path / "engine.toml"
    _write(path)
    engine = _Engine(load_config(str(path), env))
    old = engine.config
    path.write_text(path.read_text() + "\n[ui]\nrefresh_hz = 5000.0\n")
    with caplog.at_level(logging.ERROR, logger="engine.reload"):
        assert not reload_config(engine, str(path), env)  # type: ignore[arg-type]
    assert engine.config is old
    assert engine.changes == []
    assert "refresh_hz" in caplog.text
    assert "nothing changed" in caplog.text


def test_limits_the_engine_refuses_leave_the_old_ones(tmp_path, env, caplog):
    """set_risk_limits refusing the new limits keeps the old config and says so."""
    path = tmp_path / "engine.toml"
    _write(path)
    engine = _Engine(load_config(str(path), env))
    engine.refuse = True
    _write(path, position="7")
    with caplog.at_level(logging.ERROR, logger="engine.reload"):
        assert not reload_config(engine, str(path), env)  # type: ignore[arg-type]
    assert engine.config.risk.defaults.max_position == "5"
    assert "the old ones stay" in caplog.text


def test_sections_read_only_at_start_are_named(tmp_path, env):
    """A new control port waits for a restart; the log level does not count."""
    path = tmp_path / "engine.toml"
    _write(path)
    old = load_config(str(path), env)
    new = msgspec.structs.replace(
        old,
        control=msgspec.structs.replace(old.control, port=9999),
        engine=msgspec.structs.replace(old.engine, log_level="DEBUG"),
    )
    assert restart_only_changes(old, new) == ["control"]


def _limits(url: str) -> dict:
    with urllib.request.urlopen(url + "/risk/limits", timeout=5) as answer:
        return json.loads(answer.read())


@pytest.mark.integration
def test_sighup_to_a_headless_engine_changes_its_limits(tmp_path, env):
    """`hft-tui --no-ui` takes SIGHUP: a new max_position in the file is served by /risk/limits."""
    name = f"hup{uuid.uuid4().hex[:10]}"
    path = tmp_path / "engine.toml"
    _write(path, position="5")
    run_env = {**env, "HFT__ENGINE__INSTANCE": name, "HFT__CONTROL__PORT": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hft_tui", "--no-ui", "--config", str(path), "--duration", "90"],
        env=run_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if '"state":"live"' in line:
                break
        info = read_instance(name)
        assert info is not None
        assert info.control_url
        assert _limits(info.control_url)["defaults"]["max_position"] == "5"
        _write(path, position="3.5")
        proc.send_signal(signal.SIGHUP)
        for line in proc.stdout:
            if "SIGHUP: config reloaded" in line:
                break
        assert _limits(info.control_url)["defaults"]["max_position"] == "3.5"
        assert proc.poll() is None  # SIGHUP reloads; it does not end the engine
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    reloaded = [json.loads(ln) for ln in out.splitlines() if "risk limits changed" in ln]
    assert reloaded == [] or all(doc.get("actor") == "SIGHUP" for doc in reloaded)
