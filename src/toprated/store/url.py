"""Which database a command uses: `--db PATH_OR_URL`, else `TOPRATED_DATABASE_URL`, else a local file.

DESIGN.md: DuckDB is the embedded default, PostgreSQL the server store, both behind one interface.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from toprated.errors import UserError

__all__ = ["DEFAULT_FILE", "ENV_VAR", "resolve_url"]

ENV_VAR = "TOPRATED_DATABASE_URL"
DEFAULT_FILE = "toprated.duckdb"


def resolve_url(db: str | os.PathLike[str] | None = None) -> str:
    """A SQLAlchemy URL for `db` (a path or a URL), the environment, or `./toprated.duckdb`.

    A path becomes `duckdb:///<absolute path>`; `postgresql://` and `postgres://` URLs get the
    psycopg 3 driver (`postgresql+psycopg://`); `duckdb:///…` and `postgresql+psycopg://…` pass as is.
    """
    if db is None or str(db) == "":
        db = os.environ.get(ENV_VAR) or DEFAULT_FILE
    text = os.fspath(db)
    if "://" not in text:
        return "duckdb:///" + str(Path(text).expanduser().resolve())
    scheme, rest = text.split("://", 1)
    scheme = scheme.lower()
    if scheme in {"postgresql", "postgres", "postgresql+psycopg"}:
        return "postgresql+psycopg://" + rest
    if scheme == "duckdb":
        return "duckdb://" + rest
    raise UserError(f"unsupported database URL {redact(text)!r}: use a file path, duckdb:///PATH or postgresql://…")


def redact(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
