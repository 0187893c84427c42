"""EngineBridge on real segments written by the engine-side publisher."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from engine.errors import RingFull
from engine.ipc.protocol import CommandKind, Flag, HaltReason, order_style
from engine.ipc.publisher import EnginePublisher
from hft_tui.bridge import EngineBridge, EngineNotRunning
from tests.hft_tui.conftest import SYMBOL, book_view, engine_view, order_row, trading_view

SECOND = 1_000_000_000


def test_attach_to_a_missing_instance_names_the_running_ones(publisher, instance):
    """EngineNotRunning says which instance is missing and lists those that run."""
    with pytest.raises(EngineNotRunning) as caught:
        EngineBridge.attach("nosuchengine")
    assert "'nosuchengine' is not running" in str(caught.value)
    assert instance in str(caught.value)


def test_a_second_ui_process_is_refused_until_the_first_detaches(bridge, instance):
    """Only one UI process attaches at a time (the rings are single-consumer)."""
    probe = (
        "import sys; from hft_tui.bridge import EngineBridge, UiAlreadyAttached\n"
        "try:\n    EngineBridge.attach(sys.argv[1]).close()\n"
        "except UiAlreadyAttached as exc:\n    print(exc); sys.exit(7)\n"
    )
    refused = subprocess.run(
        [sys.executable, "-c", probe, instance], capture_output=True, text=True, check=False
    )
    assert refused.returncode == 7
    assert f"pid {os.getpid()}" in refused.stdout
    bridge.close()
    accepted = subprocess.run([sys.executable, "-c", probe, instance], check=False)
    assert accepted.returncode == 0


def test_bridges_of_one_process_share_the_ui_slot(bridge, instance):
    """A restart attaches a second bridge before closing the first; the slot is shared."""
    second = EngineBridge.attach(instance)
    second.close()
    bridge.close()


def test_bridge_reads_what_the_engine_published(bridge, sim_clock, instance):
    """Both pages decode to the views the engine wrote, and the record names the symbols."""
    assert bridge.info.symbols == [SYMBOL]
    assert bridge.read_book(0) == book_view()
    assert bridge.read_engine() == engine_view(sim_clock, instance)
    assert bridge.engine_alive()


def test_send_kill_reaches_the_engine(bridge, publisher):
    """A kill from the UI arrives as one KILL command with the operator reason."""
    bridge.send_kill()
    [command] = publisher.poll_commands()
    assert command.kind == CommandKind.KILL
    assert command.aux == HaltReason.OPERATOR


def test_send_kill_on_a_full_command_ring_raises_ring_full(sim_clock, instance):
    """When the engine stops taking commands, send_kill gives up with RingFull, not a hang."""
    name = instance
    pub = EnginePublisher.create(name, [SYMBOL], command_ring_bytes=64 * 2, clock=sim_clock)
    bridge = EngineBridge.attach(name, clock=sim_clock)
    try:
        bridge.send_kill()
        bridge.send_kill()
        with pytest.raises(RingFull, match="hft-tui kill"):
            bridge.send_kill()
    finally:
        bridge.close()
        pub.close()


def test_beat_stamps_the_ui_heartbeat_for_the_engine(bridge, publisher):
    """The engine can see the UI is alive from the consumer heartbeat on its event ring."""
    bridge.beat(123)
    assert publisher.ui_heartbeat_ns == 123


def test_the_trading_page_is_read_whole(bridge, publisher, instance):
    """Before the first write there is no trading view; after it, exactly what was published."""
    assert bridge.read_trading() is None
    before = bridge.trading_version
    view = trading_view(orders=[order_row(5, instance=instance)], daily="-1.5")
    publisher.publish_trading(view)
    assert bridge.trading_version > before
    assert bridge.read_trading() == view


def test_order_commands_carry_what_the_engine_reads(bridge, publisher):
    """SUBMIT carries instrument, side, price, size, style and request; CANCEL the counter."""
    bridge.send_submit(0, buy=False, price=6_500_001, size=100, style=order_style("limit", "gtc"),
                       request=3)  # fmt: skip
    bridge.send_submit(0, buy=True, price=0, size=50, style=order_style("market", "ioc"), request=4)
    bridge.send_cancel(1234)
    bridge.send_cancel_all(0)
    bridge.send_cancel_all(None)
    got = [
        (c.kind, c.flags, c.instrument, c.price, c.size, c.seq) for c in publisher.poll_commands()
    ]
    assert got == [
        (CommandKind.SUBMIT, Flag.SELL, 0, 6_500_001, 100, 3),
        (CommandKind.SUBMIT, Flag.BUY, 0, 0, 50, 4),
        (CommandKind.CANCEL, 0, 0, 0, 0, 1234),
        (CommandKind.CANCEL_ALL, 0, 0, 0, 0, 0),
        (CommandKind.CANCEL_ALL, 0, 0, 0, 0, 0),
    ]


def test_cancel_all_everywhere_is_aux_one(bridge, publisher):
    """Cancel-all on one instrument has aux 0; on every instrument aux 1."""
    bridge.send_cancel_all(0)
    bridge.send_cancel_all(None)
    assert [c.aux for c in publisher.poll_commands()] == [0, 1]
