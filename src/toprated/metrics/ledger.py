"""Each contract's running state on a day, carried from an earlier day instead of recomputed.

The contract rules of programme.md §10 ("A contract's earnings", "Long-term", "Feedback", and the
rehire of §1 "Outcome") read, per contract, sums and extremes over its whole history: its payments
(net, count, first and last paid day, whether two payments were ever more than the long-term gap
apart), its latest feedback, whether it was a rehire; `earnings_12m` reads its payments of the last
N days. A one-day evaluation computes them from every payment (`payments_on`, `contract_days`),
which at a million freelancers is most of its work. Facts only add up, so the state on day D is the
state on an earlier day D0 plus the facts dated in (D0, D] (`ledger_after`); only the earnings
window also loses the payments that leave it.

The ledger is the contract (its parties, category, start, and its end if dated by then), what
`payments_on` gives (the same columns and types, for the metrics that read it), with `long_gap`,
the latest feedback and `rehire` beside it: one row per contract that started, or has a payment or
feedback, on or before its day. It is exact only if no fact dated on or before D0 arrived since it
was made: `toprated.runs.carry` checks that before carrying it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from toprated.metrics.asof import last_facts, ones, union_all
from toprated.metrics.contracts import long_gaps, payment_sums, rehire, signed_amount
from toprated.metrics.sources import Sources
from toprated.programme import Programme

#: The ledger's columns and types: the contract itself and its end (so that a one-day evaluation
#: reads one table of every contract, not three joined: at a million freelancers each join of
#: millions of contracts costs about a second), `payments_on`'s, then the state the rules read.
SCHEMA = ibis.schema(
    {
        "contract_id": "string",
        "freelancer_id": "string",
        "client_id": "string",
        "agency_id": "string",
        "category": "string",
        "started": "date",
        "end_day": "date",  # the end dated on or before the ledger's day; null before
        "end_reason": "string",
        "cum_net": "decimal(38, 2)",
        "n_payments": "int64",
        "first_paid": "date",
        "last_paid": "date",
        "net_12m": "decimal(38, 2)",
        "n_12m": "int64",  # payments (refunds too) in the earnings window: `net_12m` is null without any
        "long_gap": "boolean",
        "public_score": "float64",
        "private_score": "int64",
        "rehire": "boolean",
    }
)


def _day(d: date) -> ir.DateScalar:
    return ibis.literal(d, type="date")


def _earn_from(p: Programme, day: date) -> date:
    """The earnings window's exclusive lower bound on `day` (the calendar's `earn_from`)."""
    return day - timedelta(days=p.top_rated.earnings_days)


def _latest_feedback(fb: ir.Table) -> ir.Table:
    """The last feedback of each contract in `fb` (§10 "Feedback": it replaces the earlier ones)."""
    return last_facts(fb, ["contract_id"], ["public_score", "private_score"])


#: The contract's own columns, as the ledger names them.
PARTIES = ("freelancer_id", "client_id", "agency_id", "category")


def _contract_part(c: ir.Table, **more: ir.Value) -> ir.Table:
    """The ledger's columns of the contracts `c` themselves (those started by its day)."""
    return c.select("contract_id", *PARTIES, started=c.day, **more)


def _end_part(src: Sources, after: date | None, day: date) -> ir.Table:
    """The ends of contracts dated in (after, day]; without `after`, those dated on or before `day`."""
    e = src.contract_ends
    dated = e.day <= _day(day) if after is None else (e.day > _day(after)) & (e.day <= _day(day))
    return e.filter(dated).select("contract_id", end_day="day", end_reason="reason")


def _rehires(started: ir.Table, contracts: ir.Table) -> ir.Table:
    """(contract_id, rehire) for the contracts `started`: whether `contracts` holds an earlier one
    with the same freelancer and client (§1 "Outcome": a rehire)."""
    earlier = contracts.select(_f=contracts.freelancer_id, _c=contracts.client_id, _day=contracts.day)
    j = started.left_join(
        earlier,
        [started.freelancer_id == earlier._f, started.client_id == earlier._c, earlier._day < started.day],
    )
    return j.group_by(j.contract_id).aggregate(rehire=ones(j._day.notnull()).max() > 0)


def _assembled_parts(parts: list[ir.Table]) -> ir.Table:
    """One row per contract of any part, each part left-joined on `contract_id`."""
    t = union_all(*(x.select("contract_id") for x in parts)).distinct()
    for part in parts:
        t = t.left_join(part, "contract_id").drop("contract_id_right")
    return t


def _with_schema(t: ir.Table, made: dict[str, ir.Value]) -> ir.Table:
    """`SCHEMA`'s columns of `t`: those `made` gives, else `t`'s own, cast to their types."""
    return t.select(
        "contract_id", **{n: made.get(n, t[n]).cast(typ) for n, typ in SCHEMA.items() if n != "contract_id"}
    )


def ledger_on(src: Sources, p: Programme, day: date) -> ir.Table:
    """The ledger on `day`, from every fact dated on or before it."""
    at = _day(day)
    pay = src.payments.filter(src.payments.day <= at)
    payments = payment_sums(pay, _earn_from(p, day), count_in_window=True)
    gaps = long_gaps(pay.filter(~pay.refund).select("contract_id", "day"), p.jss.long_term_max_gap_days)
    feedback = _latest_feedback(src.feedback.filter(src.feedback.day <= at))
    c = src.contracts.filter(src.contracts.day <= at)
    t = _assembled_parts([_contract_part(c, rehire=rehire(c)), _end_part(src, None, day), payments, gaps, feedback])
    return _with_schema(t, {"long_gap": t.long_gap.fill_null(False), "n_12m": t.n_12m.nullif(0)})


