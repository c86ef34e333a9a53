"""Top Rated and JSS of the entities asking for feedback removals, on the days they ask.

`decide_removals` asks this, round after round, for (entity, day) pairs. Two things keep it cheap
at marketplace scale:

- the facts of every entity that asks (with its owner and members) are copied once into temporary
  tables, so that each evaluation reads a few thousand rows rather than the whole store;
- the pairs are evaluated in groups whose days share a weekday and lie within a block of weeks:
  their weekly points overlap, so a group's calendar stays short. One calendar for all pairs would
  evaluate every asking entity on every asking day and its 16 weekly points.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from types import TracebackType
from typing import Any

from toprated.evaluation.engine import Removal, evaluate_days
from toprated.evaluation.scratch import Scratch
from toprated.metrics.calendar import arrow_table
from toprated.metrics.sources import TABLES, Sources, entity_closure, restrict
from toprated.programme import Programme

#: Weeks per group: with 16, a group's calendar has at most 2 × 16 − 1 days.
BLOCK_WEEKS = 16


def status_groups(pairs: set[tuple[str, date]], block_weeks: int = BLOCK_WEEKS) -> list[set[tuple[str, date]]]:
    """Split (entity, day) pairs into groups of one weekday and one block of `block_weeks` weeks."""
    groups: dict[tuple[int, int], set[tuple[str, date]]] = defaultdict(set)
    for entity, day in pairs:
        n = day.toordinal()
        groups[(n % 7, n // (7 * block_weeks))].add((entity, day))
    return [groups[k] for k in sorted(groups)]


class RequestStatus:
    """`StatusAt` for `decide_removals`; use it in a `with` block (it owns temporary tables)."""

    def __init__(self, p: Programme, block_weeks: int = BLOCK_WEEKS) -> None:
        self.p = p
        self.block_weeks = block_weeks
        self._scratch: Scratch | None = None
        self._copied: tuple[Sources, Sources, set[str]] | None = None  # (from, copy, entities covered)

    def _facts(self, src: Sources, entities: set[str]) -> Sources:
        """`src` cut to these entities' closure, copied once into temporary tables and reused."""
        if self._copied is not None and self._copied[0] is src and entities <= self._copied[2]:
            return self._copied[1]
        if self._scratch is None:
            self._scratch = Scratch(src.backend)
        closure = entity_closure(src, entities, agency_badges=False)
        if src.backend.name == "pyspark":  # a copy per table would cost Spark a job each
            return restrict(src, closure)
        ids = self._scratch.keep(arrow_table({"_id": closure}, {"_id": "string"}))
        scope = restrict(src, closure, ids)
        kept = {name: self._scratch.keep(getattr(scope, name)) for name in TABLES}
        copy = Sources(backend=src.backend, **kept)
        self._copied = (src, copy, set(entities))
        return copy

    def __call__(
        self, src: Sources, removals: list[Removal], pairs: set[tuple[str, date]]
    ) -> dict[tuple[str, date], tuple[bool, Any]]:
        facts = self._facts(src, {e for e, _ in pairs})
        out: dict[tuple[str, date], tuple[bool, Any]] = {}
        for group in status_groups(pairs, self.block_weeks):
            entities = sorted({e for e, _ in group})
            with Scratch(src.backend) as scratch:
                closure = entity_closure(facts, entities, agency_badges=False)
                scope = restrict(facts, closure, scratch.keep(arrow_table({"_id": closure}, {"_id": "string"})))
                fr, ag, _ = evaluate_days(scope, self.p, sorted({d for _, d in group}), scratch, removals)
                for t in (fr, ag):
                    rows = t.filter(t.entity_id.isin(entities)).select("entity_id", "at", "top_rated_held", "jss")
                    for row in rows.to_pyarrow().to_pylist():
                        key = (row["entity_id"], row["at"])
                        if key in group:
                            out[key] = (bool(row["top_rated_held"]), row["jss"])
        return out

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.close()
            self._scratch = None
        self._copied = None

    def __enter__(self) -> RequestStatus:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
