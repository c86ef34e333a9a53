"""The shortcuts an explanation takes on DuckDB give what the plain Ibis calls give."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import ibis
import pyarrow as pa

from toprated.evaluation.scratch import Scratch
from toprated.metrics.compiled import fetch
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
