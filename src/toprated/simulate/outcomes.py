"""What happens after (or during) contracts: feedback, disputes, refunds, removal requests, flagged clients."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from toprated.simulate.chunk import DAY, HOUR, Chunk
from toprated.simulate.contracts import CANCELLED, EXCELLENT, NEGATIVE, NEUTRAL, Contracts
from toprated.simulate.population import Freelancers
from toprated.simulate.render import choose, fixed_ids, integers, money, obj, tenths

DISPUTE_OUTCOMES = ("freelancer_won", "freelancer_lost", "settled")
FLAG_REASONS = ("poor_collaboration", "suspended", "payment_issues")


def emit_feedback(chunk: Chunk, c: Contracts) -> np.ndarray:
    """End-of-contract feedback matching each contract's class; returns the feedback time (-1: none)."""
    s, rng = chunk.settings, chunk.rng
    n = len(c.owner)
    p = np.where(c.reason == CANCELLED, s.feedback_share * 0.5, s.feedback_share)
    when = c.end + chunk.uniform(600, 14 * DAY, n)
    given = c.ended & (rng.random(n) < p) & (when <= chunk.end)
    rows = np.flatnonzero(given)
    k = c.klass[rows]
    m = len(rows)
    top = np.clip(51 - rng.geometric(0.55, m), 45, 50)
    public = np.select([k == EXCELLENT, k == NEUTRAL], [top, rng.integers(30, 45, m)], rng.integers(10, 30, m))
    private = np.select(
        [k == EXCELLENT, k == NEUTRAL],
        [rng.choice([10, 9, 8], m, p=[0.7, 0.2, 0.1]), rng.integers(6, 8, m)],
        rng.integers(0, 6, m),
    )
    r = rng.random(m)
    has_public = r >= s.private_only_share
    has_private = r < 1 - s.public_only_share
    has_public[~has_public & ~has_private] = True
    # "public_score" must not lead the object since it may be absent: contract_id goes first.
    data = obj(
        ("contract_id", c.ids.take(pa.array(rows)), "s"),
        ("public_score", tenths(public), "r", has_public),
        ("private_score", integers(private), "r", has_private),
    )
    chunk.events.add("feedback.given", when[rows], data)
    return np.where(given, when, -1)


def emit_disputes_and_refunds(chunk: Chunk, c: Contracts) -> None:
    """A few disputes (more on bad contracts) with each outcome, and refunds of part of a payment."""
    s, rng = chunk.settings, chunk.rng
    n = len(c.owner)
    stop = np.minimum(c.end, chunk.end)
    p = np.where(c.klass == NEGATIVE, s.dispute_share_if_negative, s.dispute_share)
    rows = np.flatnonzero((rng.random(n) < p) & (c.start + 2 * HOUR <= stop))
    opened = c.start[rows] + HOUR + (rng.uniform(0.2, 0.9, len(rows)) * (stop[rows] - c.start[rows] - HOUR))
    opened = opened.astype(np.int64)
    resolved = opened + chunk.uniform(2 * DAY, 45 * DAY, len(rows))
    outcome = rng.choice(3, len(rows), p=np.array(s.dispute_outcomes) / sum(s.dispute_outcomes))
    dispute_ids = fixed_ids("d", (chunk.first + c.owner[rows], 8), (c.ordinal[rows], 4))
    chunk.events.add(
        "dispute.opened",
        opened,
        obj(("contract_id", c.ids.take(pa.array(rows)), "s"), ("dispute_id", dispute_ids, "s")),
    )
    done = resolved <= chunk.end
    chunk.events.add(
        "dispute.resolved",
        resolved[done],
        obj(
            ("dispute_id", dispute_ids.filter(pa.array(done)), "s"),
            ("outcome", choose(DISPUTE_OUTCOMES, outcome[done]), "s"),
        ),
    )

    # The first payment of each contract is the one refunded (partly or fully).
    paid, first_idx = np.unique(c.pay_contract, return_index=True)
    first_t = np.full(n, -1, dtype=np.int64)
    first_cents = np.zeros(n, dtype=np.int64)
    first_t[paid], first_cents[paid] = c.pay_time[first_idx], c.pay_cents[first_idx]
    when = np.full(n, -1, dtype=np.int64)
    plain = np.flatnonzero((first_t >= 0) & (rng.random(n) < s.refund_share))
    when[plain] = chunk.uniform(first_t[plain] + 60, np.maximum(stop[plain], first_t[plain] + 60))
    settled = done & (outcome > 0) & (rng.random(len(rows)) < 0.6)  # lost or settled: money back
    lost = rows[settled]
    when[lost] = np.maximum(resolved[settled] + 60, first_t[lost] + 60)
    refund = np.flatnonzero((when >= 0) & (first_t >= 0) & (when <= chunk.end))
    cents = np.maximum(first_cents[refund] * rng.uniform(0.2, 1.0, len(refund)), 100).astype(np.int64)
    cents = np.minimum(cents, first_cents[refund])
    chunk.events.add(
        "payment.made",
        when[refund],
        obj(("contract_id", c.ids.take(pa.array(refund)), "s"), ("amount", money(cents), "s"), ("refund", "true", "r")),
    )


def emit_removal_requests(chunk: Chunk, f: Freelancers, c: Contracts, feedback_t: np.ndarray) -> None:
    """Busy freelancers ask to remove some disappointing feedback (the engine decides)."""
    s, rng = chunk.settings, chunk.rng
    n = len(c.owner)
    busy = f.n_contracts[c.owner] >= 10
    ask = busy & (feedback_t >= 0) & (c.klass != EXCELLENT) & (rng.random(n) < s.removal_request_share)
    when = feedback_t + chunk.uniform(DAY, 30 * DAY, n)
    rows = np.flatnonzero(ask & (when <= chunk.end))
    asker = np.where(c.agency[rows] >= 0, c.agency[rows], c.owner[rows])
    by = f.ids.take(pa.array(asker))
    by = pc.if_else(pa.array(rng.random(len(rows)) < 0.03), "ops-support", by)
    scope = choose(("jss_only", "jss_and_profile"), (rng.random(len(rows)) < 0.4).astype(np.int64))
    chunk.events.add(
        "feedback.removal_requested",
        when[rows],
        obj(("contract_id", c.ids.take(pa.array(rows)), "s"), ("scope", scope, "s"), ("by", by, "s")),
    )


def emit_flagged_clients(chunk: Chunk, c: Contracts) -> int:
    """Flag a few clients some time after their first contract; returns the number of distinct clients."""
    rng = chunk.rng
    clients, first_row = np.unique(c.client, return_index=True)
    first = np.full(len(clients), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, np.searchsorted(clients, c.client), c.start)
    who = np.flatnonzero(rng.random(len(clients)) < chunk.settings.flagged_client_share)
    when = chunk.uniform(first[who] + HOUR, chunk.end)
    keep = when <= chunk.end
    who, when = who[keep], when[keep]
    ids = c.client_ids.take(pa.array(first_row[who]))
    reason = choose(FLAG_REASONS, rng.choice(3, len(who), p=[0.6, 0.3, 0.1]))
    chunk.events.add("client.flagged", when, obj(("client_id", ids, "s"), ("reason", reason, "s")))
    return len(clients)
