"""The store's tables: the append-only raw event log and the typed tables derived from it.

The raw `events` table is the source of truth (DESIGN.md). Every typed table is a projection of it,
written in the same transaction as the raw rows, and is append-only too: a fact that changes over
time (a profile, an availability, a membership) is one row per event, and the evaluation picks the
latest one up to the as-of day. Rows carry `ts` (the event's UTC instant) and `event_id` so that
"latest" means "latest by (time, id)" as programme.md section 10 ("Event order") requires.

Money is DECIMAL(18,2); days are UTC calendar days (DATE); instants are naive UTC TIMESTAMPs.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

Money = sa.Numeric(18, 2)


def _id(name: str, **kw: object) -> sa.Column:
    return sa.Column(name, sa.String, **kw)


def _when() -> list[sa.Column]:
    """The instant and UTC day of the event that defines the row."""
    return [sa.Column("ts", sa.DateTime, nullable=False), sa.Column("day", sa.Date, nullable=False)]


events = sa.Table(
    "events",
    metadata,
    _id("id", primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),  # arrival order: for audit and to tell late events (carry.py)
    sa.Column("type", sa.String, nullable=False),
    sa.Column("time", sa.DateTime, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("source", sa.String),
    sa.Column("specversion", sa.String),
    sa.Column("data", sa.Text, nullable=False),  # canonical JSON of `data`
    sa.Column("imported_at", sa.DateTime, nullable=False),
)

freelancers = sa.Table(
    "freelancers",
    metadata,
    _id("freelancer_id", primary_key=True),
    *_when(),  # day = joined on
    sa.Column("name", sa.String),
    sa.Column("migrated_from", sa.String),
    _id("event_id", nullable=False),
)

agencies = sa.Table(
    "agencies",
    metadata,
    _id("agency_id", primary_key=True),
    _id("owner_id", nullable=False),
    *_when(),  # day = created on
    sa.Column("name", sa.String),
    _id("event_id", nullable=False),
)

profiles = sa.Table(
    "profiles",
    metadata,
    _id("event_id", primary_key=True),
    _id("freelancer_id", nullable=False),
    *_when(),
    sa.Column("completeness", sa.Integer, nullable=False),
    sa.Column("has_photo", sa.Boolean, nullable=False),
    sa.Column("missing", sa.Text),  # JSON list or NULL
)

availability = sa.Table(
    "availability",
    metadata,
    _id("event_id", primary_key=True),
    _id("freelancer_id", nullable=False),
    *_when(),
    sa.Column("available", sa.Boolean, nullable=False),
    sa.Column("hours_per_week", sa.Integer),
    sa.Column("return_on", sa.Date),
)

activities = sa.Table(
    "activities",
    metadata,
    _id("event_id", primary_key=True),
    _id("freelancer_id", nullable=False),
    *_when(),
    sa.Column("kind", sa.String, nullable=False),
)

readiness_tests = sa.Table(
    "readiness_tests",
    metadata,
    _id("event_id", primary_key=True),
    _id("freelancer_id", nullable=False),
    *_when(),
)

agency_profiles = sa.Table(
    "agency_profiles",
    metadata,
    _id("event_id", primary_key=True),
    _id("agency_id", nullable=False),
    *_when(),
    sa.Column("has_logo", sa.Boolean, nullable=False),
    sa.Column("has_overview", sa.Boolean, nullable=False),
    sa.Column("has_services", sa.Boolean, nullable=False),
    sa.Column("completeness", sa.Integer),
)

memberships = sa.Table(
    "memberships",
    metadata,
    _id("event_id", primary_key=True),
    _id("agency_id", nullable=False),
    _id("freelancer_id", nullable=False),
    *_when(),
    sa.Column("joined", sa.Boolean, nullable=False),  # True: member_joined, False: member_left
)

client_flags = sa.Table(
    "client_flags",
    metadata,
    _id("event_id", primary_key=True),
    _id("client_id", nullable=False),
    *_when(),
    sa.Column("reason", sa.String, nullable=False),
)

contracts = sa.Table(
    "contracts",
    metadata,
    _id("contract_id", primary_key=True),
    _id("freelancer_id", nullable=False),
    _id("client_id", nullable=False),
    _id("agency_id"),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("category", sa.String, nullable=False),
    sa.Column("budget", Money),
    *_when(),  # day = started on
    _id("event_id", nullable=False),
)

contract_ends = sa.Table(
    "contract_ends",
    metadata,
    _id("contract_id", primary_key=True),
    *_when(),  # day = ended on
    sa.Column("reason", sa.String, nullable=False),
    _id("event_id", nullable=False),
)

payments = sa.Table(
    "payments",
    metadata,
    _id("event_id", primary_key=True),
    _id("contract_id", nullable=False),
    *_when(),
    sa.Column("amount", Money, nullable=False),  # always > 0; `refund` says which way it flows
    sa.Column("refund", sa.Boolean, nullable=False),
)

feedback = sa.Table(
    "feedback",
    metadata,
    _id("event_id", primary_key=True),
    _id("contract_id", nullable=False),
    *_when(),
    sa.Column("public_score", sa.Double),  # not Float: 4-byte REAL on DuckDB
    sa.Column("private_score", sa.Integer),
)

disputes = sa.Table(
    "disputes",
    metadata,
    _id("dispute_id", primary_key=True),
    _id("contract_id", nullable=False),
    *_when(),  # day = opened on
    _id("event_id", nullable=False),
)

dispute_resolutions = sa.Table(
    "dispute_resolutions",
    metadata,
    _id("dispute_id", primary_key=True),
    *_when(),  # day = resolved on
    sa.Column("outcome", sa.String, nullable=False),
    _id("event_id", nullable=False),
)

holds = sa.Table(
    "holds",
    metadata,
    _id("hold_id", primary_key=True),
    _id("entity_id", nullable=False),  # a freelancer or an agency (one id namespace)
    *_when(),  # day = placed on
    sa.Column("reason", sa.String, nullable=False),
    _id("event_id", nullable=False),
)

hold_lifts = sa.Table(
    "hold_lifts",
    metadata,
    _id("hold_id", primary_key=True),
    *_when(),  # day = lifted on
    _id("event_id", nullable=False),
)

violations = sa.Table(
    "violations",
    metadata,
    _id("event_id", primary_key=True),
    _id("entity_id", nullable=False),
    *_when(),
    sa.Column("kind", sa.String, nullable=False),  # off_platform_payment | other
)

manual_badges = sa.Table(
    "manual_badges",
    metadata,
    _id("event_id", primary_key=True),
    _id("entity_id", nullable=False),
    *_when(),
    sa.Column("badge", sa.String, nullable=False),  # expert_vetted | rising_talent
    sa.Column("granted", sa.Boolean, nullable=False),  # True: badge.granted, False: badge.revoked
    sa.Column("actor", sa.String, nullable=False),  # `by` in the event; BY is reserved in SQL
    sa.Column("reason", sa.String),
)

removal_requests = sa.Table(
    "removal_requests",
    metadata,
    _id("event_id", primary_key=True),
    _id("contract_id", nullable=False),
    *_when(),
    sa.Column("scope", sa.String, nullable=False),  # jss_only | jss_and_profile
    sa.Column("actor", sa.String, nullable=False),  # `by` in the event; BY is reserved in SQL
)

#: Typed tables in the order they may be (re)derived; `events` is not among them.
TYPED_TABLES: tuple[sa.Table, ...] = tuple(t for t in metadata.sorted_tables if t.name != "events")

#: The columns an explanation looks one entity's rows up by (`Scratch.facts_of`), indexed so that it
#: reads a few rows instead of scanning tables of millions (migration 0002). A large bulk load into
#: DuckDB drops them first and builds them again once it has committed (`store.lookups`).
LOOKUPS: dict[str, tuple[str, ...]] = {
    "freelancers": ("freelancer_id",),
    "contracts": ("freelancer_id", "agency_id"),
    "contract_ends": ("contract_id",),
    "payments": ("contract_id",),
    "feedback": ("contract_id",),
    "disputes": ("contract_id",),
    "removal_requests": ("contract_id",),
    "profiles": ("freelancer_id",),
    "availability": ("freelancer_id",),
    "activities": ("freelancer_id",),
    "readiness_tests": ("freelancer_id",),
    "memberships": ("agency_id", "freelancer_id"),
    "agency_profiles": ("agency_id",),
    "holds": ("entity_id",),
    "violations": ("entity_id",),
    "manual_badges": ("entity_id",),
}

#: (index, table, column) of each lookup index: the names the migration and `store.lookups` use.
LOOKUP_INDEXES: tuple[tuple[str, str, str], ...] = tuple(
    (f"ix_{table}_{column}", table, column) for table, columns in LOOKUPS.items() for column in columns
)

for _name, _table, _column in LOOKUP_INDEXES:
    sa.Index(_name, metadata.tables[_table].c[_column])
