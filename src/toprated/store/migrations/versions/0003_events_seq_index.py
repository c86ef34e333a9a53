"""PostgreSQL: an index on `events.seq`, the arrival number.

A weekly run carries the contracts' ledger the previous run kept only if no event that arrived
since (`seq` after the ledger's) is dated on or before its day (`toprated.runs.carry`); it asks for
the last `seq` and for the events after one. PostgreSQL answers both from this index instead of
reading every event. DuckDB answers them from its per-block statistics of the column, as events are
written in arrival order, and an index would slow its bulk loads: none there.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEX = "events_seq_idx"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(INDEX, "events", ["seq"], if_not_exists=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(INDEX, table_name="events", if_exists=True)
