"""Binance USD-M futures: market data and order entry.

Market data: ``protocol`` (the spot parser with the futures rules: ``pu``, aggTrade), ``sync``
(the §2.4 book procedure) and ``feed`` (:class:`~engine.venues.binance_usdm.feed.BinanceUsdmFeed`).

Order entry:

``orders`` builds requests and ``answers`` reads REST answers (pure protocol), ``errors`` maps
USD-M's codes, ``user_stream`` parses the listen-key stream and ``listen_key`` keeps it, ``rest``
holds the limits and what each call costs, ``outcomes`` turns answers into reports, ``queries``
makes the awaited account calls, and ``gateway`` is
:class:`~engine.venues.binance_usdm.gateway.BinanceUsdmGateway`. The hot-path HTTP client, the
signer, the dispatcher, link health and the working-order table are Binance spot's
(:mod:`engine.venues.binance`), shared.
"""
