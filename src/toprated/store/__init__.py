"""The store (DESIGN.md): raw event log and typed tables on DuckDB or PostgreSQL, with migrations.

`open_store(url)` → `Store`; `Store.import_records(records)` → `ImportReport`; `Store.ibis()` for
the evaluation engine. The CLI command `toprated import` lives in `toprated.store.commands`.
"""

from toprated.store.core import ImportReport, Rejection, Store, open_store
from toprated.store.url import ENV_VAR, resolve_url

__all__ = ["ENV_VAR", "ImportReport", "Rejection", "Store", "open_store", "resolve_url"]
