"""Compiled SQL kept on disk (`toprated.metrics.sqlcache`): found by the next process, never stale."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
from tests.integration.stores import simulated_store

from toprated.evaluation.service import evaluate_store
from toprated.metrics import sqlcache
from toprated.programme import load_programme
from toprated.store import open_store

AS_OF = date(2026, 11, 23)

#: Explains one entity in a process of its own; prints how many statements it compiled, how many
#: recorded builds it replayed from disk and recorded there, and the explanation.
EXPLAIN = """
import json, sys
from datetime import date
from toprated.evaluation import plans
from toprated.metrics import sqlcache
from toprated.programme import load_programme
from toprated.store import open_store
from toprated.evaluation.service import evaluate_store

made, replayed, recorded = [], [], []
write, load, save = sqlcache._write, plans.load, plans.save
sqlcache._write = lambda path, table, key, value: (table == "compiled" and made.append(key)) or write(path, table, key, value)
plans.load = lambda key: (lambda plan: plan and replayed.append(key) or plan)(load(key))
plans.save = lambda key, plan: (key and recorded.append(key)) or save(key, plan)
with open_store(sys.argv[1]) as store:
    r = evaluate_store(store.ibis(), load_programme(None), date.fromisoformat(sys.argv[2]),
                       entity_ids=[sys.argv[3]], contracts_of=sys.argv[3])
print(json.dumps({"compiled": len(made), "replayed": len(replayed), "recorded": len(recorded),
                  "freelancers": r.freelancers, "contracts": r.contracts}, default=str))
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulated_store(tmp_path_factory.mktemp("sqlcache"), 40, 11, AS_OF)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The cache turned on, in a directory of the test's own."""
    where = tmp_path / "cache"
    monkeypatch.setenv(sqlcache.CACHE_DIR, str(where))
    sqlcache.forget()
    yield where
    sqlcache.forget()


