"""The envelope of spec/events.md: id, type, time (ISO 8601, to UTC), source/specversion, data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from toprated.events import Event, EventError, content_digest, validate

DATA = {"contract_id": "c1", "amount": "10.00"}


def raw(**changes: Any) -> dict[str, Any]:
    base = {
        "id": "e1",
        "type": "payment.made",
        "time": "2026-01-05T09:30:00Z",
        "source": "mkt",
        "specversion": "1.0",
        "data": DATA,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def reason(event: Any) -> str:
    with pytest.raises(EventError) as info:
        validate(event)
    return info.value.reason


def test_a_valid_event_is_typed() -> None:
    event = validate(raw())
    assert isinstance(event, Event)
    assert (event.id, event.type, event.source, event.specversion) == ("e1", "payment.made", "mkt", "1.0")
    assert event.time == datetime(2026, 1, 5, 9, 30, tzinfo=UTC) and event.day == date(2026, 1, 5)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-01-05", datetime(2026, 1, 5, tzinfo=UTC)),
        ("2026-01-05T09:30:00Z", datetime(2026, 1, 5, 9, 30, tzinfo=UTC)),
        ("2026-01-05T09:30:00+00:00", datetime(2026, 1, 5, 9, 30, tzinfo=UTC)),
        ("2026-01-05T09:30:00.250Z", datetime(2026, 1, 5, 9, 30, 0, 250000, tzinfo=UTC)),
        ("2026-01-05T09:30:00", datetime(2026, 1, 5, 9, 30, tzinfo=UTC)),  # no offset: read as UTC
        ("2026-01-05T01:30:00+02:00", datetime(2026, 1, 4, 23, 30, tzinfo=UTC)),  # the UTC day changes
        ("2026-01-05T20:00:00-05:00", datetime(2026, 1, 6, 1, 0, tzinfo=UTC)),
    ],
)
def test_time_is_converted_to_utc(text: str, instant: datetime) -> None:
    event = validate(raw(time=text))
    assert event.time == instant and event.time.utcoffset() == timedelta(0)
    assert event.day == instant.date()


def test_time_objects_from_parquet_columns() -> None:
    aware = datetime(2026, 1, 5, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert validate(raw(time=aware)).time == datetime(2026, 1, 4, 23, 30, tzinfo=UTC)
    assert validate(raw(time=datetime(2026, 1, 5, 9, 30))).time == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    assert validate(raw(time=date(2026, 1, 5))).time == datetime(2026, 1, 5, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "05/01/2026", "", "2026-01-05T25:00"])
def test_bad_time(text: str) -> None:
    assert reason(raw(time=text)).startswith("time: must be an ISO 8601 date or date-time")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": ...}, "id: required, a non-empty string"),
        ({"id": ""}, "id: required, a non-empty string (got '')"),
        ({"id": 7}, "id: required, a non-empty string (got 7)"),
        ({"id": "e\ud800"}, "id: not valid Unicode text"),
        ({"type": ...}, "type: required"),
        ({"type": "payment.refunded"}, "type: unknown event type 'payment.refunded'"),
        ({"time": ...}, "time: required"),
        ({"time": 1767605400}, "time: must be an ISO 8601 date or date-time"),
        ({"data": ...}, "data: required, a JSON object"),
        ({"data": "{}"}, "data: required, a JSON object (got '{}')"),
        ({"source": 3}, "source: must be a string (got 3)"),
        ({"specversion": 1.0}, "specversion: must be a string (got 1.0)"),
    ],
)
def test_envelope_errors_name_the_field(changes: dict[str, Any], message: str) -> None:
    assert reason(raw(**changes)).startswith(message)


def test_not_an_object() -> None:
    assert reason(["e1"]) == "event: must be a JSON object (got list)"


def test_optional_source_and_specversion_and_cloudevents_extras() -> None:
    event = validate(raw(source=..., specversion=..., subject="x", datacontenttype="application/json"))
    assert event.source is None and event.specversion is None


def test_data_unicode_surrogates_are_rejected() -> None:
    assert reason(raw(data={"contract_id": "c\udc80", "amount": "1"})).startswith("data.contract_id:")


def test_nul_characters_are_rejected_naming_the_field() -> None:
    """PostgreSQL text cannot hold U+0000: such an event must fail validation, not the import."""
    assert reason(raw(id="e\x001")) == "id: must not contain the NUL character"
    assert reason(raw(source="a\x00")) == "source: must not contain the NUL character"
    assert reason(raw(data={"contract_id": "c\x00", "amount": "1"})) == (
        "data.contract_id: must not contain the NUL character"
    )
    profile = {"freelancer_id": "f1", "completeness": 5, "has_photo": False, "missing": ["ok", "b\x00d"]}
    assert reason(raw(type="freelancer.profile_updated", data=profile)) == (
        "data.missing: must not contain the NUL character"
    )


def test_content_digest_is_about_meaning_not_spelling() -> None:
    a = validate(raw(time="2026-01-05T10:30:00+01:00", data={"amount": 10.5, "contract_id": "c1"}))
    b = validate(
        raw(time="2026-01-05T09:30:00Z", data={"contract_id": "c1", "amount": "10.50", "refund": False}, source="other")
    )
    assert content_digest(a) == content_digest(b)
    assert a.data_json == b.data_json == '{"contract_id":"c1","amount":"10.50","refund":false}'
    c = validate(raw(data={"contract_id": "c1", "amount": "10.51"}))
    d = validate(raw(time="2026-01-05T09:30:01Z"))
    assert len({content_digest(a), content_digest(c), content_digest(d)}) == 3
