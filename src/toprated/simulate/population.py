"""Freelancers of a chunk: who they are, when they join and work, and their profile and availability.

The latent traits drawn here drive everything else: `quality` (the chance a client is delighted),
`rate` (how many contracts they get, log-normal so that a minority is very busy) and the working
period [first_work, last_work] (churned freelancers stop before the end of the history).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from toprated.simulate.chunk import DAY, HOUR, Chunk
from toprated.simulate.render import booleans, choose, fixed_ids, integers, iso_dates, obj

FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chen",
    "Dana",
    "Emeka",
    "Fatima",
    "Gabriel",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lucia",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
)
LAST_INITIALS = tuple("ABCDEFGHIJKLMNOPRSTVWZ")
PROFILE_SECTIONS = (
    '["portfolio"]',
    '["employment_history"]',
    '["skills","portfolio"]',
    '["education","employment_history"]',
    '["overview","portfolio","certifications"]',
    '["photo"]',
    '["title","overview","skills","portfolio"]',
)


@dataclass
class Freelancers:
    """Per-freelancer arrays of one chunk (index i is freelancer `chunk.first + i`)."""

    gid: np.ndarray
    ids: pa.Array
    join: np.ndarray
    active: np.ndarray
    """Will get at least one contract."""
    first_work: np.ndarray
    last_work: np.ndarray
    """End of the working period: the end of the history unless the freelancer churns."""
    churned: np.ndarray
    n_contracts: np.ndarray
    quality: np.ndarray
    great: np.ndarray
    hourly_rate: np.ndarray
    category: np.ndarray
    """Index into `settings.category_mix` of the main category."""
    elance: np.ndarray
    last_seen: np.ndarray
    """Last instant the freelancer uses the marketplace at all."""


def draw_freelancers(chunk: Chunk) -> Freelancers:
    """Draw the latent traits of the chunk's freelancers."""
    s, rng, n = chunk.settings, chunk.rng, chunk.n
    span = chunk.end - chunk.start
    gid = np.arange(chunk.first, chunk.first + n, dtype=np.int64)
    early = rng.random(n) < s.early_join_share
    join = np.where(early, chunk.start + rng.random(n) * 60 * DAY, chunk.start + rng.random(n) * span)
    join = np.minimum(join.astype(np.int64), chunk.end - 2 * DAY)
    first_work = join + HOUR + (rng.exponential(s.first_contract_delay_days, n) * DAY).astype(np.int64)
    active = (rng.random(n) < s.active_share) & (first_work < chunk.end - 3 * DAY)
    churned = active & (rng.random(n) < s.churn_share)
    last_work = np.where(churned, chunk.uniform(first_work, chunk.end - 3 * DAY, n), chunk.end - 2 * DAY)
    last_work = np.maximum(last_work, first_work)

    great = rng.random(n) < s.great_freelancer_share
    a = s.ordinary_quality_concentration * s.ordinary_quality_mean
    b = s.ordinary_quality_concentration * (1 - s.ordinary_quality_mean)
    quality = np.where(great, rng.beta(40.0, 1.0, n), rng.beta(a, b, n))
    # Busy freelancers are a little more often the great ones; the factor keeps the mean rate at 1.
    boost = np.where(great, 1.25, 1 - 0.25 * s.great_freelancer_share / max(1 - s.great_freelancer_share, 1e-9))
    rate = np.exp(s.activity_sigma * rng.standard_normal(n) - s.activity_sigma**2 / 2) * boost
    work_span = (last_work - first_work) / max(span, 1)
    weight = np.where(active, rate * work_span, 0.0)
    mean_weight = weight[active].mean() if active.any() else 1.0
    expected = (s.contracts_per_active - 1) * weight / max(mean_weight, 1e-12)
    n_contracts = np.where(active, 1 + rng.poisson(expected), 0)
    n_contracts = np.minimum(n_contracts, s.max_contracts)

    mix = np.array(list(s.category_mix.values()))
    category = rng.choice(len(mix), n, p=mix / mix.sum())
    hourly_rate = s.hourly_rate_median * np.exp(s.hourly_rate_sigma * rng.standard_normal(n))
    elance = early & (rng.random(n) < s.elance_share / max(s.early_join_share, 1e-9))
    idle_end = join + (rng.random(n) * (chunk.end - join)).astype(np.int64)
    last_seen = np.where(active, np.maximum(last_work, first_work), idle_end)
    return Freelancers(
        gid,
        fixed_ids("f", (gid, 8)),
        join,
        active,
        first_work,
        last_work,
        churned,
        n_contracts,
        quality,
        great,
        hourly_rate,
        category,
        elance,
        last_seen,
    )


