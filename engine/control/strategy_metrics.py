"""The strategies' series for ``GET /metrics``: callback time percentiles, counts and orders.

Read from :meth:`~engine.strategy.runner.StrategyRunner.stats` at scrape time, like every other
series (nothing on the hot path). Callback times include the dispatch and the flush of what the
callback sent through the risk pipeline; they are exported in seconds, Prometheus's unit.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from engine.strategy.runner import StrategyRunner


def strategy_families(runner: StrategyRunner) -> Iterator[Metric]:
    """Every strategy's series: running, callback p50/p99/max, callbacks, over budget, orders."""
    stats = runner.stats()
    running = GaugeMetricFamily(
        "hft_strategy_running", "1 while the strategy runs", labels=["strategy"]
    )
    seconds = GaugeMetricFamily(
        "hft_strategy_callback_seconds",
        "Callback time (dispatch, callback and risk checks of what it sent) over the last "
        "callbacks kept, by quantile",
        labels=["strategy", "quantile"],
    )
    cpu = GaugeMetricFamily(
        "hft_strategy_callback_cpu_seconds",
        "The engine thread's CPU time in a callback (a sample of callbacks), by quantile",
        labels=["strategy", "quantile"],
    )
    callbacks = GaugeMetricFamily(
        "hft_strategy_callbacks_sampled", "Callbacks the quantiles are over", labels=["strategy"]
    )
    over = CounterMetricFamily(
        "hft_strategy_callbacks_over_budget",
        "Callbacks that ran past the budget",
        labels=["strategy"],
    )
    orders = CounterMetricFamily(
        "hft_strategy_orders", "Orders a strategy sent, by outcome", labels=["strategy", "outcome"]
    )
    for s in stats:
        running.add_metric([s.name], 1.0 if s.running else 0.0)
        seconds.add_metric([s.name, "0.5"], s.p50_ns / 1e9)
        seconds.add_metric([s.name, "0.99"], s.p99_ns / 1e9)
        seconds.add_metric([s.name, "1"], s.max_ns / 1e9)
        cpu.add_metric([s.name, "0.5"], s.cpu_p50_ns / 1e9)
        cpu.add_metric([s.name, "0.99"], s.cpu_p99_ns / 1e9)
        callbacks.add_metric([s.name], s.callbacks)
        over.add_metric([s.name], s.over_budget)
        orders.add_metric([s.name, "sent"], s.sent)
        orders.add_metric([s.name, "refused"], s.refused)
    yield running
    yield seconds
    yield cpu
    yield callbacks
    yield over
    yield orders
