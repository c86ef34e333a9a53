"""Compiled SQL kept on disk, from one process to the next.

Each `toprated` command is a process of its own: `run-week` from a scheduler, `explain` from a
terminal. Compiling the Ibis expressions of an evaluation into SQL is pure Python and slow: a weekly
run at a million freelancers compiled for 4.2 s of its 33 s, the first explanation of a process for
1.6 s of its 3.6 s. The SQL is the same from one process to the next (a weekly run's dates are
stand-ins, see `toprated.metrics.compiled.dated`), so it is looked up here first.

The key is a digest of the expression itself (written out whole: its tables' names and columns,
every literal, every operation), of the backend's dialect and of the versions of the libraries that
compile it: a changed threshold or a new version of ibis is another key, so a stale statement
cannot be found. It is the same in every process (see `_encode`). An expression holding
Python-made data (a memtable) is not kept.

The file is a SQLite database in `$TOPRATED_CACHE_DIR` (default `$XDG_CACHE_HOME/toprated`, else
`~/.cache/toprated`); `TOPRATED_CACHE_DIR=off` turns it off. It is a cache: any failure to read or
write it (a read-only disk, a locked file) is ignored, and the statement is compiled as before.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import enum
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import ibis
import ibis.expr.operations as ops
from ibis.common.grounds import Concrete

CACHE_DIR = "TOPRATED_CACHE_DIR"

#: How many statements the file keeps; the oldest go first.
ENTRIES = 4000

#: How many recorded builds (`toprated.evaluation.plans`) the file keeps: some 100 KB each.
PLANS = 200

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
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory to be found: no cache
            return None
    return Path(base) / "toprated" / "compiled.sqlite3"


class _Unkeyable(Exception):
    """A key that is not kept: it holds Python-made data, or an object without a stable form."""


_PLAIN = (type(None), bool, int, float, str, bytes, decimal.Decimal, datetime.date, datetime.time, datetime.timedelta)


def _encode(obj: object, seen: dict[object, int], out: list[str]) -> None:
    """`obj` written out the same way in every process, whatever its objects' identities.

    Pickle would not do: it writes an object again or refers back to it by identity, so two equal
    expressions built differently (a schema made anew, a string not interned) pickle differently,
    and a frozenset in the process's hash order. Here an Ibis object equal to one written before is
    a reference to it (`seen`, by equality), and a set is sorted."""
    if isinstance(obj, (*_PLAIN, enum.Enum)):
        out.append(f"{type(obj).__name__}:{obj!r}")
    elif isinstance(obj, Concrete):  # an operation, a schema, a data type
        if isinstance(obj, ops.InMemoryTable):
            raise _Unkeyable
        at = seen.get(obj)
        if at is not None:
            out.append(f"@{at}")
            return
        out.append(f"({type(obj).__module__}.{type(obj).__qualname__}")
        for name, value in zip(obj.__argnames__, obj.__args__, strict=True):
            out.append(name)
            _encode(value, seen, out)
        out.append(")")
        seen[obj] = len(seen)
    elif isinstance(obj, (tuple, list)):
        out.append("[")
        for value in obj:
            _encode(value, seen, out)
        out.append("]")
    elif isinstance(obj, dict):  # in its order: a schema's columns are in order
        out.append("{")
        for key, value in obj.items():
            _encode(key, seen, out)
            _encode(value, seen, out)
        out.append("}")
    elif isinstance(obj, (frozenset, set)):
        parts = []
        for value in obj:
            part: list[str] = []
            _encode(value, seen, part)
            parts.append("\x1f".join(part))
        out.append("<" + "\x1e".join(sorted(parts)) + ">")
    elif isinstance(obj, ibis.BaseBackend):
        out.append(f"backend:{obj.name}")
    elif hasattr(obj, "__toprated_key__"):
        _encode(obj.__toprated_key__(), seen, out)
    else:
        raise _Unkeyable


def digest(backend: str, key: object) -> str | None:
    """The key's digest, or None for a key that is not kept (memtables, objects without a stable
    form: see `_encode`)."""
    out: list[str] = []
    try:
        _encode((FORMAT, _VERSIONS, backend, key), {}, out)
    except (_Unkeyable, RecursionError):
        return None
    return hashlib.sha256("\x1f".join(out).encode()).hexdigest()


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
        con.execute("CREATE TABLE IF NOT EXISTS plans (digest TEXT PRIMARY KEY, plan BLOB NOT NULL)")
    _connections[path] = con
    return con


def _column_and_cap(table: str) -> tuple[str, int]:
    """What a table of the file holds (beside its `digest`), and how many rows it keeps."""
    return {"compiled": ("statements", ENTRIES), "plans": ("plan", PLANS)}[table]


def _read(path: Path, table: str, key: str) -> str | bytes | None:
    column, _ = _column_and_cap(table)
    with _lock, contextlib.suppress(sqlite3.Error):
        con = _connection(path)
        row = None if con is None else con.execute(f"SELECT {column} FROM {table} WHERE digest = ?", (key,)).fetchone()
        return None if row is None else row[0]
    return None


def _write(path: Path, table: str, key: str, value: str | bytes) -> None:
    """Keep `value` under `key`; the oldest rows beyond the table's cap go (rowids grow with each insert)."""
    _, cap = _column_and_cap(table)
    with _lock, contextlib.suppress(sqlite3.Error):
        con = _connection(path)
        if con is None:
            return
        con.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", (key, value))
        con.execute(f"DELETE FROM {table} WHERE rowid <= (SELECT max(rowid) FROM {table}) - ?", (cap,))


def kept_plan(key: str) -> bytes | None:
    """A recorded build kept under `key` (a digest), if the cache is on and holds one."""
    path = cache_path()
    found = None if path is None else _read(path, "plans", key)
    return None if found is None else bytes(found)


def keep_plan(key: str, plan: bytes) -> None:
    path = cache_path()
    if path is not None:
        _write(path, "plans", key, plan)


_code: list[str] = []


def code_digest() -> str:
    """A digest of toprated's own code (every module and the default programme), made once: a
    recorded build is the code's, and any change to the code must not find it."""
    if not _code:
        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        for f in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml")):
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
        _code.append(h.hexdigest())
    return _code[0]


def compiled_once(backend: str, key: object, make: Callable[[], tuple[str, ...]]) -> tuple[str, ...]:
    """`make()`, the statements compiled for `key`, or what a process made for the same key before."""
    path = cache_path()
    found = digest(backend, key) if path is not None else None
    if path is None or found is None:
        return make()
    kept = _read(path, "compiled", found)
    if kept is not None:
        with contextlib.suppress(ValueError, TypeError):  # unreadable: compiled again
            return tuple(json.loads(kept))
    made = make()
    _write(path, "compiled", found, json.dumps(made))
    return made


def forget() -> None:
    """Close this process's connections to cache files (tests point the cache elsewhere)."""
    with _lock:
        for con in _connections.values():
            if con is not None:
                con.close()
        _connections.clear()
