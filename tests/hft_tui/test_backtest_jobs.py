"""build_job and run_job: the backtest form read into a run, and the run as a worker does it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hft_tui.backtest_jobs import BacktestForm, BacktestFormError, build_job, run_job

S = 1_000_000_000


def _capture(root: Path) -> str:
    return str(root / "hftbacktest" / "spot" / "btcusdt")


@pytest.fixture
def capture(tmp_path: Path) -> str:
    """A capture stem with one (empty) day file: enough for the form's checks."""
    (tmp_path / "btcusdt_20240808.gz").write_bytes(b"")
    return str(tmp_path / "btcusdt")


def test_offsets_and_params_become_the_job(capture):
    """+30s / +2m are offsets from the data's start; params are typed and range-checked."""
    job = build_job(BacktestForm(capture, "half_spread_ticks=40 post_only=false", "+30s", "+2m"), 3)
    assert job.number == 3
    assert job.start_offset_ns == 30 * S
    assert job.end_offset_ns == 120 * S
    assert job.config.params == {"half_spread_ticks": 40, "post_only": False}
    assert job.spec.kind == "capture"
    assert job.spec.paths == [capture]


def test_absolute_times_go_into_the_config(capture):
    """ISO-8601 (UTC) and integer ns."""
    job = build_job(BacktestForm(capture, "", "2024-08-08T00:00:00Z", str(1723075300 * S)), 1)
    assert job.config.start_ns == 1723075200 * S
    assert job.config.end_ns == 1723075300 * S
    assert job.start_offset_ns == job.end_offset_ns == -1


@pytest.mark.parametrize(
    ("form", "words"),
    [
        (BacktestForm(""), "data: give a capture"),
        (BacktestForm("/nonexistent/btcusdt"), "data: no capture files"),
        (BacktestForm("catalog:/nonexistent"), "catalog folder"),
        (BacktestForm("{capture}", "levels"), "params: parameter 'levels' is not key=value"),
        (BacktestForm("{capture}", "levels=99"), "levels=99 refused"),
        (BacktestForm("{capture}", "", "yesterday"), "start 'yesterday' is neither ns nor ISO"),
        (BacktestForm("{capture}", "", "+2m", "+1m"), "end: it must be after the start"),
        (BacktestForm("{capture}", strategy="pairs"), "strategy: 'pairs' is not one of"),
        (BacktestForm("{capture}", "levels=99", strategy="grid"), "levels"),
    ],
)
def test_a_form_that_cannot_run_names_the_field(form, words, capture):
    """Every refusal says which field and why."""
    form = BacktestForm(form.data.replace("{capture}", capture), form.params, form.start,
                        form.end, form.strategy)  # fmt: skip
    with pytest.raises(BacktestFormError, match=words):
        build_job(form, 1)


@pytest.mark.shared_data
def test_a_run_returns_figures_and_an_equity_curve(shared_data: Path):
    """A minute of the BTCUSDT capture: headline figures, the curve, the range replayed."""
    form = BacktestForm(_capture(shared_data), "half_spread_ticks=50 size_lots=1000", "", "+60s")
    answer = run_job(build_job(form, 1))
    assert "error" not in answer, answer.get("error")
    assert set(answer["headline"]) >= {"net", "sharpe", "max_drawdown", "fills", "orders_sent"}
    assert answer["end_ns"] - answer["start_ns"] <= 60 * S
    assert 2 <= len(answer["equity"]) <= 400
    ts, net = answer["equity"][-1]
    assert isinstance(ts, int)
    assert isinstance(net, str)


@pytest.mark.shared_data
def test_any_reference_strategy_can_be_backtested(shared_data: Path):
    """The grid over the same minute: its own parameters checked, its own figures back."""
    form = BacktestForm(_capture(shared_data), "", "", "+60s", strategy="grid")
    job = build_job(form, 1)
    assert job.config.strategy == "grid"
    answer = run_job(job)
    assert "error" not in answer, answer.get("error")
    assert "net" in answer["headline"]


def test_a_run_that_fails_answers_with_the_reason(capture):
    """An unreadable capture comes back as text, not as an exception across processes."""
    answer = run_job(build_job(BacktestForm(capture), 1))
    assert answer["error"]
