"""Fixtures for the book tests: every book test runs on both backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.book.order_book import OrderBook
from tests.engine.book.books import BACKENDS, new_book


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend a test's books use: pure Python, then the compiled ladder."""
    return str(request.param)


@pytest.fixture
def make_book(backend: str) -> Callable[..., OrderBook]:
    """Makes empty books on the test's backend: ``make_book(symbol, window_ticks=...)``."""

    def make(symbol: str, window_ticks: int = 1 << 14) -> OrderBook:
        return new_book(backend, symbol, window_ticks)

    return make
