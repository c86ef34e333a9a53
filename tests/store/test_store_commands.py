"""`toprated import` and `load_events_into` (spec/events.md: report every rejection, keep the valid)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from rich.console import Console
from store_helpers import WORLD, ev
from typer.testing import CliRunner

from toprated.errors import RejectedEvents, UserError
from toprated.store import ENV_VAR, open_store
from toprated.store.commands import load_events_into, register


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:  # a group, as in toprated.cli, whatever else is registered
        pass

    register(app)
    return app


def write_jsonl(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def write_csv(path: Path, events: list[dict]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "type", "time", "data"])
        writer.writerows([e["id"], e["type"], e["time"], json.dumps(e["data"])] for e in events)
    return path


def test_import_reports_every_rejection_and_exits_1(app: typer.Typer, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "a.jsonl", [*WORLD[:3], ev("x1", "payment.made", contract_id="c404", amount="1")])
    (tmp_path / "b.jsonl").write_text(json.dumps(WORLD[3]) + "\n{oops\n" + json.dumps(WORLD[4]) + "\n")
    db = str(tmp_path / "s.duckdb")
    result = CliRunner().invoke(app, ["import", str(good), str(tmp_path / "b.jsonl"), "--db", db])
    assert isinstance(result.exception, RejectedEvents) and result.exception.exit_code == 1
    assert str(result.exception) == "2 events rejected; the valid ones were stored"
    lines = result.output.splitlines()
    assert f"{good}:4 x1: unknown contract 'c404' (data.contract_id): no contract.started for it" in lines
    assert any(line.startswith(f"{tmp_path / 'b.jsonl'}:2: invalid JSON") for line in lines)
    assert "│ accepted             │ 5 │" in result.output and "│ rejected             │ 2 │" in result.output
    with open_store(db) as store:
        assert store.counts()["events"] == 5


def test_import_several_formats_in_one_batch_then_again(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    later = write_csv(tmp_path / "later.csv", WORLD[13:])  # refers to contracts defined in the other file
    first = write_jsonl(tmp_path / "first.jsonl", WORLD[:13])
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env.duckdb"))
    result = CliRunner().invoke(app, ["import", str(later), str(first)])
    assert result.exit_code == 0, result.output
    assert "│ accepted             │ 26 │" in result.output
    again = CliRunner().invoke(app, ["import", str(first)])
    assert again.exit_code == 0 and "│ duplicates (ignored) │ 13 │" in again.output


def test_missing_file_is_a_user_error_and_creates_no_database(app: typer.Typer, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    result = CliRunner().invoke(app, ["import", str(tmp_path / "nope.jsonl"), "--db", str(db)])
    assert isinstance(result.exception, UserError) and "nope.jsonl: no such file" in str(result.exception)
    assert not db.exists()


def test_load_events_into_reports_like_import(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "e.jsonl", [*WORLD[:2], ev("y", "freelancer.activity", freelancer_id="f9", kind="login")]
    )
    console = Console(record=True, width=200)
    with open_store("duckdb:///:memory:") as store:
        report = load_events_into(store, [path], console)
    assert (report.accepted, len(report.rejected)) == (2, 1)
    text = console.export_text()
    assert f"{path}:3 y: unknown freelancer 'f9' (data.freelancer_id): no freelancer.joined for it" in text
    assert "duplicates (ignored)" in text


def test_import_is_registered_on_the_toprated_cli() -> None:
    from toprated.cli import app

    assert "import" in {c.name for c in app.registered_commands}
