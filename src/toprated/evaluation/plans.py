"""Recorded builds of a scratch (`Scratch.replayable`): the statements of each step, kept in memory
for the connection and on disk for the next process.

`toprated explain` is a process of its own. At a million freelancers, the first explanation of a
process took 2.0–2.3 s with its SQL found compiled (`toprated.metrics.sqlcache`), most of it
building the Ibis expressions, and 1.3–1.4 s replaying a recording; the next ones 0.4–0.6 s. So a
recording is kept in the cache file too, under a digest of its key (the day, the programme's
settings, the removals, the tables read with their columns), the scratch's slot and step, and of
toprated's own code: another version of the code records anew.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Hashable
from dataclasses import dataclass

import ibis
import pyarrow as pa
from pydantic import BaseModel

from toprated.metrics import sqlcache


@dataclass(frozen=True)
class Step:
    """One kept table of a recorded build: the statements that make it, or the data uploaded."""

    name: str
    schema: ibis.Schema
    statements: tuple[str, ...] | None = None
    arrow: pa.Table | None = None


@dataclass(frozen=True)
class Plan:
    steps: list[Step]
    outputs: dict[str, str]  # what the build returned: key -> kept table's name


class Same:
    """A part of a `replayable` key that matches the very same object only, such as a programme (not
    hashable), and keeps it alive as long as the key, so that its id is not reused meanwhile. On
    disk, a programme stands for its settings."""

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and other.obj is self.obj

    def __toprated_key__(self) -> str:
        """What stands for it in a digest (`sqlcache.digest`): a programme's settings."""
        if not isinstance(self.obj, BaseModel):
            raise TypeError(f"{type(self.obj).__name__} has no settings to stand for it on disk")
        return f"{type(self.obj).__qualname__}:{self.obj.model_dump_json()}"


def disk_key(key: Hashable, slot: int, step: int) -> str | None:
    """The digest a recording is kept under on disk (None: not kept there, or the cache is off)."""
    if sqlcache.cache_path() is None:
        return None
    return sqlcache.digest("duckdb", ("plan", sqlcache.code_digest(), key, slot, step))


def _arrow_bytes(data: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write_table(data)
    return base64.b64encode(sink.getvalue().to_pybytes()).decode()


def _arrow_from(text: str) -> pa.Table:
    return pa.ipc.open_stream(base64.b64decode(text)).read_all()


def to_bytes(plan: Plan) -> bytes:
    steps = [
        {
            "name": s.name,
            "schema": {n: str(t) for n, t in s.schema.items()},
            "statements": None if s.statements is None else list(s.statements),
            "arrow": None if s.arrow is None else _arrow_bytes(s.arrow),
        }
        for s in plan.steps
    ]
    return json.dumps({"steps": steps, "outputs": plan.outputs}).encode()


def from_bytes(data: bytes) -> Plan:
    d = json.loads(data)
    steps = [
        Step(
            s["name"],
            ibis.schema(s["schema"]),
            None if s["statements"] is None else tuple(s["statements"]),
            None if s["arrow"] is None else _arrow_from(s["arrow"]),
        )
        for s in d["steps"]
    ]
    return Plan(steps, d["outputs"])


def load(key: str | None) -> Plan | None:
    """The recording kept on disk under `key`, if any (one that cannot be read is none)."""
    data = sqlcache.kept_plan(key) if key is not None else None
    if data is None:
        return None
    try:
        return from_bytes(data)
    except (ValueError, KeyError, TypeError, pa.ArrowException):
        return None


def save(key: str | None, plan: Plan) -> None:
    if key is not None:
        sqlcache.keep_plan(key, to_bytes(plan))
