"""What the OMS writes to the journal, one tagged record per command sent or event seen.

Replaying these records in order rebuilds every order and position exactly: ``Sent`` opens an
order as submitted, ``Refused`` records an order our own checks stopped, ``Update`` and
``Filled`` are the venue's reports as they arrived, ``Adopted`` is an order reconciliation found
at the venue that we had no record of, and ``Closed`` is an order reconciliation found gone.
Cancel and replace requests are journaled too (``CancelSent``, ``ReplaceSent``), and so are
kills, breaker trips, resets and limit changes (``Control``), so the journal is the full audit
trail, though replay needs only the venue's answers to rebuild state.
"""

from __future__ import annotations

import msgspec

from engine.core.commands import ReplaceOrder, SubmitOrder
from engine.core.events import Fill, OrderUpdate
from engine.venues.base import VenueOrder


class Sent(msgspec.Struct, frozen=True, tag="sent"):
    """An order passed every check and was handed to the venue's gateway."""

    venue: str
    order: SubmitOrder


class Refused(msgspec.Struct, frozen=True, tag="refused"):
    """An order our own checks refused before it left the engine."""

    venue: str
    order: SubmitOrder
    reason: str


class CancelSent(msgspec.Struct, frozen=True, tag="cancel"):
    """A cancel request was handed to the gateway."""

    venue: str
    client_order_id: str
    reason: str = ""


class ReplaceSent(msgspec.Struct, frozen=True, tag="replace"):
    """A replace request was handed to the gateway."""

    venue: str
    replace: ReplaceOrder


class Update(msgspec.Struct, frozen=True, tag="update"):
    """The venue reported a change of state of an order."""

    update: OrderUpdate


class Filled(msgspec.Struct, frozen=True, tag="fill"):
    """The venue reported an execution."""

    fill: Fill


class Adopted(msgspec.Struct, frozen=True, tag="adopted"):
    """Reconciliation found an open order at the venue that the engine had no record of."""

    venue: str
    order: VenueOrder


class Closed(msgspec.Struct, frozen=True, tag="closed"):
    """Reconciliation found that an order the engine held open is not open at the venue."""

    venue: str
    client_order_id: str
    reason: str


class Control(msgspec.Struct, frozen=True, tag="control"):
    """An operator's or the breaker's command: kill, trip, reset, or a change of limits.

    Kept for the audit trail; the breaker's own state file and the parameter store hold the
    state itself, so replay does not act on these.
    """

    action: str
    """``kill``, ``trip``, ``reset`` or ``limits``."""
    actor: str
    """Who: ``ui``, ``http 127.0.0.1``, ``SIGUSR1``, ``circuit breaker`` ..."""
    detail: str = ""
    """The reason of a kill or trip, or the new limits as JSON."""


Record = Sent | Refused | CancelSent | ReplaceSent | Update | Filled | Adopted | Closed | Control
"""Every journal payload the OMS writes."""

ENCODER = msgspec.msgpack.Encoder()
DECODER: msgspec.msgpack.Decoder[Record] = msgspec.msgpack.Decoder(Record)
