"""Exports API (seed 002's 302 / 409 / 410): request a file, follow its status, download it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import AwareDatetime, Field

from domain.errors import ExportExpiredError, ExportNotFoundError
from domain.export import Export
from infrastructure.export_files import MEDIA_TYPES
from infrastructure.export_links import sign, signing_key, verify
from interfaces.bootstrap import Beacon
from interfaces.rest.admin import parse_id
from interfaces.rest.deps import BeaconDep, Reader
from interfaces.rest.errors import Forbidden
from interfaces.rest.representations import envelope, iso, mark_position
from interfaces.rest.schemas import Body

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])
LINK_LIFETIME = timedelta(minutes=15)
STALLED = timedelta(minutes=10)


class ExportCreate(Body):
    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")
    format: Literal["ndjson", "csv"]
    kind: Literal["events", "incidents"]


def export_json(export: Export, now: datetime) -> dict:
    described = export.describe(now)
    return {**described, **{k: iso(described[k]) for k in
                            ("from", "to", "created_at", "completed_at", "expires_at")}}


def export_of(beacon: Beacon, workspace_id: UUID | None, export_id: str) -> Export:
    return beacon.exports.get_export(workspace_id,
                                     parse_id(export_id, ExportNotFoundError, "export"))


@router.post("", status_code=202)
def request_export(body: ExportCreate, who: Reader, beacon: BeaconDep, response: Response) -> dict:
    """Ask for an export; a worker writes the file. Poll the export until it is completed."""
    export = beacon.exports.request_export(who.workspace_id, kind=body.kind, format=body.format,
                                           start=body.start, end=body.end, actor=who.actor)
    beacon.actors.run_export.send(str(export.id))
    mark_position(response)
    response.headers["Location"] = f"/api/v1/exports/{export.id}"
    return envelope(export_json(export, beacon.exports.clock()))


@router.get("/{export_id}")
def get_export(export_id: str, who: Reader, beacon: BeaconDep) -> dict:
    """An export's status: pending, completed, failed or expired."""
    export = export_of(beacon, who.workspace_id, export_id)
    now = beacon.exports.clock()
    if export.status == "pending" and now - export.created_on > STALLED:
        beacon.actors.run_export.send(str(export.id))  # its job was lost with a process
    return envelope(export_json(export, now))


@router.get("/{export_id}/download", status_code=302, response_class=RedirectResponse)
def download_export(export_id: str, who: Reader, beacon: BeaconDep) -> RedirectResponse:
    """302 to a signed, short-lived link once completed; 409 while pending; 410 once expired."""
    export = export_of(beacon, who.workspace_id, export_id)
    now = beacon.exports.clock()
    export.check_downloadable(now)
    assert export.expires_at is not None
    expires = int(min(now + LINK_LIFETIME, export.expires_at).timestamp())
    signature = sign(signing_key(beacon.settings), str(export.id), expires)
    return RedirectResponse(
        f"/api/v1/exports/{export.id}/file?expires={expires}&signature={signature}",
        status_code=302)


@router.get("/{export_id}/file", response_class=FileResponse)
def export_file(export_id: str, expires: int, signature: str, beacon: BeaconDep) -> FileResponse:
    """The file behind a signed link (no API key: the signature is the credential)."""
    if not verify(signing_key(beacon.settings), export_id, expires, signature):
        raise Forbidden("the link's signature is not valid")
    now = beacon.exports.clock()
    if now.timestamp() >= expires:
        raise ExportExpiredError("the download link has expired; ask for a new one")
    export = export_of(beacon, None, export_id)
    export.check_downloadable(now)
    path = beacon.export_files.path_of(str(export.file_name))
    if not path.exists():
        raise ExportExpiredError("the export's file is gone; request a new export")
    return FileResponse(path, media_type=MEDIA_TYPES[export.format],
                        filename=f"beacon-{export.kind}-{export.id}.{export.format}",
                        headers={"Cache-Control": "private, no-store"})
