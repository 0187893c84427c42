"""TradeScreen: the default mode: the ladder with our orders on it, position, order ticket, tape.

The ladder takes the left (our resting orders marked on their levels with the public size queued
ahead of them, when the paper gateway estimates it); beside it, top to bottom: the instrument's
position and PnL, its mid and spread sparklines, the order ticket, our working orders (one
selected, ``x`` cancels it) and the public tape. Every order key sends a SUBMIT request that the
engine puts through its full risk pipeline; what comes back shows on the ticket's last line and in
the working orders.

| key | order |
|---|---|
| ``b`` / ``B`` | buy limit at the best bid (joins it) / at the best ask (takes it) |
| ``s`` / ``S`` | sell limit at the best ask (joins it) / at the best bid (takes it) |
| ``m`` / ``M`` | market buy / market sell |
| ``1`` ``2`` ``3`` | the size presets |
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive

from engine.errors import InstrumentError
from engine.ipc.protocol import OrderRow
from hft_tui.format import book_text
from hft_tui.frame import Frame
from hft_tui.messages import CancelAllRequested, CancelRequested, CommandAnswered, OrderRequested
from hft_tui.screens.base import DeskScreen
from hft_tui.settings import DEFAULT_PRESETS
from hft_tui.widgets import (
    Ladder,
    OrderTicket,
    PositionPanel,
    QuoteSpark,
    TradesTape,
    WorkingOrders,
)
from hft_tui.widgets.ladder import Ours

_BUY = Binding.Group("buy bid/ask")
_SELL = Binding.Group("sell ask/bid")
_MARKET = Binding.Group("mkt")
_CANCEL = Binding.Group("cancel/all")


def ours_by_level(working: Iterable[OrderRow]) -> Ours:
    """Our resting limit orders summed by (side, price) for the ladder.

    Each level gets our lots left, the order count and the public lots queued ahead of the front
    one (-1 when no order there carries an estimate).
    """
    ours: dict[tuple[int, int], tuple[int, int, int]] = {}
    for order in working:
        if not order.price_ticks:
            continue
        key = (order.side, order.price_ticks)
        lots, count, ahead = ours.get(key, (0, 0, -1))
        if order.queue_ahead >= 0:
            ahead = order.queue_ahead if ahead < 0 else min(ahead, order.queue_ahead)
        ours[key] = (lots + order.size_lots - order.filled_lots, count + 1, ahead)
    return ours


class TradeScreen(DeskScreen):
    """One instrument's book, trades, position and the keyboard order ticket.

    Args:
        presets: the ticket's size presets as exact base-currency text (up to three).
    """

    MODE = "trade"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "order('buy', 'bid')", "buy at bid", group=_BUY,
                tooltip="buy limit GTC at the best bid (joins the bid)"),
        Binding("B", "order('buy', 'ask')", "buy at ask", group=_BUY,
                tooltip="buy limit GTC at the best ask (takes the ask)"),
        Binding("s", "order('sell', 'ask')", "sell at ask", group=_SELL,
                tooltip="sell limit GTC at the best ask (joins the ask)"),
        Binding("S", "order('sell', 'bid')", "sell at bid", group=_SELL,
                tooltip="sell limit GTC at the best bid (hits the bid)"),
        Binding("m", "order('buy', 'market')", "market buy", group=_MARKET,
                tooltip="market buy (IOC)"),
        Binding("M", "order('sell', 'market')", "market sell", group=_MARKET,
                tooltip="market sell (IOC)"),
        Binding("1", "preset(0)", "size 1", show=False, tooltip="first size preset"),
        Binding("2", "preset(1)", "size 2", show=False, tooltip="second size preset"),
        Binding("3", "preset(2)", "size 3", show=False, tooltip="third size preset"),
        Binding("up", "select(-1)", "previous order", show=False,
                tooltip="select the previous working order"),
        Binding("down", "select(1)", "next order", show=False,
                tooltip="select the next working order"),
        Binding("x", "cancel", "cancel", group=_CANCEL, tooltip="cancel the selected order"),
        Binding("X", "cancel_all", "cancel all", group=_CANCEL,
                tooltip="cancel every order on this instrument"),
    ]  # fmt: skip

    chosen: reactive[int] = reactive(0)
    """Index of the size preset in use."""

    def __init__(self, presets: tuple[str, ...] = DEFAULT_PRESETS) -> None:
        super().__init__()
        self.presets = presets[:3]
        self.selected = ""
        """Client order id of the working order ``x`` cancels."""

    def compose_body(self) -> ComposeResult:
        """Ladder on the left; position, ticket, working orders and tape on the right."""
        with Horizontal(id="market"):
            yield Ladder(id="ladder")
            with Vertical(id="side"):
                yield PositionPanel(id="position")
                yield QuoteSpark(id="spark")
                yield OrderTicket(id="ticket")
                yield WorkingOrders(id="working")
                yield TradesTape(id="tape")

    def on_mount(self) -> None:
        """Show the presets before the first frame."""
        super().on_mount()
        self.query_one(OrderTicket).presets = self.presets

    def watch_chosen(self, chosen: int) -> None:
        """Light the preset in use."""
        if self.is_mounted:
            self.query_one(OrderTicket).chosen = chosen

    def show(self, frame: Frame) -> None:
        """Hand the ladder, tape, position, ticket and working orders their parts."""
        ladder = self.query_one(Ladder)
        ladder.book = frame.book
        ladder.book_state = frame.book_state
        working = frame.desk.working(frame.instrument)
        ladder.ours = ours_by_level(working)
        spark = self.query_one(QuoteSpark)
        spark.trail = frame.quotes
        spark.text = frame.desk.market(frame.instrument).text
        tape = self.query_one(TradesTape)
        book = frame.book
        tape.text = book_text(book.tick_size, book.lot_size) if book is not None else None
        tape.trades = frame.trades
        self.query_one(PositionPanel).frame = frame
        self.query_one(OrderTicket).frame = frame
        ids = [o.client_order_id for o in working]
        if self.selected not in ids:
            self.selected = ids[0] if ids else ""
        rows = self.query_one(WorkingOrders)
        rows.text = frame.desk.market(frame.instrument).text
        rows.now_ns = frame.now_ns
        rows.orders = tuple(working)
        rows.selected = self.selected

    # ---- the ticket ---------------------------------------------------------------------------

    def _refuse(self, why: str) -> None:
        self.query_one(OrderTicket).note = (why, True)

    def action_preset(self, index: int) -> None:
        """Use another size preset."""
        if 0 <= index < len(self.presets):
            self.chosen = index

    def action_order(self, side: str, where: str) -> None:
        """Ask the engine for an order at the bid, at the ask, or at market."""
        frame = self.frame
        if frame is None or frame.book is None:
            self._refuse("not sent: no book yet")
            return
        book = frame.book
        text = book_text(book.tick_size, book.lot_size)
        preset = self.presets[self.chosen] if self.presets else ""
        try:
            size = text.lots(preset)
        except InstrumentError as exc:
            self._refuse(f"not sent: size preset {exc}")
            return
        if size <= 0:
            self._refuse(f"not sent: size preset {preset!r} is not positive")
            return
        price = 0
        if where != "market":
            levels = book.bids if where == "bid" else book.asks
            if frame.book_state != "live" or not levels:
                self._refuse(f"not sent: no {where} (book {frame.book_state})")
                return
            price = levels[0][0]
        at = f"@ {text.price(price)}" if price else "at market"
        self.post_message(
            OrderRequested(
                instrument=frame.instrument,
                buy=side == "buy",
                price=price,
                size=size,
                order_type="limit" if price else "market",
                time_in_force="gtc" if price else "ioc",
                what=f"{side.upper()} {text.size(size)} {frame.symbol} {at}",
            )
        )

    def action_select(self, step: int) -> None:
        """Move the selection among the working orders."""
        frame = self.frame
        if frame is None:
            return
        ids = [o.client_order_id for o in frame.desk.working(frame.instrument)]
        if not ids:
            return
        index = ids.index(self.selected) if self.selected in ids else 0
        self.selected = ids[max(0, min(len(ids) - 1, index + step))]
        self.query_one(WorkingOrders).selected = self.selected

    def action_cancel(self) -> None:
        """Ask the engine to cancel the selected working order."""
        if not self.selected:
            self._refuse("nothing to cancel: no working order")
            return
        self.post_message(CancelRequested(self.selected))

    def action_cancel_all(self) -> None:
        """Ask the engine to cancel every order on this instrument."""
        frame = self.frame
        if frame is not None:
            self.post_message(CancelAllRequested(frame.instrument, frame.symbol))

    def on_command_answered(self, message: CommandAnswered) -> None:
        """Show what happened to the last request on the ticket."""
        self.query_one(OrderTicket).note = (message.text, not message.ok)
