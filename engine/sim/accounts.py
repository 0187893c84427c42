"""Trading accounts on the local venue: API keys, balances free and locked, commission rates.

An account is found by its API key and proves requests with its secret (HMAC, see
:mod:`engine.sim.auth`). Balances are exact integers of 10**-8 of each asset, Binance spot's
precision: ``1.5 BTC`` is ``150_000_000``. Placing an order locks what it may spend (the quote
of a buy at its limit price, the base of a sell); each fill spends from the lock, credits what was
bought less the commission, and whatever is still locked when the order ends is released.

Commissions are charged in the asset received, as Binance charges them without BNB: a buyer pays
in the base asset, a seller in the quote asset. A charge rounds up to the next 10**-8 and a rebate
(negative rate) rounds toward zero, so the venue never undercharges and never overpays.

Secrets are held as bytes and never appear in a repr, a log line or an answer.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from engine.sim import SimError

log = logging.getLogger("engine.sim")

ASSET_DECIMALS = 8
"""Binance spot keeps every balance to eight decimals."""
UNITS_PER_ASSET = 10**ASSET_DECIMALS
_MAX_KEY_CHARS = 256


class AccountError(SimError):
    """An account was configured wrongly: bad key, duplicate key, bad balance or rate text."""


class InsufficientBalance(SimError):
    """An order would lock more of an asset than the account holds free."""

    def __init__(self, asset: str, needed: int, free: int) -> None:
        super().__init__(
            f"needs {amount_text(needed)} {asset} but only {amount_text(free)} is free"
        )
        self.asset = asset
        self.needed = needed
        self.free = free


def amount_units(text: str, what: str = "amount") -> int:
    """Exact decimal text as units of 10**-8 (``"1.5"`` -> ``150_000_000``).

    Raises:
        AccountError: when the text is not a decimal number or has more than eight decimals.
    """
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        raise AccountError(f"{what} {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise AccountError(f"{what} {text!r} is not a finite number")
    units = value * UNITS_PER_ASSET
    if units != units.to_integral_value():
        raise AccountError(f"{what} {text!r} has more than {ASSET_DECIMALS} decimals")
    return int(units)


def amount_text(units: int) -> str:
    """Units of 10**-8 as Binance prints them: ``150_000_000`` -> ``"1.50000000"``."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), UNITS_PER_ASSET)
    return f"{sign}{whole}.{frac:0{ASSET_DECIMALS}d}"


