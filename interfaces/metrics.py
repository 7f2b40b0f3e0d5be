"""Prometheus metrics: requests by route and status, events accepted and refused, projection lag."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class ProjectionCollector(Collector):
    """Reads positions and lag at scrape time, so they are never stale."""

    def __init__(self, statuses: Callable[[], list[Any]]):
        self.statuses = statuses

    def collect(self) -> Iterator[GaugeMetricFamily]:
        position = GaugeMetricFamily("beacon_projection_position",
                                     "Last log position applied", labels=["projection"])
        lag = GaugeMetricFamily("beacon_projection_lag",
                                "Events behind the head of the log", labels=["projection"])
        try:
            statuses = self.statuses()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database blinked
            statuses = []
        for status in statuses:
            position.add_metric([status.name], status.position)
            lag.add_metric([status.name], status.lag)
        yield position
        yield lag


class Metrics:
    """One registry per app instance (tests build many apps in one process)."""

    def __init__(self, statuses: Callable[[], list[Any]]):
        self.registry = CollectorRegistry()
        self.requests = Counter("beacon_http_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("beacon_http_request_duration_seconds", "HTTP request latency",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.events_accepted = Counter("beacon_events_accepted_total", "Events accepted",
                                       ["kind"], registry=self.registry)
        self.events_refused = Counter("beacon_events_refused_total", "Events refused",
                                      ["kind", "reason"], registry=self.registry)
        self.registry.register(ProjectionCollector(statuses))
