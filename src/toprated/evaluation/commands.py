"""`toprated evaluate`, `toprated explain` and `toprated demo`."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from toprated.errors import RejectedEvents, UserError
from toprated.evaluation.explain import contract_rows, render
from toprated.evaluation.report import document, summary_table, to_json
from toprated.evaluation.service import evaluate_store
from toprated.programme import load_programme

DB_HELP = "Store: a DuckDB file path or a postgresql:// URL (default: $TOPRATED_DATABASE_URL, else ./toprated.duckdb)"
EVENTS_HELP = "Event files (.jsonl/.json, .gz, .parquet, .csv) to evaluate; with --db they are imported into it first"


def parse_day(text: str, option: str = "--as-of") -> date:
    """The date an `option` gives, or a `UserError` naming the option."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} must be a date like 2026-11-23, not {text!r}") from None


@contextlib.contextmanager
def store_for(events: list[Path] | None, db: str | None, log: Console) -> Iterator[tuple[Any, int]]:
    """The store to evaluate: --db (after importing --events into it), or a scratch store holding
    only --events. Yields (store, number of rejected events)."""
    from toprated.store import open_store
    from toprated.store.commands import check_files, load_events_into

    rejected = 0
    if events:
        check_files(events)
    if db is None and events:
        with tempfile.TemporaryDirectory(prefix="toprated-") as tmp, open_store(str(Path(tmp) / "events.duckdb")) as s:
            rejected = len(load_events_into(s, events, log).rejected)
            yield s, rejected
        return
    if db is None:
        from toprated.store.url import DEFAULT_FILE, ENV_VAR

        if not os.environ.get(ENV_VAR) and not Path(DEFAULT_FILE).exists():
            raise UserError(f"nothing to evaluate: give --events FILE…, or --db (no ./{DEFAULT_FILE} here)")
    with open_store(db) as s:
        if events:
            rejected = len(load_events_into(s, events, log).rejected)
        yield s, rejected


def register(app: typer.Typer) -> None:
    @app.command()
    def evaluate(
        as_of: Annotated[str, typer.Option("--as-of", help="The day to evaluate (YYYY-MM-DD, UTC)")],
        events: Annotated[list[Path] | None, typer.Option("--events", help=EVENTS_HELP)] = None,
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        programme: Annotated[Path | None, typer.Option("--programme", help="Programme file (TOML)")] = None,
        entity: Annotated[list[str] | None, typer.Option("--entity", help="Only these freelancer/agency ids")] = None,
        fmt: Annotated[
            str | None, typer.Option("--format", help="json or table (default: table on a terminal)")
        ] = None,
    ) -> None:
        """Every freelancer's and agency's JSS and badges on a day, with each criterion (spec/output.md)."""
        day = parse_day(as_of)
        fmt = fmt or ("table" if sys.stdout.isatty() else "json")
        if fmt not in ("json", "table"):
            raise UserError(f"--format must be json or table, not {fmt!r}")
        p = load_programme(programme)
        log = Console(stderr=True)
        with store_for(events, db, log) as (store, rejected):
            result = evaluate_store(store.ibis(), p, day, entity_ids=entity or None)
        doc = document(result, p)
        if entity:
            missing = sorted(set(entity) - {e["id"] for e in doc["entities"]})
            if missing:
                log.print(f"[yellow]not found on {day}:[/] {', '.join(missing)}")
        if fmt == "json":
            sys.stdout.write(to_json(doc) + "\n")
        else:
            Console().print(summary_table(doc))
        if rejected:
            raise RejectedEvents(f"{rejected:,} event(s) rejected (listed above); evaluated the valid ones")

    @app.command()
    def explain(
        entity_id: Annotated[str, typer.Argument(help="A freelancer or agency id")],
        as_of: Annotated[str, typer.Option("--as-of", help="The day to explain (YYYY-MM-DD, UTC)")],
        events: Annotated[list[Path] | None, typer.Option("--events", help=EVENTS_HELP)] = None,
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        programme: Annotated[Path | None, typer.Option("--programme", help="Programme file (TOML)")] = None,
        fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    ) -> None:
        """One entity: every criterion, the JSS contract by contract, what to do and when it qualifies."""
        day = parse_day(as_of)
        p = load_programme(programme)
        log = Console(stderr=True)
        with store_for(events, db, log) as (store, rejected):
            result = evaluate_store(store.ibis(), p, day, entity_ids=[entity_id], contracts_of=entity_id)
        doc = document(result, p)
        if not doc["entities"]:
            raise UserError(f"no freelancer or agency {entity_id!r} exists on {day}")
        entity = doc["entities"][0]
        rows = contract_rows(result.contracts, p)
        if fmt == "json":
            sys.stdout.write(to_json({**entity, "as_of": doc["as_of"], "contracts": rows}) + "\n")
        else:
            Console().print(render(entity, rows, p, doc["as_of"]))
        if rejected:
            raise RejectedEvents(f"{rejected:,} event(s) rejected (listed above)")

    @app.command()
    def demo(
        freelancers: Annotated[int, typer.Option(help="Size of the generated marketplace")] = 2000,
        seed: Annotated[int, typer.Option(help="Random seed")] = 7,
        out: Annotated[Path, typer.Option(help="Folder for the generated events and store")] = Path("demo-data"),
    ) -> None:
        """Generate a marketplace, import it, evaluate it, and explain one freelancer."""
        run_demo(freelancers, seed, out)


