"""`toprated simulate` and the column-wise renderers it relies on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import typer
from simulate_checks import AS_OF, parse_time
from typer.testing import CliRunner

from toprated.simulate.commands import register
from toprated.simulate.render import (
    STYLE_DATE,
    STYLE_OFFSET,
    STYLE_Z,
    digits,
    fixed_ids,
    iso_times,
    money,
    obj,
    tenths,
)


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps `simulate` a named subcommand
        """Nothing."""

    return app


def test_cli_writes_jsonl_and_prints_a_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["simulate", "--freelancers", "200", "--seed", "4", "--out", str(tmp_path), "--as-of", str(AS_OF)]
    )
    assert result.exit_code == 0, result.output
    assert "freelancer.joined" in result.output and "200" in result.output
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["type"] == "freelancer.joined"


def test_cli_parquet_and_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["simulate", "-n", "50", "--out", str(tmp_path), "--as-of", str(AS_OF)]
    assert runner.invoke(_app(), [*args, "--format", "parquet"]).exit_code == 0
    assert pq.read_table(tmp_path / "events.parquet").num_rows > 50
    assert runner.invoke(_app(), [*args, "--format", "csv"]).exit_code != 0
    assert runner.invoke(_app(), ["simulate", "-n", "5", "--out", str(tmp_path), "--as-of", "2026-02-30"]).exit_code


def test_money_and_numbers() -> None:
    assert money(np.array([1, 100, 123456, 5])).to_pylist() == ["0.01", "1.00", "1234.56", "0.05"]
    assert tenths(np.array([50, 45, 10])).to_pylist() == ["5.0", "4.5", "1.0"]
    assert digits(np.array([7, 123456789]), 9).tobytes() == b"000000007123456789"
    assert fixed_ids("c", (np.array([12]), 8), (np.array([3]), 4)).to_pylist() == ["c000000120003"]


def test_iso_times_styles() -> None:
    t = np.array([0, 1_774_915_200 + 3_723, 1_774_915_200])
    out = iso_times(t, np.array([STYLE_Z, STYLE_OFFSET, STYLE_DATE])).to_pylist()
    assert out == ["1970-01-01T00:00:00Z", "2026-03-31T01:02:03+00:00", "2026-03-31"]
    assert [int(parse_time(s).timestamp()) for s in out] == t.tolist()


def test_obj_omits_absent_fields() -> None:
    import pyarrow as pa

    data = obj(("a", pa.array(["x", "y"]), "s"), ("b", pa.array(["1", "2"]), "r", np.array([True, False])))
    assert [json.loads(s) for s in data.to_pylist()] == [{"a": "x", "b": 1}, {"a": "y"}]
