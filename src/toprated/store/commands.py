"""`toprated import FILE... [--db PATH_OR_URL]` and `load_events_into`, its reporting for other commands.

spec/events.md: in a file import all valid events are stored and every rejected one is reported
(file:line, id, reason); the command then exits with status 1 (`RejectedEvents`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from toprated.errors import RejectedEvents, UserError
from toprated.events import count_records, file_format
from toprated.store.core import ImportReport, Store, open_store

__all__ = ["check_files", "load_events_into", "print_report", "register"]

DB_HELP = (
    "Database: a DuckDB file path or a postgresql:// URL [default: $TOPRATED_DATABASE_URL, else ./toprated.duckdb]"
)


def check_files(paths: Iterable[str | Path]) -> list[Path]:
    """The paths, after checking each exists and has a known format (else `UserError`)."""
    checked = []
    for path in map(Path, paths):
        file_format(path)
        if not path.is_file():
            raise UserError(f"{path}: no such file")
        checked.append(path)
    return checked


def print_report(report: ImportReport, console: Console) -> None:
    """Every rejection as `file:line id: reason`, then a summary table."""
    for rejection in report.rejected:
        console.print(str(rejection), markup=False, highlight=False, style="red", soft_wrap=True)
    table = Table(title="Events imported", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("accepted", f"{report.accepted:,}", style="green" if report.accepted else None)
    table.add_row("duplicates (ignored)", f"{report.duplicates:,}")
    table.add_row("rejected", f"{len(report.rejected):,}", style="bold red" if report.rejected else None)
    console.print(table)


def load_events_into(store: Store, paths: Sequence[str | Path], console: Console) -> ImportReport:
    """Import event files into `store` with a progress bar, then report as `toprated import` does.

    Does not raise when events are rejected: the caller decides (`toprated import` exits with 1).
    """
    files = check_files(paths)
    counts = [count_records(p) for p in files]
    total = None if None in counts else sum(c for c in counts if c is not None)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with progress:
        task = progress.add_task("reading events", total=total)

        read = 0

        def advance(n: int) -> None:
            nonlocal read
            progress.advance(task, n)
            read += n
            if total is not None and read >= total:
                progress.update(task, description="checking and storing")

        report = store.import_files(files, progress=advance)
    print_report(report, console)
    return report


def register(app: typer.Typer) -> None:
    """Add `toprated import` to the CLI."""

    @app.command("import")
    def import_events(
        files: Annotated[list[Path], typer.Argument(help="Event files: .jsonl/.json (or .gz), .parquet, .csv")],
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    ) -> None:
        """Import events into the store: valid ones are kept, every rejected one is reported."""
        console = Console()
        check_files(files)  # before opening, so that a typo does not create a database
        with open_store(db) as store:
            report = load_events_into(store, files, console)
        if report.rejected:
            n = len(report.rejected)
            raise RejectedEvents(f"{n:,} event{'s' if n != 1 else ''} rejected; the valid ones were stored")

    @app.command("export")
    def export_command(
        parquet: Annotated[Path, typer.Option("--parquet", help="Folder for one Parquet file per typed table")],
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    ) -> None:
        """Write the typed tables as Parquet files (what `run-week --engine spark --parquet DIR` reads)."""
        from toprated.store.export import export_parquet

        console = Console()
        table = Table(title=f"Exported to {parquet}/")
        table.add_column("table")
        table.add_column("rows", justify="right")
        with open_store(db) as store, console.status("exporting…") as status:

            def step(name: str, n: int) -> None:
                table.add_row(name, f"{n:,}")
                status.update(f"exported {name}")

            export_parquet(store.ibis(), parquet, step)
        console.print(table)
