"""`Store.import_files` (store/fast/) against the per-event path: same rows, same report, always.

Every test imports the same files twice — `import_records(read_records(...))`, the exact path, and
`import_files(...)`, the column-wise one — and requires identical typed tables, identical raw
`events` rows (but `imported_at`) and identical reports (accepted, duplicates, every rejection with
file, line, id and reason).
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from store_helpers import WORLD

from toprated.events import DATA_MODELS, read_records
from toprated.simulate import generate
from toprated.store import ImportReport, Store, open_store, schema
from toprated.store.fast import spec as fast_spec
from toprated.store.fast import staging as fast_staging
from toprated.store.fast import writing as fast_writing

AS_OF = date(2026, 11, 23)


def rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """The raw log (without `imported_at`) and every typed table, sorted, as the driver returns them.

    (Through SQLAlchemy's Numeric, DuckDB's DECIMAL goes by float: 99999999999999.99 would read .98.)
    """
    out = {}
    with store.engine.connect() as conn:
        for table in (schema.events, *schema.TYPED_TABLES):
            cols = ", ".join(f'"{c.name}"' for c in table.columns if c.name != "imported_at")
            out[table.name] = sorted(
                (tuple(r) for r in conn.exec_driver_sql(f'SELECT {cols} FROM "{table.name}"')), key=repr
            )
    return out


def summary(report: ImportReport) -> tuple[int, int, list[str]]:
    return report.accepted, report.duplicates, [f"{r.file}|{r.line}|{r.event_id}|{r.reason}" for r in report.rejected]


def exact(store: Store, paths: list[Path]) -> ImportReport:
    return store.import_records(r for p in paths for r in read_records(p))


def fast_path(store: Store, paths: list[Path]) -> ImportReport:
    return store.import_files(paths)


def same(batches: list[list[Path]], url_exact: str, url_fast: str) -> list[ImportReport]:
    """Import `batches` one after the other through both paths; assert equal outcomes; the fast reports."""
    reports = []
    with open_store(url_exact) as a, open_store(url_fast) as b:
        for paths in batches:
            expected, got = exact(a, paths), fast_path(b, paths)
            assert summary(got) == summary(expected)
            reports.append(got)
        expected_rows, got_rows = rows(a), rows(b)
    for name in expected_rows:
        assert got_rows[name] == expected_rows[name], name
    return reports


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A simulated marketplace of 300 freelancers as JSON Lines and as Parquet."""
    out = {}
    for fmt in ("jsonl", "parquet"):
        folder = tmp_path_factory.mktemp(f"market-{fmt}")
        generate(300, 11, folder, as_of=AS_OF, fmt=fmt)
        out[fmt] = folder / ("events.jsonl" if fmt == "jsonl" else "events.parquet")
    return out


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_simulated_marketplace_same_as_exact_path(market: dict[str, Path], fmt: str, tmp_path: Path) -> None:
    path = market[fmt]
    first, again = same([[path], [path]], str(tmp_path / "exact.duckdb"), str(tmp_path / "fast.duckdb"))
    assert first.accepted > 15_000 and not first.rejected
    assert again.duplicates == first.accepted
    # everything the simulator writes goes through the template lane: nothing per event
    assert fast_writing.LAST_STATS["slow"] == 0 and fast_writing.LAST_STATS["exact"] == 0


@pytest.mark.postgres
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_simulated_marketplace_on_postgres(market: dict[str, Path], fmt: str, tmp_path: Path, pg_url: str) -> None:
    same([[market[fmt]], [market[fmt]]], str(tmp_path / "exact.duckdb"), pg_url)


def test_fast_spec_mirrors_the_models() -> None:
    """_SPEC has every field of every model, required exactly when the model requires it."""
    assert set(fast_spec._SPEC) == set(DATA_MODELS)
    for event_type, model in DATA_MODELS.items():
        spec = fast_spec._SPEC[event_type]
        assert set(spec) == set(model.model_fields), event_type
        for name, info in model.model_fields.items():
            assert (spec[name][0] in fast_spec._REQUIRED) == info.is_required(), (event_type, name)


# --- a file of every kind of trouble ---------------------------------------------------------------


