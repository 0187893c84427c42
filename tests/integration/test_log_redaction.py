"""Nothing a live run writes carries the venue API key, its secret or a request signature.

A standalone local venue and a live engine on it run with made-up credentials and DEBUG logs;
orders are placed, refused by a garbage answer, reconciled and canceled; then every byte the two
processes wrote (stdout, stderr, the state folder: journal, breaker, parameter files) is searched
for the key, the secret and any HMAC-SHA256 signature. Two log calls in the engine are handed a
secret on purpose (a ``$WATCHDOG_USEC`` holding the API secret, a refused request whose path holds
the API key), and their lines must be there with the value blanked: the filter ran in the process.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.ipc.segments import read_instance
from tests.integration.control import control, get_status

pytestmark = pytest.mark.integration

TOKEN = "redaction-test-token-4711"
KEY = "RdKy" + "Q7w2E9r4T6y8U1i3" * 3 + "Zx5Cv0Bn0Mm1"  # 64 characters
SECRET = "RdSc" + "p0O9i8U7y6T5r4E3" * 3 + "w2Q1a0S9d8F7"  # 64 characters
HEX_64 = re.compile(rb"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")
SIGNED = re.compile(rb"(?i)(signature|listenKey|X-MBX-APIKEY)[\"':= ]+(?!\*\*\*)[A-Za-z0-9]{8,}")


def _wait(what: str, check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_no_key_secret_or_signature_in_anything_a_run_writes(
    tmp_path: Path, engine_env: dict[str, str]
) -> None:
    """The key, the secret and every signature appear in no output and no state file."""
    out = tmp_path / "out"
    out.mkdir()
    creds = {"HFT_SIM_API_KEY": KEY, "HFT_SIM_API_SECRET": SECRET}
    conf = tmp_path / "venue.toml"
    conf.write_text(
        '[engine]\nlog_level = "DEBUG"\n'
        "[sim]\nseed = 3\nevents_per_second = 40.0\ndepth_interval_ms = 20\n"
    )
    with (out / "venue.err").open("w") as venue_err:
        venue = subprocess.Popen(
            [sys.executable, "-m", "engine.sim", "--config", str(conf), "--port", "0"],
            env={**creds, "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=venue_err,
            text=True,
        )
    assert venue.stdout is not None
    first = venue.stdout.readline()
    urls = json.loads(first)
    ws_url, rest_url = urls["ws_url"], urls["rest_url"]
    config = tmp_path / "engine.toml"
    config.write_text(
        f'[engine]\nlog_level = "DEBUG"\n[venue]\nname = "sim"\nws_url = "{ws_url}"\n'
        f'rest_url = "{rest_url}"\n[control]\nport = 0\n[ipc]\nheartbeat_interval_ms = 50\n'
    )
    # The engine logs an unusable $WATCHDOG_USEC with its value: here, the API secret.
    env = {**engine_env, **creds, "HFT_CONTROL_TOKEN": TOKEN, "WATCHDOG_USEC": SECRET}
    env.pop("WATCHDOG_PID", None)
    instance = env["HFT__ENGINE__INSTANCE"]
    with (out / "engine.out").open("w") as eout, (out / "engine.err").open("w") as eerr:
        engine = subprocess.Popen(
            [sys.executable, "-m", "engine", "--config", str(config), "--log-format", "json"],
            env=env,
            stdout=eout,
            stderr=eerr,
            text=True,
        )
    try:
        url = _wait("the engine's control plane", lambda: _control_url(instance, engine))
        _wait("a healthy order link", lambda: (get_status(url)["gateway"] or {}).get("healthy"))
        _wait("a live book", lambda: get_status(url)["books"]["BTCUSDT"]["state"] == "live")
        # A refused request is logged with its path: here, one holding the API key.
        code, doc = control(url, f"/orders/{KEY}", "DELETE", token="not-the-token")
        assert code == 401, doc
        bid = Decimal(get_status(url)["books"]["BTCUSDT"]["best_bid"]["price"])
        placed = []
        for price in (str(bid - Decimal("0.50")), str(bid - Decimal("0.60"))):
            code, doc = control(
                url,
                "/orders",
                "POST",
                json.dumps(
                    {"symbol": "BTCUSDT", "side": "buy", "size": "0.001", "price": price}
                ).encode(),
                token=TOKEN,
            )
            assert code == 201, doc
            placed.append(doc["client_order_id"])
        # A garbage answer and an unknown status drive the error and reconciliation paths.
        control(rest_url, "/sim/faults/garbage-rest?count=1", "POST")
        control(
            url,
            "/orders",
            "POST",
            json.dumps(
                {"symbol": "BTCUSDT", "side": "buy", "size": "0.001", "price": str(bid - 1)}
            ).encode(),
            token=TOKEN,
        )
        _wait("the link to be healthy again", lambda: get_status(url)["gateway"]["healthy"])
        for coid in placed:
            code, doc = control(url, f"/orders/{coid}", "DELETE", token=TOKEN)
            assert code in (200, 202), doc
        control(url, "/orders/cancel-all", "POST", b"{}", token=TOKEN)
        _wait("the venue to hold no open order", lambda: not _venue_open(rest_url))
    finally:
        _stop(engine)
        _stop(venue)
        (out / "venue.out").write_text(first + venue.stdout.read())
        venue.stdout.close()
    state = Path(env["HFT__ENGINE__STATE_DIR"])
    written = {p: p.read_bytes() for p in [*out.iterdir(), *_files(state)]}
    assert b'"event":"engine started"' in written[out / "engine.out"]
    lines = [json.loads(line) for line in written[out / "engine.out"].splitlines() if line]
    watchdog = [d for d in lines if d["event"].startswith("WATCHDOG_USEC is not an integer")]
    assert [d["value"] for d in watchdog] == ["***"], "the forced secret was not logged blanked"
    refused = [d for d in lines if d["event"].startswith("request refused")]
    assert [d["path"] for d in refused] == ["/orders/***"], "the forced key was not logged blanked"
    journals = [p for p in written if p.suffix == ".journal"]
    assert journals, "the run left no journal to search"
    assert all(placed_id.encode() in written[journals[0]] for placed_id in placed)
    for path, data in written.items():
        where = path.name
        assert KEY.encode() not in data, f"the API key is in {where}"
        assert SECRET.encode() not in data, f"the API secret is in {where}"
        assert TOKEN.encode() not in data, f"the control token is in {where}"
        assert not HEX_64.findall(data), f"a signature is in {where}: {HEX_64.findall(data)[:2]}"
        assert not SIGNED.findall(data), f"a signed value is in {where}: {SIGNED.findall(data)[:2]}"


def _control_url(instance: str, proc: subprocess.Popen[str]) -> str | None:
    assert proc.poll() is None, "the engine exited"
    info = read_instance(instance)
    if info is not None and info.pid == proc.pid and info.control_url:
        return info.control_url
    return None


def _venue_open(rest_url: str) -> list[Any]:
    code, doc = control(rest_url, "/sim/orders?open=true")
    assert code == 200, doc
    return list(doc["orders"])


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]
