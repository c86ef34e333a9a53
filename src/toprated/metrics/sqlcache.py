"""Compiled SQL kept on disk, from one process to the next.

Each `toprated` command is a process of its own: `run-week` from a scheduler, `explain` from a
terminal. Compiling the Ibis expressions of an evaluation into SQL is pure Python and slow: a weekly
run at a million freelancers compiled for 4.2 s of its 33 s, an explanation for 1.9 s of its first
3.6 s. The SQL is the same from one process to the next (a weekly run's dates are stand-ins, see
`toprated.metrics.compiled.dated`), so it is looked up here first.

The key is a digest of the expression itself (pickled: its tables' names and columns, every
literal, every operation), of the backend's dialect and of the versions of the libraries that
compile it: a changed threshold or a new version of ibis is another key, so a stale statement
cannot be found. Parts of an expression without an order of their own (the columns a `drop`
removes, a frozenset) are written sorted, so that the digest does not depend on the process's
string hashing. An expression holding Python-made data (a memtable) is not kept.

The file is a SQLite database in `$TOPRATED_CACHE_DIR` (default `$XDG_CACHE_HOME/toprated`, else
`~/.cache/toprated`); `TOPRATED_CACHE_DIR=off` turns it off. It is a cache: any failure to read or
write it (a read-only disk, a locked file) is ignored, and the statement is compiled as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pickle
import sqlite3
import threading
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.operations as ops

CACHE_DIR = "TOPRATED_CACHE_DIR"

#: How many statements the file keeps; the oldest go first.
ENTRIES = 4000

#: What else decides the SQL an expression compiles to; bump FORMAT when what is kept changes.
FORMAT = 1
_VERSIONS = tuple(f"{name}={version(name)}" for name in ("ibis-framework", "sqlglot", "duckdb"))

_lock = threading.Lock()
_connections: dict[Path, sqlite3.Connection | None] = {}


def cache_path() -> Path | None:
    """The cache file, or None when the cache is turned off."""
    where = os.environ.get(CACHE_DIR)
    if where is not None and where.strip().lower() in ("", "off", "0", "false", "no"):
        return None
    if where:
        return Path(where) / "compiled.sqlite3"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "toprated" / "compiled.sqlite3"


class _Unkeyable(Exception):
    """An expression that is not kept: it holds Python-made data."""


class _Pickler(pickle.Pickler):
    """Pickles an expression the same way in every process: backends (connections) as a name, and
    the frozensets of its operations sorted (pickle writes a frozenset in the process's hash order,
    and `reducer_override` is not called for one: so at the operation holding it). The pickle is a
    key only, never loaded."""

    def persistent_id(self, obj: object) -> str | None:
        if isinstance(obj, ibis.BaseBackend):
            return f"backend:{obj.name}"
        return None

    def reducer_override(self, obj: object) -> Any:
        if isinstance(obj, ops.InMemoryTable):
            raise _Unkeyable
        if isinstance(obj, ops.Node):
            reduced = obj.__reduce__()
            if isinstance(reduced, tuple) and len(reduced) == 2 and len(reduced[1]) == 1:
                (fields,) = reduced[1]
                if isinstance(fields, dict) and any(isinstance(v, frozenset) for v in fields.values()):
                    return type(obj), (tuple((k, _ordered(v)) for k, v in fields.items()),)
        return NotImplemented


def _ordered(value: object) -> object:
    return ("frozenset", tuple(sorted(value, key=repr))) if isinstance(value, frozenset) else value


def digest(backend: str, key: object) -> str | None:
    """The key's digest, or None for a key that is not kept (memtables, objects that do not pickle)."""
    out = io.BytesIO()
    try:
        _Pickler(out, protocol=5).dump((FORMAT, _VERSIONS, backend, key))
    except (_Unkeyable, pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return None
    return hashlib.sha256(out.getvalue()).hexdigest()


def _connection(path: Path) -> sqlite3.Connection | None:
    """This process's connection to the cache file (made once; None if it cannot be opened)."""
    if path in _connections:
        return _connections[path]
    con = None
    with contextlib.suppress(OSError, sqlite3.Error):
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path, timeout=2, check_same_thread=False, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=OFF")  # a cache: a lost write costs a compile, nothing more
        con.execute("CREATE TABLE IF NOT EXISTS compiled (digest TEXT PRIMARY KEY, statements TEXT NOT NULL)")
    _connections[path] = con
    return con


def _get(path: Path, key: str) -> tuple[str, ...] | None:
    with _lock, contextlib.suppress(sqlite3.Error, ValueError):
        con = _connection(path)
        if con is None:
            return None
        row = con.execute("SELECT statements FROM compiled WHERE digest = ?", (key,)).fetchone()
        if row is not None:
            return tuple(json.loads(row[0]))
    return None


def _put(path: Path, key: str, statements: tuple[str, ...]) -> None:
    with _lock, contextlib.suppress(sqlite3.Error):
        con = _connection(path)
        if con is None:
            return
        con.execute("INSERT OR REPLACE INTO compiled VALUES (?, ?)", (key, json.dumps(statements)))
        # the oldest first: rowids grow with each insert
        con.execute(
            "DELETE FROM compiled WHERE rowid <= (SELECT max(rowid) FROM compiled) - ?",
            (ENTRIES,),
        )


def compiled_once(backend: str, key: object, make: Callable[[], tuple[str, ...]]) -> tuple[str, ...]:
    """`make()`, the statements compiled for `key`, or what a process made for the same key before."""
    path = cache_path()
    found = digest(backend, key) if path is not None else None
    if path is None or found is None:
        return make()
    kept = _get(path, found)
    if kept is not None:
        return kept
    made = make()
    _put(path, found, made)
    return made


def forget() -> None:
    """Close this process's connections to cache files (tests point the cache elsewhere)."""
    with _lock:
        for con in _connections.values():
            if con is not None:
                con.close()
        _connections.clear()
