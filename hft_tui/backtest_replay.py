"""A finished backtest run replayed again in the UI process, paced for watching on the ladder.

:func:`open_replay` builds the same run a worker did (the same config, data and range, so the
same orders and fills) behind :class:`backtest.replay.ReplayControl`, which paces it at real time
x N with pause, step and seek. :class:`ReplayWatch` reads what the screen draws at any moment:
the traded instrument's book as a :class:`~engine.ipc.protocol.BookView`, our resting orders by
ladder level with the queue ahead of them (the matching core's estimate), the position, net PnL,
fills so far and where the replay is in its range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError
from engine.ipc.protocol import BookView
from hft_tui.backtest_jobs import BacktestJob, resolved_config

if TYPE_CHECKING:
    from backtest.replay import ReplayControl
    from backtest.runner import BacktestRun

#: levels a side the replay's book view carries (the ladder shows at most 20)
DEPTH = 20
#: the speeds ``+`` and ``-`` step through (simulated seconds per wall second)
SPEEDS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0)


class ReplayOpenError(EngineError, ValueError):
    """The run cannot be built again for a replay; the message says why."""


def open_replay(job: BacktestJob, speed: float = 1.0) -> ReplayControl:
    """The job's run, ready to replay from its first event at ``speed`` (paused until resumed).

    Raises:
        ReplayOpenError: the data cannot be opened or does not cover the range, or the run's
            settings are refused.
    """
    from backtest.catalog_source import open_source
    from backtest.errors import BacktestError
    from backtest.replay import Replay, ReplayControl
    from backtest.runner import prepare

    def factory() -> Replay:
        source = open_source(job.spec)
        return prepare(resolved_config(job, source), source)[1]

    try:
        control = ReplayControl(factory, speed=speed)
    except (BacktestError, OSError, ValueError) as exc:
        raise ReplayOpenError(f"run #{job.number} cannot be replayed: {exc}") from None
    control.pause()
    return control


@dataclass(frozen=True, slots=True)
class ReplayState:
    """What the replay screen shows at one moment."""

    book: BookView | None
    ours: dict[tuple[int, int], tuple[int, int, int]]
    """(side, price) -> (our lots left, orders, public lots queued ahead of the front one)."""
    now_ns: int
    start_ns: int
    end_ns: int
    events: int
    """Market events replayed so far."""
    position_lots: int
    net: str
    """Net PnL so far, exact quote-currency text."""
    fills: int
    open_orders: int
    done: bool


class ReplayWatch:
    """Reads a replay's run for the screen.

    Args:
        control: the paced replay (:func:`open_replay`).
    """

    def __init__(self, control: ReplayControl) -> None:
        self.control = control

    @property
    def run(self) -> BacktestRun:
        """The run being replayed (a new one after seeking backwards)."""
        target: Any = self.control.replay.target
        return target  # type: ignore[no-any-return]

    def instrument(self) -> int:
        """The traded instrument's id."""
        run = self.run
        symbol = run.config.symbol or run.instruments[0].symbol
        return next(i.instrument_id for i in run.instruments if i.symbol == symbol)

    def state(self) -> ReplayState:
        """The book, our orders and figures now."""
        run = self.run
        replay = self.control.replay
        iid = self.instrument()
        inst = next(i for i in run.instruments if i.instrument_id == iid)
        book = run.books[iid]
        bids, asks = book.top(DEPTH)
        crossed = bool(bids and asks and bids[0][0] >= asks[0][0])
        view = BookView(
            instrument=iid,
            symbol=inst.symbol,
            tick_size=inst.tick_size,
            lot_size=inst.lot_size,
            state="crossed" if crossed else ("live" if bids and asks else "syncing"),
            bids=bids,
            asks=asks,
            update_id=book.update_id,
            update_count=book.update_count,
            exch_ts=0,
            recv_ts=replay.now_ns,
        )
        queue = run.gateway.queue_ahead()
        ours: dict[tuple[int, int], tuple[int, int, int]] = {}
        orders = run.oms.open_orders(iid)
        for order in orders:
            if not order.price_ticks:
                continue
            key = (int(order.side), order.price_ticks)
            lots, count, ahead = ours.get(key, (0, 0, -1))
            mine = queue.get(order.client_order_id, -1)
            if mine >= 0:
                ahead = mine if ahead < 0 else min(ahead, mine)
            ours[key] = (lots + order.size_lots - order.filled_lots, count + 1, ahead)
        view_pf = run.portfolio.snapshot()
        position = next((p.net_lots for p in view_pf.positions if p.instrument == iid), 0)
        return ReplayState(
            book=view,
            ours=ours,
            now_ns=replay.now_ns,
            start_ns=run.config.start_ns,
            end_ns=run.config.end_ns,
            events=replay.events,
            position_lots=position,
            net=f"{view_pf.net.normalize():f}" if view_pf.net else "0",
            fills=len(run.fills),
            open_orders=len(orders),
            done=replay.done,
        )


def faster(speed: float, step: int) -> float:
    """The speed ``step`` places up (or down, negative) :data:`SPEEDS` from ``speed``."""
    nearest = min(range(len(SPEEDS)), key=lambda n: abs(SPEEDS[n] - speed))
    return SPEEDS[max(0, min(len(SPEEDS) - 1, nearest + step))]
