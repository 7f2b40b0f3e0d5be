"""Beacon's domain: aggregates, their events, value objects and domain errors. Pure: no I/O."""
