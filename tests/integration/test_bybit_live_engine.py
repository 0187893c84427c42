"""Live trading on Bybit v5 linear, against the local venue as its own process.

The engine is configured as on Bybit (``[venue] name = "bybit-linear"``, keys by env-var name)
with its URLs pointing at a standalone local venue: market data from the venue's Bybit v5
public linear socket (``/v5/public/linear``: orderbook snapshot and deltas, publicTrade), orders
through :class:`~engine.venues.bybit.gateway.BybitLinearGateway` on ``/v5`` and
the private stream on ``/v5/private``. The venue outlives the engine, so an engine killed with
SIGKILL comes back halted and reconciles its orders, its fills (``/v5/execution/list``) and its
(real, netted) position with the venue's.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.venues.bybit.signing import sign, sign_string
from tests.integration.control import control, get_status
from tests.integration.live import (
    gap_resyncs,
    live_engine,
    orders,
    place,
    ready,
    start_engine,
    stop_engine,
    venue_fixture,
    wait_for,
)

pytestmark = pytest.mark.integration

TOKEN = "bybit-test-token"
KEY = "b" * 64
SECRET = "c" * 64


venue = venue_fixture(KEY, SECRET)


def _config(tmp_path: Path, venue: tuple[str, str]) -> Path:
    ws_url, rest_url = venue
    config = tmp_path / "engine.toml"
    config.write_text(
        f'[venue]\nname = "bybit-linear"\nws_url = "{ws_url}"\nrest_url = "{rest_url}"\n'
        f'ws_api_url = "{ws_url}/v5/private"\n'
        'api_key_env = "BYBIT_TEST_KEY"\napi_secret_env = "BYBIT_TEST_SECRET"\n'
        '[[instruments]]\nvenue = "bybit-linear"\nsymbol = "BTCUSDT"\n'
        'tick_size = "0.01"\nlot_size = "0.00001"\nmin_notional = "5"\n'
        "[control]\nport = 0\n[ipc]\nheartbeat_interval_ms = 50\n"
    )
    return config


def _env(engine_env: dict[str, str]) -> dict[str, str]:
    return {
        **engine_env,
        "HFT_CONTROL_TOKEN": TOKEN,
        "BYBIT_TEST_KEY": KEY,
        "BYBIT_TEST_SECRET": SECRET,
    }


def _v5(rest_url: str, path: str, query: str) -> Any:
    """A signed ``GET`` on the venue's Bybit ``/v5`` API as the engine's account: ``result``."""
    stamp = time.time_ns() // 1_000_000
    headers = {
        "X-BAPI-API-KEY": KEY,
        "X-BAPI-TIMESTAMP": str(stamp),
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": sign(SECRET.encode(), sign_string(stamp, KEY, 5000, query)),
    }
    request = urllib.request.Request(f"{rest_url}{path}?{query}", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as answer:
        doc = json.loads(answer.read())
    assert doc["retCode"] == 0, doc
    return doc["result"]


def test_book_goes_live_on_bybit_public_stream_and_resyncs_after_a_gap(tmp_path, venue, engine_env):
    """The Bybit feed's book goes live; a lost delta is noticed, resubscribed, live again."""
    rest_url = venue[1]
    env = _env(engine_env)
    with live_engine(_config(tmp_path, venue), env) as url:
        assert get_status(url)["venue"]["name"] == "bybit-linear"
        gap_resyncs(url, rest_url)
        assert get_status(url)["venue"]["reconnects"] == 0


def _open_at_venue(rest_url: str) -> set[str]:
    result = _v5(rest_url, "/v5/order/realtime", "category=linear&symbol=BTCUSDT")
    return {o["orderLinkId"] for o in result["list"]}


def _position(rest_url: str) -> tuple[str, str]:
    result = _v5(rest_url, "/v5/position/list", "category=linear&symbol=BTCUSDT")
    (held,) = result["list"]
    return held["side"], held["size"]


