"""Freelancer activity, readiness tests, standing incidents (holds, ToS violations) and manual badges."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from toprated.simulate.chunk import DAY, HOUR, Chunk
from toprated.simulate.population import Freelancers
from toprated.simulate.render import choose, fixed_ids, obj

OPERATORS = ("ops-ana", "ops-ben", "ops-chen", "talent-dia", "talent-eli")
HOLD_REASONS = ("identity_verification", "payment_review", "policy_review", "chargeback")
REVOKE_REASONS = ("quality_review", "inactivity", "policy_violation", "client_complaints")


def emit_activity(chunk: Chunk, f: Freelancers) -> None:
    """Proposals over the working period (busy people send more), plus messages and logins."""
    s, rng, n = chunk.settings, chunk.rng, chunk.n
    idle_mean = s.proposals_inactive_mean * np.exp(rng.standard_normal(n) - 0.5)
    proposals = rng.poisson(np.where(f.active, s.proposals_per_contract * f.n_contracts + 1, idle_mean))
    chatter = rng.poisson(s.messages_logins_mean * (1 + f.n_contracts / 5))
    for counts, kinds in ((proposals, None), (chatter, ("message", "login"))):
        owner, _, times = chunk.spread(counts, f.join + 300, np.maximum(f.last_seen, f.join + 600))
        keep = times <= chunk.end
        owner, times = owner[keep], times[keep]
        kind = "proposal" if kinds is None else choose(kinds, rng.integers(0, 2, len(owner)))
        data = obj(("freelancer_id", f.ids.take(pa.array(owner)), "s"), ("kind", kind, "s"))
        chunk.events.add("freelancer.activity", times, data)


def emit_readiness(chunk: Chunk, f: Freelancers) -> None:
    """`freelancer.readiness_test_passed` for a share of freelancers, within weeks of joining."""
    rng = chunk.rng
    who = np.flatnonzero(rng.random(chunk.n) < chunk.settings.readiness_share)
    times = f.join[who] + HOUR + (rng.exponential(15, len(who)) * DAY).astype(np.int64)
    keep = times <= chunk.end
    who, times = who[keep], times[keep]
    chunk.events.add("freelancer.readiness_test_passed", times, obj(("freelancer_id", f.ids.take(pa.array(who)), "s")))


def emit_holds(
    chunk: Chunk, key: str, ids: pa.Array, gid: np.ndarray, lo: np.ndarray, share: float, suffix: int
) -> None:
    """Account holds (`hold_id` = "h" + owner number + suffix), most lifted after days or weeks."""
    s, rng = chunk.settings, chunk.rng
    who = np.flatnonzero(rng.random(len(gid)) < share)
    placed = chunk.uniform(lo[who] + HOUR, chunk.end)
    hold_ids = fixed_ids("h", (gid[who], 8), (np.full(len(who), suffix), 1))
    reason = choose(HOLD_REASONS, rng.integers(0, len(HOLD_REASONS), len(who)))
    chunk.events.add(
        "account.hold_placed",
        placed,
        obj(("hold_id", hold_ids, "s"), (key, ids.take(pa.array(who)), "s"), ("reason", reason, "s")),
    )
    lifted = placed + (rng.uniform(3, 60, len(who)) * DAY).astype(np.int64)
    done = (rng.random(len(who)) < s.hold_lifted_share) & (lifted <= chunk.end)
    chunk.events.add("account.hold_lifted", lifted[done], obj(("hold_id", hold_ids.filter(pa.array(done)), "s")))


def emit_violations(chunk: Chunk, key: str, ids: pa.Array, lo: np.ndarray, share: float) -> None:
    """`account.tos_violation`, a share of them for off-platform payment."""
    rng = chunk.rng
    who = np.flatnonzero(rng.random(len(lo)) < share)
    times = chunk.uniform(lo[who] + HOUR, chunk.end)
    off = rng.random(len(who)) < chunk.settings.off_platform_share
    kind = choose(("other", "off_platform_payment"), off.astype(np.int64))
    chunk.events.add("account.tos_violation", times, obj((key, ids.take(pa.array(who)), "s"), ("kind", kind, "s")))


def emit_manual_badge(
    chunk: Chunk, key: str, ids: pa.Array, who: np.ndarray, granted: np.ndarray, badge: str, revoke_share: float
) -> None:
    """Operator grants of `badge` to rows `who` at `granted`, some revoked later with a reason."""
    rng = chunk.rng
    keep = granted <= chunk.end
    who, granted = who[keep], granted[keep]
    m = len(who)
    subject = ids.take(pa.array(who))
    by = choose(OPERATORS, rng.integers(0, len(OPERATORS), m))
    chunk.events.add(
        "badge.granted",
        granted,
        obj(
            (key, subject, "s"),
            ("badge", badge, "s"),
            ("by", by, "s"),
            ("reason", "operator review", "s", rng.random(m) < 0.5),
        ),
    )
    revoked = granted + (rng.uniform(7, 150, m) * DAY).astype(np.int64)
    done = (rng.random(m) < revoke_share) & (revoked <= chunk.end)
    reason = choose(REVOKE_REASONS, rng.integers(0, len(REVOKE_REASONS), m))
    mask = pa.array(done)
    chunk.events.add(
        "badge.revoked",
        revoked[done],
        obj(
            (key, subject.filter(mask), "s"),
            ("badge", badge, "s"),
            ("by", by.filter(mask), "s"),
            ("reason", reason.filter(mask), "s"),
        ),
    )


def emit_freelancer_incidents(chunk: Chunk, f: Freelancers) -> None:
    """Holds, violations and manual badges (Rising Talent for newcomers, Expert-Vetted for the best)."""
    s, rng, n = chunk.settings, chunk.rng, chunk.n
    emit_holds(chunk, "freelancer_id", f.ids, f.gid, f.join, s.hold_share, 0)
    emit_violations(chunk, "freelancer_id", f.ids, f.join, s.tos_share)

    newcomer = f.join > chunk.end - 300 * DAY
    p_rt = s.rising_talent_grant_share / max(newcomer.mean(), 1e-9)
    who = np.flatnonzero(newcomer & (rng.random(n) < p_rt))
    granted = f.join[who] + (rng.uniform(1, 60, len(who)) * DAY).astype(np.int64)
    emit_manual_badge(chunk, "freelancer_id", f.ids, who, granted, "rising_talent", s.badge_revoke_share)

    candidates = f.great & (f.n_contracts >= 15)
    p_ev = min(1.0, s.expert_vetted_share / max(candidates.mean(), 1e-9))
    who = np.flatnonzero(candidates & (rng.random(n) < p_ev))
    granted = chunk.uniform(f.first_work[who] + 30 * DAY, chunk.end)
    emit_manual_badge(chunk, "freelancer_id", f.ids, who, granted, "expert_vetted", s.badge_revoke_share / 4)
