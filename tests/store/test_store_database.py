"""Opening a store: URL resolution, migrations, DuckDB's single-writer lock, the Ibis backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa
from store_helpers import WORLD, ev, records

from toprated.errors import UserError
from toprated.events import content_digest, validate
from toprated.store import ENV_VAR, open_store, resolve_url, schema
from toprated.store.migrate import _config, current_revision, head_revision, migrate

# --- URL resolution ---------------------------------------------------------------------------


def test_resolve_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_url() == f"duckdb:///{tmp_path / 'toprated.duckdb'}"
    assert resolve_url("data/x.duckdb") == f"duckdb:///{tmp_path / 'data/x.duckdb'}"
    assert resolve_url("/abs/x.db") == "duckdb:////abs/x.db"
    assert resolve_url("duckdb:///:memory:") == "duckdb:///:memory:"
    assert resolve_url("postgresql://u:p@h:5433/db") == "postgresql+psycopg://u:p@h:5433/db"
    assert resolve_url("postgres://h/db?sslmode=require") == "postgresql+psycopg://h/db?sslmode=require"
    assert resolve_url("postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"
    monkeypatch.setenv(ENV_VAR, "postgresql://env/db")
    assert resolve_url() == "postgresql+psycopg://env/db"
    assert resolve_url("local.duckdb") == f"duckdb:///{tmp_path / 'local.duckdb'}"  # --db beats the env
    with pytest.raises(UserError, match="unsupported database URL 'mysql://u:\\*\\*\\*@h/db'"):
        resolve_url("mysql://u:secret@h/db")


# --- migrations -------------------------------------------------------------------------------


def _columns(conn: sa.Connection, table: str) -> list[tuple[str, str, bool]]:
    rows = conn.execute(
        sa.text(
            "SELECT column_name, data_type, is_nullable, numeric_precision, numeric_scale "
            "FROM information_schema.columns WHERE table_name = :t AND table_schema = current_schema() "
            "ORDER BY ordinal_position"
        ),
        {"t": table},
    )
    kinds = {
        "character varying": "string",
        "varchar": "string",
        "text": "string",
        "bigint": "bigint",
        "integer": "int",
        "timestamp without time zone": "timestamp",
        "timestamp": "timestamp",
        "date": "date",
        "boolean": "bool",
        "double precision": "double",
        "double": "double",
    }
    out = []
    for name, kind, nullable, precision, scale in rows:
        kind = kind.lower()
        kind = f"decimal({precision},{scale})" if kind.startswith(("decimal", "numeric")) else kinds[kind]
        out.append((name, kind, nullable == "YES"))
    return out


def _expected(table: sa.Table) -> list[tuple[str, str, bool]]:
    def kind(t: sa.types.TypeEngine) -> str:
        for cls, name in (
            (sa.Boolean, "bool"),
            (sa.BigInteger, "bigint"),
            (sa.Integer, "int"),
            (sa.Float, "double"),
            (sa.DateTime, "timestamp"),
            (sa.Date, "date"),
        ):
            if isinstance(t, cls):
                return name
        if isinstance(t, sa.Numeric):
            return f"decimal({t.precision},{t.scale})"
        return "string"

    return [(c.name, kind(c.type), bool(c.nullable)) for c in table.columns]


def _lookup_indexes(conn: sa.Connection) -> set[str]:
    """The names of the indexes toprated made (`ix_…`), primary keys aside."""
    if conn.dialect.name == "duckdb":
        query = "SELECT index_name FROM duckdb_indexes()"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE 'ix_%'"
    return {name for (name,) in conn.execute(sa.text(query))}


def test_migrations_create_schema_py_and_run_twice_as_a_no_op(store_url: str) -> None:
    with open_store(store_url) as store, store.engine.begin() as conn:
        assert current_revision(conn) == head_revision() == "0004"
        for table in (schema.events, *schema.TYPED_TABLES):
            assert _columns(conn, table.name) == _expected(table), table.name
        assert _lookup_indexes(conn) == {f"ix_{t}_{c}" for t, cs in schema.LOOKUPS.items() for c in cs}
        if conn.dialect.name == "postgresql":  # the arrival number, for carrying a ledger (0003)
            query = (
                "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'events_seq_idx'"
            )
            assert conn.execute(sa.text(query)).scalar_one() == 1
        migrate(conn)  # at head: nothing to do
        assert current_revision(conn) == "0004"
    with open_store(store_url) as store:  # opening again migrates again: still a no-op, data kept
        store.import_records(records(WORLD[:1]))
    with open_store(store_url) as store, store.engine.connect() as conn:
        assert current_revision(conn) == "0004" and store.counts()["freelancers"] == 1
        versions = conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one()
        assert versions == 1


def test_the_raw_log_without_digests_and_back(store_url: str) -> None:
    """0004 drops `events.digest`; its downgrade writes it again in SQL, as `content_digest` does in
    Python (a time with microseconds included), and a store upgraded again tells duplicates from
    conflicts by the stored events' content."""
    from alembic import command

    fractional = ev("e99", "client.flagged", "2025-03-01T10:00:00.250+01:00", client_id="k7", reason="spam")
    batch = [*WORLD, fractional]
    with open_store(store_url) as store:
        store.import_records(records(batch))
        with store.engine.begin() as conn:
            command.downgrade(_config(conn), "0003")
            stored = dict(conn.execute(sa.text("SELECT id, digest FROM events")).all())
        assert stored == {e["id"]: content_digest(validate(e)) for e in batch}
        with store.engine.begin() as conn:
            migrate(conn)
            assert current_revision(conn) == "0004"
            assert "digest" not in {c for c, _, _ in _columns(conn, "events")}
        changed = {**fractional, "data": {**fractional["data"], "reason": "fraud"}}
        report = store.import_records(records([*batch, changed]))
        assert (report.accepted, report.duplicates) == (0, len(batch))
        assert [r.event_id for r in report.rejected] == ["e99"]
        assert "different content" in report.rejected[0].reason