def rate_fraction(text: str, what: str) -> Fraction:
    """A commission rate as an exact fraction.

    Raises:
        AccountError: when the text is not a finite decimal number.
    """
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        raise AccountError(f"{what} {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise AccountError(f"{what} {text!r} is not a finite number")
    return Fraction(value)


def commission_units(received: int, rate: Fraction) -> int:
    """Commission on ``received`` units: charges round up, rebates round toward zero."""
    exact = received * rate
    return math.ceil(exact) if exact >= 0 else math.trunc(exact)


class CommissionRates:
    """Maker and taker rates of one account, exact.

    Args:
        maker: the maker rate as decimal text, e.g. ``"0.001"``; negative for a rebate.
        taker: the taker rate as decimal text.

    Raises:
        AccountError: when a rate is not a finite decimal number.
    """

    __slots__ = ("maker", "maker_text", "taker", "taker_text")

    def __init__(self, maker: str = "0.001", taker: str = "0.001") -> None:
        self.maker = rate_fraction(maker, "maker commission")
        self.taker = rate_fraction(taker, "taker commission")
        self.maker_text = maker
        self.taker_text = taker

    def rate(self, maker: bool) -> Fraction:
        """The rate that applies to a fill."""
        return self.maker if maker else self.taker

    def __repr__(self) -> str:
        return f"CommissionRates(maker={self.maker_text}, taker={self.taker_text})"


class Balance:
    """One asset of one account: free and locked units of 10**-8."""

    __slots__ = ("free", "locked")

    def __init__(self, free: int = 0, locked: int = 0) -> None:
        self.free = free
        self.locked = locked

    def __repr__(self) -> str:
        return f"Balance(free={amount_text(self.free)}, locked={amount_text(self.locked)})"


class AccountSpec:
    """How to open one account on the venue.

    Args:
        api_key: the key clients send in ``X-MBX-APIKEY`` (or ``apiKey``).
        api_secret: the HMAC secret; kept out of every repr.
        balances: starting balances per asset as decimal text, e.g. ``{"USDT": "1000000"}``.
        maker_commission: maker rate as decimal text.
        taker_commission: taker rate as decimal text.
        name: how the account is shown in ``/sim/...`` answers and logs (never the key).
    """

    __slots__ = (
        "api_key",
        "api_secret",
        "balances",
        "maker_commission",
        "name",
        "taker_commission",
    )

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        *,
        balances: Mapping[str, str] | None = None,
        maker_commission: str = "0.001",
        taker_commission: str = "0.001",
        name: str = "",
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.balances = dict(balances if balances is not None else DEFAULT_BALANCES)
        self.maker_commission = maker_commission
        self.taker_commission = taker_commission
        self.name = name

    def __repr__(self) -> str:
        return f"AccountSpec(name={self.name!r}, assets={sorted(self.balances)})"


DEFAULT_BALANCES: Mapping[str, str] = {"USDT": "1000000", "BTC": "10"}
"""Starting balances when none are configured."""


class Account:
    """One trading account: its key, balances and commission rates.

    Args:
        spec: how to open it.
        uid: the account's number, as ``/api/v3/account`` reports it.

    Raises:
        AccountError: for an empty or over-long key or secret, or bad balances or rates.
    """

    def __init__(self, spec: AccountSpec, uid: int) -> None:
        for what, value in (("API key", spec.api_key), ("API secret", spec.api_secret)):
            if not value or len(value) > _MAX_KEY_CHARS or not value.isascii():
                raise AccountError(
                    f"{what} of account {spec.name or uid} must be 1-256 ASCII chars"
                )
        self.api_key = spec.api_key
        self._secret = spec.api_secret.encode("ascii")
        self.uid = uid
        self.name = spec.name or f"account-{uid}"
        self.rates = CommissionRates(spec.maker_commission, spec.taker_commission)
        self.balances: dict[str, Balance] = {}
        for asset, text in spec.balances.items():
            units = amount_units(text, f"starting balance of {asset}")
            if units < 0:
                raise AccountError(f"starting balance of {asset} must not be negative ({text})")
            self.balances[asset] = Balance(units)
        self.update_ms = 0
        self._changed: dict[str, None] = {}

    @property
    def secret(self) -> bytes:
        """The HMAC secret (for signature checks only)."""
        return self._secret

    def __repr__(self) -> str:
        return f"Account(name={self.name!r}, uid={self.uid})"

    def balance(self, asset: str) -> Balance:
        """The account's balance of ``asset`` (zero when it holds none)."""
        found = self.balances.get(asset)
        if found is None:
            found = self.balances[asset] = Balance()
        return found

    # ---- moving balances -----------------------------------------------------------------------

    def lock(self, asset: str, units: int) -> None:
        """Move ``units`` of ``asset`` from free to locked.

        Raises:
            InsufficientBalance: when less than ``units`` is free; nothing moves.
        """
        balance = self.balance(asset)
        if units > balance.free:
            raise InsufficientBalance(asset, units, balance.free)
        balance.free -= units
        balance.locked += units
        self._touch(asset)

    def unlock(self, asset: str, units: int) -> None:
        """Release ``units`` of ``asset`` from locked back to free."""
        if units <= 0:
            return
        balance = self.balance(asset)
        moved = min(units, balance.locked)
        balance.locked -= moved
        balance.free += moved
        self._touch(asset)

    def spend_locked(self, asset: str, units: int, lock_left: int) -> int:
        """Pay ``units`` of ``asset`` out of an order's lock (``lock_left``), any excess from free.

        Returns:
            What is left of the order's lock.
        """
        balance = self.balance(asset)
        from_lock = min(units, lock_left, balance.locked)
        balance.locked -= from_lock
        balance.free -= units - from_lock
        if balance.free < 0:
            log.warning(
                "a fill cost more than its order locked",
                extra={"account": self.name, "asset": asset, "short": amount_text(-balance.free)},
            )
        self._touch(asset)
        return lock_left - from_lock

    def credit(self, asset: str, units: int) -> None:
        """Add ``units`` (may be negative, for a commission larger than a tiny fill) to free."""
        self.balance(asset).free += units
        self._touch(asset)

    def _touch(self, asset: str) -> None:
        self._changed[asset] = None

    def take_changed(self) -> list[str]:
        """The assets whose balance changed since the last call, in the order they changed."""
        changed = list(self._changed)
        self._changed.clear()
        return changed


class Accounts:
    """Every account of the venue, by API key.

    Args:
        specs: the accounts to open.

    Raises:
        AccountError: when two accounts share a key or one is configured wrongly.
    """

    def __init__(self, specs: Iterable[AccountSpec]) -> None:
        self._by_key: dict[str, Account] = {}
        for n, spec in enumerate(specs):
            if spec.api_key in self._by_key:
                raise AccountError(f"two accounts use the same API key (account {n + 1})")
            self._by_key[spec.api_key] = Account(spec, uid=100_000_000 + n + 1)

    def __len__(self) -> int:
        return len(self._by_key)

    def all(self) -> list[Account]:
        """Every account, in the order they were opened."""
        return list(self._by_key.values())

    def by_key(self, api_key: str) -> Account | None:
        """The account of an API key, or None."""
        return self._by_key.get(api_key)

    def by_name(self, name: str) -> Account | None:
        """The account shown as ``name``, or None."""
        return next((a for a in self._by_key.values() if a.name == name), None)
