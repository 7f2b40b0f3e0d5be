"""The schema: its queries, limits on what one document may ask, and error shaping."""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from interfaces.graphql import (
    alert_activity,
    alerts,
    analytics,
    configuration,
    enrichment,
    incidents,
    monitors,
    read_models,
    team,
    telemetry,
)
from interfaces.graphql.errors import PlatformErrors, is_expected
from interfaces.graphql.nul_text import NoNulText
from interfaces.graphql.scalars import DateTime
from interfaces.graphql.subscriptions import Subscription

MAX_DEPTH = 10
MAX_ALIASES = 15


@strawberry.type
class Query:
    incident = strawberry.field(resolver=incidents.incident,
                                description=incidents.incident.__doc__)
    pages = strawberry.field(resolver=incidents.pages, description=incidents.pages.__doc__)
    incidents = strawberry.field(resolver=incidents.incidents,
                                 description=incidents.incidents.__doc__)
    session = strawberry.field(resolver=telemetry.session, description=telemetry.session.__doc__)
    sessions = strawberry.field(resolver=telemetry.sessions, description=telemetry.sessions.__doc__)
    exception_groups = strawberry.field(resolver=telemetry.exception_groups,
                                        description=telemetry.exception_groups.__doc__)
    usage = strawberry.field(resolver=telemetry.usage, description=telemetry.usage.__doc__)
    event = strawberry.field(resolver=enrichment.event, description=enrichment.event.__doc__)
    timeseries = strawberry.field(resolver=analytics.timeseries,
                                  description=analytics.timeseries.__doc__)
    breakdown = strawberry.field(resolver=analytics.breakdown, description=analytics.breakdown.__doc__)
    metric = strawberry.field(resolver=analytics.metric, description=analytics.metric.__doc__)
    top_events = strawberry.field(resolver=analytics.top_events,
                                  description=analytics.top_events.__doc__)
    funnel = strawberry.field(resolver=analytics.funnel, description=analytics.funnel.__doc__)
    monitor = strawberry.field(resolver=monitors.monitor, description=monitors.monitor.__doc__)
    monitors = strawberry.field(resolver=monitors.monitors,
                                description=monitors.monitors.__doc__)
    saved_insights = strawberry.field(resolver=configuration.saved_insights,
                                      description=configuration.saved_insights.__doc__)
    members = strawberry.field(resolver=team.members, description=team.members.__doc__)
    deploys = strawberry.field(resolver=team.deploys, description=team.deploys.__doc__)
    api_keys = strawberry.field(resolver=team.api_keys, description=team.api_keys.__doc__)
    tracking_plan_violations = strawberry.field(
        resolver=configuration.tracking_plan_violations,
        description=configuration.tracking_plan_violations.__doc__)
    alert = strawberry.field(resolver=alerts.alert, description=alerts.alert.__doc__)
    alerts = strawberry.field(resolver=alerts.alerts, description=alerts.alerts.__doc__)
    alert_activity = strawberry.field(resolver=alert_activity.alert_activity,
                                      description=alert_activity.alert_activity.__doc__)
    read_models = strawberry.field(resolver=read_models.read_models,
                                   description=read_models.read_models.__doc__)


class BeaconSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        """Log only what is our fault; bad queries and refusals are the caller's answer."""
        super().process_errors([e for e in errors if not is_expected(e)], execution_context)


def build_schema() -> strawberry.Schema:
    return BeaconSchema(
        query=Query,
        subscription=Subscription,
        scalar_overrides={datetime: DateTime},
        # Factories, not instances: an extension holds per-request state, so each request
        # gets its own (instances are shared across concurrent requests, and deprecated).
        extensions=[lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
                    lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES), NoNulText,
                    PlatformErrors],
    )
