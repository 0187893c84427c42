"""HealthScreen: link, rates, reconnects from /status, rate limiters, rings, heartbeat."""

from __future__ import annotations

import msgspec

from engine.ipc.protocol import RateRow
from hft_tui.widgets.status_bar import StatusBar
from tests.hft_tui.conftest import engine_view, trading_view
from tests.hft_tui.pilot import show_mode, text_of, wait_until


def _line(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.strip().startswith(label))


async def test_health_detail_with_reconnects_and_rate_limits(app, publisher, control):
    """Each figure has its line; reconnects come from GET /status, limiters from the page."""
    rate = [
        RateRow(name="orders_10s", used=12, limit=100),
        RateRow(name="weight_1m", used=5000, limit=6000),
    ]
    publisher.publish_trading(trading_view(rate=rate, rejects=3))
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "h", "health")
        await wait_until(pilot, lambda: "frames" in text_of(screen, "#health"), "/status")
        text = text_of(screen, "#health")
        assert _line(text, "venue link").split()[2:] == ["sim", "live"]
        assert _line(text, "book updates").split()[2:] == ["412/s", "1234", "in", "all"]
        assert _line(text, "reconnects").split()[1:] == ["2", "frames", "5120"]
        assert _line(text, "gateway").split()[1:] == ["PaperGateway", "healthy"]
        assert _line(text, "rejects").split()[1] == "3"
        assert _line(text, "orders_10s").split()[1:] == ["██░░░░░░░░░░░░░░░░░░", "12/100", "12.0%"]
        assert _line(text, "weight_1m").split()[2:] == ["5000/6000", "83.3%"]
        assert _line(text, "events (to UI)").split()[3:] == ["0/16.3k", "peak", "0", "dropped", "0"]
        assert _line(text, "commands").split()[1:] == ["0/1024", "peak", "0", "dropped", "0"]
        assert _line(text, "heartbeat").split()[1] == "0.00s"


async def test_without_a_control_plane_reconnects_say_why(app, publisher):
    """No control plane: the reconnects line says it was not announced."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "h", "health")
        await wait_until(
            pilot, lambda: "not announced" in _line(text_of(screen, "#health"), "reconnects"), "why"
        )
        assert "none (no trading page yet)" in _line(text_of(screen, "#health"), "gateway")


async def test_wire_to_book_shows_once_the_engine_has_measured_it(
    app, publisher, instance, sim_clock
):
    """p50 and p99 from the engine view on the health screen; p99 on the status bar."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "h", "health")
        await wait_until(pilot, lambda: "wire to book" in text_of(screen, "#health"), "the row")
        assert "measured yet" in _line(text_of(screen, "#health"), "wire to book")
        assert "w2b" not in screen.query_one(StatusBar).render().plain
        view = msgspec.structs.replace(
            engine_view(sim_clock, instance), wire_p50_us=38.4, wire_p99_us=1250.0
        )
        publisher.publish_engine(view)
        await wait_until(pilot, lambda: "p99" in text_of(screen, "#health"), "the figures")
        assert _line(text_of(screen, "#health"), "wire to book").split()[3:] == [
            "p50",
            "38µs",
            "p99",
            "1.25ms",
        ]
        bar = screen.query_one(StatusBar)
        await wait_until(pilot, lambda: "w2b p99 1.25ms" in bar.render().plain, "the status bar")
