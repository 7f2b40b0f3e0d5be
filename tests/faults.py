"""Faults the tests inject into a real database, on either backend."""

from __future__ import annotations

from infrastructure.database import Database


def fail_ledger_insert_of(db: Database, backend: str, event_id: str) -> None:
    """From now on, writing `event_id` into the dedupe ledger raises a database error ('disk on
    fire'), as a failing disk would, mid-transaction."""
    with db.transaction() as cur:
        if backend == "postgres":
            cur.execute("CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                        f"IF NEW.event_id = '{event_id}' THEN RAISE EXCEPTION 'disk on fire'; END IF; "
                        "RETURN NEW; END $$ LANGUAGE plpgsql")
            cur.execute("CREATE TRIGGER poison BEFORE INSERT ON telemetry_ledger "
                        "FOR EACH ROW EXECUTE FUNCTION poison()")
        else:
            cur.execute("CREATE TRIGGER poison BEFORE INSERT ON telemetry_ledger "
                        f"WHEN NEW.event_id = '{event_id}' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
