"""The example alert rules use only series the engine's /metrics exports."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "config" / "prometheus-alerts.yml"
METRICS = ROOT / "engine" / "control" / "metrics.py"


def test_every_series_in_the_rules_is_exported():
    """Each hft_* name in an expr is a gauge, or a counter with its _total suffix, in metrics.py."""
    source = METRICS.read_text()
    gauges = set(re.findall(r'(?:GaugeMetricFamily|_gauge)\(\s*"(hft_\w+)"', source))
    counted = re.findall(r'(?:CounterMetricFamily|_counter)\(\s*"(hft_\w+)"', source)
    counters = {n + "_total" for n in counted}
    exprs = re.findall(r"^\s*expr:\s*(.+)$", RULES.read_text(), re.MULTILINE)
    used = {name for expr in exprs for name in re.findall(r"\bhft_\w+", expr)}
    assert used
    assert used <= gauges | counters, used - gauges - counters


def test_the_four_asked_for_alerts_are_there():
    """Breaker tripped, order link down over 30 s, daily loss near limit and reconnect storm."""
    text = RULES.read_text()
    for name in ("HftBreakerTripped", "HftOrderLinkDown", "HftDailyLossNearLimit"):
        assert f"alert: {name}" in text
    assert "alert: HftReconnectStorm" in text
    assert 'hft_pnl{kind="daily"}' in text
    assert 'hft_feed_events_total{kind="reconnects"}' in text
