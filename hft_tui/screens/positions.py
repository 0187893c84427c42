"""PositionsScreen: positions and PnL per instrument and for the portfolio, and the day's loss.

One row per instrument with a position row on the trading page (net size on its lot grid, average
entry, realised, unrealised, fees, net PnL and working orders), then the portfolio's totals. Under
the table: today's net PnL (since 00:00 UTC) against the daily loss limit, with a gauge of how much
of it is used; trading stops when the loss reaches the limit. Below that, a chart of the
portfolio's net PnL since this UI attached (:class:`~hft_tui.widgets.pnl_chart.PnlChart`, from
every trading page read). Every figure is the engine's exact text; the UI only adds signs and
colour.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from engine.ipc.protocol import TradingView
from hft_tui import format as fmt
from hft_tui.frame import Frame
from hft_tui.screens.base import DeskScreen
from hft_tui.widgets.keyed_table import Cells, KeyedTable, cell
from hft_tui.widgets.pnl_chart import PnlChart

_COLUMNS = (
    ("symbol", "symbol"),
    ("net", "net"),
    ("entry", "avg entry"),
    ("realised", "realised"),
    ("unrealised", "unrealised"),
    ("fees", "fees"),
    ("pnl", "net PnL"),
    ("working", "orders"),
)
_GAUGE_W = 30
PORTFOLIO = "portfolio"
"""Row key and caption of the totals row."""


class PositionsScreen(DeskScreen):
    """Positions, PnL and the daily loss limit."""

    MODE = "positions"

    def compose_body(self) -> ComposeResult:
        """The table, then the daily loss panel."""
        yield Static(
            " positions and PnL (quote currency)", id="positions-caption", classes="caption"
        )
        yield KeyedTable(_COLUMNS, id="positions-table")
        yield Static(id="daily-loss")
        yield Static(" net PnL since the UI attached", id="pnl-caption", classes="caption")
        yield PnlChart(id="pnl-chart")

    def _pnl(self, text: str) -> Text:
        tone = fmt.pnl_class(text)
        return cell(fmt.money(text), self.tone(tone) if tone != "flat" else "", right=True)

    def _fees(self, text: str) -> Text:
        """Fees paid are a cost, not a profit: no PnL colour (a net rebate is negative)."""
        return cell(fmt.amount(text), right=True)

    def show(self, frame: Frame) -> None:
        """Rows per instrument, the totals, the daily loss."""
        desk = frame.desk
        page = desk.page
        table = self.query_one("#positions-table", KeyedTable)
        self.query_one(PnlChart).curve = frame.pnl
        self.query_one("#pnl-caption", Static).update(self._session(frame))
        if page is None:
            table.set_rows([])
            self.query_one("#daily-loss", Static).update(" waiting for the trading page")
            return
        rows: list[tuple[str, Cells]] = []
        for pos in page.positions:
            market = desk.market(pos.instrument)
            net = fmt.size_or_lots(market.text, pos.net_lots, signed=True)
            tone = "buy" if pos.net_lots > 0 else "sell" if pos.net_lots < 0 else "muted"
            rows.append((
                market.symbol,
                (
                    cell(market.symbol),
                    cell(net, self.tone(tone), right=True),
                    cell(pos.avg_entry or "-", right=True),
                    self._pnl(pos.realised),
                    self._pnl(pos.unrealised),
                    self._fees(pos.fees),
                    self._pnl(fmt.net_pnl(pos.realised, pos.unrealised, pos.fees)),
                    cell(fmt.count(len(desk.working(pos.instrument))), right=True),
                ),
            ))  # fmt: skip
        rows.append((
            PORTFOLIO,
            (
                cell(PORTFOLIO, "bold"),
                cell(""),
                cell(""),
                self._pnl(page.realised),
                self._pnl(page.unrealised),
                self._fees(page.fees),
                self._pnl(page.net),
                cell(fmt.count(page.open_orders), right=True),
            ),
        ))  # fmt: skip
        table.set_rows(rows)
        self.query_one("#daily-loss", Static).update(self._daily(page))

    def _session(self, frame: Frame) -> Text:
        """The chart's caption: now, high and low of the session's net PnL."""
        out = Text(" net PnL since the UI attached", self.tone("muted"))
        values = [v for _, v in frame.pnl.points]
        if values:
            for label, value in (("now", values[-1]), ("high", max(values)), ("low", min(values))):
                out.append(f"   {label} ", self.tone("muted"))
                tone = fmt.pnl_class(str(value))
                out.append(fmt.money(str(value)), self.tone(tone) if tone != "flat" else "")
        return out

    def _daily(self, page: TradingView) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        muted = self.tone("muted")
        out.append(" today (since 00:00 UTC)  net ", muted)
        tone = fmt.pnl_class(page.daily)
        out.append(fmt.money(page.daily), self.tone(tone) if tone != "flat" else "")
        out.append(f"   daily loss limit {page.daily_loss_limit}\n", muted)
        shown = fmt.loss_gauge(page.daily, page.daily_loss_limit, _GAUGE_W)
        if shown is None:
            out.append(" the limit or the day's PnL is not a number", self.tone("bad"))
            return out
        bar, near = shown
        used = fmt.loss_used(page.daily, page.daily_loss_limit)
        out.append(" loss used ", muted)
        out.append(bar, self.tone("bad" if near else "ok"))
        out.append(f" {used}", self.tone("bad" if near else "ok"))
        out.append(f"   trading stops at -{page.daily_loss_limit}", muted)
        return out
