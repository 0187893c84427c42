"""strategy_rows and param_change: the strategies document read, one change typed from text."""

from __future__ import annotations

import pytest

from hft_tui.strategy_rows import (
    ParamInputError,
    StrategyDocError,
    param_change,
    param_text,
    strategy_rows,
)

PARAMS = {"levels": 2, "fair": "mid", "post_only": True, "alpha": 0.5}


def test_rows_read_every_field_and_name_the_state():
    """Running, failed (stopped with an error) and stopped; missing figures count as 0."""
    doc = [
        {
            "name": "a",
            "kind": "MarketMaker",
            "running": True,
            "params": PARAMS,
            "p99_us": 8.5,
            "cpu_p99_us": 7.25,
        },
        {"name": "b", "running": False, "error": "ValueError: x"},
        {"name": "c", "running": False, "callbacks": 3},
    ]
    rows = strategy_rows(doc)
    assert [r.state for r in rows] == ["running", "failed", "stopped"]
    assert rows[0].p99_us == 8.5
    assert (rows[0].cpu_p99_us, rows[1].cpu_p99_us) == (7.25, 0.0)
    assert rows[0].params == PARAMS
    assert rows[1].params == {}
    assert rows[2].callbacks == 3


@pytest.mark.parametrize("doc", [{"name": "a"}, [1], [{"kind": "x"}]])
def test_a_document_that_is_not_a_list_of_named_objects_is_refused(doc):
    """The error says what was wrong."""
    with pytest.raises(StrategyDocError, match="GET /strategies"):
        strategy_rows(doc)


def test_changes_keep_the_parameters_type():
    """Whole numbers, numbers, booleans and text each become their JSON type."""
    assert param_change(PARAMS, "levels", " 7 ") == {"levels": 7}
    assert param_change(PARAMS, "alpha", "0.25") == {"alpha": 0.25}
    assert param_change(PARAMS, "post_only", "off") == {"post_only": False}
    assert param_change(PARAMS, "fair", "microprice") == {"fair": "microprice"}


@pytest.mark.parametrize(
    ("field", "text", "words"),
    [
        ("levels", "two", "whole number"),
        ("alpha", "nan", "finite"),
        ("alpha", "x", "must be a number"),
        ("post_only", "maybe", "true or false"),
        ("fair", "  ", "needs a value"),
        ("nope", "1", "no parameter 'nope'"),
    ],
)
def test_text_of_the_wrong_type_is_refused_before_sending(field, text, words):
    """Each refusal names the parameter and the problem."""
    with pytest.raises(ParamInputError, match=words):
        param_change(PARAMS, field, text)


def test_values_are_shown_as_typed():
    """Booleans as true/false, a missing value as a dash."""
    assert [param_text(v) for v in (True, False, None, 3, "mid")] == [
        "true", "false", "-", "3", "mid",
    ]  # fmt: skip
