"""Helpers for the USD-M gateway tests: the instrument, the account, a gateway to the venue."""

from __future__ import annotations

from engine.core.clock import LiveClock
from engine.core.events import OrderUpdateKind
from engine.core.instruments import Instrument
from engine.sim.server import SimVenue
from engine.venues.backoff import Backoff
from engine.venues.binance_usdm.gateway import BinanceUsdmGateway
from tests.engine.venues.recording import Recorder

KEY = "usdmKey01"
SECRET = "usdmSecret01"
BTC = Instrument(
    venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", min_notional="5"
)
K = OrderUpdateKind


def make_gateway(
    venue: SimVenue, listener: Recorder, secret: str = SECRET, **options: object
) -> BinanceUsdmGateway:
    """A gateway to the local venue with quick reconnects and look-ups."""
    fields: dict[str, object] = {
        "venue": "sim",
        "backoff": Backoff(base_s=0.01, cap_s=0.05),
        "status_query_delay_s": 0.05,
        "timeout_s": 3.0,
        **options,
    }
    return BinanceUsdmGateway(
        [BTC],
        listener,
        venue.rest_url,
        f"{venue.ws_url}/private",
        KEY,
        secret,
        LiveClock(),
        **fields,  # type: ignore[arg-type]
    )
