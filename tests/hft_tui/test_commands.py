"""CommandSender: numbered order requests and cancels onto the ring, each with its answer."""

from __future__ import annotations

from engine.ipc.protocol import CommandKind
from hft_tui.commands import CommandSender
from hft_tui.messages import CancelAllRequested, CancelRequested, OrderRequested


def _order(order_type: str = "limit", tif: str = "gtc") -> OrderRequested:
    return OrderRequested(instrument=0, buy=True, price=100, size=5, order_type=order_type,
                          time_in_force=tif, what="BUY 0.00005 BTCUSDT @ 1.00")  # fmt: skip


def test_requests_are_numbered_only_when_sent(bridge, publisher):
    """Each sent order gets the next request number; a refused one does not use one up."""
    sender = CommandSender()
    assert sender.submit(bridge, _order()).text == "sent BUY 0.00005 BTCUSDT @ 1.00 (request 1)"
    refused = sender.submit(bridge, _order("stop", "gtc"))
    assert not refused.ok
    assert "unknown order style stop gtc" in refused.text
    assert sender.submit(bridge, _order("market", "ioc")).ok
    assert [c.seq for c in publisher.poll_commands()] == [1, 2]


def test_a_cancel_needs_one_of_this_engines_ids(bridge, publisher, instance):
    """Our id goes out as its counter; another engine's id or a malformed one does not."""
    sender = CommandSender()
    assert sender.cancel(bridge, CancelRequested(f"{instance}-42")).text == "cancel sent for #42"
    foreign = sender.cancel(bridge, CancelRequested("other-42"))
    assert not foreign.ok
    assert "'other-42' is not this engine's order" in foreign.text
    assert not sender.cancel(bridge, CancelRequested(f"{instance}-x")).ok
    assert [(c.kind, c.seq) for c in publisher.poll_commands()] == [(CommandKind.CANCEL, 42)]


def test_without_an_engine_nothing_is_sent_and_the_answer_says_so():
    """With no bridge every request answers not sent."""
    sender = CommandSender()
    answers = [
        sender.submit(None, _order()),
        sender.cancel(None, CancelRequested("e-1")),
        sender.cancel_all(None, CancelAllRequested(0, "BTCUSDT")),
    ]
    assert [a.ok for a in answers] == [False, False, False]
    assert all("no engine attached" in a.text for a in answers)
    assert sender.requests == 0
