"""DuckDB's memory limit while an import runs, and a clear error when it is not enough.

A run is capped (`TOPRATED_DUCKDB_MEMORY`, 3GB by default) and spills to disk beyond. An import
cannot do that with all it holds: the raw log's primary key is kept in memory while its rows are
written, and the staged events with it. At a million freelancers (61 million events) `toprated
import` with the runs' 3GB failed after 3.5 minutes with DuckDB's "Out of Memory" (2026-11-28); the
bench, with 16GB, imported them in 4 minutes. So an import has a limit of its own
(`TOPRATED_IMPORT_MEMORY`, by default 60% of the machine's memory), set for its duration only.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from toprated.errors import UserError

ENV_VAR = "TOPRATED_IMPORT_MEMORY"

#: The share of the machine's memory an import may use unless `TOPRATED_IMPORT_MEMORY` says.
MACHINE_SHARE = 0.6


def machine_memory() -> int | None:
    """Bytes of memory this process may use: the machine's, or its control group's if lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    for limit in (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")):
        with contextlib.suppress(OSError, ValueError):
            total = min(total, int(limit.read_text().strip()))  # "max": no limit
    return total


def import_memory_limit() -> str:
    """DuckDB's memory limit for an import: `TOPRATED_IMPORT_MEMORY`, else 60% of the machine's
    memory, else (not known) 3GB."""
    if value := os.environ.get(ENV_VAR, "").strip():
        return value
    total = machine_memory()
    return f"{int(total * MACHINE_SHARE) >> 20}MB" if total else "3GB"


def _set_limit(duck: Any, limit: str) -> None:
    duck.execute(f"SET memory_limit = '{limit.replace(chr(39), '')}'")


def _out_of_memory(exc: BaseException | None) -> bool:
    """Whether DuckDB running out of memory caused `exc`: raised as it is, wrapped by SQLAlchemy
    (`.orig`), or followed by the errors of statements that ran on the aborted transaction."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, duckdb.OutOfMemoryException) or isinstance(
            getattr(exc, "orig", None), duckdb.OutOfMemoryException
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@dataclass
class ImportMemory:
    """The limit an import runs with, and whether its transaction has committed (`committed()`)."""

    limit: str
    stored: bool = False

    def committed(self) -> None:
        self.stored = True


@contextlib.contextmanager
def import_memory(duck: Any, restore: str | None) -> Iterator[ImportMemory]:
    """DuckDB's memory limit raised for an import on `duck`, and set back to `restore` after it
    (None: left as is, for a connection of the import's own). Running out of it is a `UserError`
    that says what was stored (nothing, unless the import had committed: its lookup indexes are
    built after it) and what to do."""
    memory = ImportMemory(import_memory_limit())
    try:
        _set_limit(duck, memory.limit)
    except duckdb.Error as exc:
        raise UserError(f"{ENV_VAR}={memory.limit!r} is not a memory size DuckDB accepts: {exc}") from None
    try:
        yield memory
    except Exception as exc:
        if not _out_of_memory(exc):
            raise
        more = f"set {ENV_VAR} higher if the machine has more (e.g. {ENV_VAR}=16GB)"
        if memory.stored:  # the same import again stores nothing more and builds them
            raise UserError(
                f"the events were stored, but building the lookup indexes after them ran out of memory "
                f"(DuckDB's limit for imports: {memory.limit}): {more} and run the same import again"
            ) from None
        raise UserError(
            f"the import ran out of memory (DuckDB's limit for imports: {memory.limit}) and stored nothing: "
            f"{more} and import again"
        ) from None
    finally:
        if restore is not None:
            with contextlib.suppress(duckdb.Error):
                _set_limit(duck, restore)
