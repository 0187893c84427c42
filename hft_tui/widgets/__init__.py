"""Widgets of the trade screen; each shows one piece of the frame it is handed."""

from hft_tui.widgets.halt_banner import HaltBanner
from hft_tui.widgets.ladder import Ladder
from hft_tui.widgets.status_bar import StatusBar
from hft_tui.widgets.trades_tape import TradesTape

__all__ = ["HaltBanner", "Ladder", "StatusBar", "TradesTape"]
