"""TradingApp on real shared memory: prices in the ladder, the kill switch, HALTED, engine lost."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator

import msgspec
import pytest
from textual.message import Message
from textual.pilot import Pilot

from engine.ipc.protocol import CommandKind, EventKind, HaltReason, pack
from engine.ipc.publisher import EnginePublisher
from engine.ipc.segments import publish_instance
from hft_tui.app import TradingApp, UiSettings
from hft_tui.messages import EngineAttached, StateRefreshed
from hft_tui.screens.confirm import ConfirmScreen
from hft_tui.screens.trade import TradeScreen
from tests.hft_tui.conftest import SYMBOL, LocalSession, book_view, engine_view
from tests.hft_tui.pilot import (
    banner_text,
    engine_lost_dialog,
    ladder_lines,
    status_text,
    tape_lines,
    wait_until,
)

SECOND = 1_000_000_000


def _trade_screen(app: TradingApp) -> TradeScreen:
    screen = app.get_screen_stack("trade")[0]
    assert isinstance(screen, TradeScreen)
    return screen


async def _ready(pilot: Pilot[None]) -> None:
    await wait_until(pilot, lambda: "65000.01" in "\n".join(ladder_lines(pilot)), "the book")


async def test_ladder_shows_the_published_book(app):
    """At 80x24 the ladder shows 10 asks above 10 bids with state, spread and mid between."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        lines = ladder_lines(pilot)
        assert lines[0].split()[0] == "65000.10"  # the 10th ask on top
        assert lines[9].split()[0] == "65000.01"  # best ask just above the spread
        assert "LIVE" in lines[10]
        assert "spread 0.01 (1 tick)" in lines[10]
        assert "mid 65000.005" in lines[10]
        assert lines[11].split()[0] == "65000.00"  # best bid just below
        assert lines[20].split()[0] == "64999.91"
        assert "trading RUNNING" in banner_text(pilot)
        assert "link live" in status_text(pilot)


async def test_new_book_versions_move_the_ladder(app, publisher):
    """A newer book page replaces the ladder's prices at the next read."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        publisher.publish_book(book_view(best_bid=6_400_000, spread=3, update_count=2))
        await wait_until(pilot, lambda: "64000.03" in "\n".join(ladder_lines(pilot)), "new book")
        assert "spread 0.03 (3 ticks)" in ladder_lines(pilot)[10]
        assert "mid 64000.015" in ladder_lines(pilot)[10]


async def test_ctrl_k_puts_a_kill_on_the_command_ring(app, publisher):
    """ctrl+k sends KILL (operator) at once and the banner says the kill is pending."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        await pilot.press("ctrl+k")
        commands = publisher.poll_commands()
        assert [(c.kind, c.aux) for c in commands] == [(CommandKind.KILL, HaltReason.OPERATOR)]
        await wait_until(pilot, lambda: "KILL SENT" in banner_text(pilot), "KILL SENT")


