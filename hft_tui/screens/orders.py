"""OrdersScreen: every order the trading page lists, by client order id, and the fills log.

The orders table shows id, instrument, side, price, size, filled, state, age (since the order last
changed), type and time in force, the venue's order id and the reason for a reject, cancel or
expiry; the line under it spells out the selected order in full. Venue order ids are not on the
trading page: while the screen is on show they are fetched from ``GET /orders?all=1`` every few
seconds. The fills log below comes from FILL events, newest first. ``i``, ``g``, ``v`` and ``f``
filter both by instrument, by the strategy that sent the order (``manual`` for orders from the UI
or the control plane), by venue and by state; each key cycles through what the page holds. A fill
whose order has left the page has no known strategy or venue, so those two filters hide it.
``x`` cancels the selected order.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from engine.errors import ControlError
from engine.ipc.protocol import OrderRow
from hft_tui import format as fmt
from hft_tui.control import ControlClient
from hft_tui.desk import OPEN_STATES, Desk, FillRow
from hft_tui.frame import Frame
from hft_tui.messages import CancelRequested, CommandAnswered
from hft_tui.screens.base import DeskScreen
from hft_tui.widgets.keyed_table import Cells, KeyedTable, cell

#: the state filter: name -> the order states it keeps (None keeps every state)
STATE_FILTERS: dict[str, frozenset[str] | None] = {
    "all": None,
    "open": OPEN_STATES,
    "filled": frozenset({"filled"}),
    "canceled": frozenset({"canceled", "expired"}),
    "rejected": frozenset({"rejected"}),
}
_ORDER_COLUMNS = (
    ("id", "client id"),
    ("symbol", "symbol"),
    ("side", "side"),
    ("price", "price"),
    ("size", "size"),
    ("filled", "filled"),
    ("state", "state"),
    ("age", "age"),
    ("style", "type"),
    ("strategy", "strategy"),
    ("where", "venue"),
    ("venue", "venue id"),
    ("reason", "reason"),
)
_FILL_COLUMNS = (
    ("time", "time (UTC)"),
    ("id", "client id"),
    ("symbol", "symbol"),
    ("side", "side"),
    ("price", "price"),
    ("size", "size"),
    ("liquidity", "liq"),
)
#: the strategy filter's name for orders no strategy sent
MANUAL = "manual"


class OrdersScreen(DeskScreen):
    """Orders and fills, filtered by instrument and state.

    Args:
        token_env: the control token's environment variable (unused here; reads need none).
    """

    MODE = "orders"
    REMOTE_EVERY_S = 3.0
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "next_instrument", "instr", tooltip="filter by instrument (cycles)"),
        Binding(
            "g",
            "next_strategy",
            "strat",
            tooltip="filter by the strategy that sent the order, or manual (cycles)",
        ),
        Binding("v", "next_venue", "venue", tooltip="filter by venue (cycles)"),
        Binding("f", "next_state", "state", tooltip="filter by state: all, open, filled, ..."),
        Binding("x", "cancel", "cancel", tooltip="cancel the selected order"),
        Binding("up,down", "noop", "select", show=False, tooltip="move through the orders"),
    ]

    def __init__(self, token_env: str = "HFT_CONTROL_TOKEN") -> None:  # noqa: S107 - a name
        super().__init__()
        self._token_env = token_env
        self.instrument: int | None = None
        """The instrument filter; None shows every instrument."""
        self.state = "all"
        """The state filter, a key of :data:`STATE_FILTERS`."""
        self.strategy: str | None = None
        """The strategy filter (:data:`MANUAL` for orders no strategy sent); None shows all."""
        self.venue: str | None = None
        """The venue filter; None shows every venue."""
        self._venue_ids: dict[str, str] = {}
        self._note = ""

    def compose_body(self) -> ComposeResult:
        """Filter line, orders, the selected order, the fills log."""
        yield Static(id="orders-filter", classes="caption")
        yield KeyedTable(_ORDER_COLUMNS, id="orders-table")
        yield Static(id="order-detail")
        yield Static(" fills, newest first", id="fills-caption", classes="caption")
        yield KeyedTable(_FILL_COLUMNS, cursor=False, id="fills-table")

    def on_mount(self) -> None:
        """The table takes the arrow keys."""
        super().on_mount()
        self.query_one("#orders-table", KeyedTable).focus()

    def fetch_remote(self, control_url: str) -> None:
        """Read the venue order ids from ``GET /orders?all=1``."""
        if not control_url:
            return
        self.run_worker(
            lambda: self._venue_ids_now(control_url),
            thread=True,
            exclusive=True,
            group="venue-ids",
            exit_on_error=False,
        )

    def _venue_ids_now(self, url: str) -> None:
        try:
            docs: Any = ControlClient(url, self._token_env).get("/orders?all=1")
        except ControlError:
            return  # the column stays as it was; the page still has every order
        ids = (
            {
                str(doc.get("client_order_id")): str(doc.get("venue_order_id") or "")
                for doc in docs
                if isinstance(doc, dict)
            }
            if isinstance(docs, list)
            else {}
        )
        self.app.call_from_thread(self._venue_ids_arrived, ids)

    def _venue_ids_arrived(self, ids: dict[str, str]) -> None:
        self._venue_ids.update(ids)
        self._redraw()

    # ---- drawing ------------------------------------------------------------------------------

    def _kept(self, order: OrderRow) -> bool:
        """The strategy and venue filters."""
        if self.strategy is not None and (order.strategy or MANUAL) != self.strategy:
            return False
        return self.venue is None or order.venue == self.venue

    def _shown(self, desk: Desk) -> list[OrderRow]:
        keep = STATE_FILTERS[self.state]
        return [
            o
            for o in desk.orders(self.instrument)
            if (keep is None or o.status in keep) and self._kept(o)
        ]

    def _order_cells(self, frame: Frame, order: OrderRow) -> Cells:
        text = frame.desk.market(order.instrument).text
        side = "buy" if order.side == 1 else "sell"
        bad = order.status == "rejected"
        state_tone = (
            self.tone("bad") if bad else self.tone("ok" if order.status in OPEN_STATES else "muted")
        )
        return (
            cell(order.client_order_id),
            cell(frame.desk.market(order.instrument).symbol),
            cell(fmt.side(order.side), self.tone(side)),
            cell(fmt.order_price(text, order.price_ticks) if text else "?", right=True),
            cell(fmt.size_or_lots(text, order.size_lots), right=True),
            cell(fmt.size_or_lots(text, order.filled_lots), right=True),
            cell(fmt.order_status(order.status), state_tone),
            cell(fmt.age(frame.now_ns - order.ts_ns), right=True),
            cell(fmt.order_style(order.order_type, order.time_in_force)),
            cell(order.strategy or MANUAL, "" if order.strategy else self.tone("muted")),
            cell(order.venue or "-"),
            cell(self._venue_ids.get(order.client_order_id) or "-"),
            cell(order.reason, self.tone("bad") if bad else ""),
        )

    def show(self, frame: Frame) -> None:
        """Filter line, orders, detail, fills."""
        desk = frame.desk
        shown = self._shown(desk)
        where = (
            "all instruments" if self.instrument is None else desk.market(self.instrument).symbol
        )
        total = len(desk.orders())
        self.query_one("#orders-filter", Static).update(
            f" {where} · strategy {self.strategy or 'all'} · venue {self.venue or 'all'}"
            f" · state {self.state} · {len(shown)} of {total} orders"
            f" · {desk.page.open_orders if desk.page else 0} open"
        )
        table = self.query_one("#orders-table", KeyedTable)
        table.set_rows([(o.client_order_id, self._order_cells(frame, o)) for o in shown])
        self._detail(frame, {o.client_order_id: o for o in shown}.get(table.selected_key or ""))
        by_id = {o.client_order_id: o for o in desk.orders()}

        def kept(fill: FillRow) -> bool:
            if self.instrument is not None and fill.instrument != self.instrument:
                return False
            if self.strategy is None and self.venue is None:
                return True
            order = by_id.get(f"{frame.instance}-{fill.counter}")
            return order is not None and self._kept(order)

        fills = [f for f in desk.fills if kept(f)]
        rows: list[tuple[str, Cells]] = []
        for n, fill in enumerate(fills):
            text = desk.market(fill.instrument).text
            side = "buy" if fill.buy else "sell"
            rows.append((
                str(n),
                (
                    cell(fmt.clock_time(fill.engine_ts)),
                    cell(f"{frame.instance}-{fill.counter}"),
                    cell(desk.market(fill.instrument).symbol),
                    cell("BUY" if fill.buy else "SELL", self.tone(side)),
                    cell(text.price(fill.price) if text else "?", right=True),
                    cell(text.size(fill.size) if text else "?", right=True),
                    cell(fmt.liquidity(fill.maker)),
                ),
            ))  # fmt: skip
        self.query_one("#fills-table", KeyedTable).set_rows(rows)

    def _detail(self, frame: Frame, order: OrderRow | None) -> None:
        line = Text(no_wrap=False)
        if self._note:
            line.append(f" {self._note}\n", self.tone("warn"))
        if order is None:
            line.append(" no order selected", self.tone("muted"))
        else:
            text = frame.desk.market(order.instrument).text
            price = fmt.order_price(text, order.price_ticks) if text else "?"
            size = text.size(order.size_lots) if text else "?"
            venue = self._venue_ids.get(order.client_order_id) or "not known"
            line.append(
                f" {order.client_order_id} · venue id {venue} · {fmt.side(order.side)} {size}"
                f" {fmt.order_style(order.order_type, order.time_in_force)} {price}"
                f" · {fmt.order_status(order.status)}"
            )
            if order.reason:
                line.append(
                    f" · {order.reason}",
                    self.tone("bad" if order.status == "rejected" else "muted"),
                )
        self.query_one("#order-detail", Static).update(line)

    def _redraw(self) -> None:
        if self.frame is not None:
            self.show(self.frame)

    # ---- actions ------------------------------------------------------------------------------

    def action_next_instrument(self) -> None:
        """Filter by the next instrument (all, then each in turn)."""
        frame = self.frame
        count = len(frame.desk.markets) if frame is not None else 0
        if self.instrument is None:
            self.instrument = 0 if count else None
        else:
            self.instrument = self.instrument + 1 if self.instrument + 1 < count else None
        self._redraw()

    def action_next_strategy(self) -> None:
        """Filter by the next strategy on the page (all, each by name, then manual)."""
        frame = self.frame
        orders = frame.desk.orders() if frame is not None else []
        names = sorted({o.strategy for o in orders if o.strategy})
        if any(not o.strategy for o in orders):
            names.append(MANUAL)
        self.strategy = _next_of(names, self.strategy)
        self._redraw()

    def action_next_venue(self) -> None:
        """Filter by the next venue on the page (all, then each by name)."""
        frame = self.frame
        orders = frame.desk.orders() if frame is not None else []
        self.venue = _next_of(sorted({o.venue for o in orders if o.venue}), self.venue)
        self._redraw()

    def action_next_state(self) -> None:
        """Filter by the next state group."""
        names = list(STATE_FILTERS)
        self.state = names[(names.index(self.state) + 1) % len(names)]
        self._redraw()

    def action_noop(self) -> None:
        """Up and down move the table's cursor; listed for the help screen only."""

    def action_cancel(self) -> None:
        """Ask the engine to cancel the selected order, if it is still open."""
        frame = self.frame
        key = self.query_one("#orders-table", KeyedTable).selected_key
        order = (
            next((o for o in frame.desk.orders() if o.client_order_id == key), None)
            if frame
            else None
        )
        if order is None or order.status not in OPEN_STATES:
            self._note = "nothing to cancel: select an open order"
            self._redraw()
            return
        self.post_message(CancelRequested(order.client_order_id))

    def on_command_answered(self, message: CommandAnswered) -> None:
        """Show what became of the cancel."""
        self._note = message.text
        self._redraw()


def _next_of(names: list[str], current: str | None) -> str | None:
    """The filter after ``current`` in ``None`` (all), then ``names`` in turn."""
    if current is None or current not in names:
        return names[0] if names and current is None else None
    index = names.index(current) + 1
    return names[index] if index < len(names) else None
