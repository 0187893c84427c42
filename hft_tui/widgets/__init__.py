"""Widgets of the workstation's screens; each shows one piece of the frame it is handed."""

from hft_tui.widgets.halt_banner import HaltBanner
from hft_tui.widgets.key_bar import KeyBar
from hft_tui.widgets.ladder import Ladder
from hft_tui.widgets.order_ticket import OrderTicket
from hft_tui.widgets.position_panel import PositionPanel
from hft_tui.widgets.quote_spark import QuoteSpark
from hft_tui.widgets.status_bar import StatusBar
from hft_tui.widgets.trades_tape import TradesTape
from hft_tui.widgets.working_orders import WorkingOrders

__all__ = [
    "HaltBanner",
    "KeyBar",
    "Ladder",
    "OrderTicket",
    "PositionPanel",
    "QuoteSpark",
    "StatusBar",
    "TradesTape",
    "WorkingOrders",
]
