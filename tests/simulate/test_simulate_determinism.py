"""The same seed and settings give the same bytes; anything else changes them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from simulate_checks import AS_OF, contract_problems, parse_time, read_jsonl

from toprated.simulate import SimulationSettings, generate

SMALL = SimulationSettings(chunk_size=300, workers=1)


def _bytes(out: Path, seed: int, fmt: str, settings: SimulationSettings = SMALL, n: int = 700) -> bytes:
    summary = generate(n, seed, out, as_of=AS_OF, fmt=fmt, settings=settings)
    (path,) = summary.paths
    return path.read_bytes()


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_same_seed_same_bytes(tmp_path: Path, fmt: str) -> None:
    assert _bytes(tmp_path / "a", 11, fmt) == _bytes(tmp_path / "b", 11, fmt)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_worker_threads_do_not_change_the_output(tmp_path: Path, fmt: str) -> None:
    parallel = replace(SMALL, workers=2)
    assert _bytes(tmp_path / "a", 11, fmt) == _bytes(tmp_path / "b", 11, fmt, parallel)


def test_different_seed_differs(tmp_path: Path) -> None:
    assert _bytes(tmp_path / "a", 11, "jsonl") != _bytes(tmp_path / "b", 12, "jsonl")


def test_as_of_shifts_the_history(tmp_path: Path) -> None:
    generate(50, 1, tmp_path, as_of=AS_OF.replace(year=2025), settings=SMALL)
    events = read_jsonl(tmp_path / "events.jsonl")
    assert max(ev["time"][:10] for ev in events) <= "2025-03-31"


def test_parquet_is_sorted_within_chunks_and_valid(tmp_path: Path) -> None:
    generate(700, 3, tmp_path, as_of=AS_OF, fmt="parquet", settings=SMALL)
    table = pq.read_table(tmp_path / "events.parquet")
    ids = table.column("id").to_pylist()
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    rows = table.to_pylist()
    for row in rows:
        row["data"] = json.loads(row["data"])
    assert contract_problems(rows) == []


def test_parquet_global_sort_option(tmp_path: Path) -> None:
    settings = replace(SMALL, parquet_global_sort=True)
    generate(700, 3, tmp_path, as_of=AS_OF, fmt="parquet", settings=settings)
    times = pq.read_table(tmp_path / "events.parquet").column("time").to_pylist()
    parsed = [parse_time(t) for t in times]
    assert parsed == sorted(parsed)


def test_progress_reaches_the_total_and_no_spill_is_left(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    generate(700, 3, tmp_path, as_of=AS_OF, settings=SMALL, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl"]


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        generate(10, 1, tmp_path, fmt="csv")
    with pytest.raises(ValueError, match="freelancers"):
        generate(0, 1, tmp_path)
    with pytest.raises(ValueError, match="between 0 and 1"):
        SimulationSettings(active_share=1.5)
