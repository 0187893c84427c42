"""``/metrics``: the engine's state in Prometheus text format, read at scrape time."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from engine.core.commands import SubmitOrder
from engine.core.config import load_config
from engine.core.events import Side
from engine.engine import Engine
from engine.recorder.recorder import recorder_for
from engine.status import status_document


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


def test_metrics_and_status_count_late_reports(tmp_path):
    """Refusals and fills that reached an ended order are counted apart from anomalies."""
    config = load_config(
        None, {"HFT__ENGINE__STATE_DIR": str(tmp_path), "HFT__ENGINE__INSTANCE": "late"}
    )
    engine = Engine(config)
    engine.oms.late_reports, engine.oms.late_fills = 2, 3
    samples = _samples(engine)
    assert samples[("hft_late_reports_total", (("kind", "refusal"),))] == 2
    assert samples[("hft_late_reports_total", (("kind", "fill"),))] == 3
    orders = status_document(engine)["orders"]
    assert (orders["late_reports"], orders["late_fills"]) == (2, 3)
    engine.journal.close()
    engine.breaker.close()


def test_metrics_show_the_recorder_when_it_records(tmp_path):
    """No recorder series while recording is off; its counters once a recorder is set up."""
    config = load_config(
        None, {"HFT__ENGINE__STATE_DIR": str(tmp_path), "HFT__ENGINE__INSTANCE": "recmetrics"}
    )
    engine = Engine(config)
    assert not [k for k in _samples(engine) if k[0].startswith("hft_recorder")]
    engine.recorder = recorder_for(config, engine.instruments, root=tmp_path / "catalog")
    samples = _samples(engine)
    assert samples[("hft_recorder_running", ())] == 0
    assert samples[("hft_recorder_rows_total", ())] == 0
    assert samples[("hft_recorder_dropped_total", ())] == 0
    assert samples[("hft_recorder_queue_depth", ())] == 0
    engine.journal.close()
    engine.breaker.close()
