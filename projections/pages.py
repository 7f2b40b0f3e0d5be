"""The pages read model: every status page by slug, for the public URL that names no workspace."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventsourcing.utils import get_topic

from domain.page import Page
from projections.model import BIGINT, TEXT, Op, Patch, Projection, Table, Upsert, micros

PAGES = Table(
    name="rm_pages",
    columns={"id": TEXT, "workspace_id": TEXT, "slug": TEXT, "name": TEXT, "created_at": BIGINT},
    primary_key=("id",),
    indexes=(("slug", "created_at"),),
)


class PagesProjection(Projection):
    name = "pages"
    source = "StatusPages"
    tables = (PAGES,)
    topics = (get_topic(Page.Created), get_topic(Page.Renamed))

    def ops(self, event: Any) -> Iterable[Op]:
        if isinstance(event, Page.Created):
            yield Upsert(PAGES.name, {"id": str(event.originator_id),
                                      "workspace_id": str(event.workspace_id),
                                      "slug": event.slug, "name": event.name,
                                      "created_at": micros(event.timestamp)})
        elif isinstance(event, Page.Renamed):
            yield Patch(PAGES.name, {"id": str(event.originator_id)}, {"name": event.name})
