"""Each contract's state on each calendar day: earnings, span, long-term, feedback, outcome, weight.

The rules are programme.md §1 ("Eligible contracts", "Outcome", "Weight") as made precise by §10
("A contract's earnings", "Long-term", "Feedback", "Flagged client", "Open dispute", "Eligible",
"Key day", "Outcome", "Weight"). One row per (contract_id, at) for every contract started on or
before `at`. Eligibility here ignores feedback removals: those belong to the entity whose JSS they
change (see `toprated.metrics.jss`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from toprated.metrics.asof import as_of, latest, ones
from toprated.metrics.calendar import ENTITY, Cal
from toprated.metrics.jss import window_column
from toprated.metrics.sources import Sources
from toprated.programme import Programme

MONEY = "decimal(18, 2)"
_EPOCH = ibis.literal(date(1970, 1, 1), type="date")


def money(value: Decimal | int | str) -> ir.Scalar:
    return ibis.literal(Decimal(value), type=MONEY)


def centi(value: Decimal) -> int:
    """Weights are summed as whole hundredths so that the score's rounding is exact."""
    return int(Decimal(value) * 100)


def signed_amount(pay: ir.Table) -> ir.NumericValue:
    """A payment's amount, negative for a refund (money returned to the client)."""
    return ibis.cases((pay.refund, -pay.amount), else_=pay.amount)


def rehire(c: ir.Table) -> ir.BooleanValue:
    """Whether each contract of `c` had an earlier one of its freelancer with its client among `c`
    (§1 "Outcome": a rehire)."""
    return c.day.min().over(group_by=[c.freelancer_id, c.client_id]) < c.day


def with_parties(paid: ir.Table, contracts: ir.Table) -> ir.Table:
    """`paid` (per contract: `payments_on`'s or the ledger's rows) with each contract's freelancer
    and agency: the ledger has them, `payments_on` needs its contracts joined."""
    if "freelancer_id" in paid.columns:
        return paid
    j = paid.join(contracts, paid.contract_id == contracts.contract_id)
    return j.select(paid, contracts.freelancer_id, contracts.agency_id)


def _payment_state(src: Sources, cal: Cal, p: Programme, paid: ir.Table | None = None) -> ir.Table:
    """Running totals of a contract's payments, in force on each calendar day (§10 earnings/span)."""
    if cal.single is not None:
        return _payment_state_on(src, cal, p, paid)
    if cal.keyed:
        return _payment_state_keyed(src, cal, p)
    pay = src.payments
    signed = signed_amount(pay)
    daily = pay.group_by(["contract_id", "day"]).aggregate(net=signed.sum(), n_paid=ones(~pay.refund).sum())
    cum = ibis.cumulative_window(group_by=daily.contract_id, order_by=daily.day)
    paid_day = ibis.cases((daily.n_paid > 0, daily.day), else_=ibis.null("date"))
    s = daily.mutate(
        cum_net=daily.net.sum().over(cum),
        n_payments=daily.n_paid.sum().over(cum),
        first_paid=paid_day.min().over(cum),
        last_paid=paid_day.max().over(cum),
    )
    w = ibis.window(group_by=s.contract_id, order_by=s.day)
    s = s.mutate(prev_paid=s.last_paid.lag().over(w))
    gap = ibis.cases(
        ((s.n_paid > 0) & s.prev_paid.notnull(), s.day.delta(s.prev_paid, unit="day")),
        else_=ibis.null("int64"),
    )
    s = s.mutate(gap=gap)
    s = s.mutate(max_gap=s.gap.max().over(ibis.cumulative_window(group_by=s.contract_id, order_by=s.day)))
    st = as_of(s, ["contract_id"], ["cum_net", "n_payments", "first_paid", "last_paid", "max_gap"], cal)
    return st.mutate(long_gap=st.max_gap > p.jss.long_term_max_gap_days).drop("max_gap")


def _could_be_long(s: ir.Table, p: Programme) -> ir.BooleanValue:
    """Whether a contract's payment state (`n_payments`, `first_paid`, `last_paid`) leaves it a
    chance to be long-term: only then does a gap between its payments matter (§10 "Long-term")."""
    j = p.jss
    return (s.n_payments >= j.long_term_min_payments) & (
        s.last_paid.delta(s.first_paid, unit="day") >= j.long_term_min_span_days
    )


