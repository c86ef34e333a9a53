"""Initial schema: the raw event log and the typed tables of toprated/store/schema.py.

Written by hand and frozen: later changes to schema.py come with a new migration, never an edit
here. `public_score` is DOUBLE (DuckDB's FLOAT is 4 bytes: 4.7 would read back as 4.699999809).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 2)


def _id(name: str, **kw: object) -> sa.Column:
    return sa.Column(name, sa.String, **kw)


def _when() -> list[sa.Column]:
    return [sa.Column("ts", sa.DateTime, nullable=False), sa.Column("day", sa.Date, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "events",
        _id("id", primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String, nullable=False),
        sa.Column("time", sa.DateTime, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("source", sa.String),
        sa.Column("specversion", sa.String),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("digest", sa.String, nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "freelancers",
        _id("freelancer_id", primary_key=True),
        *_when(),
        sa.Column("name", sa.String),
        sa.Column("migrated_from", sa.String),
        _id("event_id", nullable=False),
    )
    op.create_table(
        "agencies",
        _id("agency_id", primary_key=True),
        _id("owner_id", nullable=False),
        *_when(),
        sa.Column("name", sa.String),
        _id("event_id", nullable=False),
    )
    op.create_table(
        "profiles",
        _id("event_id", primary_key=True),
        _id("freelancer_id", nullable=False),
        *_when(),
        sa.Column("completeness", sa.Integer, nullable=False),
        sa.Column("has_photo", sa.Boolean, nullable=False),
        sa.Column("missing", sa.Text),
    )
    op.create_table(
        "availability",
        _id("event_id", primary_key=True),
        _id("freelancer_id", nullable=False),
        *_when(),
        sa.Column("available", sa.Boolean, nullable=False),
        sa.Column("hours_per_week", sa.Integer),
        sa.Column("return_on", sa.Date),
    )
    op.create_table(
        "activities",
        _id("event_id", primary_key=True),
        _id("freelancer_id", nullable=False),
        *_when(),
        sa.Column("kind", sa.String, nullable=False),
    )
    op.create_table(
        "readiness_tests",
        _id("event_id", primary_key=True),
        _id("freelancer_id", nullable=False),
        *_when(),
    )
    op.create_table(
        "agency_profiles",
        _id("event_id", primary_key=True),
        _id("agency_id", nullable=False),
        *_when(),
        sa.Column("has_logo", sa.Boolean, nullable=False),
        sa.Column("has_overview", sa.Boolean, nullable=False),
        sa.Column("has_services", sa.Boolean, nullable=False),
        sa.Column("completeness", sa.Integer),
    )
    op.create_table(
        "memberships",
        _id("event_id", primary_key=True),
        _id("agency_id", nullable=False),
        _id("freelancer_id", nullable=False),
        *_when(),
        sa.Column("joined", sa.Boolean, nullable=False),
    )
    op.create_table(
        "client_flags",
        _id("event_id", primary_key=True),
        _id("client_id", nullable=False),
        *_when(),
        sa.Column("reason", sa.String, nullable=False),
    )
    op.create_table(
        "contracts",
        _id("contract_id", primary_key=True),
        _id("freelancer_id", nullable=False),
        _id("client_id", nullable=False),
        _id("agency_id"),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("category", sa.String, nullable=False),
        sa.Column("budget", MONEY),
        *_when(),
        _id("event_id", nullable=False),
    )
    op.create_table(
        "contract_ends",
        _id("contract_id", primary_key=True),
        *_when(),
        sa.Column("reason", sa.String, nullable=False),
        _id("event_id", nullable=False),
    )
    op.create_table(
        "payments",
        _id("event_id", primary_key=True),
        _id("contract_id", nullable=False),
        *_when(),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("refund", sa.Boolean, nullable=False),
    )
    op.create_table(
        "feedback",
        _id("event_id", primary_key=True),
        _id("contract_id", nullable=False),
        *_when(),
        sa.Column("public_score", sa.Double),
        sa.Column("private_score", sa.Integer),
    )
    op.create_table(
        "disputes",
        _id("dispute_id", primary_key=True),
        _id("contract_id", nullable=False),
        *_when(),
        _id("event_id", nullable=False),
    )
    op.create_table(
        "dispute_resolutions",
        _id("dispute_id", primary_key=True),
        *_when(),
        sa.Column("outcome", sa.String, nullable=False),
        _id("event_id", nullable=False),
    )
    op.create_table(
        "holds",
        _id("hold_id", primary_key=True),
        _id("entity_id", nullable=False),
        *_when(),
        sa.Column("reason", sa.String, nullable=False),
        _id("event_id", nullable=False),
    )
    op.create_table(
        "hold_lifts",
        _id("hold_id", primary_key=True),
        *_when(),
        _id("event_id", nullable=False),
    )
    op.create_table(
        "violations",
        _id("event_id", primary_key=True),
        _id("entity_id", nullable=False),
        *_when(),
        sa.Column("kind", sa.String, nullable=False),
    )
    op.create_table(
        "manual_badges",
        _id("event_id", primary_key=True),
        _id("entity_id", nullable=False),
        *_when(),
        sa.Column("badge", sa.String, nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("actor", sa.String, nullable=False),  # `by` in the event (BY is reserved in SQL)
        sa.Column("reason", sa.String),
    )
    op.create_table(
        "removal_requests",
        _id("event_id", primary_key=True),
        _id("contract_id", nullable=False),
        *_when(),
        sa.Column("scope", sa.String, nullable=False),
        sa.Column("actor", sa.String, nullable=False),  # `by` in the event (BY is reserved in SQL)
    )


TABLES = (
    "removal_requests",
    "manual_badges",
    "violations",
    "hold_lifts",
    "holds",
    "dispute_resolutions",
    "disputes",
    "feedback",
    "payments",
    "contract_ends",
    "contracts",
    "client_flags",
    "memberships",
    "agency_profiles",
    "readiness_tests",
    "activities",
    "availability",
    "profiles",
    "agencies",
    "freelancers",
    "events",
)


def downgrade() -> None:
    for name in TABLES:
        op.drop_table(name)
