"""Contracts of a chunk: clients (with rehires), kinds, schedules of payments and endings.

Within one contract the events are strictly ordered in time: started < every payment < ended.
A contract whose scheduled end lies after the history is still running at `as_of` (no end event);
hourly contracts may be long-term (6–24 months of weekly or biweekly payments).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from toprated.simulate.agencies import Membership
from toprated.simulate.chunk import DAY, HOUR, Chunk
from toprated.simulate.population import Freelancers
from toprated.simulate.render import choose, fixed_ids, money, obj

COMPLETED, CANCELLED, NO_WORK = 0, 1, 2
END_REASONS = ("completed", "cancelled", "no_work_delivered")
EXCELLENT, NEUTRAL, NEGATIVE = 0, 1, 2


@dataclass
class Contracts:
    """Per-contract arrays of one chunk, plus the payments that were emitted."""

    owner: np.ndarray
    """Local index of the freelancer."""
    ordinal: np.ndarray
    ids: pa.Array
    start: np.ndarray
    client: np.ndarray
    client_ids: pa.Array
    agency: np.ndarray
    """Local index of the agency owner, -1 when the contract carries no agency."""
    end: np.ndarray
    """Scheduled end; the contract ended within the history where `ended`."""
    ended: np.ndarray
    reason: np.ndarray
    klass: np.ndarray
    """What the client thinks: EXCELLENT, NEUTRAL or NEGATIVE."""
    pay_contract: np.ndarray
    pay_time: np.ndarray
    pay_cents: np.ndarray


def _group_offsets(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row → group, row → ordinal within group) for groups of the given sizes."""
    group = np.repeat(np.arange(len(counts)), counts)
    ordinal = np.arange(len(group)) - np.repeat(np.cumsum(counts) - counts, counts)
    return group, ordinal


def _clients(chunk: Chunk, counts: np.ndarray, ordinal: np.ndarray) -> np.ndarray:
    """Client of each contract: a previous client of the same freelancer (rehire) or a pool draw."""
    s, rng = chunk.settings, chunk.rng
    c = len(ordinal)
    first_row = np.repeat(np.cumsum(counts) - counts, counts)
    rehire = (ordinal > 0) & (rng.random(c) < s.rehire_share)
    ptr = np.where(rehire, first_row + (rng.random(c) * ordinal).astype(np.int64), np.arange(c))
    while True:  # pointer jumping: every rehire points at the contract that introduced the client
        nxt = ptr[ptr]
        if np.array_equal(nxt, ptr):
            break
        ptr = nxt
    new = np.flatnonzero(~rehire)
    pool = max(1, int(np.ceil(len(new) * s.clients_per_new_contract)))
    drawn = np.zeros(c, dtype=np.int64)
    drawn[new] = (pool * rng.random(len(new)) ** s.client_skew).astype(np.int64)
    return drawn[ptr]


