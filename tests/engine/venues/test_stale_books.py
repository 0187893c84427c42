"""A book that may be wrong, on every feed of the shared stream loop: shown, told and refused.

For Binance spot and USD-M, Bybit, OKX, Kraken, Coinbase and Hyperliquid, each against its local
stream on 127.0.0.1 and built by the engine's own ``make_feed`` with the engine as listener: a
book fault at the venue (a gap, a bad checksum, a crossed book) and a dropped link each take the
book out of ``live`` until it is rebuilt. At each change a strategy is told (``on_book_state``),
and at that moment ``/status`` and the UI's book view show the same state and risk refuses an
order on the book (``market_data_down``) unless it is live; told it is live, an order passes the
data checks. The book comes back live each time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.core.commands import SubmitOrder
from engine.core.config import load_config
from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.engine import Engine
from engine.feeds import make_feed
from engine.risk.checks import RejectReason
from engine.sim.coinbase_stream import CoinbaseStreamVenue
from engine.sim.hyperliquid_stream import HyperliquidStreamVenue
from engine.sim.kraken_stream import KrakenStreamVenue
from engine.sim.okx_stream import OkxStreamVenue
from engine.sim.server import SimVenue
from engine.strategy.base import Params, Strategy
from tests.engine.venues.binance.test_feed import until

pytestmark = pytest.mark.integration


class _Quiet(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """No parameters."""


Seen = tuple[str, str, str, RejectReason | None]
"""(state told, /status state, book view state, risk's refusal) at one change."""


class Watcher(Strategy[_Quiet]):
    """Records, at every book state change, what /status, the UI view and risk say right then."""

    def __init__(self, engine: Engine, symbol: str) -> None:
        super().__init__("watch", _Quiet())
        self.engine = engine
        self.symbol = symbol
        self.seen: list[Seen] = []

    def on_book_state(self, instrument: int, state: str) -> None:
        """Look at the engine while the change is fresh."""
        engine = self.engine
        shown = engine.status()["books"][self.symbol]["state"]
        view = engine.book_view(instrument).state
        book = engine.books[instrument]
        bid = book.best_bid()
        order = SubmitOrder(
            client_order_id=f"watch-{len(self.seen)}",
            instrument=instrument,
            side=Side.BUY,
            size_lots=1,
            price_ticks=bid[0] if bid else 1,
        )
        refusal = engine.risk.check(order, engine.market_state(instrument))
        self.seen.append((state, shown, view, refusal.reason if refusal else None))


@dataclass
class Case:
    """One venue: its config, its local stream, and a fault that breaks a book."""

    name: str
    instrument: Instrument
    start: Callable[[list[Instrument]], Any]
    urls: Callable[[Any], tuple[str, str]]
    break_book: Callable[[Any, str], Awaitable[None] | None]
    drop: Callable[[Any], Awaitable[Any] | Any]


def _bybit() -> Case:
    inst = Instrument(venue="bybit-linear", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
    return Case(
        "bybit-linear",
        inst,
        lambda insts: SimVenue(insts, seed=3, events_per_second=1000.0, depth_interval_ms=20),
        lambda sim: (sim.ws_url, sim.rest_url),
        lambda sim, symbol: sim.faults.gap_next(symbol, missing=1),
        lambda sim: sim.faults.disconnect_all(),
    )


def _binance(name: str) -> Case:
    inst = Instrument(venue=name, symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
    return Case(
        name,
        inst,
        lambda insts: SimVenue(insts, seed=3, events_per_second=1000.0, depth_interval_ms=20),
        lambda sim: (sim.ws_url, sim.rest_url),
        lambda sim, symbol: sim.faults.gap_next(symbol, missing=1),
        lambda sim: sim.faults.disconnect_all(),
    )


def _okx() -> Case:
    inst = Instrument(venue="okx", symbol="BTC-USDT", tick_size="0.1", lot_size="0.00001")
    return Case(
        "okx",
        inst,
        lambda insts: OkxStreamVenue(insts, seed=4, events_per_second=800.0, interval_ms=20),
        lambda sim: (sim.rest_url.replace("http://", "ws://"), sim.rest_url),
        lambda sim, symbol: sim.inject_gap(symbol),
        lambda sim: sim.drop_connections(),
    )


def _public(name: str, inst: Instrument, cls: Any, fault: str, **kw: Any) -> Case:
    return Case(
        name,
        inst,
        lambda insts: cls(insts, seed=5, events_per_second=1000.0, interval_ms=20, **kw),
        lambda sim: (f"ws://127.0.0.1:{sim.port}", ""),
        lambda sim, symbol: getattr(sim, fault)(*((symbol,) if fault != "inject_gap" else ())),
        lambda sim: sim.drop_connections(),
    )


CASES = [
    _binance("binance"),
    _binance("binance-usdm"),
    _bybit(),
    _okx(),
    _public(
        "kraken",
        Instrument(venue="kraken", symbol="BTC/USD", tick_size="0.1", lot_size="0.00000001"),
        KrakenStreamVenue,
        "inject_bad_checksum",
    ),
    _public(
        "coinbase",
        Instrument(venue="coinbase", symbol="BTC-USD", tick_size="0.01", lot_size="0.00000001"),
        CoinbaseStreamVenue,
        "inject_gap",
        heartbeat_ms=100,
    ),
    _public(
        "hyperliquid",
        Instrument(venue="hyperliquid", symbol="BTC", tick_size="1", lot_size="0.00001"),
        HyperliquidStreamVenue,
        "inject_crossed",
    ),
]


def _engine(tmp_path: Path, case: Case) -> Engine:
    inst = case.instrument
    mode = "paper"  # no gateway is started here; paper needs no keys
    path = tmp_path / "engine.toml"
    path.write_text(
        f'[engine]\nmode = "{mode}"\n'
        f'[venue]\nname = "{case.name}"\nmax_reconnects_per_minute = 60\n'
        f"check_instruments = false\n"
        f'[[instruments]]\nvenue = "{case.name}"\nsymbol = "{inst.symbol}"\n'
        f'tick_size = "{inst.tick_size}"\nlot_size = "{inst.lot_size}"\nmin_notional = "1"\n'
    )
    config = load_config(
        path,
        {
            "HFT__ENGINE__INSTANCE": f"stale{tmp_path.name[-8:]}",
            "HFT__ENGINE__STATE_DIR": str(tmp_path / "state"),
        },
    )
    return Engine(config)


async def _maybe(result: object) -> None:
    if asyncio.iscoroutine(result):
        await result


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_a_book_that_may_be_wrong_is_shown_told_and_refused(tmp_path: Path, case: Case):
    """Fault and drop: not live until rebuilt, everywhere at once; live again after each."""
    sim = case.start([case.instrument])
    await sim.start()
    engine = _engine(tmp_path, case)
    watcher = Watcher(engine, case.instrument.symbol)
    engine.strategies.add(watcher)
    engine.strategies.start("watch")
    ws_url, rest_url = case.urls(sim)
    feed = make_feed(engine, ws_url, rest_url)
    task = asyncio.create_task(feed.run())
    live = lambda: engine.book_states.get(0) == "live"  # noqa: E731
    try:
        await until(live, f"the {case.name} book live")
        await until(lambda: engine.book_updates > 5, "updates on the live book")
        first = len(watcher.seen)
        await _maybe(case.break_book(sim, case.instrument.symbol))
        await until(lambda: len(watcher.seen) > first + 1 and live(), "a rebuild after the fault")
        await until(lambda: engine.book_updates > 5, "updates again")
        second = len(watcher.seen)
        await _maybe(case.drop(sim))
        await until(lambda: len(watcher.seen) > second + 1 and live(), "a rebuild after the drop")
        end = len(watcher.seen)  # stopping the feed below marks the book stale once more
    finally:
        await feed.stop()
        await asyncio.wait_for(task, 10.0)
        await sim.stop()
        engine.journal.close()
        engine.breaker.close()
    states = [s[0] for s in watcher.seen[:end]]
    assert states[:first][-1] == "live"  # syncing from the subscription, then live
    assert "syncing" in states[first:second]  # the book fault: thrown away, rebuilt
    assert "stale" in states[second:]  # the drop
    assert states[-1] == "live"
    assert watcher.seen[-1][0] == "stale"  # the feed stopped
    for state, shown, view, refusal in watcher.seen:
        assert shown == view == state  # /status and the UI show it as the strategy is told
        if state == "live":  # told with the book's first update: fresh, so an order passes
            assert refusal not in (RejectReason.MARKET_DATA_DOWN, RejectReason.MARKET_DATA_STALE)
        else:
            assert refusal is RejectReason.MARKET_DATA_DOWN
