"""Strategies: base class, parameters, context, runner, indicators, reference market maker."""