def test_a_database_from_a_newer_toprated_is_refused(duckdb_url: str) -> None:
    with open_store(duckdb_url) as store, store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(UserError, match="cannot migrate the database from revision 9999"):
        open_store(duckdb_url)


def test_unreachable_postgres_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"cannot use the database postgresql\+psycopg://nobody@127\.0\.0\.1:1/x"):
        open_store("postgresql://nobody@127.0.0.1:1/x?connect_timeout=2")


def test_unusable_duckdb_path_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot open the database"):
        open_store(str(tmp_path / "no" / "such" / "dir" / "x.duckdb"))


# --- one writing process per DuckDB file -------------------------------------------------------

HOLD = (
    "import sys; from toprated.store import open_store; s = open_store(sys.argv[1]); print('ready', flush=True); "
    "sys.stdin.read()"
)


def test_duckdb_file_locked_by_another_process(duckdb_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, duckdb_url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        locked = r"is in use by another process \(PID \d+: .*python.*\)\. DuckDB allows one"
        with pytest.raises(UserError, match=locked):
            open_store(duckdb_url)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    with open_store(duckdb_url) as store:  # released when the other process ends
        store.ibis().table("events").count().execute()
    # and released by close(), Ibis connection included: another process can take it now
    probe = subprocess.run(
        [sys.executable, "-c", HOLD, duckdb_url], input="", capture_output=True, text=True, timeout=60
    )
    assert probe.stdout.strip() == "ready", probe.stderr


# --- the Ibis backend for the evaluation engine --------------------------------------------------


def test_ibis_reads_the_typed_tables(store_url: str) -> None:
    with open_store(store_url) as store:
        store.import_records(records(WORLD))
        con = store.ibis()
        payments = con.table("payments").order_by("event_id").to_pyarrow()
        feedback = con.table("feedback").order_by("event_id").to_pyarrow()
        assert con.table("contracts").count().execute() == 2
    assert payments.schema.field("amount").type == pa.decimal128(18, 2)
    assert payments.column("amount").to_pylist()[0] == pytest.approx(250.5)
    assert feedback.schema.field("public_score").type == pa.float64()
    assert feedback.column("public_score").to_pylist() == [4.7, None]


def test_duckdb_memory_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB would take 80% of the machine; the store caps it (TOPRATED_DUCKDB_MEMORY, default 3GB),
    and a memory_limit in the URL wins."""

    def limit(url: str) -> str:
        with open_store(url) as store:
            return store.ibis().con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]

    monkeypatch.delenv("TOPRATED_DUCKDB_MEMORY", raising=False)
    assert limit(str(tmp_path / "a.duckdb")) == "2.7 GiB"  # 3 GB
    monkeypatch.setenv("TOPRATED_DUCKDB_MEMORY", "1GB")
    assert limit(str(tmp_path / "b.duckdb")) == "953.6 MiB"
    assert limit(f"duckdb:///{tmp_path / 'c.duckdb'}?memory_limit=2GB") == "1.8 GiB"
