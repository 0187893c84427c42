"""Raw frames for the recorder: every frame and REST snapshot body, exact bytes, receive time.

The Binance feeds (spot, the local venue, USD-M) hand every frame they read, and every depth
snapshot body they fetch, to their parser. :class:`TappedParser` is that parser with
one more step in front: it passes the bytes on to a :data:`RawSink` (the recorder's queue), then
parses them as before. Every other feed on the shared stream loop
(:class:`~engine.venues.stream_feed.StreamFeed`: Bybit, OKX, Kraken, Coinbase, Hyperliquid) has
all its frames taken by a :class:`FrameTap` set as the feed's ``on_raw``, before they are parsed.
:func:`tap_feed` picks the one a feed takes; other feeds are left as they are (and recorded as
events only).

Raw rows are partitioned by symbol: a Binance frame's stream (``btcusdt@depth`` -> ``BTCUSDT``),
another venue's frame by the first symbol its head names; frames of no single known symbol
(acknowledgements, heartbeats, other streams) go under ``_all``.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.venues.binance.feed import BinanceDepthFeed
from engine.venues.binance.protocol import BinanceSpotParser
from engine.venues.stream_feed import StreamFeed

if TYPE_CHECKING:
    from engine.core.events import BookSnapshot
    from engine.core.instruments import Instrument

log = logging.getLogger("engine.recorder")

RawSink = Callable[[str, str, int, str, bytes], None]
"""(venue, symbol, recv_ts, stream or URL, payload) of one raw frame."""

OTHER_SYMBOL = "_all"
"""Raw partition of frames that belong to no single known symbol."""

_PREFIX = b'{"stream":"'


class TappedParser(BinanceSpotParser):
    """A Binance parser that first hands each frame's exact bytes to ``sink``.

    Args:
        instruments: as for :class:`~engine.venues.binance.protocol.BinanceSpotParser`.
        venue: the venue name.
        sink: where raw frames go.
        depth_path: the REST path snapshots come from, recorded as their stream.
        futures: parse with the futures rules (``pu``, ``aggTrade``), as the USD-M parser does.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        venue: str,
        sink: RawSink,
        *,
        depth_path: str = "/api/v3/depth",
        futures: bool = False,
    ) -> None:
        super().__init__(instruments, venue)
        self.futures = futures
        self._sink = sink
        self._depth_path = depth_path
        self._symbols = {i.symbol.lower().encode(): i.symbol for i in instruments}

    def parse_frame(self, raw: bytes | str, recv_ts: int) -> Any:  # noqa: ANN401
        """Record the frame, then parse it; returns whatever the parser returns for it."""
        data = raw if type(raw) is bytes else raw.encode() if isinstance(raw, str) else bytes(raw)
        stream = b""
        if data.startswith(_PREFIX):
            stream = data[len(_PREFIX) : data.find(b'"', len(_PREFIX))]
        symbol = self._symbols.get(stream.partition(b"@")[0], OTHER_SYMBOL)
        self._sink(self.venue, symbol, recv_ts, stream.decode("utf-8", "replace"), data)
        return super().parse_frame(data, recv_ts)

    def parse_snapshot(self, raw: bytes, instrument: Instrument, recv_ts: int) -> BookSnapshot:
        """Record the REST body (its stream is the request's path), then parse it."""
        body = bytes(raw)
        url = f"{self._depth_path}?symbol={instrument.symbol}"
        self._sink(self.venue, instrument.symbol, recv_ts, url, body)
        return super().parse_snapshot(body, instrument, recv_ts)


class FrameTap:
    """Every frame a :class:`~engine.venues.stream_feed.StreamFeed` reads, to ``sink``.

    The frame's symbol is the first instrument symbol the frame's head names as a value
    (``"BTC-USDT"``, or a topic's last part: ``orderbook.50.BTCUSDT"``); frames naming none go
    under :data:`OTHER_SYMBOL`. One compiled search over the head, longest symbol first.
    """

    __slots__ = ("_names", "_pattern", "_sink", "_venue", "stream")

    HEAD = 512
    """Bytes of a frame searched for its symbol (every venue names it near the start)."""

    def __init__(self, venue: str, instruments: list[Instrument], sink: RawSink) -> None:
        self._venue = venue
        self._sink = sink
        symbols = sorted({i.symbol for i in instruments}, key=len, reverse=True)
        self._names = {s.encode(): s for s in symbols}
        alternatives = b"|".join(re.escape(s.encode()) for s in symbols) or b"(?!)"
        self._pattern = re.compile(b'[".](' + alternatives + b')"')
        self.stream = venue
        """The stream every raw row of this feed names (the feed's socket)."""

    def __call__(self, recv_ts: int, raw: bytes) -> None:
        """Hand one frame on with its symbol."""
        data = raw if type(raw) is bytes else bytes(raw)
        found = self._pattern.search(data, 0, self.HEAD)
        symbol = self._names[found.group(1)] if found is not None else OTHER_SYMBOL
        self._sink(self._venue, symbol, recv_ts, self.stream, data)


def tap_feed(feed: object, sink: RawSink) -> bool:
    """Record ``feed``'s raw frames into ``sink``; False when it is a feed this cannot tap.

    Binance feeds get :class:`TappedParser` (their REST snapshot bodies are recorded too);
    every other feed on the shared stream loop gets a :class:`FrameTap` as its ``on_raw``.
    """
    if isinstance(feed, StreamFeed) and not isinstance(feed, BinanceDepthFeed):
        tap = FrameTap(feed.venue, feed.instruments, sink)
        with contextlib.suppress(NotImplementedError):
            tap.stream = feed.url
        feed.on_raw = tap
        return True
    if isinstance(feed, BinanceDepthFeed):
        feed._parser = TappedParser(
            feed.instruments,
            feed.venue,
            sink,
            depth_path=feed.depth_path,
            futures=feed.parser_class.futures,
        )
        return True
    log.warning(
        "raw frames of this feed are not recorded (events are)",
        extra={"feed": type(feed).__name__},
    )
    return False