async def test_ctrl_r_resets_only_after_an_explicit_yes(app, publisher):
    """ctrl+r asks first: `n` sends nothing, `y` sends one RESET; ctrl+k works in the dialog."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the dialog")
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "it closed")
        assert publisher.poll_commands() == []
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the dialog")
        await pilot.press("ctrl+k")  # the kill switch is never blocked by a dialog
        await pilot.press("y")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "it closed")
        kinds = [c.kind for c in publisher.poll_commands()]
        assert kinds == [CommandKind.KILL, CommandKind.RESET]


async def test_halted_engine_view_shows_halted(app, publisher, sim_clock, instance):
    """An engine page saying halted turns the banner into TRADING HALTED and adds -halted."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        await pilot.press("ctrl+k")
        sim_clock.advance(SECOND // 10)
        halted = engine_view(
            sim_clock,
            instance,
            trading="halted",
            halt_reason="kill switch (ui)",
            halted_at_ns=sim_clock.time_ns(),
        )
        publisher.publish_engine(halted)
        screen = _trade_screen(app)
        await wait_until(pilot, lambda: screen.has_class("-halted"), "the -halted class")
        assert "TRADING HALTED" in banner_text(pilot)
        assert "kill switch (ui)" in banner_text(pilot)
        assert "KILL SENT" not in banner_text(pilot)
        assert status_text(pilot).startswith(" HALTED")


async def test_halted_event_shows_halted_before_the_page(app, publisher, sim_clock):
    """A HALTED event newer than the engine page shows HALTED without waiting for the page."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        sim_clock.advance(SECOND // 10)
        publisher.emit(
            pack(EventKind.HALTED, engine_ts=sim_clock.time_ns(), aux=HaltReason.OPERATOR)
        )
        screen = _trade_screen(app)
        await wait_until(pilot, lambda: screen.has_class("-halted"), "the -halted class")
        assert "TRADING HALTED" in banner_text(pilot)


async def test_ctrl_k_works_from_the_engine_lost_dialog(app, publisher, sim_clock):
    """The kill binding has priority: it still sends KILL while a modal dialog is on top."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        sim_clock.advance(2 * SECOND)
        await engine_lost_dialog(pilot)
        await pilot.press("ctrl+k")
        assert [c.kind for c in publisher.poll_commands()] == [CommandKind.KILL]


async def test_silent_engine_offers_a_restart_that_reattaches(publisher, sim_clock, instance):
    """No heartbeat for over a second shows ENGINE LOST; r restarts and the dialog goes away."""

    def restart() -> None:
        publisher.heartbeat(sim_clock.time_ns())
        publisher.publish_engine(engine_view(sim_clock, instance))

    session = LocalSession(instance, restart=restart)
    app = TradingApp(session, UiSettings(refresh_hz=50.0), sim_clock)
    async with app.run_test() as pilot:
        await _ready(pilot)
        sim_clock.advance(2 * SECOND)
        dialog = await engine_lost_dialog(pilot)
        screen = _trade_screen(app)
        await wait_until(pilot, lambda: screen.has_class("-lost"), "the -lost class")
        assert "STALE" in ladder_lines(pilot)[10]
        assert "ENGINE LOST" in status_text(pilot)
        assert dialog.reason == "silent"
        await pilot.press("r")
        await wait_until(pilot, lambda: session.restarts == 1, "a restart")
        await wait_until(pilot, lambda: app.screen is screen, "the dialog dismissed")
        await wait_until(pilot, lambda: not screen.has_class("-lost"), "the engine back")
        assert "LIVE" in ladder_lines(pilot)[10]


@pytest.fixture
def stand_in() -> Iterator[subprocess.Popen[bytes]]:
    """A process that stands in for the engine's pid, so the test can make it exit."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


async def test_exited_engine_is_reported_lost(publisher, sim_clock, instance, stand_in):
    """When the engine's process is gone the dialog says it exited and offers r and q."""
    publish_instance(msgspec.structs.replace(publisher.info, pid=stand_in.pid))
    app = TradingApp(LocalSession(instance), UiSettings(refresh_hz=50.0), sim_clock)
    async with app.run_test() as pilot:
        await _ready(pilot)
        stand_in.kill()
        await wait_until(pilot, lambda: stand_in.poll() is not None, "the stand-in reaped")
        dialog = await engine_lost_dialog(pilot)
        assert dialog.reason == "exited"
        assert "restart the engine" in str(dialog.query_one("#lost-keys").render())
        await pilot.press("q")
    assert app.return_code == 0


async def test_no_engine_shows_why_and_offers_restart(sim_clock, instance):
    """With nothing to attach to, the dialog shows the error naming the instance."""
    session = LocalSession(instance, owns_engine=False)
    app = TradingApp(session, UiSettings(refresh_hz=50.0), sim_clock)
    async with app.run_test() as pilot:
        dialog = await engine_lost_dialog(pilot)
        assert dialog.reason == "failed"
        assert instance in str(dialog.query_one("#lost-error").render())
        assert "re-attach" in str(dialog.query_one("#lost-keys").render())


async def test_too_small_terminal_asks_for_80x24(app):
    """Below 80x24 the screen shows only a request to enlarge the terminal."""
    async with app.run_test(size=(70, 20)) as pilot:
        await pilot.pause()
        screen = _trade_screen(app)
        assert screen.has_class("-too-small")
        message = str(screen.query_one("#too-small").render())
        assert "enlarge the terminal to 80x24" in message
        assert "70x20" in message
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: not screen.has_class("-too-small"), "the full screen")


