"""The lookup indexes: a large import drops them and builds them again once it has committed."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from rich.console import Console

from toprated.simulate import generate
from toprated.store import lookups, open_store, schema
from toprated.store.commands import load_events_into
from toprated.store.fast import writing

WANTED = {f"ix_{t}_{c}" for t, cs in schema.LOOKUPS.items() for c in cs}


def _indexes(store_path: Path) -> set[str]:
    with open_store(str(store_path)) as store, store.engine.connect() as conn:
        return {name for (name,) in conn.execute(sa.text("SELECT index_name FROM duckdb_indexes()"))}


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lookups")
    generate(60, 3, out)
    return out / "events.jsonl"


def test_a_large_import_drops_the_indexes_and_builds_them_after(
    events: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookups, "LARGE_LOAD", 1)  # every import is large
    seen: list[set[str]] = []
    real = writing._plan_and_write

    def writing_while_looking(store, conn, *args):  # type: ignore[no-untyped-def]
        duck = conn.connection.driver_connection
        seen.append({name for (name,) in duck.execute("SELECT index_name FROM duckdb_indexes()").fetchall()})
        return real(store, conn, *args)

    monkeypatch.setattr(writing, "_plan_and_write", writing_while_looking)
    path = tmp_path / "s.duckdb"
    with open_store(str(path)) as store:
        report = load_events_into(store, [events], Console(quiet=True))
        assert report.accepted > 1000 and not report.rejected
    assert seen == [set()]  # none while the rows were written
    assert _indexes(path) == WANTED


def test_an_import_that_fails_after_dropping_them_builds_them_again(
    events: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookups, "LARGE_LOAD", 1)

    def failing(*args):  # type: ignore[no-untyped-def]
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(writing, "_plan_and_write", failing)
    path = tmp_path / "s.duckdb"
    with open_store(str(path)) as store, pytest.raises(RuntimeError, match="disk is full"):
        load_events_into(store, [events], Console(quiet=True))
    assert _indexes(path) == WANTED


def test_a_small_import_keeps_them_as_it_goes(events: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dropped: list[bool] = []
    monkeypatch.setattr(lookups, "drop", lambda duck: dropped.append(True))
    path = tmp_path / "s.duckdb"
    with open_store(str(path)) as store:
        load_events_into(store, [events], Console(quiet=True))
    assert dropped == [] and _indexes(path) == WANTED
