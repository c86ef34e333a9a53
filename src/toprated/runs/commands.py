"""`toprated run-week` and `toprated backfill`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from toprated.errors import UserError
from toprated.evaluation.commands import DB_HELP, parse_day
from toprated.programme import load_programme
from toprated.runs.service import WeekReport, backfill, run_week, week_of

ENGINE_HELP = (
    "Where the evaluation runs: duckdb (the default store), postgres (inside the PostgreSQL store), "
    "spark (PySpark over --parquet DIR from `toprated export`)"
)
PARQUET_HELP = "With --engine spark: the folder written by `toprated export --parquet` (results go there too)"
MASTER_HELP = "With --engine spark: the Spark master (local[2] here, a cluster URL in production)"


@contextlib.contextmanager
def _backend(engine: str, db: str | None, parquet: Path | None, master: str) -> Iterator[tuple[Any, Any, Any]]:
    """(Ibis backend holding the typed tables, where the weekly results go, where removal requests
    are decided) for an engine."""
    _engine_check(engine, db, parquet)
    if engine == "spark":
        from toprated.evaluation.engines import parquet_duckdb, spark_backend
        from toprated.runs.weekstore import ParquetWeekStore

        assert parquet is not None
        con = spark_backend(parquet, master)
        local = parquet_duckdb(parquet)
        try:
            yield con, ParquetWeekStore(con, parquet), local
        finally:
            local.disconnect()
            con.disconnect()
        return
    from toprated.store import open_store

    with open_store(db) as store:
        yield store.ibis(), None, None


def _engine_check(engine: str, db: str | None, parquet: Path | None = None) -> None:
    if engine not in ("duckdb", "postgres", "spark"):
        raise UserError(f"--engine must be duckdb, postgres or spark, not {engine!r}")
    if engine == "spark":
        if parquet is None:
            raise UserError("--engine spark reads Parquet: give --parquet DIR (written by `toprated export --parquet`)")
        return
    url = (db or "").lower()
    if engine == "postgres" and not url.startswith(("postgres://", "postgresql")):
        raise UserError("--engine postgres evaluates inside a PostgreSQL store: give --db postgresql://…")
    if engine == "duckdb" and url.startswith(("postgres://", "postgresql")):
        raise UserError("--engine duckdb needs a DuckDB store; for a PostgreSQL --db use --engine postgres")


#: The badges a weekly run counts (`WeekReport.held`), as its report names them.
BADGE_NAMES = {
    "rising_talent": "Rising Talent",
    "top_rated": "Top Rated",
    "top_rated_plus": "TR Plus",
    "expert_vetted": "Expert-Vetted",
}


def _report_table(reports: list[WeekReport]) -> Table:
    t = Table(title="Weekly runs")
    for col in ("week", "entities", *BADGE_NAMES.values(), "gained", "lost", "earlier weeks", "seconds"):
        t.add_column(col, justify="right", no_wrap=True)
    for r in reports:
        held = (f"{r.held[b]:,}" for b in BADGE_NAMES)
        t.add_row(
            r.week.isoformat(),
            f"{r.entities:,}",
            *held,
            f"{r.gained:,}",
            f"{r.lost:,}",
            _earlier(r),
            f"{r.seconds:.1f}",
        )
    return t


def _report_text(reports: list[WeekReport]) -> Text:
    """The table's rows as sentences, which wrap between words in a narrow terminal."""
    lines = []
    for r in reports:
        held = ", ".join(f"{name} {r.held[b]:,}" for b, name in BADGE_NAMES.items())
        lines.append(
            f"week of {r.week}: {r.entities:,} entities; held: {held}; {r.gained:,} gained, {r.lost:,} lost; "
            f"earlier weeks: {_earlier(r)}; {r.seconds:.1f} s"
        )
    return Text("\n".join(lines))


def _earlier(r: WeekReport) -> str:
    """Where the run's 15 earlier weekly points came from."""
    return "last week's" if r.from_masks else "stored" if r.stored_points else "evaluated"


def _print_reports(console: Console, reports: list[WeekReport]) -> None:
    """The table where the terminal is wide enough for it whole, else the lines of text (a table
    narrower than its contents cuts its values)."""
    table = _report_table(reports)
    whole = Measurement.get(console, console.options.update_width(10_000), table).maximum
    console.print(table if console.width >= whole else _report_text(reports))


def register(app: typer.Typer) -> None:
    @app.command("run-week")
    def run_week_command(
        week: Annotated[
            str | None, typer.Option("--week", help="The weekly point (default: this week's Monday, UTC)")
        ] = None,
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        engine: Annotated[str, typer.Option("--engine", help=ENGINE_HELP)] = "duckdb",
        parquet: Annotated[Path | None, typer.Option("--parquet", help=PARQUET_HELP)] = None,
        spark_master: Annotated[str, typer.Option("--spark-master", help=MASTER_HELP)] = "local[2]",
        programme: Annotated[Path | None, typer.Option("--programme", help="Programme file (TOML)")] = None,
    ) -> None:
        """Evaluate every entity on one weekly point and store it as that week's snapshot."""
        day = parse_day(week, "--week") if week else week_of(datetime.now(UTC).date())
        p = load_programme(programme)
        console = Console()
        with (
            _backend(engine, db, parquet, spark_master) as (con, ws, local),
            console.status(f"evaluating the week of {day}…"),
        ):
            report = run_week(con, p, day, ws, local)
        _print_reports(console, [report])

    @app.command("backfill")
    def backfill_command(
        start: Annotated[str, typer.Option("--from", help="First weekly point (YYYY-MM-DD)")],
        end: Annotated[str, typer.Option("--to", help="Last weekly point (YYYY-MM-DD)")],
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        engine: Annotated[str, typer.Option("--engine", help=ENGINE_HELP)] = "duckdb",
        parquet: Annotated[Path | None, typer.Option("--parquet", help=PARQUET_HELP)] = None,
        spark_master: Annotated[str, typer.Option("--spark-master", help=MASTER_HELP)] = "local[2]",
        programme: Annotated[Path | None, typer.Option("--programme", help="Programme file (TOML)")] = None,
        rerun: Annotated[bool, typer.Option("--rerun", help="Recompute weeks already stored")] = False,
    ) -> None:
        """Compute the missing weekly snapshots from --from to --to, oldest first."""
        first, last = parse_day(start, "--from"), parse_day(end, "--to")
        if last < first:
            raise UserError("--to is before --from")
        p = load_programme(programme)
        n = (last - first).days // p.top_rated.week_days + 1
        console = Console()
        progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        )
        with _backend(engine, db, parquet, spark_master) as (con, ws, local), progress:
            # before the first week, the requests of every week are decided (`backfill`)
            task = progress.add_task("feedback-removal requests, then the weeks", total=n)

            def step(w: date, report: WeekReport | None) -> None:
                progress.update(task, advance=1, description=f"week of {w}" + (" (stored)" if report is None else ""))

            reports = backfill(con, p, first, last, step, rerun=rerun, ws=ws, decide_on=local)
        if reports:
            _print_reports(console, reports)
        else:
            console.print("every week was already stored (use --rerun to recompute)")