def _payment_state_keyed(src: Sources, cal: Cal, p: Programme) -> ir.Table:
    """`_payment_state` for a keyed calendar, whose contracts have a few days each (the days some
    entities are asked about): each (contract, day)'s payments up to that day, joined and summed.
    Running totals would order every payment of every contract, for a few days each: at a million
    freelancers, the step that evaluates a first run's feedback-removal requests took 26.5 s of
    DuckDB's operator time with them, 15.8 s with these sums."""
    c = cal.select("at")
    pay = src.payments
    j = pay.join(c, [pay.day <= c.at, *cal.match(pay.contract_id, c)]).select(
        "contract_id", "day", "amount", "refund", "at"
    )
    s = j.group_by(["contract_id", "at"]).aggregate(**_state_sums(j))
    could_be_long = s.filter(_could_be_long(s, p)).select("contract_id", "at", _last=s.last_paid)
    paid = j.filter(~j.refund).join(could_be_long, ["contract_id", "at"]).select("contract_id", "at", "day", "_last")
    gaps = long_gaps(paid, p.jss.long_term_max_gap_days, keys=("contract_id", "at"))
    s = s.left_join(gaps, ["contract_id", "at"]).drop("contract_id_right", "at_right")
    return s.mutate(long_gap=s.long_gap.fill_null(False))


def payments_on(src: Sources, cal: Cal) -> ir.Table:
    """For a one-day calendar: each contract's payments up to its day, in one pass over them.

    `cum_net`, `n_payments`, `first_paid`, `last_paid` (refunds are not payments there) for the
    contract's state, and `net_12m` (payments minus refunds in the earnings window) for
    `earnings_12m`; the activity and earnings metrics read this table instead of joining every
    payment to its contract again.
    """
    assert cal.single is not None
    at = ibis.literal(cal.single["at"], type="date")
    return payment_sums(src.payments.filter(src.payments.day <= at), cal.single["earn_from"])


def payment_sums(pay: ir.Table, earn_from: date, count_in_window: bool = False) -> ir.Table:
    """Per contract of the payments `pay`: `cum_net`, `n_payments`, `first_paid`, `last_paid`
    (refunds are not payments there) and `net_12m`, the net of those dated after `earn_from`; with
    `count_in_window`, also `n_12m`, how many (refunds too) are dated after it."""
    in_window = pay.day > ibis.literal(earn_from, type="date")
    more = {"n_12m": ones(in_window).sum()} if count_in_window else {}
    return pay.group_by("contract_id").aggregate(
        **_state_sums(pay), net_12m=signed_amount(pay).sum(where=in_window), **more
    )


def _state_sums(pay: ir.Table) -> dict[str, ir.Value]:
    """The aggregates of a contract's state over payments `pay`: `cum_net`, `n_payments`,
    `first_paid`, `last_paid` (refunds are not payments there, but count in the net)."""
    paid_day = ibis.cases((~pay.refund, pay.day), else_=ibis.null("date"))
    return {
        "cum_net": signed_amount(pay).sum(),
        "n_payments": ones(~pay.refund).sum(),
        "first_paid": paid_day.min(),
        "last_paid": paid_day.max(),
    }


def _payment_state_on(src: Sources, cal: Cal, p: Programme, paid: ir.Table | None) -> ir.Table:
    """`_payment_state` for a one-day calendar: plain aggregates, gaps only where they matter."""
    assert cal.single is not None
    at = ibis.literal(cal.single["at"], type="date")
    s = paid if paid is not None else payments_on(src, cal)
    # Whether some gap between payments is longer than G decides only whether a contract is
    # long-term: look at the contracts with enough payments over a long enough span only.
    j = p.jss
    could_be_long = s.filter(_could_be_long(s, p)).select("contract_id", _last=s.last_paid)
    pay = src.payments.filter((src.payments.day <= at) & ~src.payments.refund)
    pay = pay.join(could_be_long, "contract_id").select("contract_id", "day", "_last")
    gaps = long_gaps(pay, j.long_term_max_gap_days)
    s = s.left_join(gaps, "contract_id").drop("contract_id_right")
    return s.select("contract_id", "cum_net", "n_payments", "first_paid", "last_paid", "long_gap", at=at)


