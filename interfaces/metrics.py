"""Prometheus metrics: requests by route and status, events accepted and refused, projection lag
and failures, and the asynchronous pipeline's health: open streams, webhooks waiting, alert
evaluation's delay."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
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
        failures = GaugeMetricFamily(
            "beacon_projection_failures", "Tries in a row the projection's next page failed "
            "(0 while it works; GET /admin/v1/projections says why)", labels=["projection"])
        try:
            statuses = self.statuses()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database blinked
            statuses = []
        for status in statuses:
            position.add_metric([status.name], status.position)
            lag.add_metric([status.name], status.lag)
            failures.add_metric([status.name], status.failures)
        yield position
        yield lag
        yield failures


@dataclass(frozen=True)
class PipelineFigures:
    """What the pipeline's collector reports, read at scrape time."""

    streams_open: int  # this process's live streams
    streams_ended: dict[str, int]  # streams Beacon ended in this process, by reason
    webhooks_waiting: dict[str, int]  # deliveries yet to go out, by outbox
    alerts_behind_seconds: float | None  # now minus the last instant every rule was judged at


class PipelineCollector(Collector):
    """The live streams of this process, and the outboxes and alert evaluation of the whole
    deployment (read from the database, so any API process reports them)."""

    def __init__(self, figures: Callable[[], PipelineFigures]):
        self.figures = figures

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        try:
            figures = self.figures()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database blinked
            return
        yield GaugeMetricFamily("beacon_streams_open", "Live streams this process holds open",
                                value=figures.streams_open)
        ended = CounterMetricFamily("beacon_streams_ended", "Live streams Beacon ended, by "
                                    "reason (overflow: fell behind; revoked)", labels=["reason"])
        for reason in ("overflow", "revoked"):
            ended.add_metric([reason], figures.streams_ended.get(reason, 0))
        yield ended
        waiting = GaugeMetricFamily("beacon_webhooks_waiting", "Webhook deliveries yet to go "
                                    "out (never tried, or pending a retry)", labels=["outbox"])
        for outbox, count in figures.webhooks_waiting.items():
            waiting.add_metric([outbox], count)
        yield waiting
        if figures.alerts_behind_seconds is not None:
            yield GaugeMetricFamily(
                "beacon_alert_evaluation_behind_seconds", "How long ago the last instant every "
                "alert rule was judged at was (about 1.5-12 s while the worker keeps up)",
                value=figures.alerts_behind_seconds)


class Metrics:
    """One registry per app instance (tests build many apps in one process)."""

    def __init__(self, statuses: Callable[[], list[Any]],
                 pipeline: Callable[[], PipelineFigures] | None = None):
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
        if pipeline is not None:
            self.registry.register(PipelineCollector(pipeline))
