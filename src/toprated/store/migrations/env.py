"""Alembic environment for the toprated store (run by `toprated.store.migrate`, never by hand).

The caller passes an open SQLAlchemy connection in `config.attributes["connection"]`; migrations run
inside the caller's transaction. DuckDB needs an Alembic implementation registered for its dialect
(RECIPES.md, "DuckDB as the embedded store": `DuckDBImpl`, defined in `toprated.store.migrate` so
that reading the current revision works before this file runs); migrations are written by hand, no autogenerate.
"""

from __future__ import annotations

from alembic import context

from toprated.store.migrate import DuckDBImpl  # noqa: F401  (registers Alembic's DuckDB implementation)


def run_migrations() -> None:
    """Upgrade the connection given by the caller (online mode only)."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("toprated migrations run through toprated.store.migrate, with a connection")
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