def long_gaps(paid: ir.Table, gap_days: int, keys: tuple[str, ...] = ("contract_id",)) -> ir.Table:
    """(contract_id, long_gap) for the contracts of `paid` (non-refund payments: contract_id, day,
    and `_last`, the contract's last payment day, when the caller has it): whether two of its
    consecutive payment days are more than `gap_days` apart (§10 "Long-term"). `keys`: what a
    set of payments is, when not each contract's (each contract's up to a day: contract_id, at).

    Without ordering the payments: cut time into buckets of G days; within one, payments are at most
    G − 1 days apart, so a gap longer than G is an empty bucket after a paid one that is not the
    last, or the step from a bucket's last payment to the next bucket's first."""
    g = gap_days
    bucket = (paid.day.delta(_EPOCH, unit="day") // g).cast("int64")
    last = {"_last": paid._last.max()} if "_last" in paid.columns else {}
    b = paid.group_by([*(paid[key] for key in keys), bucket.name("_bucket")]).aggregate(
        _first=paid.day.min(), _end=paid.day.max(), **last
    )
    if not last:
        ends = b.group_by(list(keys)).aggregate(_last=b._end.max())
        b = b.join(ends, list(keys))
    following = b.select(*(b[key].name(f"_k_{key}") for key in keys), _b=b._bucket - 1, _next=b._first)
    k = b.left_join(following, [*(b[key] == following[f"_k_{key}"] for key in keys), b._bucket == following._b])
    step = (k._end < k._last) & (k._next.isnull() | (k._next.delta(k._end, unit="day") > g))
    return k.group_by(list(keys)).aggregate(long_gap=ones(step).max() > 0)


def _feedback_state(src: Sources, cal: Cal) -> ir.Table:
    """The latest feedback up to each day; it replaces earlier ones entirely (§10 "Feedback")."""
    return latest(src.feedback, ["contract_id"], ["public_score", "private_score"], cal)


def _dispute_state(src: Sources, cal: Cal) -> ir.Table:
    """Per contract and day: is a dispute open, was one lost by the freelancer (§10 "Open dispute")."""
    d, r = src.disputes, src.dispute_resolutions
    dr = d.left_join(r, d.dispute_id == r.dispute_id).select(
        d.contract_id, opened=d.day, resolved=r.day, outcome=r.outcome
    )
    c = cal.select("at")
    j = dr.join(c, [dr.opened <= c.at, *cal.match(dr.contract_id, c)])
    resolved = j.resolved.notnull() & (j.resolved <= j.at)
    return j.group_by(["contract_id", "at"]).aggregate(
        open_dispute=ones(~resolved).max() > 0,
        lost_dispute=ones(resolved & (j.outcome == "freelancer_lost")).max() > 0,
    )


def _weight_centi(earnings: ir.NumericValue, span: ir.IntegerValue, p: Programme) -> ir.IntegerValue:
    """§10 "Weight": tier by earnings, plus 1 per full span step, at most the cap (in hundredths)."""
    w = p.jss.weight
    tier = ibis.cases(*((earnings <= money(t.up_to), centi(t.weight)) for t in w.tiers), else_=centi(w.above))
    steps = (span // w.span_step_days).cast("int64")
    return ibis.least(tier + steps * 100, centi(w.max)).cast("int64")


def _started_by(c: ir.Table, cal: Cal) -> tuple[ir.Table, Cal]:
    """(contract, calendar row) for each calendar day on or after the contract's start, and the
    calendar the contract's own facts are read on: the same one, or, for a keyed calendar, the
    (contract, day) pairs its freelancer's and agency's days give."""
    t = cal.table
    if not cal.keyed:
        return c.join(t, c.started <= t.at), cal
    by_freelancer = c.join(t, [c.started <= t.at, c.freelancer_id == t[ENTITY]]).drop(ENTITY)
    by_agency = c.join(t, [c.started <= t.at, c.agency_id == t[ENTITY]]).drop(ENTITY)
    cd = by_freelancer.union(by_agency, distinct=True)
    return cd, Cal(cd.select(at=cd.at, **{ENTITY: cd.contract_id}).distinct(), keyed=True)


def contract_days(
    src: Sources, cal: Cal, p: Programme, paid: ir.Table | None = None, ledger: ir.Table | None = None
) -> ir.Table:
    """One row per contract and calendar day with everything the rules read about the contract.

    `cal` needs the columns `at`, `lt_recent` (at − long_term_recent_days) and `pay_recent`
    (at − large_contract_payment_days); `at`, the JSS windows' bounds and `rt_negative` are carried
    along for `toprated.metrics.jss`.
    `paid`: `payments_on(src, cal)` when the caller already has it (one-day calendars only).
    `ledger`: each contract's state on the day (`toprated.metrics.ledger`), which then stands for its
    payments, feedback and rehire (one-day calendars only).
    """
    j, o = p.jss, p.jss.outcome
    columns = ["contract_id", "freelancer_id", "client_id", "agency_id", "category"]
    flags = src.client_flags.group_by("client_id").aggregate(flagged_on=src.client_flags.day.min())
    if ledger is None:
        c = src.contracts
        cd, per_contract = _started_by(c.select(*columns, started=c.day, rehire=rehire(c)), cal)
        ends = src.contract_ends.select("contract_id", end_day="day", end_reason="reason")
        cd = cd.left_join(ends, "contract_id").drop("contract_id_right")
        states = (
            _payment_state(src, per_contract, p, paid),
            _feedback_state(src, per_contract),
            _dispute_state(src, per_contract),
        )
    else:  # one day: the ledger holds each contract, its end, payments, feedback and rehire on it
        if cal.single is None:
            raise ValueError("a ledger holds the contracts' state on one day only")
        state = ledger.select(
            *columns,
            "started",
            "end_day",
            "end_reason",
            "cum_net",
            "n_payments",
            "first_paid",
            "last_paid",
            "long_gap",
            "public_score",
            "private_score",
            "rehire",
        )
        cd, per_contract = _started_by(state.filter(state.started.notnull()), cal)
        states = (_dispute_state(src, per_contract),)
    cd = cd.left_join(flags, "client_id").drop("client_id_right")
    for state in states:
        if cal.single is not None:  # one day: the contract alone is the key
            cd = cd.left_join(state.drop("at"), "contract_id").drop("contract_id_right")
        else:
            cd = cd.left_join(state, ["contract_id", "at"]).drop("contract_id_right", "at_right")

    ended = cd.end_day.notnull() & (cd.end_day <= cd.at)
    flagged = cd.flagged_on.notnull() & (cd.flagged_on <= cd.at)
    n_payments = cd.n_payments.fill_null(0)
    span = ibis.cases((cd.first_paid.notnull(), cd.last_paid.delta(cd.first_paid, unit="day")), else_=0).cast("int64")
    long_term = (
        (n_payments >= j.long_term_min_payments)
        & (span >= j.long_term_min_span_days)
        & ~cd.long_gap.fill_null(False)
        & (ended | (cd.last_paid > cd.lt_recent))
    )
    # A flagged client's feedback is ignored everywhere from the flag on, retroactively (§10).
    public = ibis.cases((flagged, ibis.null("float64")), else_=cd.public_score.cast("float64"))
    private = ibis.cases((flagged, ibis.null("int64")), else_=cd.private_score.cast("int64"))
    has_feedback = public.notnull() | private.notnull()
    negative = (
        (public < o.negative_public_below).fill_null(False)
        | (private <= o.negative_private_at_most).fill_null(False)
        | cd.lost_dispute.fill_null(False)
        | (ended & (cd.end_reason == "no_work_delivered"))
    )
    good_feedback = (
        has_feedback
        & (public.isnull() | (public >= o.successful_public_at_least))
        & (private.isnull() | (private >= o.successful_private_at_least))
    )
    successful = ~negative & (
        good_feedback
        | ((long_term & ~has_feedback) if o.long_term_without_feedback_successful else False)
        | ((cd.rehire & ended) if o.rehire_counts_as_successful else False)
    )
    earnings = ibis.greatest(cd.cum_net.fill_null(money(0)), money(0)).cast(MONEY)
    open_dispute = cd.open_dispute.fill_null(False)
    eligible = ((ended & has_feedback) | long_term) & ~flagged & ~open_dispute & (negative | (earnings > money(0)))
    key_day = ibis.cases((ended, cd.end_day), else_=cd.last_paid)
    tr_plus = p.top_rated_plus
    threshold = ibis.cases(
        *((cd.category == cat, money(v)) for cat, v in tr_plus.large_contract.items() if cat != "other"),
        else_=money(tr_plus.large_contract["other"]),
    )
    large = (earnings >= threshold) & (cd.last_paid > cd.pay_recent).fill_null(False) & ~open_dispute & ~negative
    return cd.select(
        "contract_id",
        "freelancer_id",
        "client_id",
        "agency_id",
        "category",
        # the day and the bounds the JSS reads later: a one-day calendar's other bounds would only
        # widen a table of every contract
        "at",
        *(window_column(m) for m in p.jss.windows_months),
        "rt_negative",
        "started",
        "last_paid",
        "end_day",
        "end_reason",
        ended=ended,
        earnings=earnings,
        span_days=span,
        long_term=long_term,
        flagged=flagged,
        open_dispute=open_dispute,
        public_score=public,
        private_score=private,
        outcome=ibis.cases((negative, "negative"), (successful, "successful"), else_="neutral"),
        eligible=eligible,
        key_day=key_day,
        weight_centi=_weight_centi(earnings, span, p),
        large=large,
    )