def emit_joined(chunk: Chunk, f: Freelancers) -> None:
    """`freelancer.joined` for everyone, with a name for most and `migrated_from` for the Elance ones."""
    rng, n = chunk.rng, chunk.n
    names = choose(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), n))
    initials = choose(LAST_INITIALS, rng.integers(0, len(LAST_INITIALS), n))
    full = pc.binary_join_element_wise(names, " ", initials, ".", "")
    data = obj(
        ("freelancer_id", f.ids, "s"),
        ("name", full, "s", rng.random(n) < 0.9),
        ("migrated_from", "elance", "s", f.elance),
    )
    chunk.events.add("freelancer.joined", f.join, data)


def emit_profiles(chunk: Chunk, f: Freelancers) -> None:
    """1–4 `freelancer.profile_updated` per freelancer, completeness rising to its final value."""
    s, rng, n = chunk.settings, chunk.rng, chunk.n
    complete_share = np.where(f.active, s.complete_profile_share_active, s.complete_profile_share_inactive)
    complete = rng.random(n) < complete_share
    final = np.where(complete, 100, rng.integers(30, 100, n))
    final = np.where(f.elance & ~complete & (rng.random(n) < 0.6), 90, final)
    photo = complete | (rng.random(n) < 0.55)
    counts = 1 + rng.binomial(3, 0.4, n)
    settle = np.minimum(f.join + (rng.exponential(30, n) * DAY).astype(np.int64) + HOUR, f.last_seen)
    owner, ordinal, times = chunk.spread(counts, f.join + 60, np.maximum(settle, f.join + 120))
    keep = times <= chunk.end
    owner, ordinal, times = owner[keep], ordinal[keep], times[keep]
    last = ordinal == counts[owner] - 1
    start_value = rng.integers(15, 60, len(owner))
    frac = (ordinal + 1) / counts[owner]
    value = np.where(last, final[owner], np.minimum(start_value + (final[owner] - start_value) * frac, 99))
    value = value.astype(np.int64)
    has_photo = np.where(last, photo[owner], photo[owner] & (ordinal > 0))
    missing = rng.integers(0, len(PROFILE_SECTIONS), len(owner))
    data = obj(
        ("freelancer_id", f.ids.take(pa.array(owner)), "s"),
        ("completeness", integers(value), "r"),
        ("has_photo", booleans(has_photo), "r"),
        ("missing", choose(PROFILE_SECTIONS, missing), "r", (value < 100) & (rng.random(len(owner)) < 0.7)),
    )
    chunk.events.add("freelancer.profile_updated", times, data)


def emit_availability(chunk: Chunk, f: Freelancers) -> None:
    """1–3 `freelancer.availability_updated`; the latest decides "availability up to date"."""
    s, rng, n = chunk.settings, chunk.rng, chunk.n
    working = f.active & ~f.churned
    available_final = rng.random(n) < np.where(working, s.available_share_active, s.available_share_other)
    future_return = rng.random(n) < s.future_return_share
    first_day = chunk.midnight_after(f.join)
    recent = np.where(working, chunk.end - (rng.random(n) * 200 * DAY).astype(np.int64), f.last_seen)
    last_day = np.maximum((recent // DAY) * DAY, first_day)
    counts = np.where(last_day - first_day >= 3 * DAY, 1 + rng.binomial(2, 0.5, n), 1)
    owner, ordinal, times = chunk.spread(counts, first_day // DAY, last_day // DAY)
    # The days come from spread() over day numbers; the last one is pinned to last_day.
    last = ordinal == counts[owner] - 1
    days = np.where(last, last_day[owner] // DAY, np.minimum(times, last_day[owner] // DAY - 1))
    times = days * DAY
    keep = (times <= chunk.end) & (times > f.join[owner])
    owner, ordinal, times, last = owner[keep], ordinal[keep], times[keep], last[keep]
    m = len(owner)
    available = np.where(last, available_final[owner], rng.random(m) < 0.7)
    ahead = (chunk.end // DAY + 1 + rng.integers(1, 90, m)) * DAY
    soon = times + rng.integers(1, 40, m) * DAY
    stale = np.minimum(soon, (chunk.end // DAY - 1) * DAY)
    return_on = np.where(last & future_return[owner], np.maximum(ahead, soon), np.where(last, stale, soon))
    return_on = np.maximum(return_on, times)
    hours = choose(("10", "20", "30", "40"), rng.integers(0, 4, m))
    data = obj(
        ("freelancer_id", f.ids.take(pa.array(owner)), "s"),
        ("available", booleans(available), "r"),
        ("hours_per_week", hours, "r", available & (rng.random(m) < 0.8)),
        ("return_on", iso_dates(return_on), "s", ~available),
    )
    date_only = rng.random(m) < 0.5
    times = times + np.where(date_only, 0, rng.integers(0, DAY, m))
    # A non-date event lies later in its day; keep each freelancer's events strictly increasing.
    chunk.events.add("freelancer.availability_updated", times, data, date_only=date_only)
