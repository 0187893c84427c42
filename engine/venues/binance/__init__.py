"""Binance spot market data.

``protocol`` and ``kernels`` parse frames and snapshots, ``sync`` runs the local-book procedure,
and ``feed`` keeps books in sync over one WebSocket plus REST snapshots.
"""
