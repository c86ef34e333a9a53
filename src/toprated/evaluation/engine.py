"""Badges for a set of days, with every criterion, the weekly rule and `qualifies_on`, as Ibis.

The same expression runs on DuckDB, PostgreSQL and (later) Spark; `engines` only choose the
backend. The work is organised around a calendar: the target days (the as-of day and, for
projections, the days after it) plus the 16 weekly points behind each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from toprated.evaluation import criteria as rules
from toprated.evaluation.daily import EntityDays, entity_days, jss_days
from toprated.evaluation.scratch import Scratch
from toprated.metrics.asof import ones, union_all
from toprated.metrics.calendar import Cal, Calendar, arrow_table, day_range
from toprated.metrics.jss import AGENCY, FREELANCER, window_column
from toprated.metrics.sources import Sources, restrict
from toprated.programme import Programme

BADGES = ("rising_talent", "top_rated", "top_rated_plus", "expert_vetted")

REMOVALS_SCHEMA = {"entity_id": "string", "contract_id": "string", "removed_from": "date"}

#: A granted feedback removal: (deciding entity, contract, from day)
Removal = tuple[str, str, date]


def removals_arrow(rows: list[Removal]) -> pa.Table:
    cols = {
        "entity_id": [r[0] for r in rows],
        "contract_id": [r[1] for r in rows],
        "removed_from": [r[2] for r in rows],
    }
    return arrow_table(cols, REMOVALS_SCHEMA)


def weekly_points(p: Programme, day: date) -> list[date]:
    """D, D − 7, …, D − 105 days (§10 "Weekly points")."""
    tr = p.top_rated
    return [day - timedelta(days=tr.week_days * k) for k in range(tr.weeks_window)]


#: For a keyed evaluation: entity -> the entities whose facts it reads on its days (an agency's
#: owner and members).
Companions = dict[str, list[str]]


def build_calendar(
    p: Programme,
    targets: list[date],
    stored_points: bool = False,
    pairs: set[tuple[str, date]] | None = None,
    companions: Companions | None = None,
) -> tuple[Calendar, pa.Table]:
    """The calendar of every day the targets need, and the (at, point) table of weekly points.

    With `stored_points` the earlier weekly points come from stored snapshots, so the calendar holds
    the targets only. With `pairs` (entity, target day; `targets` are their days) the calendar is
    keyed: each entity gets its own targets and their weekly points, and so do its `companions` on
    those days.
    """
    points = {t: weekly_points(p, t) for t in targets}
    days = set(targets) if stored_points else {d for ps in points.values() for d in ps}
    keyed = None
    if pairs is not None:
        own = {(e, d) for e, t in pairs for d in ([t] if stored_points else points[t])}
        keyed = own | {(c, d) for e, d in own for c in (companions or {}).get(e, ())}
    cal = Calendar(
        days,
        day_bounds={
            "lt_recent": p.jss.long_term_recent_days,
            "pay_recent": p.top_rated_plus.large_contract_payment_days,
            "earn_from": p.top_rated.earnings_days,
            "joined_from": p.rising_talent.joined_recently_days,
            "rt_active_from": p.rising_talent.activity_days,
            "tr_active_from": p.top_rated.activity_days,
            "hold_from": p.standing.hold_cooldown_days,
        },
        month_bounds={
            **{window_column(m): m for m in p.jss.windows_months},
            "rt_negative": p.rising_talent.negative_outcome_lookback_months,
            "violation_from": p.standing.violation_months,
            "ban_from": p.standing.off_platform_ban_months,
        },
        pairs=keyed,
    )
    # `bit`: the point's place in `points_mask` (the target day is bit 0, a week before it bit 1, …)
    weekly = arrow_table(
        {
            "at": [t for t, ps in points.items() for _ in ps],
            "point": [d for ps in points.values() for d in ps],
            "bit": [2**k for ps in points.values() for k in range(len(ps))],
        },
        {"at": "date", "point": "date", "bit": "int64"},
    )
    return cal, weekly


def criteria_of(badge: str, d: ir.Table, p: Programme, agency: bool) -> list[rules.Criterion]:
    """The criteria of one badge for a freelancer or an agency (see `toprated.evaluation.criteria`)."""
    if badge == "rising_talent":
        return rules.rising_talent_agency(d, p) if agency else rules.rising_talent_freelancer(d, p)
    if badge == "top_rated":
        return rules.top_rated_agency(d, p) if agency else rules.top_rated_freelancer(d, p)
    if badge == "top_rated_plus":
        return rules.top_rated_plus(d, p, agency=agency)
    if badge == "expert_vetted" and not agency:
        return rules.expert_vetted(d)
    raise ValueError(f"no badge {badge!r} for {'agencies' if agency else 'freelancers'}")


def badges_for(agency: bool) -> list[str]:
    return [b for b in BADGES if not (agency and b == "expert_vetted")]


def _weeks_from_points(d: ir.Table, weekly: ir.Table, kind: str, prior: ir.Table | None) -> ir.Table:
    """Per (entity, target day): `eligible_weeks` and `points_mask` from the day's own flags and the
    stored ones of `prior` (entity_id, entity_kind, point, point_ok)."""
    pts = d.select(_e=d.entity_id, _point=d.at, _ok=d.point_ok)
    if prior is not None:
        mine = prior.filter(prior.entity_kind == kind)
        pts = union_all(pts, mine.select(_e=mine.entity_id, _point=mine.point, _ok=mine.point_ok))
    w = weekly.join(pts, weekly.point == pts._point)
    ok = ones(w._ok)
    weeks = w.group_by([w._e, w.at]).aggregate(eligible_weeks=ok.sum(), points_mask=(ok * w.bit).sum())
    # the targets are the weekly table's days: a literal list of a projection's 365 days would
    # cost more to compile than the step costs to run
    t = d.filter(d.at.isin(weekly.select("at").distinct().at))
    weeks = weeks.rename(_wat="at")
    return t.left_join(weeks, [t.entity_id == weeks._e, t.at == weeks._wat]).drop("_e", "_wat")


def _weeks_from_masks(d: ir.Table, p: Programme, kind: str, masks: ir.Table) -> ir.Table:
    """`_weeks_from_points` for a one-day evaluation, from the previous weekly point's masks
    (entity_id, entity_kind, points_mask): its 15 latest points shifted by a week, and the day's own
    flag as bit 0. Reads one stored row per entity instead of 15."""
    n = p.top_rated.weeks_window
    mine = masks.filter(masks.entity_kind == kind).select(_e=masks.entity_id, _prev=masks.points_mask)
    t = d.left_join(mine, d.entity_id == mine._e).drop("_e")
    mask = (t._prev.fill_null(0) % 2 ** (n - 1)) * 2 + ones(t.point_ok)
    t = t.mutate(points_mask=mask).drop("_prev")
    return t.mutate(eligible_weeks=sum(((t.points_mask // 2**k) % 2 for k in range(1, n)), t.points_mask % 2))


def _finish(
    d: ir.Table,
    weekly: ir.Table,
    p: Programme,
    agency: bool,
    prior: ir.Table | None = None,
    required: bool = True,
    masks: ir.Table | None = None,
) -> ir.Table:
    """Target days only: eligible weeks, Top Rated, Top Rated Plus, Expert-Vetted, all criteria.

    `prior` (entity_id, entity_kind, point, point_ok) supplies weekly points from stored snapshots,
    or, for a one-day evaluation, `masks` the previous weekly point's `points_mask`s.
    `required=False` leaves out the criteria's `required` texts (a snapshot does not keep them).
    """
    kind = AGENCY if agency else FREELANCER
    t = _weeks_from_masks(d, p, kind, masks) if masks is not None else _weeks_from_points(d, weekly, kind, prior)
    t = t.mutate(
        eligible_weeks=t.eligible_weeks.fill_null(0).cast("int64"), points_mask=t.points_mask.fill_null(0).cast("int64")
    )
    for badge in badges_for(agency)[1:]:  # Rising Talent is already there (weekly points need it)
        t = t.mutate(**{f"{badge}_held": rules.held(criteria_of(badge, t, p, agency))})
    cols: dict[str, ir.Value] = {}
    for badge in badges_for(agency):
        for c in criteria_of(badge, t, p, agency):
            cols[f"{badge}__{c.name}__value"] = c.value
            cols[f"{badge}__{c.name}__met"] = c.met
            if required:
                cols[f"{badge}__{c.name}__required"] = (
                    ibis.literal(c.required) if isinstance(c.required, str) else c.required
                )
    return t.mutate(**cols)


def _qualifies_on(t: ir.Table, as_of: date, badges: list[str]) -> ir.Table:
    """The first projected day after `as_of` on which each badge holds, per entity."""
    later = t.filter(t.at > as_of)
    return later.group_by("entity_id").aggregate(
        **{f"{b}__qualifies_on": later.at.min(where=later[f"{b}_held"]) for b in badges}
    )


@dataclass(frozen=True)
class Evaluation:
    """Ibis expressions for one as-of day: one row per entity existing on that day."""

    freelancers: ir.Table
    agencies: ir.Table
    days: EntityDays
    #: with `evaluate(..., project=True)`: `<badge>__qualifies_on` per freelancer and per agency
    projected: tuple[ir.Table, ir.Table] | None = None


def _keyed_scope(
    src: Sources, pairs: set[tuple[str, date]], scratch: Scratch, companions: Companions | None = None
) -> Sources:
    """The facts a keyed evaluation reads: its entities' and their companions' (an agency's members:
    whether a contract is a rehire reads its freelancer's other contracts). The results would be the
    same from all of `src`, but its running totals and latest facts would cost as much as all of it.

    The ids go in a table of `scratch` (`Scratch.keep_ids`), not into the SQL: the steps are then the
    same SQL whoever asks (a weekly run's requests, round after round, week after week)."""
    entities = {e for e, _ in pairs}
    entities |= {c for e in entities for c in (companions or {}).get(e, ())}
    return restrict(src, scratch.keep_ids(sorted(entities))._id)


def evaluate_days(
    src: Sources,
    p: Programme,
    targets: list[date],
    scratch: Scratch,
    removals: list[Removal] | None = None,
    prior: ir.Table | None = None,
    pairs: set[tuple[str, date]] | None = None,
    companions: Companions | None = None,
    required: bool = True,
    masks: ir.Table | None = None,
    ledger: ir.Table | None = None,
    contracts: bool = True,
    kept: bool = True,
) -> tuple[ir.Table, ir.Table, EntityDays]:
    """Freelancer and agency rows for every target day: all criteria and `<badge>_held` columns.

    `prior` holds the weekly points before the targets (from stored snapshots); without it they
    are evaluated too. For a single target day, `masks` (entity_id, entity_kind, points_mask) of
    the weekly point a week before can stand for them. With `pairs` (entity, day), only those are
    evaluated (see `build_calendar`): read only those rows of the result. `ledger`: the contracts'
    state on the day of a one-day evaluation (`toprated.metrics.ledger`). `contracts=False`: the
    contract-days hold only what the JSS reads, for a caller that shows no contract. `kept=False`:
    the freelancer and agency rows are left as expressions, for a caller that reads them once (a
    weekly run copies them into its snapshot: keeping a million rows first cost 0.6 s more).
    """
    if pairs is not None:
        targets = sorted({d for _, d in pairs})
        src = _keyed_scope(src, pairs, scratch, companions)
    if masks is not None and (len(targets) != 1 or pairs is not None):
        raise ValueError("the previous week's masks stand for the weekly points of a one-day evaluation only")
    stored = prior is not None or masks is not None
    calendar, weekly_rows = build_calendar(p, targets, stored, pairs, companions)
    cal, weekly = Cal.of(scratch.keep(calendar.arrow()), calendar), scratch.keep(weekly_rows)
    ed = entity_days(src, cal, p, scratch.keep(removals_arrow(removals or [])), scratch, ledger, contracts)
    fr = _finish(ed.freelancers, weekly, p, False, prior, required, masks)
    ag = _finish(ed.agencies, weekly, p, True, prior, required, masks)
    if kept:
        fr, ag = scratch.keep(fr), scratch.keep(ag)
    return fr, ag, ed


def jss_on(
    src: Sources,
    p: Programme,
    pairs: set[tuple[str, date]],
    scratch: Scratch,
    removals: list[Removal] | None = None,
    companions: Companions | None = None,
) -> ir.Table:
    """The JSS of each (entity, day) in `pairs` (entity_id, entity_kind, at, jss, …): the contracts
    and the score only, without the weekly points and criteria a full evaluation needs.

    `companions`: an agency's members, whose other contracts say whether its contracts are rehires."""
    calendar, _ = build_calendar(p, sorted({d for _, d in pairs}), stored_points=True, pairs=pairs)
    src = _keyed_scope(src, pairs, scratch, companions)
    cal = Cal.of(scratch.keep(calendar.arrow()), calendar)
    _, jss = jss_days(src, cal, p, scratch.keep(removals_arrow(removals or [])), scratch, contracts=False)
    return jss


def points_on(
    src: Sources,
    p: Programme,
    day: date,
    scratch: Scratch,
    removals: list[Removal],
    ledger: ir.Table | None = None,
) -> ir.Table:
    """Each entity's weekly-point flag on `day` (§10 "Weekly points": JSS at least the minimum, or
    Rising Talent held): (entity_id, entity_kind, point, point_ok), from a one-day evaluation that
    stops before the badges that need the weekly points themselves. `ledger`: the contracts' state
    on `day` (`toprated.metrics.ledger`)."""
    # The day's steps are dropped once its flags are copied into `scratch`: a first run evaluates 15
    # days one after another, and keeping every day's contract tables would not fit in memory.
    with Scratch(scratch.con) as steps:
        calendar, _ = build_calendar(p, [day], stored_points=True)
        cal = Cal.of(steps.keep(calendar.arrow()), calendar)
        ed = entity_days(src, cal, p, steps.keep(removals_arrow(removals)), steps, ledger, contracts=False)
        flags = [d.select("entity_id", "entity_kind", "point_ok", point=d.at) for d in (ed.freelancers, ed.agencies)]
        return scratch.keep(union_all(*flags))


def evaluate(
    src: Sources,
    p: Programme,
    as_of: date,
    scratch: Scratch,
    removals: list[Removal] | None = None,
    prior: ir.Table | None = None,
    required: bool = True,
    project: bool = False,
    masks: ir.Table | None = None,
    ledger: ir.Table | None = None,
    contracts: bool = True,
    kept: bool = True,
) -> Evaluation:
    """Every entity's badges and criteria at `as_of`.

    `prior` or `masks`: the earlier weekly points from stored runs (see `evaluate_days`). With `project`,
    the projection days are evaluated in the same pass and `projected` holds every entity's
    `qualifies_on` (see `qualifying_days`): for a few entities (an explanation) one pass costs about
    what each of two costs, since statements, not rows, are what take the time there. The result's
    tables read temporary tables of `scratch`: run them before closing it. `ledger`: the contracts'
    state on `as_of`, for a one-day evaluation (`toprated.metrics.ledger`). `contracts=False`:
    `days.contracts` holds only what the JSS reads (for a caller that shows no contract).
    `kept=False`: `freelancers` and `agencies` are expressions, to be read once (see `evaluate_days`).
    """
    targets = [as_of, *_projection_days(p, as_of)] if project else [as_of]
    fr, ag, ed = evaluate_days(
        src.known_until(as_of),
        p,
        targets,
        scratch,
        removals,
        prior,
        required=required,
        masks=masks,
        ledger=ledger,
        contracts=contracts,
        kept=kept,
    )
    projected = None
    if project:
        projected = (_qualifies_on(fr, as_of, badges_for(False)), _qualifies_on(ag, as_of, badges_for(True)))
        fr, ag = fr.filter(fr.at == as_of), ag.filter(ag.at == as_of)
    # Members of a Top Rated agency show its badge (§3, §10 "Agency badge on members").
    m = ed.members.filter(ed.members.at == as_of)
    tr_agencies = ag.filter(ag.top_rated_held).select(_a=ag.entity_id)
    in_tr = m.join(tr_agencies, m.agency_id == tr_agencies._a).select(_m=m.member_id).distinct()
    fr = fr.left_join(in_tr, fr.entity_id == in_tr._m)
    agency_badge = ibis.cases(
        (fr._m.isnull(), ibis.null("string")),
        (fr.jss.notnull(), "top_rated"),
        (fr.completeness >= p.agency_badge.member_min_profile, "rising_talent"),
        else_=ibis.null("string"),
    )
    fr = fr.mutate(agency_badge=agency_badge).drop("_m")
    return Evaluation(freelancers=fr, agencies=ag, days=ed, projected=projected)


def _projection_days(p: Programme, as_of: date) -> list[date]:
    """The days `qualifies_on` looks at: those after `as_of` within the horizon (at least one)."""
    days = day_range(as_of + timedelta(days=1), as_of + timedelta(days=p.projection.horizon_days))
    return days or [as_of + timedelta(days=1)]


def qualifying_days(
    src: Sources,
    p: Programme,
    as_of: date,
    scratch: Scratch,
    removals: list[Removal] | None = None,
) -> tuple[ir.Table, ir.Table]:
    """Per freelancer and per agency: `<badge>__qualifies_on`, the first day after `as_of` (within
    the horizon) on which the badge holds if no event after `as_of` existed (§10 `qualifies_on`).

    Only facts known on `as_of` are used: windows roll, weeks accumulate, return dates pass, activity
    and earnings lapse. Pass sources restricted to the entities that need it: it costs a day of
    evaluation per day of horizon.
    """
    fr, ag, _ = evaluate_days(src.known_until(as_of), p, _projection_days(p, as_of), scratch, removals)
    return _qualifies_on(fr, as_of, badges_for(False)), _qualifies_on(ag, as_of, badges_for(True))