def build_contracts(chunk: Chunk, f: Freelancers, mem: Membership) -> Contracts:
    """Draw every contract and its payments; emit started, payment and ended events."""
    s, rng = chunk.settings, chunk.rng
    counts = f.n_contracts
    owner, ordinal, start = chunk.spread(counts, f.first_work, f.last_work)
    start[ordinal == 0] = f.first_work[owner[ordinal == 0]]
    c = len(owner)
    client = _clients(chunk, counts, ordinal)

    hourly = rng.random(c) < s.hourly_share
    mix = np.array(list(s.category_mix.values()))
    category = np.where(rng.random(c) < s.category_loyalty, f.category[owner], rng.choice(len(mix), c, p=mix))
    a = mem.agency_of[owner]
    in_agency = (a >= 0) & (start >= mem.since[owner]) & (start < mem.until[owner])
    agency = np.where(in_agency & (rng.random(c) < s.agency_contract_share), a, -1)
    r = rng.random(c)
    reason = np.where(
        r < s.no_work_delivered_share,
        NO_WORK,
        np.where(r < s.no_work_delivered_share + s.cancelled_share, CANCELLED, COMPLETED),
    )
    q = f.quality[owner]
    u = rng.random(c)
    klass = np.where(u < q, EXCELLENT, np.where(rng.random(c) < s.negative_share_of_bad, NEGATIVE, NEUTRAL))
    klass[reason == NO_WORK] = NEGATIVE

    # Hourly schedule: one payment per (weekly or biweekly) period.
    period = np.where(rng.random(c) < s.weekly_share, 7, 14) * DAY
    long_term = hourly & (rng.random(c) < s.long_term_share)
    weeks = np.where(long_term, rng.uniform(26, 104, c), s.hourly_weeks_median * np.exp(0.8 * rng.standard_normal(c)))
    duration = (weeks * 7 * DAY).astype(np.int64)
    cap = np.where(f.churned[owner], f.last_work[owner] + 14 * DAY - start, duration)
    duration = np.maximum(np.minimum(duration, cap), period)
    n_hourly = np.maximum(duration // period, 1)
    hours = np.clip(s.hours_per_week_median * np.exp(0.6 * rng.standard_normal(c)), 1, 40)
    rate = f.hourly_rate[owner] * np.exp(0.15 * rng.standard_normal(c))
    # Fixed-price schedule: 1–5 milestones over days or weeks, adding up to the budget.
    n_fixed = rng.choice(np.arange(1, 6), c, p=[0.6, 0.25, 0.08, 0.04, 0.03])
    fixed_days = np.maximum(s.fixed_days_median * np.exp(0.8 * rng.standard_normal(c)), 1.0)
    fixed_span = (fixed_days * DAY).astype(np.int64)
    value = s.fixed_value_median * np.exp(s.fixed_value_sigma * rng.standard_normal(c))
    value_cents = np.maximum(np.round(value / 5), 4 * n_fixed) * 500

    n_sched = np.where(hourly, n_hourly, n_fixed)
    keep_n = np.where(reason == CANCELLED, (n_sched * rng.uniform(0, 0.8, c)).astype(np.int64), n_sched)
    keep_n[reason == NO_WORK] = 0
    pay_c, j = _group_offsets(keep_n)
    h = hourly[pay_c]
    p = len(pay_c)
    t_hourly = start[pay_c] + (j + 1) * period[pay_c] - rng.integers(0, DAY, p)
    t_fixed = start[pay_c] + fixed_span[pay_c] * (j + 1) // n_fixed[pay_c] - rng.integers(0, 2 * HOUR, p)
    pay_time = np.where(h, t_hourly, t_fixed)
    amount_h = rate[pay_c] * hours[pay_c] * period[pay_c] / (7 * DAY) * np.exp(0.3 * rng.standard_normal(p))
    cents_h = np.maximum(np.round(amount_h * 100), 100).astype(np.int64)
    w = rng.uniform(0.5, 1.5, p)
    w_sum = np.bincount(pay_c, weights=np.where(h, 0.0, w), minlength=c)
    w_all = np.bincount(pay_c, weights=np.where(h, 0.0, 1.0), minlength=c)  # milestones kept
    part = keep_n[pay_c] / n_fixed[pay_c]  # a cancelled contract pays only part of its budget
    share = np.floor(value_cents[pay_c] * part * w / np.maximum(w_sum[pay_c], 1e-9) / 100) * 100
    last = j == keep_n[pay_c] - 1
    floors = np.bincount(pay_c, weights=np.where(h | last, 0.0, share), minlength=c)
    full = (reason[pay_c] == COMPLETED) & (w_all[pay_c] == n_fixed[pay_c])
    cents_f = np.where(last & full, value_cents[pay_c] - floors[pay_c], share).astype(np.int64)
    pay_cents = np.where(h, cents_h, np.maximum(cents_f, 100))

    last_sched = np.where(hourly, start + n_hourly * period, start + fixed_span)
    end = last_sched + chunk.uniform(HOUR, 4 * DAY, c)
    last_paid = np.full(c, -1, dtype=np.int64)
    np.maximum.at(last_paid, pay_c, pay_time)
    early_end = np.where(last_paid >= 0, last_paid, start) + chunk.uniform(HOUR, 5 * DAY, c)
    end = np.where(reason == CANCELLED, early_end, end)
    end = np.where(reason == NO_WORK, start + chunk.uniform(2 * DAY, 20 * DAY, c), end)

    skip = h & (j > 0) & (rng.random(p) < s.skipped_week_share)
    emit = ~skip & (pay_time <= chunk.end)
    pay_c, pay_time, pay_cents = pay_c[emit], pay_time[emit], pay_cents[emit]
    ended = end <= chunk.end

    gid = chunk.first + owner
    ids = fixed_ids("c", (gid, 8), (ordinal, 4))
    client_ids = fixed_ids("k", (np.full(c, chunk.index), 5), (client, 7))
    agency_ids = fixed_ids("a", (chunk.first + np.maximum(agency, 0), 8))
    budget = ~hourly & (rng.random(c) < 0.7)
    chunk.events.add(
        "contract.started",
        start,
        obj(
            ("contract_id", ids, "s"),
            ("freelancer_id", f.ids.take(pa.array(owner)), "s"),
            ("client_id", client_ids, "s"),
            ("kind", choose(("fixed", "hourly"), hourly.astype(np.int64)), "s"),
            ("category", choose(list(s.category_mix), category), "s"),
            ("agency_id", agency_ids, "s", agency >= 0),
            ("budget", money(value_cents), "s", budget),
        ),
    )
    chunk.events.add(
        "payment.made",
        pay_time,
        obj(("contract_id", ids.take(pa.array(pay_c)), "s"), ("amount", money(pay_cents), "s")),
    )
    chunk.events.add(
        "contract.ended",
        end[ended],
        obj(("contract_id", ids.filter(pa.array(ended)), "s"), ("reason", choose(END_REASONS, reason[ended]), "s")),
    )
    _invitations(chunk, f, owner, start)
    return Contracts(
        owner, ordinal, ids, start, client, client_ids, agency, end, ended, reason, klass, pay_c, pay_time, pay_cents
    )


def _invitations(chunk: Chunk, f: Freelancers, owner: np.ndarray, start: np.ndarray) -> None:
    """`freelancer.activity` of kind invitation_accepted shortly before some contracts start."""
    rng = chunk.rng
    rows = np.flatnonzero(rng.random(len(owner)) < chunk.settings.invitations_per_contract)
    join = f.join[owner[rows]]
    t = start[rows] - chunk.uniform(600, 3 * DAY, len(rows))
    t = np.where(t <= join + 60, join + 60 + (start[rows] - join) // 2, t)
    data = obj(("freelancer_id", f.ids.take(pa.array(owner[rows])), "s"), ("kind", "invitation_accepted", "s"))
    chunk.events.add("freelancer.activity", t, data)