def run_demo(freelancers: int, seed: int, out: Path) -> None:
    from toprated.simulate import generate
    from toprated.store import open_store
    from toprated.store.commands import load_events_into

    console = Console()
    p = load_programme()
    as_of = datetime.now().date()
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    console.rule(f"toprated demo: {freelancers:,} freelancers, seed {seed}, as of {as_of}")
    with console.status("simulating the marketplace…"):
        summary = generate(freelancers, seed, out, as_of=as_of)
    console.print(f"simulated {summary.events:,} events into {out}/")
    db = out / "demo.duckdb"
    for suffix in ("", ".wal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with open_store(str(db)) as store:
        load_events_into(store, [out / "events.jsonl"], console)
        with console.status("evaluating every freelancer and agency…"):
            result = evaluate_store(store.ibis(), p, as_of)
        doc = document(result, p)
        _print_summary(console, doc)
        pick = _interesting(doc)
        if pick is not None:
            res = evaluate_store(store.ibis(), p, as_of, entity_ids=[pick], contracts_of=pick)
            one = document(res, p)["entities"][0]
            console.rule(f"why {pick} has the badges it has: toprated explain {pick} --as-of {as_of} --db {db}")
            console.print(render(one, contract_rows(res.contracts, p), p, doc["as_of"]))
    console.print(f"\ndone in {time.perf_counter() - started:.1f} s. Try: toprated evaluate --db {db} --as-of {as_of}")


def _print_summary(console: Console, doc: dict[str, Any]) -> None:
    from collections import Counter

    ents = doc["entities"]
    fr = [e for e in ents if e["kind"] == "freelancer"]
    ag = [e for e in ents if e["kind"] == "agency"]
    badges = Counter(b for e in fr for b in e["badges"])
    with_jss = [e["jss"] for e in fr if e["jss"] is not None]
    active = [
        e for e in fr if any(c["name"] == "activity" and c["met"] for c in e["programmes"]["top_rated"]["criteria"])
    ]
    console.print(f"\n{len(fr):,} freelancers ({len(active):,} active in 90 days), {len(ag):,} agencies")
    console.print(
        f"with a JSS: {len(with_jss):,}; median JSS {sorted(with_jss)[len(with_jss) // 2] if with_jss else '-'}"
    )
    for b in ("rising_talent", "top_rated", "top_rated_plus", "expert_vetted"):
        share = f" ({100 * badges[b] / len(active):.1f}% of active)" if active else ""
        console.print(f"  {b:15} {badges[b]:6,}{share}")
    agency_tr = sum(1 for e in ag if "top_rated" in e["badges"])
    console.print(
        f"  agencies Top Rated: {agency_tr:,}; members showing an agency badge: "
        f"{sum(1 for e in fr if e['agency_badge']):,}"
    )
    decisions = [d for e in ents for d in e["decisions"]]
    console.print(
        f"  feedback-removal requests decided: {len(decisions)} ({sum(d['granted'] for d in decisions)} granted)"
    )
    console.print(summary_table(doc, limit=12))


def _interesting(doc: dict[str, Any]) -> str | None:
    """A freelancer who does not hold Top Rated yet but will on a known date, else any with a JSS."""
    fr = [e for e in doc["entities"] if e["kind"] == "freelancer"]
    for e in fr:
        if e["programmes"]["top_rated"]["qualifies_on"]:
            return e["id"]
    for e in fr:
        if e["jss"] is not None:
            return e["id"]
    return fr[0]["id"] if fr else None
