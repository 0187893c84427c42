"""Set-up the benchmark subjects share: risk limits that refuse nothing, the engine's loop.

The subjects that measure a path through risk run it with :func:`open_limits`, every check on
and every limit far above what the benchmark sends, so the path is measured and not a refusal,
and the ones that trade one instrument through the OMS build it with :func:`one_instrument_oms`;
the ones that measure on a loop run with :func:`run_on_engine_loop`, uvloop when installed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from engine.bench.report import Result, SubjectRun
from engine.core.clock import Clock
from engine.core.instruments import Instrument
from engine.oms.ids import ClientOrderIds
from engine.oms.journal import Journal
from engine.oms.manager import OrderManager
from engine.oms.positions import Portfolio
from engine.risk.checks import MarketState
from engine.risk.limits import Limits, RiskLimits
from engine.risk.pipeline import RiskPipeline


def open_limits(
    *,
    max_order_size: str = "10",
    max_order_notional: str = "1000000",
    max_orders_per_second: int = 1_000_000,
    max_orders_per_minute: int = 60_000_000,
    price_band_bps: int = 500,
    post_only_band_bps: int = 500,
    max_drawdown: str | None = None,
    daily_loss_limit: str | None = None,
) -> RiskLimits:
    """Every check on, nothing refused: the sizes, rates and bands given, the rest as here.

    The account's ``max_drawdown`` and ``daily_loss_limit`` are RiskLimits' own unless given.
    """
    account = RiskLimits()
    return RiskLimits(
        defaults=Limits(
            max_order_size=max_order_size,
            max_order_notional=max_order_notional,
            max_market_order_size="1",
            max_market_order_notional="100000",
            max_position="1000",
            max_open_orders=1000,
            max_orders_per_second=max_orders_per_second,
            max_orders_per_minute=max_orders_per_minute,
            price_band_bps=price_band_bps,
            post_only_band_bps=post_only_band_bps,
            max_data_age_ms=600_000,
        ),
        max_drawdown=account.max_drawdown if max_drawdown is None else max_drawdown,
        daily_loss_limit=account.daily_loss_limit if daily_loss_limit is None else daily_loss_limit,
    )


def one_instrument_oms(
    instrument: Instrument,
    limits: RiskLimits,
    clock: Clock,
    ids: ClientOrderIds,
    market: Callable[[int], MarketState],
    journal: Journal | None = None,
) -> OrderManager:
    """An OMS with its portfolio and risk pipeline on ``instrument``: no breaker.

    It journals to ``journal`` when one is given, as the engine's OMS writes every command and
    event before acting on it. A trip halts its risk pipeline, as the engine's does.
    """
    portfolio = Portfolio([instrument], clock)
    risk = RiskPipeline([instrument], limits, clock, portfolio)
    return OrderManager(
        [instrument],
        clock=clock,
        risk=risk,
        portfolio=portfolio,
        ids=ids,
        journal=journal,
        market=market,
        breaker_tripped=lambda: False,
        on_trip=risk.halt,
    )


Measure = Callable[[bool], Coroutine[Any, Any, tuple[list[Result], str]]]
"""A subject's measurement: ``quick`` -> its result rows and what it measured."""


def run_on_engine_loop(subject: str, ours: str, measure: Measure, quick: bool) -> SubjectRun:
    """``measure(quick)`` on the engine's loop (uvloop when installed), as a subject's run."""
    try:
        import uvloop  # the engine's loop, when installed
    except ImportError:  # pragma: no cover - uvloop is a dependency on every supported OS
        results, described = asyncio.run(measure(quick))
    else:
        results, described = uvloop.run(measure(quick))
    return SubjectRun(subject=subject, ours=ours, input=described, results=results)
