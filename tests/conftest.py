"""Shared fixtures: a fresh store per test, on DuckDB (a temp file) and on PostgreSQL.

PostgreSQL: the server at 127.0.0.1:5432, database `test`, user `root` (trust auth), overridable
with TOPRATED_TEST_PG (a libpq conninfo). Each test gets its own schema (a random name, dropped
afterwards) through `search_path` in the URL, so tests and parallel runs never share tables.
PostgreSQL tests are skipped, saying why, only when the server cannot be reached.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Compiled SQL is not kept on disk between tests (nor in the user's cache): tests that count what a
# connection compiles would otherwise depend on the tests before them. `test_sqlcache` turns it on.
os.environ["TOPRATED_CACHE_DIR"] = "off"

PG_CONNINFO = os.environ.get("TOPRATED_TEST_PG", "host=127.0.0.1 port=5432 dbname=test user=root")


def _pg_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_CONNINFO, connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_CONNINFO!r}: {str(exc).strip().splitlines()[0]}"


@pytest.fixture(scope="session")
def pg_available() -> None:
    """Skips the test when the PostgreSQL test server is not reachable."""
    problem = _pg_problem()
    if problem:
        pytest.skip(problem)


def _fresh_schema(prefix: str) -> Iterator[str]:
    """A postgresql:// URL whose search_path is a new empty schema, dropped when the caller is done."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_CONNINFO, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        info = conn.info
        host, port, dbname, user = info.host, info.port, info.dbname, info.user
    try:
        yield f"postgresql://{user}@{host}:{port}/{dbname}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_CONNINFO, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_url(pg_available: None) -> Iterator[str]:
    """A postgresql:// URL whose search_path is a fresh, empty schema of its own."""
    yield from _fresh_schema("t")


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    """A path to a DuckDB file that does not exist yet."""
    return str(tmp_path / "store.duckdb")


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh store location, once on DuckDB and once on PostgreSQL."""
    name = "duckdb_url" if request.param == "duckdb" else "pg_url"
    return request.getfixturevalue(name)


@pytest.fixture(scope="module")
def pg_module_url(pg_available: None) -> Iterator[str]:
    """Like `pg_url`, for a whole test module (a marketplace imported once, evaluated by several tests)."""
    yield from _fresh_schema("m")
