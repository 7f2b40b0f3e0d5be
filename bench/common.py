"""What the benches share: the PostgreSQL they run against, a throwaway schema of their own in
it, and the nearest-rank percentile their figures are reported with.

The benches run as scripts (`.venv/bin/python bench/X.py`), so this folder is on sys.path and
they import this module as `common`.
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Iterable

import psycopg
from psycopg import sql


def database_url_option(parser: argparse.ArgumentParser) -> None:
    """Add `--database-url`: BEACON_TEST_DATABASE_URL, else the local test database."""
    parser.add_argument("--database-url", default=os.environ.get(
        "BEACON_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="the PostgreSQL to run against (default: $BEACON_TEST_DATABASE_URL, else "
             "postgresql://postgres@127.0.0.1:5432/test)")


def new_schema(prefix: str = "bench") -> str:
    """A fresh schema name, `<prefix>_` and 8 hex digits; `drop_schema` removes it."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def drop_schema(url: str, schema: str) -> None:
    """Drop the schema and all it holds, if it exists."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def percentile(values: Iterable[float], share: float) -> float:
    """Nearest rank: the value at index min(n - 1, int(n * share)) of the values sorted (a
    copy; the caller's are left as they are). The figures recorded in docs/performance.md were
    taken this way: keep it, so that new ones compare."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]
