"""OKX v5: public market data (``books`` with checksums, ``trades``) and the book sync."""
