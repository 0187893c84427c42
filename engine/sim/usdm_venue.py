"""Binance USD-M on the local venue: the desk, the listen-key streams and the limits, wired.

:func:`add_binance_usdm` is the venue's one registration call: it builds :class:`UsdmVenue` over
the venue's markets and accounts, mounts the ``/fapi`` routes (:mod:`engine.sim.usdm_rest`) and
``/private/ws`` (:mod:`engine.sim.usdm_stream`) on the venue's aiohttp app, closes the streams
when the app shuts down, and has the market feed the USD-M cores as well.

The market reaches the order side of the venue through the spot desk's
:meth:`~engine.sim.desk.TradingDesk.on_market` (level changes and trades of the market model,
and liquidity any order took), which other sides of the venue may already wrap (the Bybit side
does). :func:`follow_market` wraps whatever is there now, so every side hears each call, the
USD-M desk last; registered again (a venue started anew), it wraps the new chain once more and
the new USD-M desk takes the place of the old one. What a USD-M order takes goes back through
the venue (``VenueTrading.on_taken``): published on the market streams and fed to every core,
the taker's own trades excepted.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

from engine.core.instruments import Instrument
from engine.sim.accounts import Account
from engine.sim.desk import TradingDesk
from engine.sim.market import LevelChange, MarketModel, TradePrint
from engine.sim.matching import MatchingCore
from engine.sim.usdm_desk import UsdmDesk
from engine.sim.usdm_ledger import FuturesExecution, FuturesOrder
from engine.sim.usdm_limits import ORDERS_PER_10S, ORDERS_PER_MINUTE, UsdmLimits
from engine.sim.usdm_rest import add_usdm_routes
from engine.sim.usdm_stream import LISTEN_KEY_TTL_S, UsdmStreams
from engine.sim.usdm_wire import FuturesText, account_update, order_trade_update

if TYPE_CHECKING:
    from engine.sim.server import SimVenue

log = logging.getLogger("engine.sim")

MarketFeed = Callable[[str, list[LevelChange | TradePrint], MatchingCore | None], None]
_FOLLOWING: weakref.WeakKeyDictionary[TradingDesk, _Follower] = weakref.WeakKeyDictionary()


class UsdmVenue:
    """The venue's Binance USD-M side: desk, listen-key streams, limits.

    Args:
        venue: the local venue whose markets, accounts and faults it shares.
        limits: the request and order limits; when omitted, USD-M's (300 orders per 10 s,
            1200 a minute), or more when the venue's own order limit is set higher (a
            benchmark lifts it): then that many per 10 s and six times it a minute.
        listen_key_ttl_s: how long a listen key lives after its last extension.
        seed: seeds listen keys and venue-made client order ids.
    """

    def __init__(
        self,
        venue: SimVenue,
        *,
        limits: UsdmLimits | None = None,
        listen_key_ttl_s: float = LISTEN_KEY_TTL_S,
        seed: int = 7,
    ) -> None:
        trading = venue.trading
        self.instruments: list[Instrument] = venue.instruments
        self._models = {s: venue.model(s) for s in venue.symbols}
        self.faults = venue.faults.trading
        self.venue_faults = venue.faults
        raised = venue.orders_per_10s
        self.limits = limits or UsdmLimits(
            orders_per_10s=max(ORDERS_PER_10S, raised),
            orders_per_minute=max(ORDERS_PER_MINUTE, 6 * raised),
        )
        self.streams = UsdmStreams(
            self.faults,
            ttl_s=listen_key_ttl_s,
            heartbeat_s=trading.user_streams.heartbeat_s,
            seed=seed,
        )
        self.desk = UsdmDesk(
            self.instruments, self._models, trading.accounts, self, trading.on_taken, seed=seed
        )

    def __repr__(self) -> str:
        return (
            f"UsdmVenue({len(self.instruments)} symbols, {len(self.streams.connections)} streams)"
        )

    def model(self, symbol: str) -> MarketModel:
        """The market model of a listed symbol."""
        return self._models[symbol]

    # ---- faults ----------------------------------------------------------------------------------

    def expire_listen_keys(self, *, notify: bool = True) -> int:
        """Let every listen key run out now: ``listenKeyExpired``, streams closed; how many.

        With ``notify`` False the keys vanish silently and their streams go quiet.
        """
        expired = self.streams.expire_all(notify=notify)
        log.info("fault: every USD-M listen key expired", extra={"keys": expired, "notify": notify})
        return expired

    def drop_user_streams(self) -> int:
        """Cut every ``/private/ws`` connection without a close frame; returns how many."""
        dropped = self.streams.drop_all()
        log.info("fault: disconnected every USD-M user stream", extra={"connections": dropped})
        return dropped

    # ---- the desk's listener ---------------------------------------------------------------------

    def on_order(self, text: FuturesText, order: FuturesOrder, execution: FuturesExecution) -> None:
        """Send the ``ORDER_TRADE_UPDATE``."""
        if self.streams.listening(order.account):
            now_ms = time.time_ns() // 1_000_000
            event = order_trade_update(text, order, execution, now_ms)
            self.streams.publish(order.account, event)

    def on_account(self, account: Account, symbol: str) -> None:
        """Send the ``ACCOUNT_UPDATE`` of the margin asset and the position of ``symbol``."""
        if not self.streams.listening(account):
            return
        text = self.desk.text(symbol)
        state = next(s for s in self.desk.margin(account) if s.asset == text.margin_asset)
        position = self.desk.book(account, symbol).position
        now_ms = time.time_ns() // 1_000_000
        event = account_update(state, text, position, self.desk.mark(symbol), now_ms)
        self.streams.publish(account, event)


class _Follower:
    """The USD-M desk that hears a spot desk's market calls, and the wrapper that calls it."""

    def __init__(self, desk: UsdmDesk) -> None:
        self.desk = desk
        self.wrapper: MarketFeed | None = None


def follow_market(desk: TradingDesk, usdm: UsdmDesk) -> None:
    """Have ``usdm`` hear every market call the venue makes on ``desk``, after the others."""
    follower = _FOLLOWING.get(desk)
    if follower is None:
        follower = _FOLLOWING[desk] = _Follower(usdm)
    follower.desk = usdm
    if desk.on_market is follower.wrapper:
        return
    inner: MarketFeed = desk.on_market

    def on_market(
        symbol: str, events: list[LevelChange | TradePrint], taker: MatchingCore | None = None
    ) -> None:
        inner(symbol, events, taker)
        follower.desk.on_market(symbol, events, taker)

    follower.wrapper = on_market
    desk.on_market = on_market  # type: ignore[method-assign]


def add_binance_usdm(app: web.Application, venue: SimVenue) -> UsdmVenue:
    """Serve Binance USD-M on ``venue``'s app: ``/fapi`` routes, ``/private/ws``, the market."""
    usdm = UsdmVenue(venue)
    follow_market(venue.trading.desk, usdm.desk)
    add_usdm_routes(app, usdm)
    app.router.add_get("/private/ws", usdm.streams.handle)
    app.router.add_get("/private/ws/{listen_key}", usdm.streams.handle)

    async def close_streams(_app: web.Application) -> None:
        await usdm.streams.close_all()

    app.on_shutdown.append(close_streams)
    return usdm
