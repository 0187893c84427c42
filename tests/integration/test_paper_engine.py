"""Paper trading in a real engine process, over the control plane and the live local book.

Orders fill from the live book, kill cancels everything, and a SIGKILL restart replays the
journal and starts halted.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from engine.ipc.segments import read_instance
from tests.integration.control import control, get_status

pytestmark = pytest.mark.integration

TOKEN = "paper-test-token"


@pytest.fixture
def paper_env(engine_env: dict[str, str]) -> dict[str, str]:
    """An engine environment in paper mode with a control token."""
    return {**engine_env, "HFT__ENGINE__MODE": "paper", "HFT_CONTROL_TOKEN": TOKEN}


def _start(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "engine", "--config", str(config), "--log-format", "json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _url(instance: str, proc: subprocess.Popen[str]) -> str:
    """The control URL once the engine announced itself and its book is live."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        info = read_instance(instance)
        if (
            info is not None
            and info.pid == proc.pid
            and info.control_url
            and get_status(info.control_url)["books"]["BTCUSDT"]["state"] == "live"
        ):
            return info.control_url
        time.sleep(0.05)
    raise AssertionError("the paper engine did not come up live")


def _wait(what: str, check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _order(url: str, **doc: Any) -> tuple[int, dict[str, Any]]:
    return control(url, "/orders", "POST", json.dumps(doc).encode(), token=TOKEN)


def _orders(url: str) -> dict[str, dict[str, Any]]:
    code, doc = control(url, "/orders?all=1")
    assert code == 200
    return {o["client_order_id"]: o for o in doc}  # type: ignore[union-attr]


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    if proc.stderr is not None:
        proc.stderr.close()


def test_orders_fill_kill_cancels_and_a_sigkill_restart_replays(engine_config, paper_env, instance):
    """Orders fill and kill cancels; after SIGKILL the journal restores orders and position.

    A market buy fills and moves the position, kill cancels the resting orders, and the engine
    killed with SIGKILL comes back halted with the same orders and position.
    """
    proc = _start(engine_config, paper_env)
    try:
        url = _url(instance, proc)
        code, bought = _order(url, symbol="BTCUSDT", side="buy", size="0.01", type="market")
        assert code == 201, bought
        filled = _wait(
            "the market order to fill",
            lambda: _orders(url)[bought["client_order_id"]]["status"] == "filled",
        )
        assert filled
        code, doc = control(url, "/positions")
        assert doc["positions"][0]["net"] == "0.01000"
        resting = []
        for side, price in (("buy", "63000.00"), ("sell", "67000.00")):
            code, placed = _order(url, symbol="BTCUSDT", side=side, size="0.00100", price=price)
            assert code == 201, placed
            resting.append(placed["client_order_id"])
        _wait(
            "both resting orders to be accepted",
            lambda: all(_orders(url)[c]["status"] == "accepted" for c in resting),
        )
        code, doc = control(url, "/kill", "POST")
        assert doc["trading"] == "halted"
        _wait(
            "kill to cancel every resting order",
            lambda: all(_orders(url)[c]["status"] == "canceled" for c in resting),
        )
        code, refused = _order(url, symbol="BTCUSDT", side="buy", size="0.001", price="63000.00")
        assert code == 422
        assert refused["reason"].startswith("halted")
        before = _orders(url)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        _stop(proc)

        proc = _start(engine_config, paper_env)
        url = _url(instance, proc)
        status = get_status(url)
        assert status["trading"] == "halted"
        after = _orders(url)
        assert {c: (o["status"], o["filled"]) for c, o in after.items()} == {
            c: (o["status"], o["filled"]) for c, o in before.items()
        }
        code, doc = control(url, "/positions")
        assert doc["positions"][0]["net"] == "0.01000"
    finally:
        _stop(proc)


def test_a_bad_order_document_is_refused_with_the_field(engine_config, paper_env, instance):
    """Off-grid sizes and missing prices answer 400 naming the problem; nothing is sent."""
    proc = _start(engine_config, paper_env)
    try:
        url = _url(instance, proc)
        code, doc = _order(url, symbol="BTCUSDT", side="buy", size="0.000001", price="60000.00")
        assert code == 400
        assert "not a multiple of 0.00001" in doc["error"]
        code, doc = _order(url, symbol="BTCUSDT", side="buy", size="0.001")
        assert code == 400
        assert "needs a price" in doc["error"]
        code, doc = _order(url, symbol="DOGE", side="buy", size="1", price="1")
        assert code == 400
        assert "unknown symbol" in doc["error"]
        code, doc = control(url, "/orders", "POST", b'{"symbol": "BTCUSDT"}')
        assert code == 401
        assert get_status(url)["gateway"]["requests"] == 0
    finally:
        _stop(proc)


def test_a_configured_market_maker_quotes_on_paper_and_kill_pulls_its_quotes(
    tmp_path, paper_env, instance
):
    """[strategies.mm] quotes both sides through risk; a kill cancels them and it stops quoting."""
    config = tmp_path / "mm.toml"
    config.write_text(
        "[sim]\nport = 0\nseed = 11\nevents_per_second = 400.0\ndepth_interval_ms = 20\n"
        "[control]\nport = 0\n[ipc]\nheartbeat_interval_ms = 50\n"
        '[strategies.mm]\nsymbol = "BTCUSDT"\n'
        "[strategies.mm.params]\nhalf_spread_ticks = 500\nsize_lots = 100\nrequote_ticks = 200\n"
    )
    proc = _start(config, paper_env)
    try:
        url = _url(instance, proc)
        quotes = _wait(
            "two resting quotes",
            lambda: (
                [o for o in _orders(url).values() if o["status"] == "accepted"]
                if len([o for o in _orders(url).values() if o["status"] == "accepted"]) == 2
                else None
            ),
        )
        assert sorted(o["side"] for o in quotes) == ["buy", "sell"]
        stats = get_status(url)["strategies"]
        assert stats[0]["name"] == "mm"
        assert stats[0]["running"]
        control(url, "/kill", "POST")
        _wait(
            "the quotes to be canceled",
            lambda: all(_orders(url)[o["client_order_id"]]["status"] == "canceled" for o in quotes),
        )
        time.sleep(0.5)
        assert not [o for o in _orders(url).values() if o["status"] in ("accepted", "submitted")]
    finally:
        _stop(proc)


def test_a_strategy_with_a_bad_parameter_stops_start_up_naming_it(tmp_path, paper_env):
    """An out-of-range parameter is refused with the strategy, field and allowed range."""
    config = tmp_path / "bad.toml"
    config.write_text(
        '[control]\nport = 0\n[strategies.mm]\nsymbol = "BTCUSDT"\n'
        "[strategies.mm.params]\nlevels = 99\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "engine", "--config", str(config), "--log-format", "json"],
        env=paper_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode != 0
    assert "mm" in out.stdout + out.stderr
    assert "levels" in out.stdout + out.stderr
