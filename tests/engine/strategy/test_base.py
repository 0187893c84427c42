"""Strategy parameters: typed, frozen, range-checked, refused with field, value and range."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from engine.strategy.base import Params, ParamsError, Strategy, change_params, decode_params
from engine.strategy.market_maker import MarketMakerParams


class Knobs(Params, frozen=True, kw_only=True):
    """Two ranged knobs."""

    width: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    alpha: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] = 0.5


def test_params_decode_from_plain_values():
    """Plain values within range decode into the frozen struct."""
    knobs = decode_params(Knobs, {"width": 7}, "s")
    assert knobs == Knobs(width=7, alpha=0.5)
    with pytest.raises(AttributeError):
        knobs.width = 3  # type: ignore[misc]


def test_out_of_range_value_is_refused_naming_field_value_and_range():
    """A value past its bound is refused with the field, the value and the allowed range."""
    with pytest.raises(ParamsError) as err:
        decode_params(Knobs, {"width": 99}, "mm")
    assert err.value.field == "width"
    assert err.value.value == 99
    assert err.value.allowed == "1 <= int <= 50"
    assert "mm" in str(err.value)
    assert "width=99" in str(err.value)


def test_exclusive_bound_and_wrong_type_are_refused():
    """A float at an exclusive bound and a text for a number are both refused."""
    with pytest.raises(ParamsError) as err:
        decode_params(Knobs, {"alpha": 0.0}, "s")
    assert err.value.allowed == "0.0 < float <= 1.0"
    with pytest.raises(ParamsError) as err:
        decode_params(Knobs, {"width": "wide"}, "s")
    assert err.value.field == "width"


def test_unknown_field_is_refused():
    """A field the strategy does not have is refused, listing the ones it has."""
    with pytest.raises(ParamsError) as err:
        decode_params(Knobs, {"depth": 3}, "s")
    assert err.value.field == "depth"


def test_a_refused_change_leaves_the_old_values():
    """change_params returns a new struct and never alters the current one."""
    old = Knobs()
    assert change_params(old, {"width": 9}, "s").width == 9
    with pytest.raises(ParamsError):
        change_params(old, {"width": 0}, "s")
    assert old.width == 5


def test_a_strategy_refuses_params_built_out_of_range_in_code():
    """Params built directly (not checked by msgspec) are checked when the strategy is made."""
    with pytest.raises(ParamsError) as err:
        Strategy("s", MarketMakerParams(levels=0))
    assert err.value.field == "levels"


def test_literal_choice_range_is_listed():
    """A choice field's allowed values are listed when refused."""
    with pytest.raises(ParamsError) as err:
        decode_params(MarketMakerParams, {"fair": "last"}, "mm")
    assert err.value.allowed == "'microprice' | 'mid'"
