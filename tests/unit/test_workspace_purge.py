"""Which rows a deleted project owns: every read-model table can say, and events of a deleted
project are left out of replays from its first event on."""

from __future__ import annotations

from types import SimpleNamespace
from uuid import uuid4

from infrastructure.workspace_purge import depth, owned_rows
from interfaces.bootstrap import all_projections, delivery_tables
from projections.deleted_workspaces import DeletedWorkspaceEvents
from projections.model import Table


def tables_by_source() -> dict[str, dict[str, Table]]:
    grouped: dict[str, dict[str, Table]] = {}
    for projection in all_projections():
        for table in projection.tables:
            grouped.setdefault(projection.source, {})[table.name] = table
    for source, table in delivery_tables():
        grouped.setdefault(source, {})[table.name] = table
    return grouped


def test_every_read_model_table_finds_a_projects_rows_in_its_own_database() -> None:
    for source, tables in tables_by_source().items():
        for table in tables.values():
            if table.shared:  # of the whole log: no project's data, so no workspace column
                assert "workspace_id" not in table.columns and not table.parents, table.name
                continue
            for parent in table.parents:
                assert parent.table in tables, f"{table.name}: {parent.table} is not in {source}"
            condition, params = owned_rows(table, tables)
            assert params and all(p is None for p in params), table.name
            assert "workspace_id = %s" in condition


def test_children_are_purged_before_their_parents() -> None:
    tables = tables_by_source()["StatusPages"]
    assert depth(tables["rm_incident_updates"], tables) > depth(tables["rm_incidents"], tables)


def event(originator: object, **fields: object) -> SimpleNamespace:
    return SimpleNamespace(originator_id=originator, **fields)


def test_a_deleted_projects_aggregates_are_left_out_from_their_first_event_on() -> None:
    gone, kept, incident, other = uuid4(), uuid4(), uuid4(), uuid4()
    events = DeletedWorkspaceEvents(lambda: frozenset({gone}))
    events.refresh()
    assert events.drops(event(incident, workspace_id=gone))  # Incident.Opened names its workspace
    assert events.drops(event(incident, title="later"))  # Incident.Changed does not
    assert not events.drops(event(other, workspace_id=kept))
    assert not events.drops(event(other, title="later"))


def test_nothing_is_left_out_while_no_project_was_deleted() -> None:
    events = DeletedWorkspaceEvents(frozenset)
    events.refresh()
    assert not events.drops(event(uuid4(), workspace_id=uuid4()))
