"""Kraken spot WebSocket (v2, and the legacy v1 of the captures): book with checksums, trades."""
