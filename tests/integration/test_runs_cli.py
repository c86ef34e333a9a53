"""`toprated backfill` and `toprated run-week` as an operator types them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from toprated.cli import app
from toprated.errors import UserError
from toprated.store import open_store

from .stores import simulated_store

LAST = date(2026, 11, 23)  # a Monday
FIRST = LAST - timedelta(weeks=2)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(simulated_store(tmp_path_factory.mktemp("runs_cli"), 200, 3, LAST))


def _weeks(db: str) -> list[date]:
    with open_store(db) as store:
        runs = store.ibis().table("weekly_runs")
        return sorted(runs.week.to_pyarrow().to_pylist())


def test_backfill_then_the_next_week(db: str) -> None:
    runner = CliRunner()
    weeks = ["--from", str(FIRST), "--to", str(LAST - timedelta(weeks=1)), "--db", db]
    back = runner.invoke(app, ["backfill", *weeks])
    assert back.exit_code == 0, back.output
    # 80 columns (the runner's): a line per week, which wraps between words. The first week
    # evaluated its earlier points, the second read the first's masks.
    text = " ".join(back.output.split())
    assert f"week of {FIRST}: " in text and "earlier weeks: evaluated;" in text
    assert f"week of {FIRST + timedelta(weeks=1)}: " in text and "earlier weeks: last week's;" in text
    assert "held: Rising Talent " in text and "…" not in back.output
    assert _weeks(db) == [FIRST, FIRST + timedelta(weeks=1)]

    again = runner.invoke(app, ["backfill", *weeks])
    assert again.exit_code == 0 and "every week was already stored" in again.output

    # a terminal wide enough for the table whole
    week = runner.invoke(app, ["run-week", "--week", str(LAST), "--db", db], env={"COLUMNS": "200"})
    assert week.exit_code == 0, week.output
    assert "Weekly runs" in week.output and str(LAST) in week.output and "last week's" in week.output
    assert "Expert-Vetted" in week.output and "…" not in week.output
    assert _weeks(db) == [FIRST, FIRST + timedelta(weeks=1), LAST]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backfill", "--from", str(LAST), "--to", str(FIRST)], "--to is before --from"),
        (["run-week", "--week", str(LAST), "--engine", "spark"], "--engine spark reads Parquet"),
        (["run-week", "--week", str(LAST), "--engine", "oracle"], "--engine must be duckdb, postgres or spark"),
        (["run-week", "--week", "2026-02-30"], "--week must be a date like 2026-11-23, not '2026-02-30'"),
        (["backfill", "--from", "2026-11-02", "--to", "soon"], "--to must be a date like 2026-11-23, not 'soon'"),
    ],
)
def test_bad_options_are_named(db: str, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, [*args, "--db", db])
    assert isinstance(result.exception, UserError) and message in str(result.exception), result.output
