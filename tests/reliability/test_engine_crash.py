"""Engine SIGKILL with open orders and a torn last journal record, then a restart.

The venue runs as its own process and outlives the engine. The engine is killed right after a
fill was journaled; the journal's last record is then cut short by hand, as a power cut would
leave it. The restarted engine must come up halted, skip the torn record, learn the missing
fill from the venue, and hold exactly the venue's orders and position, with nothing sent twice.
"""

from __future__ import annotations

import signal
import time
from decimal import Decimal
from pathlib import Path

import pytest

from engine.oms.journal import JournalCorrupt, replay
from tests.integration.control import control, get_status
from tests.integration.live import orders, place, ready, start_engine, stop_engine, venue_fixture
from tests.integration.live import wait_for as _wait_for

pytestmark = pytest.mark.integration

TOKEN = "crash-test-token"
KEY = "c" * 64
SECRET = "d" * 64
TORN_BYTES = 7
"""Bytes cut off the journal's end: less than a record, so the last record is torn."""

venue = venue_fixture(KEY, SECRET)


def _venue_orders(rest_url: str) -> dict[str, dict[str, str]]:
    code, doc = control(rest_url, "/sim/orders")
    assert code == 200, doc
    return {o["clientOrderId"]: o for o in doc["orders"]}


def _differences(url: str, rest_url: str) -> list[str]:
    """Every way the engine's orders and position differ from the venue's."""
    ours, theirs = orders(url), _venue_orders(rest_url)
    problems = []
    net = Decimal(0)
    for cid, record in theirs.items():
        executed = Decimal(record["executedQty"])
        net += executed if record["side"] == "BUY" else -executed
        order = ours.get(cid)
        if order is None:
            problems.append(f"{cid}: at the venue, unknown to the engine")
        elif Decimal(order["filled"]) != executed:
            problems.append(f"{cid}: filled {order['filled']}, venue {record['executedQty']}")
        elif (order["status"] in ("accepted", "partially_filled")) != (
            record["status"] in ("NEW", "PARTIALLY_FILLED")
        ):
            problems.append(f"{cid}: engine {order['status']}, venue {record['status']}")
    positions = control(url, "/positions")[1]["positions"]
    held = Decimal(positions[0]["net"]) if positions else Decimal(0)
    if held != net:
        problems.append(f"position {held}, venue fills sum to {net}")
    return problems


def _journal(state: Path) -> Path:
    files = sorted((state / "journal").glob("*.journal"))
    assert files, f"no journal under {state}"
    return files[-1]


def test_sigkill_with_open_orders_and_a_torn_journal_record(tmp_path, venue, engine_env, fault):
    """Back halted, exactly the venue's orders and position, nothing duplicated."""
    ws_url, rest_url = venue
    config = tmp_path / "engine.toml"
    config.write_text(
        f'[venue]\nname = "sim"\nws_url = "{ws_url}"\nrest_url = "{rest_url}"\n'
        "[control]\nport = 0\n[ipc]\nheartbeat_interval_ms = 50\n"
    )
    env = {**engine_env, "HFT_CONTROL_TOKEN": TOKEN, "HFT_SIM_API_KEY": KEY}
    env["HFT_SIM_API_SECRET"] = SECRET
    instance = env["HFT__ENGINE__INSTANCE"]
    state = Path(env["HFT__ENGINE__STATE_DIR"])
    proc = start_engine(config, env)
    try:
        url = ready(instance, proc)
        bid = Decimal(get_status(url)["books"]["BTCUSDT"]["best_bid"]["price"])
        resting = [
            place(url, TOKEN, symbol="BTCUSDT", side="buy", size="0.002", price=str(bid - 20)),
            place(url, TOKEN, symbol="BTCUSDT", side="sell", size="0.003", price=str(bid + 500)),
        ]
        ids = [o["client_order_id"] for o in resting]
        _wait_for("both orders at the venue", lambda: set(ids) <= set(_venue_orders(rest_url)))
        last = place(url, TOKEN, symbol="BTCUSDT", side="buy", size="0.004", type="market")
        _wait_for(
            "the market buy filled",
            lambda: orders(url)[last["client_order_id"]]["status"] == "filled",
        )
        time.sleep(0.1)  # its fill record is written
        before = _venue_orders(rest_url)

        fault.inject("engine SIGKILL with open orders + torn journal record")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        journal = _journal(state)
        size = journal.stat().st_size
        with journal.open("r+b") as f:
            f.truncate(size - TORN_BYTES)
        problems: list[JournalCorrupt] = []
        list(replay(journal.parent, instance, problems))
        assert problems, "the cut went unnoticed"
        assert problems[-1].torn, problems

        proc = start_engine(config, env)
        url = ready(instance, proc)
        status = get_status(url)
        assert status["trading"] == "halted"
        assert status["halt_reason"] == "unclean stop"
        fault.detected("breaker: unclean stop (starts halted); journal: torn record skipped")
        _wait_for("the engine to agree with the venue", lambda: not _differences(url, rest_url))
        fault.recovered()
        after = _venue_orders(rest_url)
        sent_again = set(after) - set(before)
        ours = orders(url)
        assert ours[last["client_order_id"]]["filled"] == "0.00400"
        assert [ours[i]["status"] for i in ids] == ["accepted", "accepted"]
        assert status["orders"]["open"] == 2
        assert not [a for a in status["alerts"] if "mismatch" in a["message"]]
        # The restarted engine cut the torn bytes: the journal reads clean again.
        problems = []
        list(replay(journal.parent, instance, problems))
        fault.lost(len(_differences(url, rest_url)) + len(sent_again), len(problems))
    finally:
        stop_engine(proc)
