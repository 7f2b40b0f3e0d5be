"""Atom and RSS feeds of a public status page: one entry per incident or maintenance update.

Generated with feedgen; the bytes depend only on history (the feed's date is its newest entry's),
so the ETag is a hash of them and a client that sends it back gets a 304.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from uuid import UUID, uuid5

from fastapi import APIRouter, Request, Response
from feedgen.feed import FeedGenerator

from interfaces.rest.deps import BeaconDep
from interfaces.rest.representations import public_base
from interfaces.rest.status_page import page_view
from projections.status_page import StatusPageView

router = APIRouter(tags=["status page"])
MAX_ENTRIES = 100
MEDIA = {"atom": "application/atom+xml; charset=utf-8", "rss": "application/rss+xml; charset=utf-8"}


@dataclass(frozen=True)
class Entry:
    id: UUID
    title: str
    message: str
    at: datetime
    anchor: str


def _entries(beacon: Any, view: StatusPageView) -> list[Entry]:
    """The page's incident and maintenance updates, newest first (an incident or window with no
    update yet is one entry for its opening)."""
    assert view.workspace_id is not None
    incidents = beacon.incidents.list_incidents(view.workspace_id, view.slug,
                                                limit=MAX_ENTRIES).items
    windows = beacon.maintenances.on_page(view.workspace_id, view.slug)[:MAX_ENTRIES]
    timelines = [*[(i.id, i.title, "incident", i.state, i.created_at)
                   for i in incidents],
                 *[(m.id, m.title, "maintenance", m.state, m.created_at) for m in windows]]
    updates = {**beacon.incidents.updates_for([i.id for i in incidents]),
               **beacon.maintenances.updates_for([m.id for m in windows])}
    entries = []
    for item_id, title, kind, state, created_at in timelines:
        anchor = f"{kind}-{item_id}"
        for update in updates[item_id]:
            entries.append(Entry(uuid5(item_id, update["id"]), title, update["message"],
                                 update["created_at"], anchor))
        if not updates[item_id]:
            entries.append(Entry(uuid5(item_id, "opened"), title,
                                 f"{kind.capitalize()} {state.replace('_', ' ')}.", created_at,
                                 anchor))
    entries.sort(key=lambda e: (e.at, str(e.id)), reverse=True)
    return entries[:MAX_ENTRIES]


def render(view: StatusPageView, entries: list[Entry], base: str, kind: str,
           since: datetime) -> bytes:
    page_url = f"{base}/status/{view.slug}"
    feed = FeedGenerator()
    feed.id(page_url)
    feed.title(f"{view.name} status")
    feed.link(href=page_url, rel="alternate")
    feed.link(href=f"{page_url}/feed.{kind}", rel="self")
    feed.description(f"Incidents and maintenance of {view.name}")
    feed.language("en")
    newest = entries[0].at if entries else since
    feed.updated(newest)
    feed.lastBuildDate(newest)
    for entry in reversed(entries):  # feedgen puts the last added first
        item = feed.add_entry()
        item.id(f"urn:uuid:{entry.id}")
        item.guid(f"urn:uuid:{entry.id}", permalink=False)
        item.title(entry.title)
        item.link(href=f"{page_url}#{entry.anchor}")
        item.content(entry.message, type="text")
        item.description(entry.message)
        item.published(entry.at)
        item.updated(entry.at)
    body: bytes = feed.atom_str(pretty=True) if kind == "atom" else feed.rss_str(pretty=True)
    return body


def not_modified(request: Request, tag: str, modified: datetime) -> bool:
    """The client's copy is current: its ETag matches, or (without one) it is not older."""
    match = request.headers.get("if-none-match")
    if match is not None:
        return tag in [t.strip() for t in match.split(",")] or match.strip() == "*"
    since = request.headers.get("if-modified-since")
    try:
        return since is not None and parsedate_to_datetime(since) >= modified.replace(microsecond=0)
    except (TypeError, ValueError):
        return False


def _feed(slug: str, kind: str, request: Request, beacon: Any) -> Response:
    view = page_view(beacon, slug)
    assert view.workspace_id is not None
    since = beacon.statuspages.get_page(view.workspace_id, slug).created_on
    entries = _entries(beacon, view)
    body = render(view, entries, public_base(request, beacon.settings.public_url), kind, since)
    modified = entries[0].at if entries else since
    headers = {"ETag": f'"{hashlib.sha256(body).hexdigest()[:32]}"',
               "Last-Modified": format_datetime(modified.replace(microsecond=0), usegmt=True),
               "Cache-Control": "public, max-age=0, must-revalidate"}
    if not_modified(request, headers["ETag"], modified):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA[kind], headers=headers)


def _declared(kind: str) -> dict[int | str, dict[str, Any]]:
    """What the API document says a feed answers (a feed, or 304 to a conditional request)."""
    return {200: {"description": f"the {kind} feed", "content": {MEDIA[kind].split(";")[0]: {}}},
            304: {"description": "unchanged since the ETag or Last-Modified sent"}}


@router.get("/status/{slug}/feed.atom", response_class=Response, responses=_declared("atom"))
def atom_feed(slug: str, request: Request, beacon: BeaconDep) -> Response:
    """The page's incident and maintenance updates as an Atom 1.0 feed."""
    return _feed(slug, "atom", request, beacon)


@router.get("/status/{slug}/feed.rss", response_class=Response, responses=_declared("rss"))
def rss_feed(slug: str, request: Request, beacon: BeaconDep) -> Response:
    """The page's incident and maintenance updates as an RSS 2.0 feed."""
    return _feed(slug, "rss", request, beacon)
