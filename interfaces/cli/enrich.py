"""`beacon enrich --since DATE`: derive history's geo and device again with today's databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from interfaces.cli.console import console, fail
from interfaces.cli.lifecycle import load_settings, running


def enrich(
    since: Annotated[str, typer.Option(help="Re-derive what was received from this day or "
                                            "moment on (ISO 8601, UTC).")],
) -> None:
    """Derive the enrichment of batches and reports received since DATE again, with the current
    geo and user-agent databases, recorded as new events (the old derivations stay in history)."""
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        fail(f"--since must be an ISO 8601 date or datetime, not {since!r}", code=2)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    with running(load_settings()) as beacon:
        # What the pipeline has not come to yet is left to it: it derives with the same
        # databases, in log order.
        pipeline = beacon.runner("enrichment") if beacon.settings.enrichment else None
        until = pipeline.store.position() if pipeline else None
        behind = pipeline is not None and until is not None and until < pipeline.head()
        count = beacon.enricher.rederive(moment, until=until)
        versions = ", ".join(f"{k}: {v}" for k, v in beacon.enricher.derived_with().items())
    console.print(f"derived again {count} batch(es) and report(s) received since "
                  f"{moment.isoformat()} ({versions})")
    if behind:
        console.print(f"those after log position {until} are the enrichment pipeline's to derive "
                      "(`beacon projector` or `beacon serve`)")
