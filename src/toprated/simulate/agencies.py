"""Agencies: owned by a few freelancers (mostly working ones), with 2–10 members joining and leaving."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from toprated.simulate.activity import emit_holds, emit_manual_badge, emit_violations
from toprated.simulate.chunk import DAY, HOUR, Chunk
from toprated.simulate.population import Freelancers
from toprated.simulate.render import booleans, choose, fixed_ids, integers, obj

NEVER = np.iinfo(np.int64).max
AGENCY_STEMS = ("Blue", "North", "Pixel", "Bright", "Cedar", "Nimbus", "Atlas", "Harbor", "Quartz", "Lumen")
AGENCY_WORDS = ("Studio", "Labs", "Collective", "Partners", "Works", "Digital", "Group", "Team")


@dataclass
class Membership:
    """Per freelancer of the chunk: the agency (owner's local index, -1 for none) and the period."""

    agency_of: np.ndarray
    since: np.ndarray
    until: np.ndarray
    """Exclusive end of membership (NEVER if they stay)."""
    owners: np.ndarray
    """Local indices of the chunk's agency owners."""

    def agency_ids(self, chunk: Chunk, local: np.ndarray) -> pa.Array:
        """Agency ids ("a" + owner's freelancer number) for owners given by local index."""
        return fixed_ids("a", (chunk.first + np.asarray(local, dtype=np.int64), 8))


def build_agencies(chunk: Chunk, f: Freelancers) -> Membership:
    """Create the chunk's agencies and their membership history, emitting their events."""
    s, rng, n = chunk.settings, chunk.rng, chunk.n
    weight = np.where(f.active, 1.8, 0.35) * (1 + (f.n_contracts >= 10))
    p_owner = np.minimum(s.agency_owner_share * weight / max(weight.mean(), 1e-9), 1.0)
    created = f.join + HOUR + (rng.random(n) * 0.4 * (chunk.end - f.join)).astype(np.int64)
    owner_mask = (rng.random(n) < p_owner) & (created <= chunk.end - 30 * DAY)
    owners = np.flatnonzero(owner_mask)
    agency_of = np.full(n, -1, dtype=np.int64)
    since = np.full(n, NEVER, dtype=np.int64)
    until = np.full(n, NEVER, dtype=np.int64)
    agency_of[owners], since[owners] = owners, created[owners]

    lo, hi = s.agency_members
    sizes = rng.integers(lo, hi + 1, len(owners))
    pool = rng.permutation(np.flatnonzero(~owner_mask))
    sizes = np.minimum(sizes, max(len(pool) // max(len(owners), 1), 0))
    member = pool[: int(sizes.sum())]
    of = np.repeat(owners, sizes)
    joined = np.maximum(created[of], f.join[member]) + HOUR + (rng.random(len(member)) * 60 * DAY).astype(np.int64)
    ok = joined <= chunk.end
    member, of, joined = member[ok], of[ok], joined[ok]
    leaves = rng.random(len(member)) < s.agency_member_leave_share
    left = joined + DAY + (rng.random(len(member)) * (chunk.end - joined)).astype(np.int64)
    leaves &= left <= chunk.end
    agency_of[member], since[member] = of, joined
    until[member[leaves]] = left[leaves]

    ids = Membership(agency_of, since, until, owners).agency_ids(chunk, owners)
    m = len(owners)
    names = pc.binary_join_element_wise(
        choose(AGENCY_STEMS, rng.integers(0, len(AGENCY_STEMS), m)),
        choose(AGENCY_WORDS, rng.integers(0, len(AGENCY_WORDS), m)),
        " ",
    )
    chunk.events.add(
        "agency.created",
        created[owners],
        obj(
            ("agency_id", ids, "s"),
            ("owner_id", f.ids.take(pa.array(owners)), "s"),
            ("name", names, "s", rng.random(m) < 0.8),
        ),
    )
    counts = 1 + (rng.random(m) < 0.5)
    row, _, times = chunk.spread(counts, created[owners] + 60, created[owners] + 60 * DAY)
    keep = times <= chunk.end
    row, times = row[keep], times[keep]
    k = len(row)
    flags = [booleans(rng.random(k) < 0.85) for _ in range(3)]
    chunk.events.add(
        "agency.profile_updated",
        times,
        obj(
            ("agency_id", ids.take(pa.array(row)), "s"),
            ("has_logo", flags[0], "r"),
            ("has_overview", flags[1], "r"),
            ("has_services", flags[2], "r"),
            ("completeness", integers(rng.integers(60, 101, k)), "r", rng.random(k) < 0.6),
        ),
    )

    slot = np.searchsorted(owners, of)
    member_ids = f.ids.take(pa.array(member))
    chunk.events.add(
        "agency.member_joined",
        joined,
        obj(("agency_id", ids.take(pa.array(slot)), "s"), ("freelancer_id", member_ids, "s")),
    )
    mask = pa.array(leaves)
    chunk.events.add(
        "agency.member_left",
        left[leaves],
        obj(("agency_id", ids.take(pa.array(slot[leaves])), "s"), ("freelancer_id", member_ids.filter(mask), "s")),
    )

    lo_t = created[owners]
    emit_holds(chunk, "agency_id", ids, f.gid[owners], lo_t, s.hold_share * 2, 1)
    emit_violations(chunk, "agency_id", ids, lo_t, s.tos_share * 2)
    who = np.flatnonzero(rng.random(m) < 0.05)
    granted = lo_t[who] + (rng.uniform(5, 90, len(who)) * DAY).astype(np.int64)
    emit_manual_badge(chunk, "agency_id", ids, who, granted, "rising_talent", s.badge_revoke_share)
    return Membership(agency_of, since, until, owners)
