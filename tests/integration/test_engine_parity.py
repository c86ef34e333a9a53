"""DuckDB and PostgreSQL give identical evaluations of one simulated marketplace (issue: the core)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from toprated.evaluation.report import document
from toprated.evaluation.service import evaluate_store
from toprated.programme import load_programme
from toprated.simulate import generate
from toprated.store import open_store
from toprated.store.commands import load_events_into

AS_OF = date(2026, 11, 23)


@pytest.fixture(scope="module")
def marketplace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market")
    generate(2000, 11, out, as_of=AS_OF)
    return out / "events.jsonl"


def _evaluate(url: str, events: Path) -> dict:
    from rich.console import Console

    p = load_programme()
    with open_store(url) as store:
        report = load_events_into(store, [events], Console(quiet=True))
        assert not report.rejected, report.rejected[:3]
        doc = document(evaluate_store(store.ibis(), p, AS_OF), p)
    return json.loads(json.dumps(doc))


@pytest.mark.postgres
@pytest.mark.slow
def test_duckdb_and_postgres_agree_on_a_simulated_marketplace(
    marketplace: Path, pg_module_url: str, tmp_path: Path
) -> None:
    on_duckdb = _evaluate(str(tmp_path / "parity.duckdb"), marketplace)
    on_postgres = _evaluate(pg_module_url, marketplace)
    # The marketplace must exercise the rules, or agreement proves little.
    ents = on_duckdb["entities"]
    assert len(ents) > 2000
    assert sum("top_rated" in e["badges"] for e in ents) > 50
    assert any(e["programmes"]["top_rated"]["qualifies_on"] for e in ents)
    assert any(e["decisions"] for e in ents)
    diffs = [
        (a["id"], k)
        for a, b in zip(on_duckdb["entities"], on_postgres["entities"], strict=True)
        for k in a
        if a[k] != b[k]
    ]
    assert not diffs, diffs[:10]
    assert on_duckdb == on_postgres
