"""The systemd unit in config/ asks for what the engine does: notify, watchdog, graceful stop."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "config" / "hft-tui.service"


def _settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def test_the_unit_is_a_notify_service_with_a_watchdog():
    """Type=notify with a watchdog, started as `hft-tui --no-ui`, restarted on failure."""
    s = _settings()
    assert s["Type"] == ["notify"]
    assert s["WatchdogSec"] == ["10s"]
    assert " --no-ui " in s["ExecStart"][0] + " "
    assert s["Restart"] == ["on-failure"]
    assert s["KillSignal"] == ["SIGTERM"]
    assert s["EnvironmentFile"] == ["/etc/hft-tui/secrets.env"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]  # SIGHUP reloads config and limits


def test_hardening_keeps_dev_shm_shared():
    """Strict and private-tmp hardening, the state folder writable, /dev/shm left the host's."""
    s = _settings()
    assert s["NoNewPrivileges"] == ["yes"]
    assert s["ProtectSystem"] == ["strict"]
    assert s["PrivateTmp"] == ["yes"]
    assert "/var/lib/hft-tui" in s["ReadWritePaths"]
    assert "HFT__ENGINE__STATE_DIR=/var/lib/hft-tui" in s["Environment"]
    assert s["PrivateDevices"] == ["no"]
    assert s["RemoveIPC"] == ["no"]
    assert "DynamicUser" not in s
    assert "PrivateIPC" not in s
    assert "InaccessiblePaths" not in s


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path):
    """systemd-analyze verify finds nothing wrong once the program path exists."""
    unit = tmp_path / "hft-tui.service"
    text = UNIT.read_text().replace("/opt/hft-tui/.venv/bin/hft-tui", "/bin/true")
    unit.write_text(text)
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "hft-tui.service" in ln]
    assert problems == []
