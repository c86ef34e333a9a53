"""The event envelope and `validate()` (spec/events.md, first section).

The envelope is CloudEvents 1.0 structured mode: `id`, `type`, `time`, `data` are required;
`source` and `specversion` are kept, not interpreted. Other CloudEvents attributes (`subject`,
`datacontenttype`, extensions) are accepted and ignored, so CloudEvents producers can send events
unchanged; unknown fields *inside* `data` are rejected by the data models.

The envelope is checked by hand rather than by a pydantic model: it is the hot path of a bulk
import and its rules are few. `data` is validated by the pydantic model of the event type.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from toprated.events.models import DATA_MODELS, EventData

__all__ = ["Event", "EventError", "content_digest", "digest_of", "validate"]


class EventError(ValueError):
    """An event that breaks the input contract; `reason` names the field, e.g. `data.amount: must be > 0`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Event:
    """A valid event: `time` is an aware UTC datetime, `day` its UTC calendar day (events.md).

    `data_json` is the canonical JSON of `data` (normalised values: amounts with 2 decimals; no
    nulls), as the raw log stores it.
    """

    id: str
    type: str
    time: datetime
    day: date
    source: str | None
    specversion: str | None
    data: EventData
    data_json: str


def content_digest(event: Event) -> str:
    """sha256 of what the event says (type, UTC instant, canonical data), for duplicate/conflict checks.

    events.md: an id already accepted is ignored with the same content, rejected with different
    content. Content is the meaning, not the spelling: `"10.5"` and `10.50`, or `+01:00` and the
    same instant in `Z`, are the same content. `source` and `specversion` are not interpreted and
    so are not part of it.
    """
    return digest_of(event.type, event.time, event.data_json)


def digest_of(type_: str, time: datetime, data_json: str) -> str:
    """`content_digest` of an event's parts: also of a stored event (its type, time and canonical
    data, as the raw log keeps them; a naive time is UTC). The log keeps no digest: working it out
    for the few ids that arrive again costs less than writing one for every event (at a million
    freelancers, a tenth of a bulk import's time)."""
    if time.tzinfo is None:
        time = time.replace(tzinfo=UTC)
    return hashlib.sha256(f"{type_}\n{time.isoformat()}\n{data_json}".encode()).hexdigest()


_TIME_HINT = "must be an ISO 8601 date or date-time, e.g. 2026-01-05 or 2026-01-05T09:30:00Z"


@lru_cache(maxsize=8192)
def _parse_time_text(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise EventError(f"time: {_TIME_HINT} (got {text!r})") from None
    return _to_utc(parsed)


def _to_utc(value: datetime) -> datetime:
    # A date-only time is 00:00 UTC; a date-time without an offset is read as UTC too (ours).
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _parse_time(value: Any) -> datetime:
    if isinstance(value, str):
        return _parse_time_text(value.strip())
    if isinstance(value, datetime):  # Parquet timestamp columns
        return _to_utc(value)
    if isinstance(value, date):  # Parquet date columns
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value is None:
        raise EventError("time: required")
    raise EventError(f"time: {_TIME_HINT} (got {_show(value)})")


def _optional_text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventError(f"{name}: must be a string (got {_show(value)})")
    return _unicode(value, name)


def _unicode(value: str, name: str) -> str:
    try:
        value.encode()  # lone surrogates (from "\\ud800" in JSON or bad bytes) cannot be stored
    except UnicodeEncodeError:
        raise EventError(f"{name}: not valid Unicode text") from None
    if "\x00" in value:  # PostgreSQL text cannot hold it
        raise EventError(f"{name}: must not contain the NUL character")
    return value


def _nul_field(data: EventData) -> str:
    """The first field of `data` whose text holds a NUL character."""
    for name, value in data:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            return f"data.{name}"
    return "data"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _pydantic_reason(exc: ValidationError) -> str:
    """`data.<field>: <what is wrong>` for every error pydantic found, joined by `; `."""
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(["data", *(str(p) for p in err["loc"])])
        kind = err["type"]
        if kind == "missing":
            parts.append(f"{where}: required")
        elif kind == "extra_forbidden":
            parts.append(f"{where}: unknown field")
        else:
            if kind == "value_error":
                msg = str(err["ctx"]["error"])
            elif kind == "string_too_short":
                msg = "must not be empty"
            else:
                msg = err["msg"].replace("Input should be", "must be", 1)
            got = "" if err["loc"] == () else f" (got {_show(err['input'])})"
            parts.append(f"{where}: {msg}{got}")
    return "; ".join(parts)


def validate(raw: Mapping[str, Any]) -> Event:
    """Check one raw event against spec/events.md and return it typed; raise `EventError` if invalid."""
    if not isinstance(raw, Mapping):
        raise EventError(f"event: must be a JSON object (got {type(raw).__name__})")
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        raise EventError("id: required, a non-empty string" + ("" if event_id is None else f" (got {_show(event_id)})"))
    _unicode(event_id, "id")
    event_type = raw.get("type")
    model = DATA_MODELS.get(event_type) if isinstance(event_type, str) else None
    if model is None:
        if event_type is None:
            raise EventError("type: required")
        raise EventError(f"type: unknown event type {_show(event_type)}")
    time = _parse_time(raw.get("time"))
    source = _optional_text(raw, "source")
    specversion = _optional_text(raw, "specversion")
    data = raw.get("data")
    if not isinstance(data, Mapping):
        raise EventError("data: required, a JSON object" + ("" if data is None else f" (got {_show(data)})"))
    try:
        typed = model.model_validate(data)
    except ValidationError as exc:
        raise EventError(_pydantic_reason(exc)) from None
    data_json = typed.model_dump_json(exclude_none=True)
    if "\\u0000" in data_json:
        raise EventError(f"{_nul_field(typed)}: must not contain the NUL character")
    return Event(event_id, event_type, time, time.date(), source, specversion, typed, data_json)
