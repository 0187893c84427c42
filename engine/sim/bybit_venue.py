"""Bybit v5 linear on the local venue: the desk, the private streams and the limits, wired.

:func:`add_bybit_linear` is the venue's one registration call: it builds :class:`BybitLinear`
over the venue's markets and accounts, mounts the REST routes (:mod:`engine.sim.bybit_rest`) and
``/v5/private`` (:mod:`engine.sim.bybit_stream`) on the venue's aiohttp app, closes the private
streams when the app shuts down, and has the market feed the linear cores as well.

The market reaches the order side of the venue through one call, the Binance desk's
:meth:`~engine.sim.desk.TradingDesk.on_market` (level changes and trades of the market model,
and liquidity any order took). :func:`follow_market` makes the linear desk hear each of those
calls right after the Binance desk, so both see one market in one order. What a linear order
takes goes back through the venue (``VenueTrading.on_taken``): published on the market streams
and fed to every core, the taker's own trades excepted.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

from engine.core.instruments import Instrument
from engine.sim.accounts import Account
from engine.sim.bybit_desk import LinearDesk
from engine.sim.bybit_ledger import LinearExecution, LinearOrder, LinearPosition
from engine.sim.bybit_limits import BybitLimits
from engine.sim.bybit_rest import add_bybit_routes
from engine.sim.bybit_stream import PrivateStreams
from engine.sim.bybit_wire import (
    LinearText,
    execution_item,
    order_item,
    position_item,
    wallet_item,
)
from engine.sim.desk import TradingDesk
from engine.sim.market import LevelChange, MarketModel, TradePrint
from engine.sim.matching import MatchingCore

if TYPE_CHECKING:
    from engine.sim.server import SimVenue

log = logging.getLogger("engine.sim")

MarketFeed = Callable[[str, list[LevelChange | TradePrint], MatchingCore | None], None]
_DESK_FEED: weakref.WeakKeyDictionary[TradingDesk, MarketFeed] = weakref.WeakKeyDictionary()
"""The Binance desk's own ``on_market`` of each desk followed."""


class BybitLinear:
    """The venue's Bybit linear side: desk, private streams, rate limits.

    Args:
        venue: the local venue whose markets, accounts and faults it shares.
        limits: the request limits; Bybit's defaults when omitted.
        seed: seeds order, execution and connection ids.
    """

    def __init__(
        self, venue: SimVenue, *, limits: BybitLimits | None = None, seed: int = 7
    ) -> None:
        trading = venue.trading
        self.instruments: list[Instrument] = venue.instruments
        self._models = {s: venue.model(s) for s in venue.symbols}
        self.faults = venue.faults.trading
        self.venue_faults = venue.faults
        self.limits = limits or BybitLimits()
        self.streams = PrivateStreams(trading.accounts, self.faults, seed=seed)
        self.desk = LinearDesk(
            self.instruments, self._models, trading.accounts, self, trading.on_taken, seed=seed
        )

    def __repr__(self) -> str:
        return (
            f"BybitLinear({len(self.instruments)} symbols, {len(self.streams.connections)} streams)"
        )

    def model(self, symbol: str) -> MarketModel:
        """The market model of a listed symbol."""
        return self._models[symbol]

    def drop_private_streams(self) -> int:
        """Cut every ``/v5/private`` connection without a close frame; returns how many."""
        dropped = self.streams.drop_all()
        log.info("fault: disconnected every Bybit private stream", extra={"connections": dropped})
        return dropped

    # ---- the desk's listener ---------------------------------------------------------------------

    def on_order(self, text: LinearText, order: LinearOrder) -> None:
        """Push the order on the ``order`` topic."""
        if self.streams.subscribed(order.account, "order"):
            self.streams.publish(order.account, "order", [order_item(text, order, push=True)])

    def on_execution(self, text: LinearText, order: LinearOrder, fill: LinearExecution) -> None:
        """Push the fill on the ``execution`` topic."""
        if self.streams.subscribed(order.account, "execution"):
            mark = self.desk.mark(order.symbol)
            item = execution_item(text, order, fill, mark)
            self.streams.publish(order.account, "execution", [item])

    def on_position(self, text: LinearText, position: LinearPosition) -> None:
        """Push the position on the ``position`` topic."""
        account = position.account
        if self.streams.subscribed(account, "position"):
            mark = self.desk.mark(position.symbol)
            item = position_item(text, position, mark, self.limits.now_ms(), push=True)
            self.streams.publish(account, "position", [item])

    def on_wallet(self, account: Account) -> None:
        """Push the account on the ``wallet`` topic."""
        if self.streams.subscribed(account, "wallet"):
            item = wallet_item(account, self.desk.positions(account), [])
            self.streams.publish(account, "wallet", [item])


def follow_market(desk: TradingDesk, linear: LinearDesk) -> None:
    """Have ``linear`` hear every market call the venue makes on ``desk``, right after it.

    Called again for the same desk (a venue started anew), the new linear desk takes the place
    of the old one.
    """
    feed = _DESK_FEED.setdefault(desk, desk.on_market)

    def on_market(
        symbol: str, events: list[LevelChange | TradePrint], taker: MatchingCore | None = None
    ) -> None:
        feed(symbol, events, taker)
        linear.on_market(symbol, events, taker)

    desk.on_market = on_market  # type: ignore[method-assign]


def add_bybit_linear(app: web.Application, venue: SimVenue) -> BybitLinear:
    """Serve Bybit v5 linear on ``venue``'s app: routes, ``/v5/private``, the market feed."""
    linear = BybitLinear(venue)
    follow_market(venue.trading.desk, linear.desk)
    add_bybit_routes(app, linear)
    app.router.add_get("/v5/private", linear.streams.handle)

    async def close_streams(_app: web.Application) -> None:
        await linear.streams.close_all()

    app.on_shutdown.append(close_streams)
    return linear
