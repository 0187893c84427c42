"""Strategies: base class and parameters, context, runner, indicators and reference strategies.

- ``base``, ``context``, ``runner``, ``watchdog``: the API a strategy is written against and
  the runner that isolates it; ``reload`` and ``registry`` load strategies (also from the user
  directories of ``[strategy] paths``); ``live_params`` keeps parameters in step with the store.
- ``indicators``: incremental, composable indicators and book features.
- ``orders``: helpers the references share (taking to a target, working quotes).
- references: ``market_maker``, ``imbalance``, ``cross_venue``, ``twap`` and ``vwap`` (on
  ``execution``), ``ma_cross``, ``rsi_revert``, ``grid``.
"""
