"""The shortcuts an explanation takes on DuckDB give what the plain Ibis calls give."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import ibis
import pyarrow as pa

from toprated.evaluation.scratch import Scratch
from toprated.metrics.compiled import dated, fetch
from toprated.metrics.sources import TABLES, Sources
from toprated.store import open_store


def test_the_sources_read_from_the_catalogue_are_the_tables_con_table_gives(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "s.duckdb")) as store:
        con = store.ibis()
        src = Sources.from_backend(con)
        for name in TABLES:
            assert getattr(src, name).op() == con.table(name).op(), name


def test_fetch_compiles_an_expression_once_per_connection(tmp_path: Path) -> None:
    con = ibis.duckdb.connect(str(tmp_path / "f.duckdb"))
    con.raw_sql("CREATE TABLE t AS SELECT range AS n, range % 3 AS k FROM range(10)")
    compiled: list[object] = []
    compile_ = con.compile

    def counting(expr, *args, **kwargs):  # type: ignore[no-untyped-def]
        compiled.append(expr)
        return compile_(expr, *args, **kwargs)

    con.compile = counting  # type: ignore[method-assign]

    def query(k: int) -> ibis.Table:
        t = con.table("t")
        return t.filter(t.k == k).order_by("n")

    assert fetch(query(1)).equals(query(1).to_pyarrow())
    compiled.clear()
    assert fetch(query(1))["n"].to_pylist() == [1, 4, 7]
    assert compiled == []  # built anew, found compiled
    assert fetch(query(2))["n"].to_pylist() == [2, 5, 8]
    assert len(compiled) == 1  # another literal: another statement


def test_a_python_made_table_kept_in_a_scratch_is_what_create_table_makes(tmp_path: Path) -> None:
    con = ibis.duckdb.connect(str(tmp_path / "u.duckdb"))
    data = pa.table(
        {
            "entity_id": pa.array(["a", None], pa.string()),
            "at": pa.array([date(2026, 1, 5), None], pa.date32()),
            "amount": pa.array([Decimal("1.25"), None], pa.decimal128(18, 2)),
            "held": pa.array([True, None], pa.bool_()),
            "n": pa.array([3, None], pa.int64()),
        }
    )
    with Scratch(con) as scratch:
        kept = scratch.keep(data)
        name = kept.get_name()
        assert kept.schema() == con.table(name).schema()
        assert con.create_table("plain", data, temp=True).schema() == kept.schema()
        assert kept.to_pyarrow().to_pylist() == data.to_pylist()
    left = con.raw_sql("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '_toprated_%'").fetchall()
    assert left == []


def test_ids_go_in_place_of_their_stand_ins_in_one_pass(tmp_path: Path) -> None:
    """An id that looks like a stand-in is written as it is, not replaced in its turn."""
    from toprated.evaluation.scratch import CONTRACTS, ENTITIES, _literal, _literals

    con = ibis.duckdb.connect(str(tmp_path / "b.duckdb"))
    with Scratch(con) as scratch:
        scratch._ids = {_literal(ENTITIES): _literals([CONTRACTS, "o'neil"]), _literal(CONTRACTS): _literals([])}
        statement = f"a IN ({_literal(ENTITIES)}) AND b IN ({_literal(CONTRACTS)})"
        assert scratch._bound(statement) == "a IN ('__toprated_contracts__', 'o''neil') AND b IN (NULL)"


def test_expressions_that_differ_by_their_dates_compile_once_each_with_its_own_dates(tmp_path: Path) -> None:
    con = ibis.duckdb.connect(str(tmp_path / "d.duckdb"))
    con.raw_sql("CREATE TABLE t AS SELECT DATE '2026-01-01' + CAST(range AS INTEGER) AS day FROM range(400)")
    t = con.table("t")
    made: list[str] = []

    def make(e: ibis.Expr) -> tuple[str, ...]:
        made.append(con.compile(e))
        return (made[-1],)

    def between(first: date, last: date, *more: date) -> ibis.Table:
        lo, hi = ibis.literal(first, type="date"), ibis.literal(last, type="date")
        return t.filter((t.day >= lo) & (t.day <= hi) | t.day.isin(list(more))).mutate(at=hi)

    def count(sql: str) -> int:
        return con.con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]

    a = dated(con, "k", between(date(2026, 1, 10), date(2026, 1, 19), date(2026, 3, 1)), make)
    b = dated(con, "k", between(date(2026, 2, 1), date(2026, 2, 3), date(2026, 3, 2)), make)
    assert len(made) == 1 and "MAKE_DATE(1001, 1, 1)" in made[0]
    assert count(a[0]) == 11 and count(b[0]) == 4 and "MAKE_DATE(2026, 2, 3) AS" in b[0]
    # the dates in another order are another expression (the stand-ins go by the dates' order)
    dated(con, "k", between(date(2026, 2, 1), date(2026, 2, 3), date(2026, 1, 5)), make)
    assert len(made) == 2
    # a date of the stand-ins' years, of the expression itself, is kept: compiled as it is
    (c,) = dated(con, "k", between(date(1500, 1, 1), date(2026, 1, 1), date(2026, 3, 2)), make)
    assert len(made) == 3 and "MAKE_DATE(1500, 1, 1)" in made[-1] and c == made[-1] and count(c) == 2
    # as many dates as there are stand-ins' years: compiled as they are
    many = [date(2026, 1, 1) + timedelta(days=i) for i in range(400)]
    (d,) = dated(con, "k", t.filter(t.day.isin(many)), make)
    assert count(d) == 400


def test_statements_run_again_are_prepared_once_and_read_the_tables_of_the_moment(tmp_path: Path) -> None:
    """The second run of a statement executes it as prepared after the first; tables dropped and
    created again in between are read as they are then. Should a prepared statement fail, the batch
    runs again as text."""
    from toprated.metrics import compiled

    con = ibis.duckdb.connect(str(tmp_path / "p.duckdb"))
    create = "CREATE OR REPLACE TEMPORARY TABLE out (n BIGINT)"
    insert = "INSERT INTO out SELECT sum(n) FROM src"
    with_ids = "INSERT INTO out SELECT 7"

    def run(values: str) -> list[int]:
        con.raw_sql(f"CREATE OR REPLACE TEMPORARY TABLE src AS SELECT * FROM (VALUES {values}) t(n)")
        compiled.run_prepared(con, [create, insert, with_ids], [True, True, False])
        return [n for (n,) in con.raw_sql("SELECT n FROM out ORDER BY n").fetchall()]

    def ours() -> set[str]:
        rows = con.raw_sql("SELECT name FROM duckdb_prepared_statements()").fetchall()
        return {name for (name,) in rows if name.startswith("_toprated_prepared_")}

    assert run("(1), (2)") == [3, 7] and len(ours()) == 1  # the insert only: not the create, not with ids
    assert run("(10), (20), (30)") == [7, 60]
    assert len(ours()) == 1
    # a prepared statement that fails (here: gone) gives way to the text, prepared again next time
    (name,) = ours()
    con.raw_sql(f"DEALLOCATE {name}")
    assert run("(5)") == [5, 7] and ours() == set()
    assert run("(6)") == [6, 7] and len(ours()) == 1
