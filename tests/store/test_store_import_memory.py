"""An import's own memory limit (store/fast/memory.py): raised for the import only, and a clear error
that stores nothing when DuckDB runs out of it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from toprated.errors import UserError
from toprated.simulate import generate
from toprated.store import open_store
from toprated.store.fast import memory


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("market")
    generate(300, 5, folder, as_of=date(2026, 11, 23), fmt="parquet")
    return folder / "events.parquet"


def _limit(store: object) -> str:
    return store._duck.execute("SELECT current_setting('memory_limit')").fetchone()[0]  # type: ignore[attr-defined]


def test_the_default_is_a_share_of_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(memory.ENV_VAR, raising=False)
    assert (memory.machine_memory() or 0) > 2**20  # this machine's, read for real
    monkeypatch.setattr(memory, "machine_memory", lambda: 10 * 2**30)
    assert memory.import_memory_limit() == "6144MB"
    monkeypatch.setattr(memory, "machine_memory", lambda: None)
    assert memory.import_memory_limit() == "3GB"
    monkeypatch.setenv(memory.ENV_VAR, "5GB")
    assert memory.import_memory_limit() == "5GB"


def test_an_import_raises_the_limit_for_its_duration_only(
    events: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(memory.ENV_VAR, "1234MB")
    with open_store(str(tmp_path / "s.duckdb")) as store:
        before = _limit(store)
        during: list[str] = []
        report = store.import_files([events], progress=lambda n: during.append(_limit(store)))
        assert report.accepted > 15_000 and not report.rejected
        assert set(during) == {"1.1 GiB"} and before != "1.1 GiB"
        assert _limit(store) == before


def test_running_out_of_memory_is_a_clear_error_and_stores_nothing(
    events: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(memory.ENV_VAR, "2MB")
    with open_store(store_url) as store:
        before = _limit(store) if store.dialect == "duckdb" else None
        with pytest.raises(
            UserError, match=r"ran out of memory \(DuckDB's limit for imports: 2MB\) and stored nothing"
        ):
            store.import_files([events])
        assert store.counts().get("events", 0) == 0
        if before is not None:
            assert _limit(store) == before
        monkeypatch.setenv(memory.ENV_VAR, "1GB")  # enough: the same import then goes through
        assert store.import_files([events]).accepted > 15_000


def test_a_limit_duckdb_does_not_accept_is_named(events: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(memory.ENV_VAR, "12 potatoes")
    with (
        open_store(str(tmp_path / "s.duckdb")) as store,
        pytest.raises(UserError, match="TOPRATED_IMPORT_MEMORY='12 potatoes'"),
    ):
        store.import_files([events])
