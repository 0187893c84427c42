"""Hyperliquid: l2Book (a full snapshot every message) and trades."""
