"""OKX v5 instruments from ``GET /api/v5/public/instruments?instType=..``.

``data[]`` records carry ``instId``, ``tickSz`` and ``lotSz`` (for ``SWAP``/``FUTURES`` the lot
is in contracts of ``ctVal``). OKX lists no minimum order value, so ``min_notional`` is 0 (its
``minSz``, in lots, is checked by the venue). Only ``state == "live"`` instruments are kept; a
``code`` other than ``"0"`` is an error naming it.
"""

from __future__ import annotations

from engine.core.instruments import Instrument
from engine.errors import InstrumentError
from engine.venues.instrument_cache import decode_json, need, records, step_text


class PublicInstruments:
    """OKX's ``public/instruments`` for one instrument type.

    Args:
        inst_type: ``SPOT``, ``SWAP``, ``FUTURES`` or ``MARGIN``.
        venue: the venue name the instruments carry.
    """

    def __init__(self, inst_type: str = "SPOT", venue: str = "okx") -> None:
        self.inst_type = inst_type
        self.venue = venue

    def request(self, base_url: str) -> tuple[str, str, object | None]:
        """``GET`` every instrument of the type."""
        return "GET", f"{base_url}/api/v5/public/instruments?instType={self.inst_type}", None

    def parse(self, body: bytes) -> list[Instrument]:
        """Every live instrument of the answer.

        Raises:
            InstrumentFieldError: a record lacks ``tickSz`` or ``lotSz``.
            InstrumentError: ``code`` is not ``"0"`` or there is no ``data`` list.
        """
        data = decode_json(body, self.venue)
        if not isinstance(data, dict) or data.get("code") != "0":
            code = data.get("code") if isinstance(data, dict) else None
            raise InstrumentError(f"{self.venue} instruments: code {code!r}")
        out: list[Instrument] = []
        for row in records(data.get("data"), self.venue, "data"):
            symbol = str(need(row, self.venue, "", "instId"))
            if row.get("state", "live") != "live":
                continue
            out.append(
                Instrument(
                    venue=self.venue,
                    symbol=symbol,
                    tick_size=step_text(
                        need(row, self.venue, symbol, "tickSz"), self.venue, symbol, "tickSz"
                    ),
                    lot_size=step_text(
                        need(row, self.venue, symbol, "lotSz"), self.venue, symbol, "lotSz"
                    ),
                )
            )
        return out


SPOT = PublicInstruments("SPOT")
"""OKX spot (``https://www.okx.com``)."""
