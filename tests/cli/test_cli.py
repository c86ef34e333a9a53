"""The `toprated` command as a user runs it: output contract, errors, exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = Path(__file__).resolve().parents[3] / "shared" / "scenarios" / "established_top_rated" / "events.jsonl"
EXE = str(Path(sys.executable).parent / "toprated")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small marketplace: the established Top Rated freelancer plus a newcomer."""
    path = tmp_path_factory.mktemp("cli") / "events.jsonl"
    lines = SCENARIO.read_text().splitlines() if SCENARIO.exists() else []
    extra = [
        {"id": "n1", "type": "freelancer.joined", "time": "2026-11-10T08:00:00Z", "data": {"freelancer_id": "f-new"}},
        {
            "id": "n2",
            "type": "freelancer.readiness_test_passed",
            "time": "2026-11-11",
            "data": {"freelancer_id": "f-new"},
        },
    ]
    path.write_text("\n".join(lines + [json.dumps(e) for e in extra]) + "\n")
    return path


def test_evaluate_json_follows_the_output_contract(events: Path) -> None:
    p = run("evaluate", "--events", str(events), "--as-of", "2026-11-23", "--format", "json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["as_of"] == "2026-11-23" and doc["programme"] == "upwork"
    ids = {e["id"]: e for e in doc["entities"]}
    assert set(ids) >= {"f-new"}
    new = ids["f-new"]
    assert new["kind"] == "freelancer" and new["jss"] is None and new["agency_badge"] is None
    assert set(new["programmes"]) == {"rising_talent", "top_rated", "top_rated_plus", "expert_vetted"}
    for prog in new["programmes"].values():
        assert prog["held"] == all(c["met"] for c in prog["criteria"]) or prog is new["programmes"]["rising_talent"]
        for c in prog["criteria"]:
            assert set(c) == {"name", "value", "required", "met"}
        if prog["held"]:
            assert prog["qualifies_on"] is None
    names = [c["name"] for c in new["programmes"]["top_rated"]["criteria"]]
    assert names == [
        "jss",
        "first_contract_age",
        "eligible_weeks",
        "profile",
        "earnings_12m",
        "availability",
        "standing",
        "activity",
    ]
    assert new["badges"] == [b for b, prog in new["programmes"].items() if prog["held"]]


def test_entity_filter_and_unknown_entity(events: Path) -> None:
    p = run("evaluate", "--events", str(events), "--as-of", "2026-11-23", "--format", "json", "--entity", "f-new")
    assert p.returncode == 0, p.stderr
    assert [e["id"] for e in json.loads(p.stdout)["entities"]] == ["f-new"]
    p = run("explain", "nobody", "--events", str(events), "--as-of", "2026-11-23")
    assert p.returncode == 2 and "nobody" in p.stderr and "Traceback" not in p.stderr


def test_entities_that_do_not_exist_yet_are_left_out(events: Path) -> None:
    p = run("evaluate", "--events", str(events), "--as-of", "2026-11-09", "--format", "json")
    assert p.returncode == 0, p.stderr
    assert "f-new" not in {e["id"] for e in json.loads(p.stdout)["entities"]}


@pytest.mark.skipif(not SCENARIO.exists(), reason="shared scenarios not present")
def test_explain_shows_criteria_contracts_and_json(events: Path) -> None:
    p = run("explain", "f-tr", "--events", str(events), "--as-of", "2026-11-23")
    assert p.returncode == 0, p.stderr
    assert "Top Rated: held" in p.stdout and "contract by contract" in p.stdout
    p = run("explain", "f-tr", "--events", str(events), "--as-of", "2026-11-23", "--format", "json")
    doc = json.loads(p.stdout)
    assert doc["id"] == "f-tr" and len(doc["contracts"]) == 16
    assert all(c["counted"] and c["outcome"] == "successful" for c in doc["contracts"])


def test_rejected_events_are_all_reported_and_the_rest_evaluated(tmp_path: Path, events: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    good = events.read_text().splitlines()
    bad.write_text(
        "\n".join(
            [
                good[0],
                '{"id": "x1", "type": "payment.made", "time": "2026-01-01", "data": {"contract_id": "nope", "amount": "5.00"}}',
                "{not json",
                '{"id": "x2", "type": "freelancer.teleported", "time": "2026-01-01", "data": {}}',
                *good[1:],
            ]
        )
        + "\n"
    )
    p = run("evaluate", "--events", str(bad), "--as-of", "2026-11-23", "--format", "json")
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    for needle in ("x1", "nope", ":3", "x2", "freelancer.teleported"):
        assert needle in p.stderr, (needle, p.stderr)
    assert {e["id"] for e in json.loads(p.stdout)["entities"]} >= {"f-new"}


def test_user_errors_have_no_traceback(tmp_path: Path, events: Path) -> None:
    cases = [
        ("evaluate", "--events", str(tmp_path / "missing.jsonl"), "--as-of", "2026-11-23"),
        ("evaluate", "--events", str(events), "--as-of", "23/11/2026"),
        ("evaluate", "--events", str(events), "--as-of", "2026-11-23", "--format", "xml"),
    ]
    for args in cases:
        p = run(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert "Traceback" not in p.stderr and "error" in p.stderr.lower(), (args, p.stderr)


def test_bad_programme_file_names_the_key(tmp_path: Path, events: Path) -> None:
    from toprated.programme.model import load_programme  # noqa: F401 (the shipped file must load)

    shipped = (Path(__file__).resolve().parents[2] / "src/toprated/programme/upwork.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(
        shipped.replace("min_jss = 90\nfirst_contract_min_days", "min_jss = 190\nfirst_contract_min_days", 1)
    )
    p = run("evaluate", "--events", str(events), "--as-of", "2026-11-23", "--programme", str(bad))
    assert p.returncode == 2 and "top_rated.min_jss" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.skipif(not SCENARIO.exists(), reason="shared scenarios not present")
def test_a_threshold_changed_in_the_programme_file_changes_the_result(tmp_path: Path, events: Path) -> None:
    shipped = (Path(__file__).resolve().parents[2] / "src/toprated/programme/upwork.toml").read_text()
    strict = tmp_path / "strict.toml"
    strict.write_text(shipped.replace('min_earnings_12m = "1000.00"', 'min_earnings_12m = "5000.00"', 1))
    p = run(
        "evaluate", "--events", str(events), "--as-of", "2026-11-23", "--format", "json", "--programme", str(strict)
    )
    assert p.returncode == 0, p.stderr
    tr = {e["id"]: e for e in json.loads(p.stdout)["entities"]}["f-tr"]["programmes"]["top_rated"]
    crit = {c["name"]: c for c in tr["criteria"]}
    assert not tr["held"] and not crit["earnings_12m"]["met"] and "$5,000.00" in crit["earnings_12m"]["required"]
