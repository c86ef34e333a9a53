"""A simulated marketplace imported into a DuckDB store, for the tests that evaluate one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from rich.console import Console

from toprated.simulate import generate
from toprated.store import open_store
from toprated.store.commands import load_events_into


def simulated_store(out: Path, freelancers: int, seed: int, as_of: date) -> Path:
    """`toprated simulate` of `freelancers` with `seed` up to `as_of`, imported into `out/store.duckdb`
    with no event rejected."""
    generate(freelancers, seed, out, as_of=as_of)
    path = out / "store.duckdb"
    with open_store(str(path)) as store:
        assert not load_events_into(store, [out / "events.jsonl"], Console(quiet=True)).rejected
    return path
