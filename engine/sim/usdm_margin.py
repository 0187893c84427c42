"""The USD-M desk's margin model: initial margins, what is available, and the -2019 check.

Kept small on purpose (:mod:`engine.sim.usdm_ledger` states the whole model): initial margin is
``notional / LEVERAGE`` rounded up, of each position at the mark and of each open order that is
not reduce-only at its limit price for what is still to fill; what is available is the margin
balance (wallet plus unrealised PnL) less those. An order needs the initial margin of the lots
that would open or grow the position (lots that close it need none). There is no liquidation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

from engine.core.events import Side
from engine.sim.usdm_fills import FuturesBook
from engine.sim.usdm_ledger import LEVERAGE, FuturesWallet, MarginState
from engine.sim.usdm_wire import FuturesText
from engine.sim.wire import RestError

MARGIN_INSUFFICIENT = "Margin is insufficient."


def room(position: int, side: Side) -> int:
    """Lots an order on ``side`` may fill without growing or flipping ``position``."""
    if side is Side.BUY:
        return -position if position < 0 else 0
    return position if position > 0 else 0


def initial_margin(unit: Fraction, price: int, lots: int) -> int:
    """Initial margin of ``lots`` at ``price`` in units of 10**-8: notional over leverage, up."""
    return math.ceil(unit * price * lots / LEVERAGE)


def margin_states(
    wallet: FuturesWallet, books: Iterable[tuple[FuturesText, FuturesBook, int]]
) -> list[MarginState]:
    """Every margin asset of one wallet, from the account's ``(text, book, mark)`` per symbol."""
    listed = list(books)
    states = []
    for asset in wallet.balances:
        unrealized = position_margin = order_margin = 0
        for text, book, mark in listed:
            if text.margin_asset != asset:
                continue
            unrealized += book.position.unrealised(mark)
            position_margin += initial_margin(text.unit, mark, abs(book.position.size))
            for order in book.open_by_client.values():
                if not order.reduce_only:
                    order_margin += initial_margin(text.unit, order.price or mark, order.leaves)
        states.append(
            MarginState(
                asset=asset,
                wallet=wallet.balance(asset),
                unrealized=unrealized,
                position_margin=position_margin,
                order_margin=order_margin,
                update_ms=wallet.update_ms,
            )
        )
    return states


def check_margin(
    state: MarginState, text: FuturesText, position: int, side: Side, lots: int, price: int
) -> None:
    """Refuse an order whose opening lots need more initial margin than ``state`` has free.

    Raises:
        RestError: -2019 "Margin is insufficient."
    """
    opening = lots - room(position, side)
    if opening <= 0:
        return
    if initial_margin(text.unit, price, opening) > state.available:
        raise RestError(400, -2019, MARGIN_INSUFFICIENT)
