"""Keeping one Binance futures book in sync: the local-book procedure of venues.md §2.4, no IO.

It is the spot procedure (:class:`~engine.venues.binance.sync.SpotBookSync`: buffer while
syncing, snapshot, replay, live, throw away on a gap or a crossed book) with the futures rules:

- after a snapshot with ``lastUpdateId`` = L, diffs with ``u < L`` are dropped (strict: a diff
  ending at L is kept), and the first diff left must satisfy ``U <= L <= u``; one starting past
  L means the snapshot is too old;
- every later diff must carry ``pu`` equal to the previous diff's ``u`` (ids are not contiguous
  between futures diffs, so ``U == prev_u + 1`` is never checked); otherwise it is a gap. The
  buffer kept while syncing follows the same rule.

USD-M and COIN-M share these rules (venues.md §2.4, and the captures in ../shared/data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.venues.binance.sync import SpotBookSync

if TYPE_CHECKING:
    from engine.core.events import BookDelta


class FuturesBookSync(SpotBookSync):
    """Runs the §2.4 procedure for one futures instrument's book (``pu`` continuity)."""

    def _stale(self, delta: BookDelta, local_id: int, *, bridging: bool) -> bool:
        """Right after the snapshot ``u < L``; afterwards ``u <= local id`` (a repeat)."""
        return delta.last_id < local_id if bridging else delta.last_id <= local_id

    def _follows(self, delta: BookDelta, local_id: int, *, bridging: bool) -> bool:
        """The first diff after the snapshot: ``U <= L``; every later one: ``pu == prev u``."""
        return delta.first_id <= local_id if bridging else delta.prev_id == local_id

    def _gap_ids(self, delta: BookDelta, local_id: int) -> tuple[int, int]:
        """(expected ``pu``, received ``pu``)."""
        return local_id, delta.prev_id