def ledger_after(
    ledger: ir.Table,
    since: date,
    src: Sources,
    p: Programme,
    day: date,
    keep: Callable[[ir.Table], ir.Table] = lambda t: t,
    changed_only: bool = False,
) -> ir.Table:
    """The ledger on `day` from the `ledger` on `since` (< `day`) and the facts dated in (since, day].

    `keep`: materialises the week's changes (a few contracts) before they meet the whole ledger
    (`Scratch.keep`); as one statement, DuckDB plans the two worse. `changed_only`: only the rows
    of the contracts with a fact in (since, day] or a payment leaving the earnings window, and of
    those new to the ledger; every other row is the same on `day` (`Carry` replaces those rows of
    its ledger in place rather than writing every contract again)."""
    if since >= day:
        raise ValueError(f"a ledger is carried forward only: {since} is not before {day}")
    after, at = _day(since), _day(day)
    lo, hi = _earn_from(p, since), _earn_from(p, day)  # the window was (lo, since], is (hi, day]
    pay = src.payments
    new = pay.filter((pay.day > after) & (pay.day <= at))
    added = payment_sums(new, hi, count_in_window=True).rename(
        _net="cum_net", _n="n_payments", _first="first_paid", _last="last_paid", _in="net_12m", _n_in="n_12m"
    )
    # the payments that leave the window: those counted on `since` and dated on or before `hi`
    gone = pay.filter((pay.day > _day(lo)) & (pay.day <= _day(min(hi, since))))
    left = gone.group_by("contract_id").aggregate(_out=signed_amount(gone).sum(), _n_out=gone.count())
    # a long gap among the new payments, or from the last payment before them to the first of them
    # kept: DuckDB, not knowing how few they are, would otherwise hash every contract of the ledger
    # to find those paid (0.5 s at a million freelancers) rather than hash these
    new_paid = keep(new.filter(~new.refund).select("contract_id", "day"))
    before = ledger.filter(ledger.last_paid.notnull()).select("contract_id", day=ledger.last_paid)
    touched = before.semi_join(new_paid, "contract_id")
    gaps = long_gaps(union_all(new_paid, touched), p.jss.long_term_max_gap_days).rename(_gap="long_gap")
    fb = src.feedback
    feedback = _latest_feedback(fb.filter((fb.day > after) & (fb.day <= at)))
    feedback = feedback.rename(_public="public_score", _private="private_score").mutate(_feedback=True)
    c = src.contracts
    started = c.filter((c.day > after) & (c.day <= at))
    rehires = _rehires(started, c.filter(c.day <= at)).rename(_rehire="rehire")
    contracts = _contract_part(started).rename(**{f"_{n}": n for n in (*PARTIES, "started")})
    ends = _end_part(src, since, day).rename(_end_day="end_day", _end_reason="end_reason")

    # The week's changes, a few contracts, side by side first; then each of the ledger's rows with
    # its contract's changes, and the contracts new to the ledger: no pass over the ledger but one.
    changes = keep(_assembled_parts([added, left, gaps, feedback, rehires, contracts, ends]))
    if changed_only:
        kept = ledger.join(changes, "contract_id")  # an inner join keeps one `contract_id`
    else:
        kept = ledger.left_join(changes, "contract_id").drop("contract_id_right")
    new = changes.anti_join(ledger, "contract_id")
    new = new.mutate(**{n: ibis.null(typ) for n, typ in SCHEMA.items() if n != "contract_id"})
    t = union_all(kept, new.select(*kept.columns))
    zero = ibis.literal(0, type="decimal(38, 2)")
    n_12m = t.n_12m.fill_null(0) + t._n_in.fill_null(0) - t._n_out.fill_null(0)
    net_12m = t.net_12m.fill_null(zero) + t._in.fill_null(zero) - t._out.fill_null(zero)
    has_payments = t.cum_net.notnull() | t._net.notnull()
    new_feedback = t._feedback.fill_null(False)
    return _with_schema(
        t,
        {
            "cum_net": ibis.cases((has_payments, t.cum_net.fill_null(zero) + t._net.fill_null(zero))),
            "n_payments": ibis.cases((has_payments, t.n_payments.fill_null(0) + t._n.fill_null(0))),
            "first_paid": t.first_paid.coalesce(t._first),
            "last_paid": t._last.coalesce(t.last_paid),
            "net_12m": ibis.cases((n_12m > 0, net_12m)),
            "n_12m": ibis.cases((n_12m > 0, n_12m)),
            "long_gap": t.long_gap.fill_null(False) | t._gap.fill_null(False),
            # the latest feedback replaces the earlier one whole (§10 "Feedback")
            "public_score": ibis.cases((new_feedback, t._public), else_=t.public_score),
            "private_score": ibis.cases((new_feedback, t._private), else_=t.private_score),
            "rehire": t.rehire.coalesce(t._rehire),
            # a contract starts and ends once (events.md): new ones fill the ledger's blanks
            **{n: t[n].coalesce(t[f"_{n}"]) for n in (*PARTIES, "started", "end_day", "end_reason")},
        },
    )


def settings_of(p: Programme) -> str:
    """The programme's settings a ledger depends on: a kept ledger is carried under the same only."""
    return f"long_term_max_gap_days={p.jss.long_term_max_gap_days};earnings_days={p.top_rated.earnings_days}"
