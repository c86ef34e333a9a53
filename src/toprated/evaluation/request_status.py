"""Top Rated and JSS of the entities asking for feedback removals, on the days they ask.

`decide_removals` asks this, round after round, for (entity, day) pairs. Two things keep it cheap
at marketplace scale:

- the facts of every entity that asks (with its owner and members) are copied once into temporary
  tables, so that each evaluation reads a few thousand rows rather than the whole store;
- the evaluation runs on a keyed calendar (`toprated.metrics.calendar.Cal`): each entity only on
  its own days and their weekly points (its agency's owner and members on the agency's days). A
  calendar of days would evaluate every asking entity on every asking day and its 16 weekly points.
"""

from __future__ import annotations

from datetime import date
from types import TracebackType
from typing import Any

from toprated.evaluation.engine import Removal, evaluate_days, jss_on
from toprated.evaluation.scratch import Scratch
from toprated.metrics.calendar import arrow_table
from toprated.metrics.compiled import fetch
from toprated.metrics.sources import Sources, entity_closure, one_of
from toprated.programme import Programme

#: Up to this many (entity, day) pairs, `RequestStatus.top_rated` evaluates them in one pass.
ONE_PASS_PAIRS = 2_000


class RequestStatus:
    """`StatusAt` for `decide_removals`; use it in a `with` block (it owns temporary tables)."""

    def __init__(self, p: Programme, copy_facts: bool = True, one_pass_pairs: int = ONE_PASS_PAIRS) -> None:
        """`copy_facts=False` when the sources are already a small copy (an explanation's);
        `one_pass_pairs`: see `top_rated`."""
        self.p = p
        self.copy_facts = copy_facts
        self.one_pass_pairs = one_pass_pairs
        self._scratch: Scratch | None = None
        self._copied: tuple[Sources, Sources, set[str]] | None = None  # (from, copy, entities covered)
        self._companions: tuple[Sources, dict[str, list[str]], set[str]] | None = None  # (facts, found, asked)

    def _facts(self, src: Sources, entities: set[str]) -> Sources:
        """`src` cut to these entities' closure, copied once into temporary tables and reused.

        Only for speed: a keyed evaluation reads each entity's own facts whatever else `src` holds."""
        if not self.copy_facts:
            return src
        if self._copied is not None and self._copied[0] is src and entities <= self._copied[2]:
            return self._copied[1]
        if self._scratch is None:
            self._scratch = Scratch(src.backend)
        copy = self._scratch.facts_of(src, entity_closure(src, entities, agency_badges=False))
        self._copied = (src, copy, set(entities))
        return copy

    def _companions_of(self, facts: Sources, entities: set[str]) -> dict[str, list[str]]:
        """`companions_of`, asked once per set of facts: `top_rated` and `jss` both need it."""
        if self._companions is not None and self._companions[0] is facts and entities <= self._companions[2]:
            return self._companions[1]
        found = companions_of(facts, entities)
        self._companions = (facts, found, set(entities))
        return found

    def top_rated(
        self, src: Sources, removals: list[Removal], pairs: set[tuple[str, date]]
    ) -> dict[tuple[str, date], tuple[bool, Any]]:
        """(holds Top Rated, JSS) of each pair.

        The JSS of every pair first: only those whose JSS meets Top Rated's minimum are evaluated in
        full. Many pairs (a first run decides every request ever made) take two passes: each pair on its
        own day first, with every criterion but the weekly points; then, for the pairs that meet all
        those, the full evaluation on their 16 weekly points. Most asking entities fail some
        criterion on the day itself, and the weekly points cost 16 days of evaluation each. A few
        pairs (a weekly run's) take the full evaluation at once: a pass costs more than their rows.
        """
        facts = self._facts(src, {e for e, _ in pairs})
        companions = self._companions_of(facts, {e for e, _ in pairs})
        # Top Rated needs its JSS criterion met on the day itself (§3): for most asking entities
        # the JSS alone, far cheaper than a full evaluation, already says they do not hold it.
        scores = self._scores(facts, removals, pairs, companions)
        out = {key: (False, scores.get(key, (None, False))[0]) for key in pairs}  # no contracts: no JSS
        pairs = {key for key, (_, enough) in scores.items() if enough}
        if not pairs:
            return out
        if len(pairs) <= self.one_pass_pairs:
            found = self._rows(facts, removals, pairs, companions, weekly_points=True)
            return out | {key: (bool(row["top_rated_held"]), row["jss"]) for key, row in found.items()}
        on_day = self._rows(facts, removals, pairs, companions, weekly_points=False)
        out |= {key: (False, row["jss"]) for key, row in on_day.items()}
        candidates = {key for key, row in on_day.items() if _meets_all_but_weekly_points(row)}
        if candidates:
            for key, row in self._rows(facts, removals, candidates, companions, weekly_points=True).items():
                out[key] = (bool(row["top_rated_held"]), row["jss"])
        return out

    def _rows(
        self,
        facts: Sources,
        removals: list[Removal],
        pairs: set[tuple[str, date]],
        companions: dict[str, list[str]],
        weekly_points: bool,
    ) -> dict[tuple[str, date], dict[str, Any]]:
        """The pairs' rows of a keyed evaluation: JSS, Top Rated and its criteria's `met`.

        Without `weekly_points`, no earlier weekly point is evaluated (an empty set of stored points
        stands for them): every criterion is right but `eligible_weeks`, and so `top_rated_held`."""
        out: dict[tuple[str, date], dict[str, Any]] = {}
        with Scratch(facts.backend) as scratch:
            prior = None if weekly_points else scratch.keep(arrow_table({k: [] for k in POINTS_SCHEMA}, POINTS_SCHEMA))
            fr, ag, _ = evaluate_days(
                facts, self.p, [], scratch, removals, prior, pairs=pairs, companions=companions, contracts=False
            )
            for t in (fr, ag):
                met = [c for c in t.columns if c.startswith("top_rated__") and c.endswith("__met")]
                for row in fetch(t.select("entity_id", "at", "top_rated_held", "jss", *met)).to_pylist():
                    key = (row["entity_id"], row["at"])
                    if key in pairs:
                        out[key] = row
        return out

    def jss(self, src: Sources, removals: list[Removal], pairs: set[tuple[str, date]]) -> dict[tuple[str, date], Any]:
        """The JSS of each pair: contracts and score only, on the pairs' own days."""
        facts = self._facts(src, {e for e, _ in pairs})
        companions = self._companions_of(facts, {e for e, _ in pairs})
        return {key: score for key, (score, _) in self._scores(facts, removals, pairs, companions).items()}

    def _scores(
        self, facts: Sources, removals: list[Removal], pairs: set[tuple[str, date]], companions: dict[str, list[str]]
    ) -> dict[tuple[str, date], tuple[Any, bool]]:
        """(JSS, whether it meets Top Rated's minimum for its kind of entity) of each pair."""
        tr = self.p.top_rated
        with Scratch(facts.backend) as scratch:
            t = jss_on(facts, self.p, pairs, scratch, removals, companions)
            found = fetch(t.select("entity_id", "entity_kind", "at", "jss")).to_pylist()
        out = {}
        for r in found:
            key = (r["entity_id"], r["at"])
            if key in pairs:
                minimum = tr.agency.min_jss if r["entity_kind"] == "agency" else tr.min_jss
                out[key] = (r["jss"], r["jss"] is not None and r["jss"] >= minimum)
        return out

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.close()
            self._scratch = None
        self._copied = None
        self._companions = None

    def __enter__(self) -> RequestStatus:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


#: Stored weekly points' columns (see `toprated.runs.snapshots.POINTS`), for an empty set of them.
POINTS_SCHEMA = {"entity_id": "string", "entity_kind": "string", "point": "date", "point_ok": "boolean"}


def _meets_all_but_weekly_points(row: dict[str, Any]) -> bool:
    """Every Top Rated criterion of a row is met, the weekly points aside (None: not met)."""
    return all(v for k, v in row.items() if k.startswith("top_rated__") and k != "top_rated__eligible_weeks__met")


def companions_of(src: Sources, entities: set[str]) -> dict[str, list[str]]:
    """For the agencies among `entities`: their owner and everyone who ever was a member."""
    a, m = src.agencies, src.memberships
    out: dict[str, set[str]] = {}
    for row in fetch(a.filter(a.agency_id.isin(one_of(sorted(entities))))).to_pylist():
        out.setdefault(row["agency_id"], set()).add(row["owner_id"])
    if out:
        members = m.filter(m.agency_id.isin(one_of(sorted(out)))).select("agency_id", "freelancer_id").distinct()
        for row in fetch(members).to_pylist():
            out[row["agency_id"]].add(row["freelancer_id"])
    return {k: sorted(v) for k, v in out.items()}
