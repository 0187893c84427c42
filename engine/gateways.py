"""Which gateway serves the engine's orders: one choice per mode, made once at start.

``paper`` matches in-process against the live book (:class:`~engine.sim.paper.PaperGateway`);
``live`` sends to the venue with its own gateway and keys. Everything above the gateway (risk,
OMS, journal, breaker) is the same object in both. Backtests build their matching the same way
(:func:`sim_exchange`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from engine.core.config import EngineConfig, PaperSection
from engine.core.instruments import Instrument
from engine.sim.exchange import SimulatedExchange
from engine.sim.fees import FeeSchedule
from engine.sim.latency import ConstantLatency, LatencyModel
from engine.sim.matching import MatchingCore
from engine.sim.paper import PaperGateway
from engine.sim.queue import ConservativeQueue, PowerProbQueue, QueueModel
from engine.venues.binance.gateway import BinanceSpotGateway
from engine.venues.binance_usdm.gateway import BinanceUsdmGateway
from engine.venues.bybit.gateway import BybitLinearGateway

BINANCE_WS_API = "wss://ws-api.binance.com:443/ws-api/v3"
"""Binance spot's WebSocket API, for the user data stream, when the config names none."""
BINANCE_USDM_PRIVATE = "wss://fstream.binance.com/private"
"""Binance USD-M's private stream base (the listen-key user stream), when the config names none."""
BYBIT_PRIVATE = "wss://stream.bybit.com/v5/private"
"""Bybit v5's private stream (mainnet), when the config names none."""

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.venues.base import Gateway


def queue_model(paper: PaperSection) -> QueueModel:
    """The configured queue-position model."""
    if paper.queue_model == "power":
        return PowerProbQueue(paper.queue_power)
    return ConservativeQueue()


def sim_exchange(
    instruments: Iterable[Instrument],
    paper: PaperSection,
    *,
    fees: Mapping[str, FeeSchedule] | None = None,
    latency: LatencyModel | None = None,
) -> SimulatedExchange:
    """Matching cores (one per instrument) behind a latency model: paper trading and backtests.

    Args:
        instruments: the instruments matched.
        paper: fees, queue model and latencies (``[paper]``).
        fees: per venue, a schedule replacing ``paper``'s rates for that venue's instruments.
        latency: replaces ``paper``'s constant entry and response latencies.
    """
    default = FeeSchedule(paper.maker_fee, paper.taker_fee)
    by_venue = fees or {}
    cores = {
        i.instrument_id: MatchingCore(
            i, fees=by_venue.get(i.venue, default), queue=queue_model(paper)
        )
        for i in instruments
    }
    if latency is None:
        latency = ConstantLatency(
            entry=paper.entry_latency_us * 1000, response=paper.response_latency_us * 1000
        )
    return SimulatedExchange(cores, latency)


def paper_exchange(engine: Engine) -> SimulatedExchange:
    """The matching cores (one per instrument) and latency the paper gateway trades against."""
    exchange = sim_exchange(engine.instruments, engine.config.paper)
    for iid, core in exchange.cores.items():
        # The paper account carries the position the journal rebuilt; its orders died with the
        # last process, which reconciliation will find and close.
        core.position_lots = engine.portfolio.position(iid).net
    return exchange


def make_gateway(engine: Engine, ws_url: str, rest_url: str) -> Gateway:
    """The gateway for the engine's mode and venue."""
    if engine.config.engine.mode == "paper":
        return PaperGateway(
            engine.instruments, engine.listener, engine.clock, paper_exchange(engine)
        )
    return live_gateway(engine, ws_url, rest_url)


def sim_credentials(config: EngineConfig, environ: Mapping[str, str]) -> tuple[str, str]:
    """Our API key and secret on the local venue.

    A venue the engine starts itself gets a fresh pair in its environment; a venue run apart
    (``hft-tui sim-venue``) reads the same variables as the engine, so both must have them.
    """
    sim = config.sim
    key = environ.get(sim.api_key_env) or secrets.token_hex(32)
    secret = environ.get(sim.api_secret_env) or secrets.token_hex(32)
    return key, secret


def live_gateway(engine: Engine, ws_url: str, rest_url: str) -> Gateway:
    """The venue's own gateway for ``live`` mode (the local venue speaks Binance spot too).

    ``binance-usdm`` trades USD-M futures through :class:`BinanceUsdmGateway` (the local venue
    serves its ``/fapi`` order API as well, for a standalone venue named by ``rest_url``).
    ``bybit-linear`` trades Bybit v5 linear through :class:`BybitLinearGateway` (REST on
    ``rest_url``, the private stream on ``ws_api_url``; the local venue serves both too).
    """
    venue = engine.config.venue
    if venue.name == "bybit-linear":
        # Presence was checked at config load (check_venue_keys); the values never leave here.
        return BybitLinearGateway(
            engine.instruments,
            engine.listener,
            rest_url,
            venue.ws_api_url or BYBIT_PRIVATE,
            os.environ[venue.api_key_env],
            os.environ[venue.api_secret_env],
            engine.clock,
            venue=venue.name,
            recv_window_ms=venue.recv_window_ms,
        )
    if venue.name == "binance-usdm":
        # Presence was checked at config load (check_venue_keys); the values never leave here.
        return BinanceUsdmGateway(
            engine.instruments,
            engine.listener,
            rest_url,
            venue.ws_api_url or BINANCE_USDM_PRIVATE,
            os.environ[venue.api_key_env],
            os.environ[venue.api_secret_env],
            engine.clock,
            venue=venue.name,
            recv_window_ms=venue.recv_window_ms,
        )
    if venue.name == "sim":
        key, secret = engine.sim_key
        ws_api = venue.ws_api_url or f"{ws_url.rstrip('/')}/ws-api/v3"
    else:
        # Presence was checked at config load (check_venue_keys); the values never leave here.
        key = os.environ[venue.api_key_env]
        secret = os.environ[venue.api_secret_env]
        ws_api = venue.ws_api_url or BINANCE_WS_API
    return BinanceSpotGateway(
        engine.instruments,
        engine.listener,
        rest_url,
        ws_api,
        key,
        secret,
        engine.clock,
        venue=venue.name,
        recv_window_ms=venue.recv_window_ms,
    )