async def test_skipped_page_versions_are_counted(app, publisher):
    """Book versions the UI never read count as skipped frames in the status bar."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        for n in range(5):  # no await in between: the UI cannot read any of the first four
            publisher.publish_book(book_view(best_bid=6_500_000 + n + 1, update_count=n + 2))
        await wait_until(pilot, lambda: "skip 4 " in status_text(pilot), "4 skipped frames")


async def test_replaced_frames_are_counted(app):
    """A frame number gap (frames replaced in the queue) adds to the skipped count."""
    seen: list[Message] = []
    async with app.run_test(message_hook=seen.append) as pilot:
        await _ready(pilot)
        frame = _trade_screen(app).frame
        assert frame is not None
        app.post_message(StateRefreshed(dataclasses.replace(frame, seq=frame.seq + 100)))
        await wait_until(pilot, lambda: "skip 99 " in status_text(pilot), "99 skipped frames")
    kinds = {type(m) for m in seen}
    assert EngineAttached in kinds
    assert StateRefreshed in kinds


async def test_trades_reach_the_tape(app, publisher, sim_clock):
    """TRADE events on the ring show on the tape, newest first, with side, price and size."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        for n, flag in enumerate((1, 2)):
            publisher.emit(
                pack(
                    EventKind.TRADE,
                    flag,
                    0,
                    exch_ts=sim_clock.time_ns() + n * SECOND,
                    price=6_500_001 - n,
                    size=1234,
                    aux=n,
                )
            )
        await wait_until(pilot, lambda: "65000.00" in "\n".join(tape_lines(pilot)), "trades")
        lines = tape_lines(pilot)
        assert lines[1].split() == ["22:13:21.000", "S", "65000.00", "0.01234"]
        assert lines[2].split() == ["22:13:20.000", "B", "65000.01", "0.01234"]


async def test_syncing_book_is_not_shown_as_valid(app, publisher):
    """A book in state syncing dims the ladder and replaces spread and mid with SYNCING."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        publisher.publish_book(book_view(state="syncing", update_count=2))
        await wait_until(pilot, lambda: "SYNCING" in ladder_lines(pilot)[10], "SYNCING")
        assert "not valid" in ladder_lines(pilot)[10]
        assert "mid" not in ladder_lines(pilot)[10]
        assert app.screen.query_one("#ladder").has_class("-invalid")


async def test_resync_event_marks_the_book_syncing_before_the_page(app, publisher):
    """A BOOK_RESYNC event shows SYNCING even while the page still says live."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        publisher.emit(pack(EventKind.BOOK_RESYNC, instrument=0, aux=1))
        await wait_until(pilot, lambda: "SYNCING" in ladder_lines(pilot)[10], "SYNCING")


async def test_q_quits_and_leaves_stopping_to_the_caller(app, session):
    """Pressing q ends the app; stopping an owned engine is left to the caller (the CLI)."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        await pilot.press("q")
    assert app.return_code == 0
    assert session.shutdowns == 0


async def test_second_instrument_is_shown_when_chosen(sim_clock, instance):
    """UiSettings.instrument picks which book page the ladder shows."""
    pub = EnginePublisher.create(instance, ["ETHUSDT", SYMBOL], clock=sim_clock)
    try:
        pub.publish_engine(engine_view(sim_clock, instance))
        pub.publish_book(msgspec.structs.replace(book_view(), instrument=1))
        app = TradingApp(LocalSession(instance), UiSettings(instrument=1), sim_clock)
        async with app.run_test() as pilot:
            await _ready(pilot)
            assert SYMBOL in banner_text(pilot)
    finally:
        pub.close()


async def test_too_small_terminal_still_says_halted(app, publisher, sim_clock, instance):
    """On a terminal below 80x24 a halt is still announced, in the enlarge message."""
    async with app.run_test(size=(60, 16)) as pilot:
        publisher.publish_engine(
            engine_view(sim_clock, instance, trading="halted", halt_reason="kill switch (ui)")
        )
        screen = _trade_screen(app)
        too_small = screen.query_one("#too-small")
        await wait_until(pilot, lambda: "TRADING HALTED" in str(too_small.render()), "HALTED")