def compact(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def ev(event_id: str, type_: str, time: str, **data: Any) -> dict[str, Any]:
    return {"id": event_id, "type": type_, "time": time, "source": "mkt", "specversion": "1.0", "data": data}


def troubled_lines() -> list[str]:
    """JSON lines: template-shaped valid events, other valid shapes, and every kind of invalid one."""
    good = [compact({**e, "source": "mkt", "specversion": "1.0"}) for e in WORLD]
    c1 = {"contract_id": "c1", "amount": "10.00"}
    lines = [
        *good,
        "",  # blank lines are no records
        "   \t",
        compact(ev("g1", "payment.made", "2025-03-01T10:00:00+02:00", **c1)),
        json.dumps(ev("g2", "payment.made", "2025-03-01T10:00:00Z", contract_id="c1", amount=12)),  # spaces
        compact(ev("g3", "payment.made", "2025-03-01", contract_id="c1", amount=12.5)),  # a float amount
        compact(ev("g4", "payment.made", "2025-03-01", amount="7.5", contract_id="c1")),  # another key order
        compact(ev("g5", "feedback.given", "2025-03-05", contract_id="c1", public_score=5)),  # int score
        compact(ev("g6", "feedback.given", "2025-03-05", contract_id="c1", public_score=4.75, private_score=None)),
        compact(ev("g7", "freelancer.joined", "2025-01-09", freelancer_id="f7", name="Zoë \u00e9")),
        '{"id":"g8","type":"freelancer.joined","time":"2025-01-09","data":{"freelancer_id":"f8","name":"Jos\\u00e9"}}',
        compact(
            ev(
                "g9",
                "freelancer.profile_updated",
                "2025-01-10",
                freelancer_id="f7",
                completeness=50,
                has_photo=False,
                missing=["bio", "vidéo"],
            )
        ),
        compact(
            ev(
                "g10",
                "freelancer.availability_updated",
                "2025-01-10",
                freelancer_id="f7",
                available=False,
                return_on="2025-02-28",
            )
        ),
        compact({**ev("g11", "client.flagged", "2025-01-10", client_id="k1", reason="r"), "subject": "x"}),
        compact({**ev("g12", "client.flagged", "2025-01-10", client_id="k1", reason="r"), "source": None}),
        compact({**ev("g13", "client.flagged", "2025-01-10", client_id="k1", reason="r"), "source": ""}),
        compact(ev(" g14 ", "client.flagged", "2025-01-10T23:30:00-01:00", client_id="k1", reason="r")),
        compact(ev("g15", "account.hold_placed", "2025-04-01", hold_id="h2", freelancer_id="f1", reason="x")),
        compact(ev("g16", "badge.granted", "2025-05-01", agency_id="a1", badge="rising_talent", by="op", reason="")),
        compact(ev("g17", "payment.made", "2025-03-01", contract_id="c1", amount="0.01", refund=True)),
        compact(
            ev(
                "g18",
                "contract.started",
                "2025-02-03",
                contract_id="c7",
                freelancer_id="f7",
                client_id="k",
                kind="fixed",
                category="x",
                budget="99999999999999.99",
            )
        ),
        # invalid: types, unknown fields, ranges, dates, formats
        compact(
            ev("b1", "freelancer.profile_updated", "2025-01-10", freelancer_id="f1", completeness="8", has_photo=True)
        ),
        compact(
            ev("b2", "freelancer.profile_updated", "2025-01-10", freelancer_id="f1", completeness=101, has_photo=1)
        ),
        compact(ev("b3", "client.flagged", "2025-01-10", client_id="k1", reason="r", colour="red")),
        compact(ev("b4", "client.flagged", "2025-02-30", client_id="k1", reason="r")),
        compact(ev("b5", "client.flagged", "2025-01-10T24:00:00Z", client_id="k1", reason="r")),
        compact(
            ev(
                "b6",
                "freelancer.availability_updated",
                "2025-01-10",
                freelancer_id="f1",
                available=True,
                return_on="2025-02-30",
            )
        ),
        compact(ev("b7", "payment.made", "2025-03-01", contract_id="c1", amount="0.00")),
        compact(ev("b8", "payment.made", "2025-03-01", contract_id="c1", amount="1.234")),
        compact(ev("b9", "payment.made", "2025-03-01", contract_id="c1", amount="10", refund=None)),
        compact(ev("b10", "feedback.given", "2025-03-05", contract_id="c1")),
        compact(ev("b11", "feedback.given", "2025-03-05", contract_id="c1", public_score=5.5)),
        compact(ev("b12", "account.tos_violation", "2025-03-05", freelancer_id="f1", agency_id="a1", kind="other")),
        compact(ev("b13", "badge.granted", "2025-03-05", agency_id="a1", badge="expert_vetted", by="op")),
        compact(ev("b14", "contract.ended", "2025-03-05", contract_id="c2", reason="done")),
        compact(ev("b15", "freelancer.activity", "2025-03-05", freelancer_id="", kind="login")),
        compact(ev("", "client.flagged", "2025-01-10", client_id="k1", reason="r")),
        compact(ev("   ", "client.flagged", "2025-01-10", client_id="k1", reason="r")),
        compact(ev("b16", "client.blessed", "2025-01-10", client_id="k1")),
        compact({**ev("b17", "client.flagged", "2025-01-10", client_id="k1", reason="r"), "time": 20250110}),
        compact({k: v for k, v in ev("b18", "client.flagged", "2025-01-10").items() if k != "data"}),
        '{"id":"b19","type":"client.flagged","time":"2025-01-10","data":{"client_id":"k1","reason":"r",}}',
        '{"id":"b20","type":"payment.made","time":"2025-01-10","data":{"contract_id":"c1","amount":NaN}}',
        '{"id":"b21","type":"client.flagged","time":"2025-01-10","data":{"client_id":"k1","reason":"r","reason":"s"}}',
        '{"id":"b22","type":"client.flagged","time":"2025-01-10","data":{"client_id":"k1","reason":"\\u0000"}}',
        '{"id":"b23\\ud800","type":"client.flagged","time":"2025-01-10","data":{"client_id":"k1","reason":"r"}}',
        '{"id":"b24","type":"client.flagged","time":"2025-01-10","data":{"client_id":"k1","reason":"r"}',
        '["not", "an", "object"]',
        "\ufeff" + compact(ev("b25", "client.flagged", "2025-01-10", client_id="k1", reason="r")),
        '{"id":"b26","type":"client.flagged","time":"2025-01-10","data":{"client_id":"k1","reason":"r"}}{}',
        '{"id":"b27","id":"b28","type":"client.flagged","time":"2025-01-10","data":{"client_id":"k1","reason":"r"}}',
        # duplicates and conflicts (of good lines above and among themselves)
        good[0],
        compact(ev("g1", "payment.made", "2025-03-01T08:00:00Z", **c1)),  # same instant, other spelling
        compact(ev("g1", "payment.made", "2025-03-01T08:00:01Z", **c1)),  # conflict
        compact(ev("d1", "client.flagged", "2025-01-10", client_id="k1", reason="x")),
        compact(ev("d1", "client.flagged", "2025-01-10", client_id="k1", reason="y")),
        # undefined references, second defining events, the namespace and the owner hint
        compact(ev("r1", "payment.made", "2025-03-01", contract_id="c404", amount="1.00")),
        compact(ev("r2", "freelancer.activity", "2025-03-01", freelancer_id="a1", kind="login")),
        compact(ev("r3", "agency.created", "2025-03-01", agency_id="a9", owner_id="a8")),
        compact(ev("r4", "agency.created", "2025-03-01", agency_id="a8", owner_id="f2")),
        compact(
            ev(
                "r5",
                "contract.started",
                "2025-01-20",
                contract_id="c1",
                freelancer_id="f2",
                client_id="k",
                kind="fixed",
                category="x",
            )
        ),
        compact(ev("r6", "freelancer.joined", "2024-12-31", freelancer_id="f2")),  # earlier: wins over e02
        compact(ev("r7", "freelancer.joined", "2025-01-01", freelancer_id="a1")),
        compact(
            ev(
                "r8",
                "contract.started",
                "2025-02-05",
                contract_id="c8",
                freelancer_id="f404",
                client_id="k",
                kind="fixed",
                category="x",
            )
        ),
        compact(ev("r9", "payment.made", "2025-03-01", contract_id="c8", amount="1.00")),
        compact(ev("r10", "dispute.opened", "2025-03-04", contract_id="c1", dispute_id="d1")),
        compact(ev("r11", "dispute.resolved", "2025-03-05", dispute_id="d1", outcome="settled")),
        compact(ev("r12", "account.hold_lifted", "2025-03-05", hold_id="h404")),
    ]
    return lines


def write_jsonl(path: Path, lines: list[str], *, crlf: bool = False, final_newline: bool = True) -> Path:
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + (end if final_newline else "")
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


def write_parquet(path: Path, lines: list[str]) -> Path:
    """The same events as Parquet (`data` a JSON string); lines that are not objects become odd rows."""
    table: dict[str, list[Any]] = {k: [] for k in ("id", "type", "time", "source", "specversion", "data")}
    for text in lines:
        try:
            obj = json.loads(text)
        except ValueError:
            obj = {"id": "unparsed", "data": text}
        if not isinstance(obj, dict):
            obj = {"id": "array", "data": text}
        for k in table:
            value = obj.get(k)
            if k == "data" and value is not None and not isinstance(value, str):
                value = json.dumps(value, separators=(",", ":"))
            text = None if value is None else str(value).encode("utf-8", "replace").decode()  # no lone surrogates
            table[k].append(text)
    pq.write_table(pa.table({k: pa.array(v, pa.string()) for k, v in table.items()}), path)
    return path


def test_troubled_file_same_as_exact_path(tmp_path: Path) -> None:
    lines = troubled_lines()
    jsonl = write_jsonl(tmp_path / "t.jsonl", lines)
    (report,) = same([[jsonl]], str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb"))
    assert report.rejected and report.duplicates and report.accepted > len(WORLD)


def test_troubled_file_variants(tmp_path: Path) -> None:
    lines = troubled_lines()
    crlf = write_jsonl(tmp_path / "crlf.jsonl", lines, crlf=True, final_newline=False)
    bad = tmp_path / "bytes.jsonl"
    bad.write_bytes(
        crlf.read_bytes()
        + b'\n{"id":"u1","type":"client.flagged","time":"2025-01-10","data":{"client_id":"k\xff","reason":"r"}}\n'
    )
    parquet = write_parquet(tmp_path / "t.parquet", lines)
    gz = tmp_path / "t.jsonl.gz"
    gz.write_bytes(gzip.compress(crlf.read_bytes()))
    same([[bad], [parquet, gz]], str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb"))


@pytest.mark.postgres
def test_troubled_file_on_postgres(tmp_path: Path, pg_url: str) -> None:
    lines = troubled_lines()
    same(
        [[write_jsonl(tmp_path / "t.jsonl", lines[:20])], [write_parquet(tmp_path / "t.parquet", lines)]],
        str(tmp_path / "a.duckdb"),
        pg_url,
    )


def test_against_a_store_that_holds_part_of_the_batch(tmp_path: Path) -> None:
    """Store duplicates and conflicts, stored entities referred to and defined a second time."""
    lines = troubled_lines()
    first = write_jsonl(tmp_path / "first.jsonl", lines[: len(WORLD) // 2])
    second = write_jsonl(tmp_path / "second.jsonl", lines)
    changed = [line.replace('"250.50"', '"250.51"') for line in lines[:30]]
    third = write_parquet(tmp_path / "third.parquet", changed)
    same([[first], [second, third]], str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb"))


def test_parquet_shapes(tmp_path: Path) -> None:
    """Empty cells are absent; no `source` column; non-string columns are read row by row."""
    lines = troubled_lines()[: len(WORLD)]
    base = pq.read_table(write_parquet(tmp_path / "t.parquet", lines))
    blank = base.set_column(3, "source", pa.array([""] * base.num_rows, pa.string()))
    blank = blank.set_column(0, "id", pa.array(["", *base.column("id").to_pylist()[1:]], pa.string()))
    pq.write_table(blank, tmp_path / "blank.parquet")
    pq.write_table(base.drop_columns(["source", "specversion"]), tmp_path / "bare.parquet")
    typed = base.set_column(2, "time", pa.array([date(2025, 1, 1)] * base.num_rows, pa.date32()))
    pq.write_table(typed, tmp_path / "typed.parquet")
    batches = [[tmp_path / "blank.parquet"], [tmp_path / "bare.parquet", tmp_path / "typed.parquet"]]
    same(batches, str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb"))


# --- random damage to simulated events ------------------------------------------------------------


def _mutations(rng: random.Random) -> list[Callable[[dict[str, Any]], Any]]:
    def set_field(e: dict[str, Any]) -> None:
        if e["data"]:
            key = rng.choice(list(e["data"]))
            e["data"][key] = rng.choice([None, "", 0, -1, 1.5, 5, True, "x", [], {}, "2025-02-29", "7.5", 1e20])

    def drop_field(e: dict[str, Any]) -> None:
        if e["data"]:
            del e["data"][rng.choice(list(e["data"]))]

    def swap_type(e: dict[str, Any]) -> None:
        e["type"] = rng.choice(list(DATA_MODELS))

    def reuse_id(e: dict[str, Any]) -> None:
        e["id"] = f"e{rng.randrange(1, 3000):012d}"

    def retime(e: dict[str, Any]) -> None:
        e["time"] = rng.choice(["2025-01-01", "2025-13-01", "2025-01-01T00:00:00+14:00", "2025-01-01 10:00", 5])

    def steal_key(e: dict[str, Any]) -> None:  # refer to, or define again, another entity
        for key in ("freelancer_id", "contract_id", "agency_id", "dispute_id", "hold_id", "owner_id"):
            if key in e["data"]:
                e["data"][key] = rng.choice(["f00000001", "c000000010000", "a00000001", "nope", "f00000150"])
                return

    def extra(e: dict[str, Any]) -> None:
        e["data"]["zzz"] = 1

    return [set_field, drop_field, swap_type, reuse_id, retime, steal_key, extra]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_randomly_damaged_marketplace(market: dict[str, Path], tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    mutations = _mutations(rng)
    lines = market["jsonl"].read_text().splitlines()[:6000]
    out = []
    for line in lines:
        if rng.random() < 0.04:
            event = json.loads(line)
            rng.choice(mutations)(event)
            line = compact(event) if rng.random() < 0.8 else json.dumps(event)
        out.append(line)
    rng.shuffle(out)
    jsonl = write_jsonl(tmp_path / "damaged.jsonl", out[:4000])
    parquet = write_parquet(tmp_path / "damaged.parquet", out[3000:])
    same([[jsonl], [parquet]], str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb"))


def test_progress_counts_every_record(market: dict[str, Path], tmp_path: Path) -> None:
    seen: list[int] = []
    with open_store(str(tmp_path / "p.duckdb")) as store:
        report = store.import_files([market["parquet"], market["jsonl"]], progress=seen.append)
    assert sum(seen) == 2 * report.accepted == 2 * sum(1 for _ in read_records(market["parquet"]))


def test_chunk_boundaries_and_odd_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines longer than a chunk, chunks ending anywhere, empty files and files of blank lines."""
    monkeypatch.setattr(fast_staging, "CHUNK_BYTES", 97)
    lines = troubled_lines()
    long = compact(ev("long", "freelancer.joined", "2025-01-09", freelancer_id="fl", name="x" * 500))
    small = write_jsonl(tmp_path / "small.jsonl", [*lines[:40], long, *lines[40:]], final_newline=False)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\n\n  \n")
    same([[empty, blank], [small, blank]], str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb"))


def test_parquet_staged_in_slices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, market: dict[str, Path]) -> None:
    """A Parquet file staged a few rows at a time (a slice ending anywhere, a last one short): the
    same outcome as the per-event path, positions and lines included, and every record counted
    once as progress."""
    monkeypatch.setattr(fast_staging, "PARQUET_SLICE_ROWS", 7)
    lines = troubled_lines()
    assert len(lines) % 7
    parquet = write_parquet(tmp_path / "t.parquet", lines)
    (report,) = same([[parquet]], str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb"))
    assert report.rejected and report.duplicates
    monkeypatch.setattr(fast_staging, "PARQUET_SLICE_ROWS", 1000)
    seen: list[int] = []
    with open_store(str(tmp_path / "p.duckdb")) as store:
        report = store.import_files([market["parquet"]], progress=seen.append)
    assert len(seen) > 10 and sum(seen) == report.accepted == sum(1 for _ in read_records(market["parquet"]))


def test_missing_or_unknown_files_fail_as_the_reader_does(tmp_path: Path) -> None:
    from toprated.errors import UserError

    with open_store(str(tmp_path / "s.duckdb")) as store:
        for name in ("missing.jsonl", "missing.parquet", "events.xml"):
            with pytest.raises(UserError) as expected:
                list(read_records(tmp_path / name))
            with pytest.raises(UserError) as got:
                store.import_files([tmp_path / name])
            assert str(got.value) == str(expected.value)
