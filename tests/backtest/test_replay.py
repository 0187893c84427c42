"""The replay's time line on a made-up market: latencies, ordering, pacing, pause, step, seek."""

from __future__ import annotations

import logging

import pytest

from backtest.config import BacktestConfig
from backtest.replay import ReplayControl
from backtest.runner import prepare, run_backtest
from engine.core.events import Side
from tests.backtest.runs import ListSource, delta, snapshot, trade

MS = 1_000_000
T0 = 1_700_000_000_000_000_000


@pytest.fixture(autouse=True)
def _quiet() -> None:
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def market(steps: int = 50) -> list:
    """A 1000/1010 book that ticks every 10 ms; a sell print at the bid every 5th step."""
    events = [snapshot(T0, [(1000, 5000)], [(1010, 5000)])]
    for n in range(1, steps):
        ts = T0 + n * 10 * MS
        if n % 5 == 0:
            events.append(trade(ts, 1000, 3000, Side.SELL))
        events.append(delta(ts, n + 1, [(1000, 5000 + n)], []))
    return events


PARAMS = {"half_spread_ticks": 5, "size_lots": 10, "max_inventory_lots": 1000}


def _config(**fields: object) -> BacktestConfig:
    import msgspec

    doc: dict[str, object] = {"params": PARAMS, "maker_fee": "0", "taker_fee": "0"}
    doc.update(fields)
    return msgspec.convert(doc, BacktestConfig)


def test_order_latency_decides_when_the_order_reaches_the_book():
    """The first quotes are sent at T0 and accepted entry + response later, in simulated time."""
    source = ListSource(market())
    result = run_backtest(_config(entry_latency_us=3000, response_latency_us=2000), source)
    first = result.orders[0]
    sent = first.history[0].ts_ns
    accepted = next(t.ts_ns for t in first.history if t.kind == "accepted")
    assert sent == T0
    assert accepted == T0 + 3 * MS  # the venue's time of the ack (entry latency)


def test_feed_latency_delays_what_the_strategy_sees():
    """With 4 ms of feed latency the strategy quotes the snapshot at T0 + 4 ms."""
    source = ListSource(market())
    result = run_backtest(_config(feed_latency_us=4000), source)
    assert result.orders[0].history[0].ts_ns == T0 + 4 * MS


def test_fills_come_from_the_tape_through_the_queue():
    """Our bid at 1000 joins behind 5000 lots; prints of 3000 eat the queue, then fill us."""
    source = ListSource(market(80))
    result = run_backtest(_config(), source)
    fills = [b.fill for b in result.fills]
    assert fills
    assert all(f.side is Side.BUY and f.price == 1000 for f in fills)


def test_replay_control_paces_by_the_wall_clock_and_pauses_steps_and_seeks():
    """Real time x 2: 20 ms of wall moves 40 ms of market; pause stops; seek back replays."""
    source = ListSource(market())
    wall = [0]

    def factory():
        return prepare(_config(), source)[1]

    control = ReplayControl(factory, speed=2.0, wall=lambda: wall[0])
    control.advance()
    start = control.replay.now_ns
    wall[0] += 20 * MS
    control.advance()
    assert control.replay.now_ns - start == pytest.approx(40 * MS, abs=10 * MS)
    control.pause()
    before = control.replay.now_ns
    wall[0] += 1000 * MS
    control.advance()
    assert control.replay.now_ns == before
    assert control.step()
    assert control.replay.now_ns == before + 10 * MS
    control.seek(T0 + 300 * MS)
    assert control.replay.now_ns >= T0 + 300 * MS
    control.seek(T0 + 100 * MS)  # backwards: a fresh replay from the start
    assert T0 + 100 * MS <= control.replay.now_ns < T0 + 300 * MS
    control.set_speed(None)
    control.resume()
    while not control.replay.done:
        control.advance()


def test_fees_follow_the_venue_schedule_when_one_is_given():
    """``venue_fees`` replaces the default rates for that venue's instruments (a rebate here)."""
    source = ListSource(market(80))
    plain = run_backtest(_config(maker_fee="0.0001"), source)
    rebate = run_backtest(
        _config(maker_fee="0.0001", venue_fees={"sim": {"maker": "-0.0001", "taker": "0.0003"}}),
        source,
    )
    assert plain.fills
    assert [b.fill.fee for b in rebate.fills] == [-b.fill.fee for b in plain.fills]
