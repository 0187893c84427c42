"""Hot reload on the paper desk: new source swapped in flat, bad source refused at file:line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from engine.core.events import Side
from engine.oms.order import OrderStatus
from engine.strategy.reload import ReloadError, StrategyReloader, load_strategy_file
from tests.engine.strategy.conftest import StrategyDesk

BIDS = [(499_000, 1000)]
ASKS = [(500_000, 1000)]

SOURCE = """
from typing import Annotated

import msgspec

from engine.core.events import Side
from engine.strategy.base import Params, Strategy


class BidParams(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    size: Annotated[int, msgspec.Meta(ge=1, le=50)] = 1


class Bidder(Strategy[BidParams]):
    params_type = BidParams
    version = VERSION

    def on_book(self, instrument, book):
        if not self.ctx.open_orders():
            bid = book.best_bid()
            self.ctx.submit(instrument, Side.BUY, self.params.size, bid[0] - self.version)
"""


def write(path: Path, version: int, source: str = SOURCE) -> Path:
    """Write the strategy source with its version number."""
    path.write_text(textwrap.dedent(source).replace("VERSION", str(version)), encoding="utf-8")
    return path


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A strategy file in a user directory, version 1."""
    return write(tmp_path / f"bidder_{tmp_path.name}.py", 1)


async def running(desk: StrategyDesk, source: Path):
    """Load the file, run its strategy with size 3 and let it rest one bid."""
    cls = load_strategy_file(source, "Bidder")
    strategy = cls("bid", cls.params_type(size=3))
    desk.runner.add(strategy)
    desk.runner.start()
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    return strategy


async def test_a_reload_cancels_the_old_orders_and_starts_the_new_version_flat(desk, source):
    """The new class runs with the old parameters and a flat own position; old orders canceled."""
    old = await running(desk, source)
    (order,) = old.ctx.open_orders()
    desk.trade(order.price_ticks, 1, Side.SELL)  # part of the bid fills: the old one holds 1 lot
    await desk.settle()
    assert old.ctx.position(0).net_lots == 1
    write(source, 2)
    new = StrategyReloader(desk.runner).reload("bid")
    await desk.settle()
    assert desk.oms.orders[order.client_order_id].status is OrderStatus.CANCELED
    assert type(new).version == 2
    assert new.params.size == 3
    assert new.ctx.position(0).net_lots == 0
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    (fresh,) = new.ctx.open_orders()
    assert fresh.price_ticks == BIDS[0][0] - 2
    assert desk.runner.strategy("bid") is new


async def test_a_syntax_error_is_refused_with_file_and_line_and_the_old_version_stays(desk, source):
    """A file that does not compile is refused naming its line; the old strategy keeps quoting."""
    old = await running(desk, source)
    (order,) = old.ctx.open_orders()
    write(
        source, 2, SOURCE.replace("    def on_book(self, instrument, book):", "    def on_book(:")
    )
    with pytest.raises(ReloadError) as caught:
        StrategyReloader(desk.runner).reload("bid")
    assert caught.value.path == str(source)
    assert caught.value.line == 18
    assert "syntax error" in str(caught.value)
    assert desk.runner.strategy("bid") is old
    assert desk.oms.orders[order.client_order_id].status is OrderStatus.ACCEPTED


async def test_a_missing_method_is_refused_with_the_class_line(desk, source):
    """A class that lost a callback the running one has is refused at its class line."""
    old = await running(desk, source)
    write(source, 2, SOURCE.replace("def on_book(", "def on_bok("))
    with pytest.raises(ReloadError, match="no longer defines on_book") as caught:
        StrategyReloader(desk.runner).reload("bid")
    assert caught.value.line == 14
    assert desk.runner.strategy("bid") is old


async def test_an_error_while_loading_names_its_line(desk, source):
    """A module that raises when run is refused at the raising line."""
    old = await running(desk, source)
    write(source, 2, SOURCE + "\n1 / 0\n")
    with pytest.raises(ReloadError, match="ZeroDivisionError") as caught:
        StrategyReloader(desk.runner).reload("bid")
    assert caught.value.line == SOURCE.count("\n") + 2
    assert desk.runner.strategy("bid") is old


async def test_parameters_the_new_version_refuses_keep_the_old_version(desk, source):
    """New ranges that refuse the parameters in force are reported; nothing is swapped."""
    old = await running(desk, source)
    write(source, 2, SOURCE.replace("le=50", "le=2"))
    with pytest.raises(ReloadError, match="size=3"):
        StrategyReloader(desk.runner).reload("bid")
    assert desk.runner.strategy("bid") is old
    assert old.ctx.open_orders()


def test_a_missing_class_or_file_is_refused(tmp_path: Path):
    """Asking for a class the file lacks, or a file that is not there, names the file."""
    path = write(tmp_path / "other_strategy.py", 1)
    with pytest.raises(ReloadError, match="class Quoter is missing"):
        load_strategy_file(path, "Quoter")
    with pytest.raises(ReloadError, match="cannot read"):
        load_strategy_file(tmp_path / "absent.py", "Bidder")


def test_a_class_that_is_not_a_strategy_is_refused(tmp_path: Path):
    """A plain class of the asked name is refused at its line."""
    path = tmp_path / "plain_strategy.py"
    path.write_text("x = 1\n\n\nclass Bidder:\n    pass\n", encoding="utf-8")
    with pytest.raises(ReloadError, match="not a Strategy subclass") as caught:
        load_strategy_file(path, "Bidder")
    assert caught.value.line == 4
