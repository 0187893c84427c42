"""The operator's order requests and cancels onto the command ring, each with its answer in words.

The UI never decides whether an order may go out: it sends a SUBMIT and the engine runs its full
risk pipeline, so a refusal comes back as a rejected order on the trading page. What can fail here
is only the sending itself (no engine attached, the command ring stayed full, an order id that is
not ours), and the answer says so.
"""

from __future__ import annotations

from engine.errors import EngineError
from engine.ipc.protocol import order_style
from hft_tui.bridge import EngineBridge
from hft_tui.desk import order_counter
from hft_tui.messages import CancelAllRequested, CancelRequested, CommandAnswered, OrderRequested


class CommandSender:
    """Numbers the UI's order requests and sends them, and cancels, through a bridge."""

    def __init__(self) -> None:
        self.requests = 0
        """Order requests sent since the UI started (the last one's number)."""

    def submit(self, bridge: EngineBridge | None, order: OrderRequested) -> CommandAnswered:
        """Send one order request."""
        if bridge is None:
            return CommandAnswered(f"not sent: no engine attached ({order.what})", ok=False)
        try:
            style = order_style(order.order_type, order.time_in_force)
        except ValueError:
            return CommandAnswered(
                f"not sent: unknown order style {order.order_type} {order.time_in_force}", ok=False
            )
        request = self.requests + 1
        try:
            bridge.send_submit(
                order.instrument,
                buy=order.buy,
                price=order.price,
                size=order.size,
                style=style,
                request=request,
            )
        except EngineError as exc:
            return CommandAnswered(f"not sent: {exc}", ok=False)
        self.requests = request
        return CommandAnswered(f"sent {order.what} (request {request})", ok=True)

    def cancel(self, bridge: EngineBridge | None, cancel: CancelRequested) -> CommandAnswered:
        """Send a cancel for one of our orders."""
        cid = cancel.client_order_id
        counter = order_counter(cid)
        if bridge is None:
            return CommandAnswered(f"cancel not sent: no engine attached ({cid})", ok=False)
        if counter is None or not cid.startswith(bridge.info.instance + "-"):
            return CommandAnswered(f"cancel not sent: {cid!r} is not this engine's order", ok=False)
        try:
            bridge.send_cancel(counter)
        except EngineError as exc:
            return CommandAnswered(f"cancel not sent: {exc}", ok=False)
        return CommandAnswered(f"cancel sent for #{counter}", ok=True)

    def cancel_all(
        self, bridge: EngineBridge | None, cancel: CancelAllRequested
    ) -> CommandAnswered:
        """Send a cancel-all for one instrument (or every one)."""
        if bridge is None:
            return CommandAnswered("cancel-all not sent: no engine attached", ok=False)
        try:
            bridge.send_cancel_all(cancel.instrument)
        except EngineError as exc:
            return CommandAnswered(f"cancel-all not sent: {exc}", ok=False)
        return CommandAnswered(f"cancel-all sent for {cancel.symbol}", ok=True)
