"""Bybit v5: public market data, and USDT perpetual (linear) order entry.

Market data: ``protocol``, ``sync`` and ``feed`` (``BybitPublicFeed``). Order entry: the
gateway, its private stream, signing and error codes.
"""
