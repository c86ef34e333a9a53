"""Versioned schema migrations (Alembic, hand-written, packaged in `store/migrations/`).

`migrate()` runs on every `open_store`: it brings the database to the newest revision and is a
no-op when it is there already. It works the same on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.ddl.impl import DefaultImpl
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from toprated.errors import UserError

__all__ = ["MIGRATIONS", "DuckDBImpl", "current_revision", "head_revision", "migrate"]

_PG_MIGRATION_LOCK = 0x746F706D  # "topm"
MIGRATIONS = Path(__file__).parent / "migrations"


class DuckDBImpl(DefaultImpl):
    """Alembic's DDL implementation for duckdb-engine: the default one, with transactional DDL."""

    __dialect__ = "duckdb"
    transactional_ddl = True


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this version of toprated knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: sa.Connection) -> str | None:
    """The revision the database is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def migrate(connection: sa.Connection) -> None:
    """Upgrade the database to the newest revision, inside the connection's transaction."""
    if connection.dialect.name == "postgresql":  # two processes opening a new database at once
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
    current = current_revision(connection)
    head = head_revision()
    if current == head:
        return
    try:
        command.upgrade(_config(connection), "head")
    except CommandError as exc:
        raise UserError(
            f"cannot migrate the database from revision {current} to {head}: {exc} "
            "(was it written by a newer toprated?)"
        ) from None
