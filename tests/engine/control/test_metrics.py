"""``/metrics``: the engine's state in Prometheus text format, read at scrape time."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from engine.core.commands import SubmitOrder
from engine.core.config import load_config
from engine.core.events import Side
from engine.engine import Engine


def _samples(engine: Engine) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = engine.metrics().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_show_halt_orders_and_rejections(tmp_path):
    """A refused order and a kill show up as series an operator can alert on."""
    config = load_config(
        None, {"HFT__ENGINE__STATE_DIR": str(tmp_path), "HFT__ENGINE__INSTANCE": "metrics"}
    )
    engine = Engine(config)
    before = _samples(engine)
    assert before[("hft_trading_halted", ())] == 0
    assert before[("hft_risk_rejections_total", (("reason", "halted"),))] == 0
    engine.oms.submit(
        SubmitOrder(
            client_order_id=engine.oms.new_id(),
            instrument=0,
            side=Side.BUY,
            size_lots=100,
            price_ticks=6_500_000,
        )
    )
    engine.kill("test")
    after = _samples(engine)
    assert after[("hft_trading_halted", ())] == 1
    assert after[("hft_orders", (("state", "rejected"),))] == 1
    assert after[("hft_pnl", (("kind", "net"),))] == 0
    assert ("hft_position_lots", (("instrument", "sim:BTCUSDT"),)) in after
    engine.journal.close()
    engine.breaker.close()
