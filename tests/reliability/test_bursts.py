"""Bursts: 100 fills in one second, and a captured feed replayed until the engine breaks.

* 100 fills within one second, each reported twice (the order's answer and the stream): every
  fill is booked exactly once, the position equals the venue's, and the journal holds one fill
  record per venue trade.
* The BTCUSDT capture (or its synthetic stand-in) replayed by
  :class:`~engine.sim.replay_venue.ReplayVenue` at 1x, then flat out into a venue that cuts a
  slow client off, then at 1x again (the stages of ``hft-tui bench burst``): the venue cuts the
  engine off, the engine marks its book not live and resyncs, nothing reaches the gateway while
  the book is not live, every order (the market maker's and the UI's) is in the journal, the
  command ring drops nothing, and the book is live and caught up once the rate drops.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from engine.bench.captures import spot_session
from engine.ipc.protocol import order_style
from engine.oms import records
from engine.oms.journal import replay_decoded
from engine.sim.replay_venue import MAX_SPEED, ReplayVenue
from hft_tui.bench import burst
from hft_tui.bridge import EngineBridge
from tests.reliability.conftest import SYMBOL, until

pytestmark = pytest.mark.integration

FILLS = 100


@pytest.fixture
def desk_env():
    """Order-rate limits above the burst, on both sides."""
    return {
        "HFT__RISK__DEFAULTS__MAX_ORDERS_PER_SECOND": "500",
        "HFT__RISK__DEFAULTS__MAX_ORDERS_PER_MINUTE": "5000",
        "HFT__RISK__DEFAULTS__MAX_OPEN_ORDERS": "500",
    }


@pytest.fixture
def desk_venue():
    """A venue that lets one account place the burst."""
    return {"orders_per_10s": 1000}


def _fills(desk) -> int:
    return sum(len(o.fill_ids) for o in desk.engine.oms.orders.values())


async def test_100_fills_in_one_second(desk, fault):
    """100 market orders of 0.0001 BTC sent at once; every fill booked once, within a second."""
    engine = desk.engine
    before = _fills(desk)
    fault.inject(f"{FILLS} fills in one second")
    started = time.monotonic()
    ids = [desk.place(side="buy", size="0.0001", type="market") for _ in range(FILLS)]
    await until(lambda: _fills(desk) >= before + FILLS, f"{FILLS} fills booked")
    booked_s = time.monotonic() - started
    fault.detected(
        f"OMS: {FILLS} fills booked in {booked_s:.2f} s (answers and stream deduplicated)"
    )
    await until(lambda: not any(engine.oms.orders[i].is_open for i in ids), "every order done")
    fault.recovered()
    await desk.settled()
    trades = desk.venue.desk.trades(desk.account, SYMBOL)
    engine.journal.flush()
    journaled = {
        (m.fill.venue, m.fill.trade_id)
        for _, m in replay_decoded(
            engine.journal.directory, engine.config.engine.instance, records.DECODER
        )
        if isinstance(m, records.Filled)
    }
    missing = len(trades) - len(journaled)
    assert _fills(desk) - before == len(trades), "fills booked twice or missed"
    fault.lost(len(desk.mismatches()), missing)


# ---- the replayed feed, flat out -----------------------------------------------------------------

REPLAY_STAGES = [
    burst.Stage("1x", 1.0, 2.0, 10.0),
    burst.Stage("max, tight venue", MAX_SPEED, 200.0, 30.0, queue_limit=300, sndbuf=16384),
    burst.Stage("1x again", 1.0, 0.0, 30.0, recover=True),
]


class _Ui:
    """A stand-in UI: drains the event ring and places one order from the ticket per sample."""

    def __init__(self, bridge: EngineBridge, engine) -> None:
        self.bridge = bridge
        self.engine = engine
        self.submitted = 0

    def drain_events(self) -> None:
        self.bridge.drain_events()

    def send_ping(self) -> None:
        bid = self.engine.books[0].best_bid()
        if bid is None:
            return
        self.submitted += 1
        self.bridge.send_submit(
            0,
            buy=True,
            price=bid[0] - 50,
            size=1000,
            style=order_style("limit", "gtc"),
            request=self.submitted,
        )


def _journaled_ids(engine) -> set[str]:
    engine.journal.flush()
    return {
        m.order.client_order_id
        for _, m in replay_decoded(
            engine.journal.directory, engine.config.engine.instance, records.DECODER
        )
        if isinstance(m, records.Sent | records.Refused)
    }


@pytest.mark.shared_data
async def test_replay_flat_out_cut_off_resyncs_and_recovers(tmp_path: Path, shared_data, fault):
    """Cut off while flat out: book not live, nothing sent on it, nothing lost, live again.

    The captured session: the synthetic stand-in's book crosses as it walks, so the engine would
    resync for that too.
    """
    session = spot_session(limit=8000)
    venue = ReplayVenue(session)
    await venue.start()
    engine = burst.engine_for(venue.ws_url, venue.rest_url, tmp_path)
    watch = burst.Watch(engine)
    watch.install()
    task = asyncio.create_task(engine.run())
    bridge = None
    try:
        venue.set_speed(1.0)
        await until(lambda: engine.book_states.get(0) == "live", "a live book")
        await until(lambda: all(s.running for s in engine.strategies.stats()), "the strategy")
        watch.install_gateway()
        bridge = EngineBridge.attach(engine.config.engine.instance)
        ui = _Ui(bridge, engine)
        control = burst.LocalControl(venue)
        (first,) = await burst.run_stages(engine, control, session, REPLAY_STAGES[:1], watch, ui)
        seen = len(watch.states)

        def broke() -> bool:
            return any(s != "live" for _, s in watch.states[seen:])

        fault.inject("captured feed flat out into a venue that cuts slow clients off")
        stages = asyncio.create_task(
            burst.run_stages(engine, control, session, REPLAY_STAGES[1:], watch, ui)
        )
        await until(lambda: broke() or stages.done(), "the book marked not live", 60)
        fault.detected(f"feed: cut off by the venue, book {watch.states[-1][1]}")
        await until(
            lambda: (broke() and engine.book_states.get(0) == "live") or stages.done(),
            "the book live again",
            60,
        )
        fault.recovered()
        broken, again = await stages
        states = [s for _, s in watch.states]
        assert first.verdict == "kept up", first
        assert broken.cutoffs >= 1, f"the venue never cut the engine off: {broken}"
        assert any(s != "live" for s in broken.states + again.states), states
        assert broken.resyncs + again.resyncs >= 1, (broken, again)
        assert watch.sent > 0, "the market maker sent nothing"
        assert watch.sent_not_live == 0, "orders reached the gateway while the book was not live"
        assert again.live_at_end, again
        assert again.end_lag_s <= burst.KEPT_UP_LAG_S, again

        def from_ui() -> int:
            return sum(1 for cid in engine.oms.orders if not engine.strategies.owner(cid))

        await until(lambda: from_ui() >= ui.submitted, "every order from the UI taken")
        commands_lost = ui.submitted - from_ui()
        assert engine.publisher is not None
        commands_lost += engine.publisher.commands_stats().dropped
        unjournaled = set(engine.oms.orders) - _journaled_ids(engine)
        assert ui.submitted > 0
        fault.lost(len(unjournaled), max(commands_lost, 0))
    finally:
        if bridge is not None:
            bridge.close()
        engine.request_stop()
        await asyncio.wait_for(task, 30)
        await venue.stop()
