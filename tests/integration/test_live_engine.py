"""Live trading against the local venue as its own process, through the real Binance gateway.

The venue runs apart (``python -m engine.sim``) so that it outlives the engine: an engine
killed with SIGKILL while orders rest comes back halted, replays its journal and reconciles with
the venue, which still holds the orders, and ends up with exactly the orders and position the
venue has.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from engine.venues.binance.signing import encode_params, sign
from tests.integration.control import control, get_status
from tests.integration.live import (
    orders,
    place,
    ready,
    start_engine,
    stop_engine,
    venue_fixture,
    wait_for,
)

pytestmark = pytest.mark.integration

TOKEN = "live-test-token"
KEY = "k" * 64
SECRET = "s" * 64


venue = venue_fixture(KEY, SECRET)


def _venueorders(rest_url: str) -> dict[str, str]:
    code, doc = control(rest_url, "/sim/orders?open=true")
    assert code == 200, doc
    return {o["clientOrderId"]: o["status"] for o in doc["orders"]}


def _config(tmp_path: Path, venue: tuple[str, str], extra: str = "") -> Path:
    ws_url, rest_url = venue
    config = tmp_path / "engine.toml"
    config.write_text(
        f'[venue]\nname = "sim"\nws_url = "{ws_url}"\nrest_url = "{rest_url}"\n'
        f"[control]\nport = 0\n[ipc]\nheartbeat_interval_ms = 50\n{extra}"
    )
    return config


def _env(engine_env: dict[str, str]) -> dict[str, str]:
    return {
        **engine_env,
        "HFT_CONTROL_TOKEN": TOKEN,
        "HFT_SIM_API_KEY": KEY,
        "HFT_SIM_API_SECRET": SECRET,
    }


def test_garbage_from_the_venue_holds_orders_until_reconciled(tmp_path, venue, engine_env):
    """A garbage answer marks the order link bad; orders are held, then flow after reconciling."""
    rest_url = venue[1]
    env = _env(engine_env)
    proc = start_engine(_config(tmp_path, venue), env)
    try:
        url = ready(env["HFT__ENGINE__INSTANCE"], proc)
        code, _ = control(rest_url, "/sim/faults/garbage-rest?count=1", "POST")
        assert code == 200
        first = place(url, TOKEN, symbol="BTCUSDT", side="buy", size="0.001", price="63000.00")
        wait_for(
            "the link to go bad on the garbage answer",
            lambda: any("garbage" in a["message"] for a in get_status(url)["alerts"]),
        )
        wait_for(
            "the link to be healthy again after reconciling",
            lambda: get_status(url)["gateway"]["healthy"],
        )
        # The garbage answer's order was placed (the venue carried it out): reconciled, not lost.
        wait_for(
            "the first order to be known as accepted",
            lambda: orders(url)[first["client_order_id"]]["status"] == "accepted",
        )
        with urllib.request.urlopen(url + "/metrics", timeout=5) as resp:  # loopback only
            metrics = resp.read().decode()
        assert 'hft_gateway_healthy{venue="sim"} 1.0' in metrics
        assert 'hft_rate_limit_used{limit="REQUEST_WEIGHT",venue="sim"}' in metrics
        second = place(url, TOKEN, symbol="BTCUSDT", side="buy", size="0.001", price="63000.00")
        wait_for(
            "a later order to be accepted",
            lambda: orders(url)[second["client_order_id"]]["status"] == "accepted",
        )
        assert set(_venueorders(rest_url)) == {
            first["client_order_id"],
            second["client_order_id"],
        }
    finally:
        stop_engine(proc)


def test_repeated_venue_errors_trip_the_breaker(tmp_path, venue, engine_env):
    """Order requests that keep failing trip the breaker as repeated venue errors."""
    rest_url = venue[1]
    env = _env(engine_env)
    proc = start_engine(_config(tmp_path, venue, "[oms]\nmax_venue_errors_per_minute = 3\n"), env)
    try:
        url = ready(env["HFT__ENGINE__INSTANCE"], proc)
        code, _ = control(
            rest_url, "/sim/faults/status-unknown?count=5&placed=false&answer=unavailable", "POST"
        )
        assert code == 200, _
        doc = json.dumps({"symbol": "BTCUSDT", "side": "buy", "size": "0.001", "price": "63000.00"})
        for _n in range(5):  # the later ones may already be refused: the link or the breaker
            control(url, "/orders", "POST", doc.encode(), token=TOKEN)
        wait_for("the breaker to trip", lambda: get_status(url)["trading"] == "halted")
        assert get_status(url)["halt_reason"].startswith("repeated venue errors")
    finally:
        stop_engine(proc)


def test_sigkill_with_open_orders_restores_orders_and_position(tmp_path, venue, engine_env):
    """After SIGKILL the engine comes back halted with the venue's orders, fills and position.

    One resting order fills while the engine is down; the restarted engine books that fill
    from the venue's trade list, so orders and position agree with the venue exactly.
    """
    ws_url, rest_url = venue
    config = tmp_path / "engine.toml"
    config.write_text(
        f'[venue]\nname = "sim"\nws_url = "{ws_url}"\nrest_url = "{rest_url}"\n'
        "[control]\nport = 0\n[ipc]\nheartbeat_interval_ms = 50\n"
    )
    env = {
        **engine_env,
        "HFT_CONTROL_TOKEN": TOKEN,
        "HFT_SIM_API_KEY": KEY,
        "HFT_SIM_API_SECRET": SECRET,
    }
    instance = env["HFT__ENGINE__INSTANCE"]
    proc = start_engine(config, env)
    try:
        url = ready(instance, proc)
        bought = place(url, TOKEN, symbol="BTCUSDT", side="buy", size="0.01", type="market")
        wait_for(
            "the buy to fill", lambda: orders(url)[bought["client_order_id"]]["status"] == "filled"
        )
        # A bid ten ticks under the touch: a quiet market leaves it alone, a sweep fills it.
        bid = Decimal(get_status(url)["books"]["BTCUSDT"]["best_bid"]["price"]) - Decimal("0.10")
        resting = [
            place(url, TOKEN, symbol="BTCUSDT", side="buy", size="0.002", price=str(bid)),
            place(url, TOKEN, symbol="BTCUSDT", side="sell", size="0.003", price="67000.00"),
        ]
        ids = [o["client_order_id"] for o in resting]
        wait_for(
            "both resting orders at the venue",
            lambda: set(ids) <= set(_venueorders(rest_url)),
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        # While the engine is down the market sells through our bid: a fill it never saw.
        code, swept = control(
            rest_url, "/sim/market-order?symbol=BTCUSDT&side=SELL&quantity=50", "POST"
        )
        assert code == 200, swept
        wait_for("the bid to fill at the venue", lambda: ids[0] not in _venueorders(rest_url))

        proc = start_engine(config, env)
        url = ready(instance, proc)
        status = get_status(url)
        assert status["trading"] == "halted"
        assert status["halt_reason"] == "unclean stop"
        after = orders(url)
        assert (after[ids[0]]["status"], after[ids[0]]["filled"]) == ("filled", "0.00200")
        assert after[ids[1]]["status"] == "accepted"
        assert after[bought["client_order_id"]]["filled"] == "0.01000"
        assert control(url, "/positions")[1]["positions"][0]["net"] == "0.01200"
        assert status["orders"]["open"] == 1
        assert not [a for a in status["alerts"] if "mismatch" in a["message"]]
        # The venue still holds them, so a kill now cancels them there.
        control(url, "/kill", "POST")
        wait_for("the venue to hold no open order", lambda: not _venueorders(rest_url))
        wait_for(
            "the engine to see the sell canceled",
            lambda: orders(url)[ids[1]]["status"] == "canceled",
        )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)


def _signed_market_buy(rest_url: str, quantity: str) -> int:
    """Buy on our account at the venue behind the engine's back (another tool, by hand)."""
    query = encode_params(
        [
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quantity", quantity),
            ("newClientOrderId", "by-hand-1"),
            ("timestamp", str(int(time.time() * 1000))),
        ]
    )
    query += "&signature=" + sign(SECRET.encode(), query)
    req = urllib.request.Request(
        f"{rest_url}/api/v3/order?{query}", method="POST", headers={"X-MBX-APIKEY": KEY}
    )
    with urllib.request.urlopen(req, timeout=5) as resp:  # loopback only
        return resp.status


def test_a_position_the_engine_did_not_make_trips_the_breaker(tmp_path, venue, engine_env):
    """Reconciliation finds the account's BTC changed while the engine was off: breaker trips."""
    rest_url = venue[1]
    env = _env(engine_env)
    config = _config(tmp_path, venue)
    proc = start_engine(config, env)
    try:
        url = ready(env["HFT__ENGINE__INSTANCE"], proc)  # the first look takes the baseline
        assert get_status(url)["trading"] == "running"
        stop_engine(proc)
        assert _signed_market_buy(rest_url, "0.01") == 200
        proc = start_engine(config, env)
        url = ready(env["HFT__ENGINE__INSTANCE"], proc)
        wait_for("the breaker to trip", lambda: get_status(url)["trading"] == "halted")
        status = get_status(url)
        assert status["halt_reason"].startswith("reconciliation mismatch: sim:BTCUSDT")
        assert any(a["level"] == "critical" for a in status["alerts"])
    finally:
        stop_engine(proc)
