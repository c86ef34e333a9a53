"""`toprated simulate`: write a synthetic marketplace's event log."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from toprated.errors import UserError
from toprated.simulate.generate import FORMATS, SimulationSummary, generate
from toprated.simulate.settings import SimulationSettings


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--as-of must be a date like 2026-03-31, not {text!r}") from None


def summary_table(summary: SimulationSummary) -> Table:
    """The summary printed after a run: entities, then events per type."""
    table = Table(title=f"Simulated marketplace as of {summary.as_of}", show_edge=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in (
        ("freelancers", summary.freelancers),
        ("  with a contract", summary.active_freelancers),
        ("agencies", summary.agencies),
        ("clients", summary.clients),
        ("contracts", summary.contracts),
    ):
        table.add_row(label, f"{value:,}")
    table.add_section()
    for name, count in sorted(summary.counts.items()):
        table.add_row(name, f"{count:,}")
    table.add_section()
    rate = summary.events / summary.seconds if summary.seconds else 0.0
    table.add_row("events", f"{summary.events:,}")
    table.add_row("seconds", f"{summary.seconds:,.1f} ({rate:,.0f} events/s)")
    return table


def simulate(
    freelancers: Annotated[int, typer.Option("--freelancers", "-n", min=1, help="Number of freelancers.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write events.jsonl or events.parquet into.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same file.")] = 1,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Last day of the two-year history (default: today, UTC).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl (sorted by time) or parquet.")] = "jsonl",
    workers: Annotated[int, typer.Option("--workers", min=1, help="Threads generating chunks.")] = 2,
) -> None:
    """Write a realistic synthetic marketplace (two years of events) for demos and benchmarks."""
    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    day = _parse_date(as_of)
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("simulate", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = generate(
            freelancers, seed, out, as_of=day, fmt=fmt, progress=advance, settings=SimulationSettings(workers=workers)
        )
    Console().print(summary_table(summary))
    for path in summary.paths:
        Console().print(f"wrote [bold]{path}[/]")


def register(app: typer.Typer) -> None:
    """Add `toprated simulate` to the CLI."""
    app.command("simulate")(simulate)
