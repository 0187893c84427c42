"""Bybit v5: USDT perpetual (linear) order entry, its private stream, signing and error codes."""
