"""Column-wise import of event files: the fast path behind `Store.import_files`, exact by construction.

`Store.import_records` (core.py) validates one event at a time with pydantic and plans in Python; this
package gets the same result for whole files at DuckDB speed. Every rule stays where it is: a row
the vectorised checks cannot vouch for, or that interacts with anything unusual, goes through the
per-event path (`validate`, `plan_import`) and so gets exactly today's outcome and message.

1. **Staging** (staging.py), before the transaction: every file into one DuckDB table, each row
   checked by one of two lanes — a regular expression per event type for the exact shapes the
   simulator writes (templates.py), else a field-by-field check in SQL (checks.py), both built from
   what the models accept (spec.py). Rows neither lane vouches for are read and validated per event.
2. **Planning** (planning.py): the valid staged rows that nothing in the batch or the store competes
   with are decided in SQL; the rest go through `plan_import` with the slow items, as today.
3. **Writing** (writing.py, with the entry point `import_files`), in one transaction with the
   planning: `INSERT … SELECT` on DuckDB, `COPY` on PostgreSQL; `seq` in arrival order.
"""

from toprated.store.fast.writing import LAST_STATS, import_files

__all__ = ["LAST_STATS", "import_files"]
