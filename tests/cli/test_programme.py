"""The programme file: the shipped default loads, bad files fail with the key and the reason."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from toprated.errors import UserError
from toprated.programme import load_programme
from toprated.programme.model import Programme

SHIPPED = Path(__file__).resolve().parents[2] / "src/toprated/programme/upwork.toml"


def test_shipped_programme_holds_the_spec_numbers() -> None:
    p = load_programme()
    assert p.name == "upwork"
    assert p.jss.windows_months == [6, 12, 24]
    assert (p.jss.min_contracts, p.jss.min_clients) == (2, 2)
    assert p.top_rated.min_jss == 90 and p.top_rated.weeks_required == 13 and p.top_rated.weeks_window == 16
    assert p.top_rated.min_earnings_12m == Decimal("1000.00")
    assert p.top_rated.agency.min_earnings_12m == Decimal("10000.00")
    assert p.top_rated_plus.threshold_for("writing") == Decimal("5000.00")
    assert p.top_rated_plus.threshold_for("web_mobile_software_dev") == Decimal("30000.00")
    assert p.top_rated_plus.threshold_for("basket_weaving") == Decimal("20000.00")
    assert p.standing.hold_cooldown_days == 90 and p.standing.off_platform_ban_months == 6
    assert p.lookback_days == 105


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("windows_months = [6, 12, 24]", "windows_months = []"), "jss.windows_months"),
        (("weeks_required = 13", "weeks_required = 17"), "top_rated"),
        (("min_clients = 2", "min_clients = 2\nsurprise = 1"), "jss.surprise: unknown key"),
        (('writing = "5000.00"', 'writing = "5000.001"'), "top_rated_plus.large_contract.writing"),
        (('other = "20000.00"', ""), "top_rated_plus.large_contract"),
    ],
)
def test_bad_programme_names_key(tmp_path: Path, change: tuple[str, str], key: str) -> None:
    text = SHIPPED.read_text()
    assert change[0] in text
    f = tmp_path / "p.toml"
    f.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(UserError) as exc:
        load_programme(f)
    assert key in str(exc.value)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text("name = ")
    with pytest.raises(UserError, match="not valid TOML"):
        load_programme(f)
    with pytest.raises(UserError, match="cannot read"):
        load_programme(tmp_path / "nope.toml")


def test_programme_is_immutable() -> None:
    p: Programme = load_programme()
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error type varies
        p.top_rated.min_jss = 1  # type: ignore[misc]
