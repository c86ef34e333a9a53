"""The input contract (spec/events.md): typed events, `validate()`, and readers for event files."""

from toprated.events.envelope import Event, EventError, content_digest, digest_of, validate
from toprated.events.models import DATA_MODELS, EVENT_TYPES, EventData
from toprated.events.readers import Record, count_records, file_format, read_records

__all__ = [
    "DATA_MODELS",
    "EVENT_TYPES",
    "Event",
    "EventData",
    "EventError",
    "Record",
    "content_digest",
    "count_records",
    "digest_of",
    "file_format",
    "read_records",
    "validate",
]
