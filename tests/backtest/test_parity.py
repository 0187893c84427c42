"""Parity: a backtest and a paper engine on a replaying venue send the same orders, same fills.

The same BTCUSDT capture twice, the reference market maker with the same parameters, zero order
latency and the conservative queue model both times:

* as a backtest (:func:`backtest.runner.prepare`, the capture parsed directly);
* in paper mode: an engine in this process, its Binance feed connected over real sockets to
  :class:`~engine.sim.capture_venue.CaptureVenue` replaying the capture at full speed, its
  strategy trading through risk and the OMS into the paper matching core.

Compared: every order in sending order (side, its last price, size, and the kinds of everything
that happened to it: submit, ack, each replace, fills) and every fill (order, side, price, size,
maker or taker, fee).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest

from backtest.capture import CaptureSource, capture_files
from backtest.config import BacktestConfig
from backtest.runner import prepare
from engine.core.config import load_config
from engine.core.events import Fill
from engine.engine import Engine
from engine.oms.order import Order, OrderEventKind
from engine.risk.limits import Limits, RiskLimits
from engine.sim.capture_venue import CaptureSession, CaptureVenue
from tests.backtest.runs import btc_capture

pytestmark = pytest.mark.shared_data

FRAMES_AFTER = 3000
"""Depth and trade frames after the snapshot replayed (about 80 s of the session)."""
PARAMS = {"half_spread_ticks": 20, "size_lots": 1000, "max_inventory_lots": 20000, "skew_ticks": 5}
LIMITS = RiskLimits(
    defaults=Limits(
        max_order_size="10",
        max_order_notional="10000000",
        max_position="1000",
        max_open_orders=1000,
        max_orders_per_second=1_000_000,
        max_orders_per_minute=60_000_000,
        price_band_bps=500,
        post_only_band_bps=500,
        max_data_age_ms=600_000,
    ),
    max_drawdown="1000000",
    daily_loss_limit="1000000",
)

CONFIG = """
[engine]
mode = "paper"
[venue]
name = "sim"
[[instruments]]
venue = "sim"
symbol = "BTCUSDT"
tick_size = "0.01"
lot_size = "0.000001"
min_notional = "0"
[sim]
depth_interval_ms = 100
[control]
port = 0
[paper]
maker_fee = "0.0001"
taker_fee = "0.0002"
queue_model = "conservative"
entry_latency_us = 0
response_latency_us = 0
[risk]
max_drawdown = "1000000"
daily_loss_limit = "1000000"
[risk.defaults]
max_order_size = "10"
max_order_notional = "10000000"
max_position = "1000"
max_open_orders = 1000
max_orders_per_second = 1000000
max_orders_per_minute = 60000000
price_band_bps = 500
post_only_band_bps = 500
max_data_age_ms = 600000
[strategies.mm]
symbol = "BTCUSDT"
[strategies.mm.params]
half_spread_ticks = 20
size_lots = 1000
max_inventory_lots = 20000
skew_ticks = 5
"""


def _orders(orders: list[Order]) -> list[tuple[object, ...]]:
    """Orders by counter: side, price (the last one), size and what happened to each.

    Trailing cancel requests are dropped: the backtest stops its strategy at the end, the paper
    engine is still running when its orders are read.
    """
    out = []
    for order in sorted(orders, key=lambda o: int(o.client_order_id.rsplit("-", 1)[1])):
        kinds = [t.kind for t in order.history]
        while kinds and kinds[-1] is OrderEventKind.CANCEL_REQUEST:
            kinds.pop()
        counter = order.client_order_id.rsplit("-", 1)[1]
        out.append((counter, order.side, order.price_ticks, order.size_lots, kinds))
    return out


def _fills(fills: list[Fill]) -> list[tuple[object, ...]]:
    """Fills by order counter: side, price, size, liquidity, fee."""
    return [
        (f.client_order_id.rsplit("-", 1)[1], f.side, f.price, f.size, f.liquidity, f.fee)
        for f in fills
    ]


def _backtest(shared: Path, session: CaptureSession) -> tuple[list, list, int]:
    """The backtest over the same frames: from the first after the snapshot to the last sent."""
    source = CaptureSource([btc_capture(shared)])
    files = capture_files(btc_capture(shared))
    stamps = [int(line.split(b" ", 1)[0]) for line in _frame_lines(files, session)]
    config = BacktestConfig(
        params=PARAMS,
        start_ns=stamps[0],
        end_ns=stamps[-1] + 1,
        entry_latency_us=0,
        response_latency_us=0,
        risk=LIMITS,
    )
    run, replay = prepare(config, source)
    replay.run()
    return run.oms.orders.values(), [b.fill for b in run.fills], run.books[0].update_id


def _frame_lines(files: list[Path], session: CaptureSession) -> list[bytes]:
    """The capture lines of the frames the venue sends after the snapshot."""
    import gzip

    wanted = set(session.after)
    lines = []
    seen_snapshot = False
    for path in files:
        with gzip.open(path, "rb") as f:
            for line in f:
                payload = line.rstrip(b"\n").partition(b" ")[2]
                if payload.startswith(b'{"lastUpdateId"'):
                    seen_snapshot = True
                elif seen_snapshot and payload in wanted:
                    lines.append(line)
                    if len(lines) == len(session.after):
                        return lines
    return lines


async def _paper(tmp: Path, session: CaptureSession, last_id: int) -> tuple[list, list]:
    venue = CaptureVenue(session)
    await venue.start()
    path = tmp / "engine.toml"
    path.write_text(CONFIG)
    config = load_config(
        str(path),
        {
            "HFT__ENGINE__INSTANCE": f"t{uuid.uuid4().hex[:10]}",
            "HFT__ENGINE__STATE_DIR": str(tmp / "state"),
        },
    )
    engine = Engine(config, venue_urls=(venue.ws_url, venue.rest_url))
    fills: list[Fill] = []
    booked = engine.oms._on_booked

    def keep(fill: Fill) -> None:
        fills.append(fill)
        if booked is not None:
            booked(fill)

    engine.oms._on_booked = keep
    task = asyncio.create_task(engine.run())
    try:
        await _until(lambda: engine.book_states.get(0) == "live", 30)
        await _until(lambda: all(s.running for s in engine.strategies.stats()), 30)
        venue.release()
        await _until(lambda: engine.books[0].update_id >= last_id, 120)
        await asyncio.sleep(0.2)  # reports of the last frame's orders
        orders = list(engine.oms.orders.values())
        return orders, fills
    finally:
        engine.request_stop()
        await asyncio.wait_for(task, 30)
        await venue.stop()


async def _until(check: object, limit_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not check():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


def test_backtest_and_paper_on_the_replayed_capture_send_the_same_orders_and_fills(
    shared_data: Path, tmp_path: Path
):
    """About 80 s of BTCUSDT: the same orders in the same order, the same fills."""
    logging.disable(logging.WARNING)
    try:
        session = CaptureSession.read(capture_files(btc_capture(shared_data)), FRAMES_AFTER)
        bt_orders, bt_fills, last_id = _backtest(shared_data, session)
        paper_orders, paper_fills = asyncio.run(_paper(tmp_path, session, last_id))
    finally:
        logging.disable(logging.NOTSET)
    assert len(bt_fills) > 10
    assert sum(len(o[4]) for o in _orders(list(bt_orders))) > 3 * len(bt_fills)  # replaces too
    assert _orders(list(paper_orders)) == _orders(list(bt_orders))
    assert _fills(paper_fills) == _fills(bt_fills)