def _explain_in_a_process(store: Path, entity: str, cache: str, hash_seed: str) -> dict:
    env = {**os.environ, sqlcache.CACHE_DIR: cache, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run(
        [sys.executable, "-c", EXPLAIN, str(store), AS_OF.isoformat(), entity],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def _some_freelancer(store: Path) -> str:
    with open_store(str(store)) as s:
        return s.ibis().table("freelancers").freelancer_id.min().to_pyarrow().as_py()


def test_the_next_process_replays_the_explanation_compiled_and_explains_the_same(store: Path, tmp_path: Path) -> None:
    entity = _some_freelancer(store)
    cache = str(tmp_path / "cache")
    # another hash seed each time: the keys must not depend on the process's string hashing
    first = _explain_in_a_process(store, entity, cache, "1")
    second = _explain_in_a_process(store, entity, cache, "2")
    without = _explain_in_a_process(store, entity, "off", "3")
    assert first["compiled"] > 20  # the evaluation's steps and reads
    assert first["recorded"] == 3 and first["replayed"] == 0  # its facts' copies, then the evaluation
    assert second["compiled"] == second["recorded"] == 0
    assert second["replayed"] == 3
    assert without["compiled"] == without["replayed"] == without["recorded"] == 0
    assert first["freelancers"] == second["freelancers"] == without["freelancers"]
    assert first["contracts"] == second["contracts"] == without["contracts"]
    assert first["contracts"]  # an explanation with its contracts, not an empty one


def test_a_changed_threshold_is_another_statement_never_the_one_kept(store: Path, cache_dir: Path) -> None:
    p = load_programme(None)
    # earnings nobody reaches
    stricter = p.model_copy(update={"top_rated": p.top_rated.model_copy(update={"min_earnings_12m": 10**9})})
    with open_store(str(store)) as s:
        before = evaluate_store(s.ibis(), p, AS_OF, project=False)
    # a new connection: nothing remembered in memory, everything kept on disk
    with open_store(str(store)) as s:
        after = evaluate_store(s.ibis(), stricter, AS_OF, project=False)
    assert any(r["top_rated__earnings_12m__met"] for r in before.freelancers)
    assert not any(r["top_rated__earnings_12m__met"] for r in after.freelancers)
    assert [r["jss"] for r in after.freelancers] == [r["jss"] for r in before.freelancers]


def test_equal_expressions_built_differently_have_one_digest() -> None:
    t = ibis.table({"a": "int64", "b": "string"}, name="t")
    # the same table, its schema made anew: other objects, equal ones
    u = ibis.table(ibis.schema({"a": ibis.dtype("int64"), "b": ibis.dtype("string")}), name="t")
    assert t.op() is not u.op()
    assert sqlcache.digest("duckdb", t.filter(t.a > 1).op()) == sqlcache.digest("duckdb", u.filter(u.a > 1).op())
    assert sqlcache.digest("duckdb", t.filter(t.a > 2).op()) != sqlcache.digest("duckdb", u.filter(u.a > 1).op())
    assert sqlcache.digest("duckdb", t.op()) != sqlcache.digest("postgres", t.op())


def test_an_expression_with_python_made_data_is_not_kept() -> None:
    t = ibis.table({"a": "int64"}, name="t")
    assert sqlcache.digest("duckdb", t.filter(t.a > 1).op()) is not None
    assert sqlcache.digest("duckdb", ibis.memtable(pa.table({"a": [1, 2]})).op()) is None


def test_the_digest_sorts_what_has_no_order_of_its_own() -> None:
    t = ibis.table({"a": "int64", "b": "string", "c": "date", "d": "int64"}, name="t")
    seeds = []
    for seed in ("1", "2", "3"):
        code = (
            "import ibis; from toprated.metrics import sqlcache;"
            "t = ibis.table({'a': 'int64', 'b': 'string', 'c': 'date', 'd': 'int64'}, name='t');"
            "print(sqlcache.digest('duckdb', t.drop('a', 'b', 'c').op()))"
        )
        env = {**os.environ, "PYTHONHASHSEED": seed}
        seeds.append(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout)
    assert len(set(seeds)) == 1 and seeds[0].strip()
    assert sqlcache.digest("duckdb", t.drop("a", "b", "c").op()) == seeds[0].strip()
    assert sqlcache.digest("duckdb", t.drop("a", "b").op()) != seeds[0].strip()


def test_the_file_keeps_the_newest_entries_only(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlcache, "ENTRIES", 5)
    for n in range(12):
        assert sqlcache.compiled_once("duckdb", ("step", n), lambda n=n: (f"SELECT {n}",)) == (f"SELECT {n}",)
    with sqlite3.connect(cache_dir / "compiled.sqlite3") as con:
        kept = [json.loads(s)[0] for (s,) in con.execute("SELECT statements FROM compiled ORDER BY rowid")]
    assert kept == [f"SELECT {n}" for n in range(7, 12)]
    # found, not made again
    assert sqlcache.compiled_once("duckdb", ("step", 11), lambda: ("other",)) == ("SELECT 11",)
    assert sqlcache.compiled_once("duckdb", ("step", 0), lambda: ("made again",)) == ("made again",)


def test_a_cache_that_cannot_be_written_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setenv(sqlcache.CACHE_DIR, str(blocked))
    sqlcache.forget()
    try:
        assert sqlcache.compiled_once("duckdb", ("step",), lambda: ("SELECT 1",)) == ("SELECT 1",)
    finally:
        sqlcache.forget()
    assert blocked.read_text() == "not a directory"


@pytest.mark.parametrize("off", ["off", "0", ""])
def test_the_cache_can_be_turned_off(off: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sqlcache.CACHE_DIR, off)
    assert sqlcache.cache_path() is None


def test_the_cache_is_in_the_users_cache_directory_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sqlcache.CACHE_DIR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert sqlcache.cache_path() == tmp_path / "xdg" / "toprated" / "compiled.sqlite3"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sqlcache.cache_path() == tmp_path / "home" / ".cache" / "toprated" / "compiled.sqlite3"
