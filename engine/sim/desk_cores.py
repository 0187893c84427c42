"""What the local venue's desks share: one matching core per account, fed by the market model.

The spot, USD-M and Bybit desks (:mod:`engine.sim.desk`, :mod:`engine.sim.usdm_desk`,
:mod:`engine.sim.bybit_desk`) each give every account its own
:class:`~engine.sim.matching.MatchingCore` per symbol, opened on the model's book
(:func:`open_cores`) and then fed every level change and trade the model makes
(:func:`feed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from engine.core.events import Int64Array, Side
from engine.core.instruments import Instrument
from engine.sim.accounts import Accounts
from engine.sim.fees import FeeSchedule
from engine.sim.market import Level, LevelChange, MarketModel, TradePrint
from engine.sim.matching import MatchingCore, Report
from engine.sim.queue import QueueModel


def open_cores(
    instrument: Instrument,
    model: MarketModel,
    accounts: Accounts,
    queue: Callable[[], QueueModel] | None,
    now: int,
) -> dict[int, MatchingCore]:
    """Every account's core on ``instrument`` at its own fees, opened on the model's book.

    Args:
        instrument: the symbol traded.
        model: the symbol's market model (its book is the cores' opening snapshot).
        accounts: the venue's accounts.
        queue: makes each core's queue-position model; conservative when omitted.
        now: the snapshot's time, nanoseconds.

    Returns:
        Each account's core by account uid.
    """
    bid_px, bid_sz = _arrays(model.bids())
    ask_px, ask_sz = _arrays(model.asks())
    cores: dict[int, MatchingCore] = {}
    for account in accounts.all():
        fees = FeeSchedule(account.rates.maker_text, account.rates.taker_text)
        core = MatchingCore(instrument, fees=fees, queue=queue() if queue else None)
        core.on_snapshot(bid_px, bid_sz, ask_px, ask_sz, now)
        cores[account.uid] = core
    return cores


def feed(
    core: MatchingCore,
    events: list[LevelChange | TradePrint],
    taker: MatchingCore | None,
    now: int,
) -> Iterator[list[Report]]:
    """Feed the model's level changes and trades, in order, to one core; yields what each caused.

    Trades are not fed to ``taker``, the core whose order printed them. Events that caused
    nothing yield nothing.
    """
    for event in events:
        if isinstance(event, LevelChange):
            reports = core.on_level(event.side, event.price, event.size, now)
        elif core is taker:
            continue
        else:
            aggressor = Side.SELL if event.buyer_is_maker else Side.BUY
            reports = core.on_trade(event.price, event.size, aggressor, now)
        if reports:
            yield reports


def _arrays(levels: list[Level]) -> tuple[Int64Array, Int64Array]:
    prices = np.fromiter((p for p, _ in levels), dtype=np.int64, count=len(levels))
    sizes = np.fromiter((s for _, s in levels), dtype=np.int64, count=len(levels))
    return prices, sizes
