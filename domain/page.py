"""Status pages: one public page per slug within a workspace."""

from __future__ import annotations

import re
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.errors import ValidationError
from domain.ids import namespaced_id

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def page_id(workspace_id: UUID, slug: str) -> UUID:
    return namespaced_id(workspace_id, "page", slug)


class Page(Aggregate):
    """A public status page."""

    def __init__(self, workspace_id: UUID, slug: str, name: str, actor: Actor):
        self.workspace_id = workspace_id
        self.slug = slug
        self.name = name

    class Created(Aggregate.Created):
        workspace_id: UUID
        slug: str
        name: str
        actor: Actor

    @classmethod
    def create(cls, *, workspace_id: UUID, slug: str, name: str, actor: Actor) -> Page:
        if not SLUG.match(slug or ""):
            raise ValidationError(
                "slug must be 1-64 lowercase letters, digits and inner hyphens",
                details=[{"field": "slug", "message": "lowercase letters, digits, hyphens"}],
            )
        if not name or len(name) > 255:
            raise ValidationError("name must be 1-255 characters",
                                  details=[{"field": "name", "message": "1-255 characters"}])
        return cls._create(cls.Created, id=page_id(workspace_id, slug),
                           workspace_id=workspace_id, slug=slug, name=name, actor=actor)
