"""The strategies' series in ``/metrics``: callback quantiles, counts and orders per strategy."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from engine.control.strategy_metrics import strategy_families
from engine.strategy.market_maker import MarketMaker, MarketMakerParams
from engine.strategy.runner import StrategyRunner
from tests.engine.strategy.conftest import StrategyDesk


class _Strategies(Collector):
    """The strategy families alone, as the engine's collector yields them."""

    def __init__(self, runner: StrategyRunner) -> None:
        self.runner = runner

    def collect(self):
        """The runner's families."""
        yield from strategy_families(self.runner)


def samples(runner: StrategyRunner) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample the strategy families give, by name and labels."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Strategies(runner))
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_callback_times_and_orders_per_strategy(tmp_path: Path) -> None:
    """Timed with a fake clock (10 us a callback): p50 and p99 of 10 us, two orders sent."""
    ticks = iter(range(0, 10**12, 10_000))
    desk = StrategyDesk(tmp_path, timer=lambda: next(ticks))
    await desk.gateway.start()
    try:
        desk.runner.add(MarketMaker("mm", MarketMakerParams(half_spread_ticks=100)))
        desk.runner.start()
        desk.set_book([(499_000, 1000)], [(500_000, 1000)])
        await desk.settle()
        got = samples(desk.runner)
    finally:
        await desk.gateway.stop()
    assert got[("hft_strategy_running", (("strategy", "mm"),))] == 1
    assert got[("hft_strategy_callback_seconds", (("quantile", "0.5"), ("strategy", "mm")))] == (
        1e-5
    )
    assert got[("hft_strategy_callback_seconds", (("quantile", "0.99"), ("strategy", "mm")))] == (
        1e-5
    )
    assert got[("hft_strategy_callbacks_sampled", (("strategy", "mm"),))] >= 2
    assert got[("hft_strategy_orders_total", (("outcome", "sent"), ("strategy", "mm")))] == 2
    assert got[("hft_strategy_orders_total", (("outcome", "refused"), ("strategy", "mm")))] == 0
    assert got[("hft_strategy_callbacks_over_budget_total", (("strategy", "mm"),))] == 0
