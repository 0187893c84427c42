"""Coinbase Advanced Trade: level2 books with sequence_num gap detection, market trades, ticker."""
