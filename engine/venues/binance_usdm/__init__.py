"""Binance USD-M futures order entry.

``orders`` builds requests and ``answers`` reads REST answers (pure protocol), ``errors`` maps
USD-M's codes, ``user_stream`` parses the listen-key stream and ``listen_key`` keeps it, ``rest``
holds the limits and what each call costs, ``outcomes`` turns answers into reports, ``queries``
makes the awaited account calls, and ``gateway`` is
:class:`~engine.venues.binance_usdm.gateway.BinanceUsdmGateway`. The hot-path HTTP client, the
signer, the dispatcher, link health and the working-order table are Binance spot's
(:mod:`engine.venues.binance`), shared.
"""
