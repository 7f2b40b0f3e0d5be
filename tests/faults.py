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


def fail_batch_saves(db: Database, backend: str) -> None:
    """From now on, saving a batch of events raises a database error, after its request's ids
    went into the ledger and the quota decided: the last write of an admission fails."""
    with db.transaction() as cur:
        if backend == "postgres":
            cur.execute("CREATE FUNCTION poison_batch() RETURNS trigger AS $$ BEGIN "
                        "IF NEW.topic LIKE '%EventBatch.Accepted' THEN "
                        "RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
            cur.execute("CREATE TRIGGER poison_batch BEFORE INSERT ON telemetry_events "
                        "FOR EACH ROW EXECUTE FUNCTION poison_batch()")
        else:
            cur.execute("CREATE TRIGGER poison_batch BEFORE INSERT ON stored_events "
                        "WHEN NEW.topic LIKE '%EventBatch.Accepted' "
                        "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")


def heal_batch_saves(db: Database) -> None:
    with db.transaction() as cur:
        cur.execute("DROP TRIGGER poison_batch ON telemetry_events" if db.dialect == "postgres"
                    else "DROP TRIGGER poison_batch")


def fail_saves_of(db: Database, backend: str, application: str, topic_suffix: str) -> None:
    """From now on, saving an event of `application` whose topic ends with `topic_suffix`
    raises a database error inside its transaction, as a failing disk would."""
    table = f"{application.lower()}_events" if backend == "postgres" else "stored_events"
    with db.transaction() as cur:
        if backend == "postgres":
            cur.execute(f"CREATE FUNCTION poison_{table}() RETURNS trigger AS $$ BEGIN "
                        f"IF NEW.topic LIKE '%{topic_suffix}' THEN "
                        "RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
            cur.execute(f"CREATE TRIGGER poison_saves BEFORE INSERT ON {table} "
                        f"FOR EACH ROW EXECUTE FUNCTION poison_{table}()")
        else:
            cur.execute(f"CREATE TRIGGER poison_saves BEFORE INSERT ON {table} "
                        f"WHEN NEW.topic LIKE '%{topic_suffix}' "
                        "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")


def heal_saves_of(db: Database, application: str) -> None:
    with db.transaction() as cur:
        cur.execute(f"DROP TRIGGER poison_saves ON {application.lower()}_events"
                    if db.dialect == "postgres" else "DROP TRIGGER poison_saves")
