"""The strategy base class and its typed, frozen, range-checked parameters.

A strategy subclasses :class:`Strategy` and names its parameters: a frozen msgspec Struct
derived from :class:`Params` whose numeric fields carry their allowed range as
``Annotated[int, msgspec.Meta(ge=..., le=...)]``. Parameters from outside (config, HTTP, Redis, the
TUI) are read with :func:`decode_params`, and changes with :func:`change_params`; both refuse a bad
value with :class:`ParamsError` naming the field, the value and the allowed range, so the values in
force stay as they were.

Every callback is a no-op by default. A strategy acts only through its ``ctx``
(:class:`~engine.strategy.context.StrategyContext`), set by the runner before ``on_start``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import msgspec

from engine.core.events import Fill, OrderUpdate, Trade
from engine.errors import EngineError

if TYPE_CHECKING:
    from engine.strategy.context import BookReader, StrategyContext


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every strategy's parameters: frozen, keyword-only, unknown fields refused."""


P = TypeVar("P", bound=Params)


class ParamsError(EngineError, ValueError):
    """Raised when parameters are refused; names the strategy, field, value and allowed range."""

    def __init__(self, strategy: str, field: str, value: object, allowed: str, detail: str) -> None:
        self.strategy = strategy
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(
            f"strategy {strategy}: parameter {field}={value!r} refused ({detail}); "
            f"allowed: {allowed}"
        )


def allowed_range(cls: type[Params], field: str) -> str:
    """The allowed values of one field as text (``1 <= x <= 100``, ``int``, ``'mid' | ...``)."""
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    for f in info.fields:
        if f.name == field:
            return _describe(f.type)
    return "one of " + ", ".join(f.name for f in info.fields)


def _describe(t: msgspec.inspect.Type) -> str:
    if isinstance(t, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        kind = "int" if isinstance(t, msgspec.inspect.IntType) else "float"
        low = f"{t.ge} <= " if t.ge is not None else (f"{t.gt} < " if t.gt is not None else "")
        high = f" <= {t.le}" if t.le is not None else (f" < {t.lt}" if t.lt is not None else "")
        return f"{low}{kind}{high}"
    if isinstance(t, msgspec.inspect.LiteralType):
        return " | ".join(sorted(repr(v) for v in t.values))
    if isinstance(t, msgspec.inspect.EnumType):
        return " | ".join(repr(m.value) for m in t.cls)
    if isinstance(t, msgspec.inspect.BoolType):
        return "true | false"
    if isinstance(t, msgspec.inspect.StrType):
        return "text"
    return type(t).__name__.removesuffix("Type").lower()


def decode_params(
    cls: type[P], doc: Mapping[str, Any], strategy: str, *, from_text: bool = False
) -> P:
    """Read parameters from plain values, checking every type and range.

    Args:
        cls: the strategy's Params class.
        doc: field -> value.
        strategy: the strategy's name, for the error.
        from_text: values may be text for numbers and booleans (``"10"``, ``"true"``), as a
            store's hash holds them.

    Raises:
        ParamsError: a field is unknown, of the wrong type or out of its range.
    """
    try:
        return msgspec.convert(dict(doc), cls, strict=not from_text)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = text.rsplit("$.", 1)[1].split("[", 1)[0].strip("`") if "$." in text else ""
        if not field and ("unknown field" in text or text.startswith("`")):
            field = text.split("`", 2)[1] if "`" in text else "?"  # see relation()
        value = doc.get(field, "<missing>")
        raise ParamsError(strategy, field or "?", value, allowed_range(cls, field), text) from None


def relation(ok: bool, field: str, detail: str) -> None:
    """In a Params' ``__post_init__``: refuse a combination of values, naming the field at fault.

    Raises:
        ValueError: ``ok`` is false; :func:`decode_params` turns it into a :class:`ParamsError`
            naming ``field``, its value and its range, with ``detail``.
    """
    if not ok:
        raise ValueError(f"`{field}` {detail}")


def change_params(current: P, changes: Mapping[str, Any], strategy: str) -> P:
    """``current`` with ``changes`` applied, checked as a whole; ``current`` is untouched.

    Raises:
        ParamsError: as :func:`decode_params`.
    """
    merged = msgspec.structs.asdict(current)
    merged.update(changes)
    return decode_params(type(current), msgspec.to_builtins(merged), strategy)


def checked(params: P, strategy: str) -> P:
    """``params`` once its ranges are checked (a Struct built in code is not checked by msgspec).

    Raises:
        ParamsError: as :func:`decode_params`.
    """
    return decode_params(type(params), msgspec.to_builtins(params), strategy)


class Strategy(Generic[P]):
    """One trading strategy: callbacks the runner calls, acting through :attr:`ctx`.

    Args:
        name: unique among the strategies running; tags every order it sends.
        params: its parameters, range-checked here.

    Raises:
        ParamsError: ``params`` are out of range.
    """

    params_type: ClassVar[type[Params]] = Params
    """The strategy's Params class, for :func:`decode_params` from config or HTTP."""
    instruments: tuple[int, ...] = ()
    """Instruments whose books and trades it is given; empty means every instrument."""

    def __init__(self, name: str, params: P) -> None:
        self.name = name
        self.params: P = checked(params, name)
        self._ctx: StrategyContext | None = None

    @property
    def ctx(self) -> StrategyContext:
        """The context the runner gave this strategy.

        Raises:
            RuntimeError: before the strategy was added to a runner.
        """
        if self._ctx is None:
            raise RuntimeError(f"strategy {self.name} has no context: add it to a runner first")
        return self._ctx

    def bind(self, ctx: StrategyContext) -> None:
        """Give the strategy its context (the runner does this once)."""
        self._ctx = ctx

    def on_start(self) -> None:
        """Called once before any other callback."""

    def on_book(self, instrument: int, book: BookReader) -> None:
        """A book it follows changed."""

    def on_book_state(self, instrument: int, state: str) -> None:
        """A book it follows changed state: ``live``, or ``syncing``, ``stale``, ``crossed``.

        Any state but ``live`` means the book may be wrong until it is rebuilt (risk refuses
        orders on it meanwhile); ``live`` comes again once it is.
        """

    def on_trade(self, trade: Trade) -> None:
        """A public trade printed on an instrument it follows."""

    def on_fill(self, fill: Fill) -> None:
        """One of its orders filled (its own position already includes the fill)."""

    def on_order(self, update: OrderUpdate) -> None:
        """One of its orders changed state; risk refusals come here as REJECTED too."""

    def on_timer(self, name: str, now_ns: int) -> None:
        """A timer set with ``ctx.set_timer(name, ...)`` fired."""

    def on_params(self, old: P, new: P) -> None:
        """Parameters changed (already checked); :attr:`params` is ``new`` when this runs."""

    def on_stop(self) -> None:
        """Called once when the strategy is stopped in order (not after it raised)."""

    def status(self) -> dict[str, object]:
        """A few figures of its own for ``GET /strategies`` and the TUI (plain JSON values)."""
        return {}
