"""One chunk of freelancers being simulated: its random stream, time bounds and the events it emits.

A chunk is self-contained: every entity its events refer to (freelancers, clients, agencies,
contracts, disputes, holds) is defined in the same chunk, so chunks can be generated in any order or
in parallel and each one, sorted by time, already satisfies "defined before referenced".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from toprated.simulate.render import STYLE_DATE, STYLE_OFFSET, STYLE_Z, iso_times
from toprated.simulate.settings import SimulationSettings

#: Event types in the order used to break ties at the same instant (definitions before uses).
EVENT_TYPES: tuple[str, ...] = (
    "freelancer.joined",
    "agency.created",
    "freelancer.profile_updated",
    "freelancer.availability_updated",
    "freelancer.readiness_test_passed",
    "agency.profile_updated",
    "agency.member_joined",
    "agency.member_left",
    "freelancer.activity",
    "contract.started",
    "client.flagged",
    "dispute.opened",
    "payment.made",
    "contract.ended",
    "feedback.given",
    "dispute.resolved",
    "feedback.removal_requested",
    "account.hold_placed",
    "account.hold_lifted",
    "account.tos_violation",
    "badge.granted",
    "badge.revoked",
)
TYPE_CODE = {name: i for i, name in enumerate(EVENT_TYPES)}

DAY = 86_400
HOUR = 3_600

#: Share of date-time events written with "+00:00" instead of "Z".
OFFSET_STYLE_SHARE = 0.1


@dataclass
class Events:
    """The events of a chunk, accumulated as blocks of one type each (times and rendered `data`)."""

    rng: np.random.Generator
    blocks: list[tuple[int, np.ndarray, np.ndarray, pa.Array]] = field(default_factory=list)

    def add(self, type_: str, times: np.ndarray, data: pa.Array, *, date_only: np.ndarray | None = None) -> None:
        """Add events of one type; `date_only` rows (at midnight) are written as a bare date."""
        times = np.asarray(times, dtype=np.int64)
        if len(times) != len(data):
            raise ValueError(f"{type_}: {len(times)} times for {len(data)} data")
        if len(times) == 0:
            return
        style = np.where(self.rng.random(len(times)) < OFFSET_STYLE_SHARE, STYLE_OFFSET, STYLE_Z)
        if date_only is not None:
            if np.any(times[date_only] % DAY):
                raise ValueError(f"{type_}: a date-only event must be at midnight")
            style[date_only] = STYLE_DATE
        self.blocks.append((TYPE_CODE[type_], times, style.astype(np.int8), data))

    def counts(self) -> dict[str, int]:
        """Events per type."""
        out: dict[str, int] = {}
        for code, times, _, _ in self.blocks:
            out[EVENT_TYPES[code]] = out.get(EVENT_TYPES[code], 0) + len(times)
        return out

    def table(self) -> pa.Table:
        """All events sorted by (time, type order): t (epoch s), code (type order), type, time (ISO), data."""
        if not self.blocks:
            schema = pa.schema(
                [
                    ("t", pa.int64()),
                    ("code", pa.int8()),
                    ("type", pa.string()),
                    ("time", pa.string()),
                    ("data", pa.string()),
                ]
            )
            return schema.empty_table()
        codes = np.concatenate([np.full(len(b[1]), b[0], dtype=np.int8) for b in self.blocks])
        times = np.concatenate([b[1] for b in self.blocks])
        styles = np.concatenate([b[2] for b in self.blocks])
        data = pa.chunked_array([b[3] for b in self.blocks], pa.string()).combine_chunks()
        order = np.lexsort((codes, times))
        codes, times, styles = codes[order], times[order], styles[order]
        types = pa.array(list(EVENT_TYPES), pa.string()).take(pa.array(codes.astype(np.int64)))
        return pa.table(
            {
                "t": pa.array(times),
                "code": pa.array(codes),
                "type": types,
                "time": iso_times(times, styles),
                "data": pc.take(data, pa.array(order)),
            }
        )


@dataclass
class Chunk:
    """The context shared by the generators of one chunk."""

    index: int
    first: int
    """Global index of the chunk's first freelancer."""
    n: int
    start: int
    """First instant of the history (epoch seconds)."""
    end: int
    """Last instant of the history, inclusive (the end of the `as_of` day)."""
    settings: SimulationSettings
    rng: np.random.Generator
    events: Events

    @classmethod
    def create(
        cls, index: int, first: int, n: int, start: int, end: int, seed: int, settings: SimulationSettings
    ) -> Chunk:
        """A chunk with its own random stream derived from (seed, index)."""
        rng = np.random.default_rng([seed, index])
        return cls(index, first, n, start, end, settings, rng, Events(np.random.default_rng([seed, index, 1])))

    def uniform(self, lo: np.ndarray | int, hi: np.ndarray | int, size: int | None = None) -> np.ndarray:
        """Integer instants uniform in [lo, hi] (hi is raised to lo where smaller)."""
        lo_a = np.asarray(lo, dtype=np.int64)
        hi_a = np.maximum(np.asarray(hi, dtype=np.int64), lo_a)
        if size is None:
            size = int(np.broadcast(lo_a, hi_a).size)
        return lo_a + (self.rng.random(size) * (hi_a - lo_a + 1)).astype(np.int64)

    def spread(self, counts: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`counts[i]` instants for each owner i, sorted and strictly increasing within [lo, hi + count].

        Returns (owner, ordinal, times), grouped by owner in owner order.
        """
        counts = np.asarray(counts, dtype=np.int64)
        owner = np.repeat(np.arange(len(counts)), counts)
        starts = np.cumsum(counts) - counts
        ordinal = np.arange(len(owner)) - np.repeat(starts, counts)
        u = self.rng.random(len(owner))
        u = u[np.lexsort((u, owner))]
        lo_o, hi_o = np.asarray(lo, dtype=np.int64)[owner], np.asarray(hi, dtype=np.int64)[owner]
        times = lo_o + (u * np.maximum(hi_o - lo_o, 0)).astype(np.int64) + ordinal
        return owner, ordinal, times

    def midnight_after(self, t: np.ndarray) -> np.ndarray:
        """The first midnight strictly after each instant."""
        return (np.asarray(t, dtype=np.int64) // DAY + 1) * DAY
