"""Checks on the fill model over a real capture, each against an independent calculation.

A wrapper around the run watches the venue side: the matching core's best bid and ask before
and after each market event, the trades, and every resting order's queue position.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from decimal import Decimal

import pytest

from backtest.capture import CaptureSource
from backtest.replay import Replay
from backtest.runner import BacktestRun, prepare, result_of
from backtest.source import MarketEvent
from engine.core.events import Side, Trade
from tests.backtest.runs import btc_capture, short_config

pytestmark = pytest.mark.shared_data


class Watched:
    """The run, with the venue side recorded around every market event."""

    def __init__(self, run: BacktestRun) -> None:
        self.run = run
        self.clock = run.clock
        self.core = run.gateway.exchange.cores[0]
        #: exchange ns -> evidence of sellers / buyers at prices: (lowest ask or sell print,
        #: highest bid or buy print) seen at that instant
        self.sellers: dict[int, int] = {}
        self.buyers: dict[int, int] = {}
        self.min_ahead = 0
        self.checked_orders = 0

    def next_due_ns(self) -> int | None:
        """The run's."""
        return self.run.next_due_ns()

    def deliver(self) -> None:
        """The run's, then the queue check."""
        self.run.deliver()
        self._queue()

    def to_venue(self, ts: int, event: MarketEvent) -> None:
        """The run's, with the core's touch before and after and the print."""
        core = self.core
        seen = [(core.best_bid, core.best_ask)]
        self.run.to_venue(ts, event)
        seen.append((core.best_bid, core.best_ask))
        asks = [a for _, a in seen if a is not None]
        bids = [b for b, _ in seen if b is not None]
        if isinstance(event, Trade):
            (asks if event.aggressor is Side.SELL else bids).append(event.price)
        if asks:
            self.sellers[ts] = min([*asks, self.sellers.get(ts, math.inf)])  # type: ignore[list-item]
        if bids:
            self.buyers[ts] = max([*bids, self.buyers.get(ts, -math.inf)])  # type: ignore[list-item]
        self._queue()

    def _queue(self) -> None:
        for view in self.core.open_orders():
            self.checked_orders += 1
            self.min_ahead = min(self.min_ahead, view.ahead)

    def to_engine(self, event: MarketEvent) -> None:
        """The run's."""
        self.run.to_engine(event)

    def tick(self, now_ns: int) -> None:
        """The run's."""
        self.run.tick(now_ns)

    def finish(self) -> None:
        """The run's."""
        self.run.finish()


@pytest.fixture(scope="module")
def watched() -> tuple[Watched, object]:
    """The market maker over 240 s of BTCUSDT, watched."""
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"captured exchange data not found at {SHARED_DATA}")
    logging.disable(logging.WARNING)
    source = CaptureSource([btc_capture(SHARED_DATA)])
    run, _ = prepare(short_config(source, seconds=240), source)
    watched = Watched(run)
    Replay(watched, source.events(run.config.end_ns, "recv")).run()
    logging.disable(logging.NOTSET)
    return watched, result_of(run, source, 0.0)


def test_there_are_fills_to_check(watched):
    """The checks below have something to check."""
    _, result = watched
    assert len(result.fills) > 50


def test_fills_are_never_better_than_the_book_or_the_tape_allowed(watched):
    """A buy at p needs a seller at or below p at that instant (ask or print), a sell a buyer."""
    w, result = watched
    for booked in result.fills:
        fill = booked.fill
        if fill.side is Side.BUY:
            assert w.sellers.get(fill.exch_ts, math.inf) <= fill.price, fill
        else:
            assert w.buyers.get(fill.exch_ts, -math.inf) >= fill.price, fill


def test_a_buy_limit_below_the_ask_fills_only_on_a_trade_or_book_move_through_it(watched):
    """Maker fills happen at market events only (never at a bare command), at the order's price."""
    w, result = watched
    prices = defaultdict(set)
    for order in result.orders:
        prices[order.client_order_id].add(order.price_ticks)
    for booked in result.fills:
        fill = booked.fill
        assert fill.liquidity == "maker"  # post-only quotes
        evidence = w.sellers if fill.side is Side.BUY else w.buyers
        assert fill.exch_ts in evidence, f"maker fill at {fill.exch_ts} without a market event"


def test_queue_position_is_never_negative(watched):
    """After every market event and every delivery, over every resting order."""
    w, _ = watched
    assert w.checked_orders > 1000
    assert w.min_ahead >= 0


def test_fees_match_the_schedule(watched):
    """Maker 1 bp of the notional in 10**-8 units, rounded up, from the config's exact rate."""
    _, result = watched
    inst = result.instruments[0]
    rate = Decimal(result.config.maker_fee)
    unit = Decimal(inst.tick_size) * Decimal(inst.lot_size) * Decimal(10**8)
    for booked in result.fills:
        f = booked.fill
        assert f.fee == math.ceil(Decimal(f.price * f.size) * unit * rate)


def test_pnl_recomputed_from_the_fills_equals_the_engines(watched):
    """Cash from the fill list plus the position at the last mark, minus fees: the engine's net."""
    _, result = watched
    inst = result.instruments[0]
    tick, lot = Decimal(inst.tick_size), Decimal(inst.lot_size)
    cash = Decimal(0)
    fees = Decimal(0)
    position = 0
    for booked in result.fills:
        f = booked.fill
        signed = f.size if f.side is Side.BUY else -f.size
        cash -= Decimal(signed * f.price) * tick * lot
        fees += Decimal(f.fee) / Decimal(10**8)
        position += signed
    last = result.equity[-1]
    mark = Decimal(last.mid_x2[0]) / 2 * tick
    assert position == last.inventory_lots[0]
    assert cash + Decimal(position) * lot * mark - fees == last.net
    assert fees == last.fees
