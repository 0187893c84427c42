"""Replaying a Coinbase Advanced Trade capture (one connection): frames in, applied books out.

:class:`CoinbaseReplay` takes one connection's received frames in order and yields one
:class:`~engine.venues.replaying.AppliedUpdate` per ``l2_data`` snapshot or update applied to a
live, uncrossed book; ``seq`` is the frame's ``sequence_num``. Trades are counted and kept. Each
``ticker``'s best bid and ask prices are compared with the book of its product at that point
and counted in :attr:`CoinbaseReplay.ticker_matches` or :attr:`CoinbaseReplay.ticker_mismatches`
(the two channels are not synchronised, so mismatches are information, not errors). A
``sequence_num`` jump throws every book away until the capture's next snapshots; a crossed book
throws its own.
"""

from __future__ import annotations

from collections import Counter

from engine.book.order_book import OrderBook
from engine.core.events import Trade
from engine.core.instruments import Instrument
from engine.errors import CrossedBook, SequenceGap
from engine.venues.book_sync import ResyncCause
from engine.venues.coinbase.protocol import VENUE, CoinbaseFrame, CoinbaseParser, CoinbaseTicker
from engine.venues.coinbase.sync import CoinbaseBookSync, CoinbaseConnectionSync, CoinbaseOutcome
from engine.venues.replaying import AppliedUpdate, FrameReplay

__all__ = ["VENUE", "CoinbaseReplay"]


class CoinbaseReplay(FrameReplay[CoinbaseFrame]):
    """Coinbase parser, the connection's sequence check and one book sync per product.

    Args:
        instruments: the capture's products, ``symbol`` being the ``product_id``.
    """

    def __init__(self, instruments: list[Instrument]) -> None:
        super().__init__()
        self.parser = CoinbaseParser(instruments)
        self.connection = CoinbaseConnectionSync(
            {inst.symbol: CoinbaseBookSync(inst, OrderBook(inst.symbol)) for inst in instruments}
        )
        self.ticker_matches: Counter[str] = Counter()
        """Tickers whose best bid and ask prices equal the live book's, by product."""
        self.ticker_mismatches: Counter[str] = Counter()
        """Tickers whose best prices disagree with the live book, by product."""
        self.ticker_size_matches: Counter[str] = Counter()
        """Tickers whose best prices and both sizes equal the live book's, by product."""

    def _parse(self, raw: bytes, recv_ns: int) -> CoinbaseFrame:
        return self.parser.parse(raw, recv_ns)

    def feed(self, recv_ns: int, raw: bytes) -> list[AppliedUpdate]:
        """Take one received frame; the book updates it applied."""
        frame = self._read(raw, recv_ns)
        if frame is None:
            return []
        if not frame.items:
            self.stats.ignored += 1
        try:
            done = self.connection.on_frame(frame)
        except SequenceGap:
            self.stats.resyncs[ResyncCause.GAP.value] += 1
            return []
        except CrossedBook:
            self.stats.resyncs[ResyncCause.CROSSED.value] += 1
            return []
        out: list[AppliedUpdate] = []
        for sync, outcome in done:
            if outcome is not CoinbaseOutcome.SKIPPED:
                self.stats.applied += 1
                out.append(
                    AppliedUpdate(sync.instrument, frame.sequence_num, recv_ns, 0, sync.book)
                )
        for item in frame.items:
            if isinstance(item, Trade):
                self._keep(item)
            elif isinstance(item, CoinbaseTicker):
                self._check_ticker(item)
        return out

    def _check_ticker(self, ticker: CoinbaseTicker) -> None:
        sync = self.connection.books[ticker.symbol]
        if not sync.book.depth()[0]:
            return  # no book yet
        bid, ask = sync.book.best_bid(), sync.book.best_ask()
        if bid is None or ask is None or (bid[0], ask[0]) != (ticker.bid_px, ticker.ask_px):
            self.ticker_mismatches[ticker.symbol] += 1
            return
        self.ticker_matches[ticker.symbol] += 1
        if (bid[1], ask[1]) == (ticker.bid_sz, ticker.ask_sz):
            self.ticker_size_matches[ticker.symbol] += 1
