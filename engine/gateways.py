"""Which gateway serves the engine's orders: one choice per mode, made once at start.

``paper`` matches in-process against the live book (:class:`~engine.sim.paper.PaperGateway`);
``live`` sends to the venue with its own gateway and keys. Everything above the gateway (risk,
OMS, journal, breaker) is the same object in both.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine.core.config import PaperSection
from engine.sim.exchange import SimulatedExchange
from engine.sim.fees import FeeSchedule
from engine.sim.latency import ConstantLatency
from engine.sim.matching import MatchingCore
from engine.sim.paper import PaperGateway
from engine.sim.queue import ConservativeQueue, PowerProbQueue, QueueModel

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.venues.base import Gateway

log = logging.getLogger("engine")


def queue_model(paper: PaperSection) -> QueueModel:
    """The configured queue-position model."""
    if paper.queue_model == "power":
        return PowerProbQueue(paper.queue_power)
    return ConservativeQueue()


def paper_exchange(engine: Engine) -> SimulatedExchange:
    """The matching cores (one per instrument) and latency the paper gateway trades against."""
    paper = engine.config.paper
    fees = FeeSchedule(paper.maker_fee, paper.taker_fee)
    cores = {
        i.instrument_id: MatchingCore(i, fees=fees, queue=queue_model(paper))
        for i in engine.instruments
    }
    for iid, core in cores.items():
        # The paper account carries the position the journal rebuilt; its orders died with the
        # last process, which reconciliation will find and close.
        core.position_lots = engine.portfolio.position(iid).net
    latency = ConstantLatency(
        entry=paper.entry_latency_us * 1000, response=paper.response_latency_us * 1000
    )
    return SimulatedExchange(cores, latency)


def make_gateway(engine: Engine, ws_url: str, rest_url: str) -> Gateway | None:
    """The gateway for the engine's mode and venue."""
    if engine.config.engine.mode == "paper":
        return PaperGateway(engine.instruments, engine.oms, engine.clock, paper_exchange(engine))
    return live_gateway(engine, ws_url, rest_url)


def live_gateway(engine: Engine, ws_url: str, rest_url: str) -> Gateway | None:
    """The venue's own gateway for ``live`` mode."""
    log.warning(
        "live order entry is not available for this venue; orders are refused",
        extra={"venue": engine.config.venue.name},
    )
    return None
