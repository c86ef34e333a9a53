"""The lookup indexes (`schema.LOOKUPS`) around a large bulk load into DuckDB.

An explanation finds one entity's rows through them instead of scanning tables of millions
(`Scratch.facts_of`). Keeping them up to date row by row made importing 61M events 14% slower, and
dropping and building them inside the import's transaction slower still; so a large load drops them
before its transaction and builds them once it has committed, from the data as it then is. Small
loads keep them up to date as they go. Should a process die in between, the next import builds them.
"""

from __future__ import annotations

from typing import Any

from toprated.store.schema import LOOKUP_INDEXES

#: From so many records on, an import into DuckDB drops the lookup indexes and builds them after.
LARGE_LOAD = 200_000


def drop(duck: Any) -> None:
    """Drop the lookup indexes (each in its own transaction: DuckDB's autocommit)."""
    for name, _, _ in LOOKUP_INDEXES:
        duck.execute(f'DROP INDEX IF EXISTS "{name}"')


def build(duck: Any) -> None:
    """Build the lookup indexes that are missing (all of them after `drop`)."""
    for name, table, column in LOOKUP_INDEXES:
        duck.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON main."{table}" ("{column}")')
