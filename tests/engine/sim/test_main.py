from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from engine.venues.binance.signing import sign_rest

pytestmark = pytest.mark.integration


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HFT__")}


def test_module_prints_its_address_then_serves_and_stops_on_sigterm(tmp_path):
    """``python -m engine.sim`` prints one listening line, answers REST, and exits 0 on SIGTERM."""
    config = tmp_path / "sim.toml"
    config.write_text("[sim]\nevents_per_second = 50.0\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.sim", "--config", str(config), "--port", "0", "--seed", "9"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        assert line["event"] == "listening"
        assert line["ws_url"].startswith("ws://127.0.0.1:")
        assert line["rest_url"].startswith("http://127.0.0.1:")
        url = f"{line['rest_url']}/api/v3/depth?symbol=BTCUSDT&limit=5"
        with urllib.request.urlopen(url, timeout=10) as response:
            depth = json.loads(response.read())
        assert len(depth["bids"]) == 5
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert out == ""  # the listening line was the only stdout
    events = [json.loads(x)["event"] for x in err.splitlines() if x.startswith("{")]
    assert events[0] == "local venue listening"
    assert "local venue stopped" in events


def test_bad_config_exits_2_with_one_line(tmp_path):
    """A broken config file stops start-up with exit code 2 and a line naming the key."""
    config = tmp_path / "bad.toml"
    config.write_text("[sim]\nsed = 3\n")
    out = subprocess.run(
        [sys.executable, "-m", "engine.sim", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=_env(),
    )
    assert out.returncode == 2
    assert out.stdout == ""
    assert "sed" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_the_account_comes_from_the_environment(tmp_path):
    """With HFT_SIM_API_KEY/SECRET set the child trades for that key; others get -2015."""
    config = tmp_path / "sim.toml"
    config.write_text('[sim]\nevents_per_second = 50.0\n[sim.balances]\nUSDT = "500"\n')
    env = {**_env(), "HFT_SIM_API_KEY": "mainKey01", "HFT_SIM_API_SECRET": "mainSecret01"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.sim", "--config", str(config), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        rest = json.loads(proc.stdout.readline())["rest_url"]
        answers = {}
        for key, secret in (("mainKey01", "mainSecret01"), ("otherKey01", "mainSecret01")):
            query = f"timestamp={int(time.time() * 1000)}"
            query += "&signature=" + sign_rest(secret.encode(), query)
            request = urllib.request.Request(
                f"{rest}/api/v3/account?{query}", headers={"X-MBX-APIKEY": key}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    answers[key] = (response.status, json.loads(response.read()))
            except urllib.error.HTTPError as exc:
                answers[key] = (exc.code, json.loads(exc.read()))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    status, account = answers["mainKey01"]
    assert status == 200
    balances = {b["asset"]: b["free"] for b in account["balances"]}
    assert balances["USDT"] == "500.00000000"
    assert balances["BTC"] == "10.00000000"
    assert answers["otherKey01"][0] == 401
    assert answers["otherKey01"][1]["code"] == -2015
