"""Project slugs: a workspace's name in URLs, unique across the installation.

Uniqueness is a claim: an aggregate whose id is derived from the slug, saved with the workspace in
one transaction, so two workspaces asking for one slug conflict and only one wins.
"""

from __future__ import annotations

import re
import unicodedata
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import ValidationError
from domain.ids import global_id

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def check_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise ValidationError(
            "a slug is 1-63 lowercase letters, digits and inner hyphens",
            details=[{"field": "slug", "message": "lowercase letters, digits, hyphens"}])
    return slug


def slugify(name: str) -> str:
    """A slug derived from a name: ASCII, lowercase, hyphens between words; 'project' if empty."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:63].strip("-")
    return slug or "project"


def slug_claim_id(slug: str) -> UUID:
    return global_id("workspace_slug", slug)


class SlugClaim(Aggregate):
    """Holds one slug for one workspace."""

    def __init__(self, slug: str, workspace_id: UUID):
        self.slug = slug
        self.workspace_id = workspace_id

    class Claimed(Aggregate.Created):
        slug: str
        workspace_id: UUID

    @classmethod
    def claim(cls, slug: str, workspace_id: UUID) -> SlugClaim:
        return cls._create(cls.Claimed, id=slug_claim_id(check_slug(slug)), slug=slug,
                           workspace_id=workspace_id)
