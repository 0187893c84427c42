"""Property: venue reports in any order, repeated, give one booking per fill, replayed alike.

Whatever order the venue's reports arrive in, and however often, the OMS books each fill once,
the position is the sum of the distinct fills, and a journal replay rebuilds the same state.

Books, the order state machine and the matching core have their own property tests
(``tests/engine/book``, ``tests/engine/oms/test_order.py``, ``tests/engine/sim/test_matching.py``);
this covers what joins them: the order manager fed by two channels (REST answers and the user
stream) that repeat and reorder each other.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from tests.engine.oms.test_manager import Desk

SIZE = 100


@st.composite
def venue_reports(draw: st.DrawFn) -> tuple[Side, list[int], list[int], bool]:
    """Our side, fill sizes (summing to at most SIZE), the delivery order, whether it ends canceled.

    The delivery order indexes ``[accepted, fill 0, fill 1, ..., canceled]`` and repeats some.
    """
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    sizes: list[int] = []
    left = SIZE
    for _ in range(draw(st.integers(0, 6))):
        if left == 0:
            break
        size = draw(st.integers(1, left))
        sizes.append(size)
        left -= size
    canceled = left > 0 and draw(st.booleans())
    count = 1 + len(sizes) + int(canceled)
    order = draw(st.permutations(range(count)))
    repeats = draw(st.lists(st.integers(0, count - 1), max_size=count))
    return side, sizes, [*order, *repeats], canceled


def _run(state: Path, side: Side, sizes: list[int], delivery: list[int], canceled: bool) -> None:
    desk = Desk(state)
    desk.book([(1000, 500)], [(1010, 500)])
    price = 980 if side is Side.BUY else 1030  # inside the price band, away from the touch
    order = desk.oms.submit(desk.order(side, SIZE, price))
    assert order.is_open, order.reason
    cid = order.client_order_id
    venue = order.venue
    reports: list[OrderUpdate | Fill] = [
        OrderUpdate(
            venue=venue,
            instrument=0,
            client_order_id=cid,
            kind=OrderUpdateKind.ACCEPTED,
            venue_order_id="v1",
        )
    ]
    reports += [
        Fill(
            venue=venue,
            instrument=0,
            client_order_id=cid,
            venue_order_id="v1",
            trade_id=f"t{n}",
            side=side,
            price=price,
            size=size,
            fee=0,
        )
        for n, size in enumerate(sizes)
    ]
    if canceled:
        reports.append(
            OrderUpdate(
                venue=venue,
                instrument=0,
                client_order_id=cid,
                kind=OrderUpdateKind.CANCELED,
                venue_order_id="v1",
            )
        )
    for index in delivery:
        report = reports[index]
        if isinstance(report, Fill):
            desk.oms.on_fill(report)
        else:
            desk.oms.on_order_update(report)
    filled = sum(sizes)
    sign = 1 if side is Side.BUY else -1
    assert desk.portfolio.position(0).net == sign * filled
    assert len(order.fill_ids) == len(sizes)
    # Every fill counts on the order, one reported after the cancel included.
    assert order.filled_lots == filled
    assert not order.needs_reconcile
    if filled == SIZE or canceled:
        assert not order.is_open, order.status
    desk.journal.close()

    again = Desk(state)
    again.oms.replay(state / "journal", "t")
    assert again.oms.orders[cid].filled_lots == order.filled_lots
    assert again.portfolio.position(0).net == sign * filled
    assert again.oms.orders[cid].status == order.status
    again.journal.close()


@settings(max_examples=150, deadline=None)
@given(venue_reports())
@example((Side.BUY, [], [1, 0], True))  # the stream's CANCELED before the answer's ACCEPTED
@example((Side.SELL, [40, 60], [1, 2, 0, 0, 1], False))  # fills first, then the ack, twice
def test_reports_in_any_order_and_repeated_book_each_fill_once(reports):
    """Position = sum of distinct fills, the venue's final state wins, replay agrees."""
    side, sizes, delivery, canceled = reports
    with TemporaryDirectory() as tmp:
        asyncio.run(_in_loop(Path(tmp), side, sizes, delivery, canceled))


async def _in_loop(state: Path, side: Side, sizes: list[int], delivery: list[int], c: bool) -> None:
    """The order manager and the paper gateway expect a running loop."""
    _run(state, side, sizes, delivery, c)
