"""Key hints from bindings: groups become one piece, hidden keys stay out, names read well."""

from __future__ import annotations

from textual.binding import Binding

from hft_tui.keys import MODE_KEYS, help_rows, hints, key_display


def test_keys_are_written_as_an_operator_reads_them():
    """ctrl+k is ^K, question_mark is ?, arrows are arrows, the first of several keys shows."""
    assert key_display("ctrl+k") == "^K"
    assert key_display("question_mark") == "?"
    assert key_display("up") == "↑"
    assert key_display("e,enter") == "e"
    assert key_display("B") == "B"


def test_a_run_of_one_group_becomes_one_hint():
    """Keys b and B in the buy group are one piece; a hidden binding is left out of the bar."""
    buy = Binding.Group("buy bid/ask")
    bindings = [
        Binding("b", "a", "buy at bid", group=buy),
        Binding("B", "a", "buy at ask", group=buy),
        Binding("1", "a", "size", show=False),
        Binding("x", "a", "cancel"),
    ]
    assert hints(bindings) == (("b/B", "buy bid/ask"), ("x", "cancel"))
    assert [key for key, _ in help_rows(bindings)] == ["b", "B", "1", "x"]


def test_every_mode_has_its_own_key():
    """Eight modes, eight different keys, trade first."""
    assert MODE_KEYS[0].mode == "trade"
    assert len({m.key for m in MODE_KEYS}) == len(MODE_KEYS) == 8


def test_no_screen_binds_a_mode_key():
    """A screen's own binding would win over the app's mode key and hide that mode there."""
    from hft_tui.screens.alerts import AlertsScreen
    from hft_tui.screens.backtest import BacktestScreen
    from hft_tui.screens.health import HealthScreen
    from hft_tui.screens.orders import OrdersScreen
    from hft_tui.screens.positions import PositionsScreen
    from hft_tui.screens.risk import RiskScreen
    from hft_tui.screens.strategies import StrategiesScreen
    from hft_tui.screens.trade import TradeScreen

    modes = {m.key for m in MODE_KEYS}
    screens = (
        TradeScreen, OrdersScreen, PositionsScreen, RiskScreen, StrategiesScreen, AlertsScreen,
        HealthScreen, BacktestScreen,
    )  # fmt: skip
    for screen in screens:
        for binding in screen.BINDINGS:
            assert isinstance(binding, Binding)
            assert not modes & set(binding.key.split(",")), (screen.__name__, binding.key)
