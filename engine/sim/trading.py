"""The order side of the local venue: accounts, the trading desk and the user streams, wired.

:class:`VenueTrading` opens the accounts, builds the :class:`~engine.sim.desk.TradingDesk` over
the venue's market models and the :class:`~engine.sim.user_stream.UserStreams` of the WebSocket
API, and listens to the desk: executions and balance changes become ``executionReport`` and
``outboundAccountPosition`` events on the account's subscriptions, and liquidity our orders took
goes back to the venue to publish (depth, ``<sym>@trade``) and to feed every core.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from engine.core.instruments import Instrument
from engine.sim import order_wire
from engine.sim.accounts import Account, Accounts, AccountSpec
from engine.sim.desk import TradingDesk
from engine.sim.ledger import Execution, OrderRecord
from engine.sim.market import MarketActivity, MarketModel
from engine.sim.matching import MatchingCore
from engine.sim.order_wire import OrderText
from engine.sim.queue import QueueModel
from engine.sim.trading_faults import TradingFaults
from engine.sim.user_stream import UserStreams

Absorb = Callable[[str, MarketActivity, MatchingCore | None], None]
"""The venue's way to publish and feed back market activity: symbol, activity, the taker's core."""


class VenueTrading:
    """Accounts, desk and user streams of one venue.

    Args:
        instruments: the symbols listed.
        models: each symbol's market model.
        accounts: the accounts to open.
        faults: the venue's order-side faults.
        absorb: publishes and feeds back liquidity our orders took.
        orders_per_10s: each account's unfilled-order limit per 10 s.
        orders_per_day: each account's unfilled-order limit per UTC day.
        queue: makes each matching core's queue model; conservative when omitted.
        seed: seeds the venue-made client order ids.
        heartbeat_s: seconds between pings on WebSocket-API connections.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        models: Mapping[str, MarketModel],
        accounts: Sequence[AccountSpec],
        faults: TradingFaults,
        absorb: Absorb,
        *,
        orders_per_10s: int = 100,
        orders_per_day: int = 200_000,
        queue: Callable[[], QueueModel] | None = None,
        seed: int = 7,
        heartbeat_s: float = 20.0,
    ) -> None:
        self.accounts = Accounts(accounts)
        self.user_streams = UserStreams(self.accounts, faults, heartbeat_s)
        self._absorb = absorb
        self.orders_per_10s = orders_per_10s
        self.orders_per_day = orders_per_day
        self.desk = TradingDesk(
            instruments,
            models,
            self.accounts,
            self,
            queue=queue,
            orders_per_10s=orders_per_10s,
            orders_per_day=orders_per_day,
            seed=seed,
        )

    # ---- the desk's listener ---------------------------------------------------------------------

    def on_execution(self, text: OrderText, record: OrderRecord, execution: Execution) -> None:
        """Send an ``executionReport`` to the account's subscriptions."""
        streams = self.user_streams
        if streams.subscribed(record.account):
            now_ms = time.time_ns() // 1_000_000
            event = order_wire.execution_report(text, record, execution, now_ms)
            streams.publish(record.account, event)

    def on_balances(self, account: Account, assets: list[str]) -> None:
        """Send an ``outboundAccountPosition`` to the account's subscriptions."""
        streams = self.user_streams
        if streams.subscribed(account):
            now_ms = time.time_ns() // 1_000_000
            streams.publish(account, order_wire.account_position(account, assets, now_ms))

    def on_taken(self, symbol: str, activity: MarketActivity, taker: MatchingCore) -> None:
        """Liquidity our order took: the venue publishes it and feeds it to every core."""
        self._absorb(symbol, activity, taker)