def test_orders_fill_rest_at_the_venue_and_kill_cancels_them(tmp_path, venue, engine_env):
    """A market order fills; a resting order is open on /v5; the kill switch cancels it there."""
    rest_url = venue[1]
    env = _env(engine_env)
    with live_engine(_config(tmp_path, venue), env) as url:
        assert get_status(url)["gateway"]["venue"] == "bybit-linear"
        bought = place(url, TOKEN, symbol="BTCUSDT", side="buy", size="0.001", type="market")
        wait_for(
            "the buy to fill", lambda: orders(url)[bought["client_order_id"]]["status"] == "filled"
        )
        assert _position(rest_url) == ("Buy", "0.00100")
        placed = place(url, TOKEN, symbol="BTCUSDT", side="buy", size="0.001", price="63000.00")
        cid = placed["client_order_id"]
        wait_for("the ack", lambda: orders(url)[cid]["status"] == "accepted")
        assert _open_at_venue(rest_url) == {cid}
        code, _ = control(url, "/kill", "POST", b"{}", token=TOKEN)
        assert code in (200, 202)
        wait_for("the cancel", lambda: orders(url)[cid]["status"] == "canceled")
        assert _open_at_venue(rest_url) == set()
        assert control(url, "/positions")[1]["positions"][0]["net"] == "0.00100"


def test_sigkill_restores_orders_fills_and_the_netted_position(tmp_path, venue, engine_env):
    """After SIGKILL the engine comes back halted with the venue's orders, fills and position.

    Short 0.002 before the kill; a resting bid fills while the engine is down; the restarted
    engine books that fill from ``/v5/execution/list`` and agrees with ``/v5/position/list``:
    short 0.001.
    """
    rest_url = venue[1]
    env = _env(engine_env)
    config = _config(tmp_path, venue)
    proc = start_engine(config, env)
    try:
        url = ready(env["HFT__ENGINE__INSTANCE"], proc)
        sold = place(url, TOKEN, symbol="BTCUSDT", side="sell", size="0.002", type="market")
        wait_for(
            "the sell to fill", lambda: orders(url)[sold["client_order_id"]]["status"] == "filled"
        )
        # A bid ten ticks under the touch: a quiet market leaves it alone, a sweep fills it.
        bid = Decimal(get_status(url)["books"]["BTCUSDT"]["best_bid"]["price"]) - Decimal("0.10")
        resting = [
            place(url, TOKEN, symbol="BTCUSDT", side="buy", size="0.001", price=str(bid)),
            place(url, TOKEN, symbol="BTCUSDT", side="sell", size="0.003", price="67000.00"),
        ]
        ids = [o["client_order_id"] for o in resting]
        wait_for("both resting orders at the venue", lambda: set(ids) <= _open_at_venue(rest_url))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        code, swept = control(
            rest_url, "/sim/market-order?symbol=BTCUSDT&side=SELL&quantity=50", "POST"
        )
        assert code == 200, swept
        wait_for("the bid to fill at the venue", lambda: ids[0] not in _open_at_venue(rest_url))

        proc = start_engine(config, env)
        url = ready(env["HFT__ENGINE__INSTANCE"], proc)
        status = get_status(url)
        assert status["trading"] == "halted"
        after = orders(url)
        assert (after[ids[0]]["status"], after[ids[0]]["filled"]) == ("filled", "0.00100")
        assert after[ids[1]]["status"] == "accepted"
        assert {o for o, v in after.items() if v["status"] == "accepted"} == _open_at_venue(
            rest_url
        )
        assert _position(rest_url) == ("Sell", "0.00100")
        assert control(url, "/positions")[1]["positions"][0]["net"] == "-0.00100"
        assert not [a for a in status["alerts"] if "mismatch" in a["message"]]
        control(url, "/kill", "POST")
        wait_for("the venue to hold no open order", lambda: not _open_at_venue(rest_url))
    finally:
        stop_engine(proc)
