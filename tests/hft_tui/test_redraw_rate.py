"""The redraw rate is bounded: one read per refresh period, never overlapping, latest state only.

The app reads the engine on a timer of ``1 / refresh_hz`` and schedules the next read only after
the frame has been drawn; whatever the engine published in between is skipped to its latest.
These tests check the mechanism (timer delays, reads in flight, superseded states), not times.
"""

from __future__ import annotations

import msgspec
import pytest

from engine.core.clock import SimClock
from engine.core.config import UiSection
from hft_tui.app import TradingApp, UiSettings
from hft_tui.state_reader import StateReader
from tests.hft_tui.conftest import LocalSession, book_view
from tests.hft_tui.pilot import ladder_lines, status_text, wait_until


async def test_every_read_waits_one_refresh_period_after_the_last_draw(
    session: LocalSession, publisher, sim_clock: SimClock, monkeypatch
):
    """Each poll is a timer of 1/refresh_hz; a read never starts while another frame is pending."""
    app = TradingApp(session, UiSettings(refresh_hz=40.0), sim_clock)
    delays: list[float] = []
    in_flight = [0, 0]  # now, most ever
    real_read = StateReader.read

    def read(self: StateReader):
        in_flight[0] += 1
        in_flight[1] = max(in_flight)
        try:
            return real_read(self)
        finally:
            in_flight[0] -= 1

    monkeypatch.setattr(StateReader, "read", read)
    async with app.run_test() as pilot:
        real_set_timer = app.set_timer

        def set_timer(delay, callback, *args, **kwargs):
            if getattr(callback, "__name__", "") == "_poll":
                delays.append(delay)
            return real_set_timer(delay, callback, *args, **kwargs)

        monkeypatch.setattr(app, "set_timer", set_timer)
        await wait_until(pilot, lambda: "65000.00" in "\n".join(ladder_lines(pilot)), "the book")
        for n in range(2, 8):
            publisher.publish_book(book_view(best_bid=6_500_000 + n, update_count=n))
            await wait_until(pilot, lambda n=n: len(delays) >= n, f"poll {n}")
    assert delays
    assert set(delays) == {1 / 40.0}
    assert in_flight[1] == 1


async def test_a_burst_between_reads_draws_only_the_latest_state(app, publisher):
    """Fifty book versions published at once: the ladder shows the last, the rest are skipped."""
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: "65000.00" in "\n".join(ladder_lines(pilot)), "the book")
        for n in range(2, 52):
            publisher.publish_book(book_view(best_bid=6_400_000 + n, update_count=n))
        await wait_until(pilot, lambda: "64000.51" in "\n".join(ladder_lines(pilot)), "the last")
        skipped = int(status_text(pilot).split("skip ")[1].split()[0])
        assert skipped == 49  # published with no pause between them: only the last is read


def test_the_configured_refresh_rate_is_capped():
    """ui.refresh_hz is at most 60 reads a second, whatever the config asks for."""
    assert msgspec.convert({"refresh_hz": 60.0}, UiSection).refresh_hz == 60.0
    with pytest.raises(msgspec.ValidationError, match="<= 60"):
        msgspec.convert({"refresh_hz": 61.0}, UiSection)


async def test_a_new_frame_redraws_only_the_widgets_that_changed(app, publisher, monkeypatch):
    """New book versions repaint the ladder's region, never the whole screen."""
    from textual._compositor import Compositor

    full: list[int] = []
    real_full = Compositor.render_full_update

    def counted(self, *args, **kwargs):
        full.append(1)
        return real_full(self, *args, **kwargs)

    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: "65000.00" in "\n".join(ladder_lines(pilot)), "the book")
        await pilot.pause(0.2)
        monkeypatch.setattr(Compositor, "render_full_update", counted)
        for n in range(2, 7):
            publisher.publish_book(book_view(best_bid=6_400_000 + n, update_count=n))
            price = f"64000.0{n}"
            await wait_until(
                pilot, lambda p=price: p in "\n".join(ladder_lines(pilot)), f"book {n}"
            )
    assert full == []
