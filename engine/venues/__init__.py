"""Venue adapters: market-data feeds (WebSocket + REST) that keep the engine's books in sync."""
