"""The L2 order book on integer ticks and lots, and the analytics read from it."""

from engine.book.order_book import BadLevel, OrderBook, warm_up

__all__ = ["BadLevel", "OrderBook", "warm_up"]
