"""`toprated explain`: one entity, every criterion, the JSS contract by contract, and what to do.

This answers the programme's loudest complaints (programme.md §9): opaque scores, no date for
recovery, generic reasons. Everything shown comes from the same evaluation as `evaluate`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from toprated.evaluation.criteria import STATIC
from toprated.metrics.contracts import centi
from toprated.metrics.jss import score_of, window_column
from toprated.programme import Programme

BADGE_TITLES = {
    "rising_talent": "Rising Talent",
    "top_rated": "Top Rated",
    "top_rated_plus": "Top Rated Plus",
    "expert_vetted": "Expert-Vetted",
}


def _why_not_counted(c: dict[str, Any]) -> str:
    """The first reason (§10 "Eligible") a contract does not count for this entity's JSS."""
    if c["flagged"]:
        return "client flagged: not counted"
    if c["open_dispute"]:
        return "dispute open: not counted until resolved"
    if c.get("removed"):
        return "removed by a granted feedback-removal request"
    has_feedback = c["public_score"] is not None or c["private_score"] is not None
    if not ((c["ended"] and has_feedback) or c["long_term"]):
        return "still running without long-term history" if not c["ended"] else "ended without feedback"
    if c["outcome"] != "negative" and c["earnings"] <= 0:
        return "$0 earned"
    return "not counted"


def contract_rows(contracts: list[dict[str, Any]], p: Programme) -> list[dict[str, Any]]:
    """The JSS breakdown as plain data: one entry per contract (also used for JSON output)."""
    out = []
    for c in contracts:
        windows = [f"{m}m" for m in p.jss.windows_months if c["counts"] and c["key_day"] > c[window_column(m)]]
        out.append(
            {
                "contract_id": c["contract_id"],
                "client_id": c["client_id"],
                "category": c["category"],
                "started": c["started"].isoformat(),
                "key_day": c["key_day"].isoformat() if c["key_day"] else None,
                "earnings": float(c["earnings"]),
                "public_score": c["public_score"],
                "private_score": c["private_score"],
                "long_term": bool(c["long_term"]),
                "outcome": c["outcome"],
                "weight": c["weight_centi"] / 100,
                "counted": bool(c["counts"]),
                "windows": windows,
                "note": "" if c["counts"] else _why_not_counted(c),
            }
        )
    return out


def what_if(rows: list[dict[str, Any]], p: Programme, earnings: Decimal = Decimal("500")) -> dict[str, int | None]:
    """Each window's score with one more successful contract earning `earnings` (§9 "what-if")."""
    w = p.jss.weight
    weight = next((t.weight for t in w.tiers if earnings <= t.up_to), w.above)
    extra = centi(weight)
    out: dict[str, int | None] = {}
    for m in p.jss.windows_months:
        inside = [r for r in rows if f"{m}m" in r["windows"]]
        good = sum(round(r["weight"] * 100) for r in inside if r["outcome"] == "successful")
        good -= sum(round(r["weight"] * 100) for r in inside if r["outcome"] == "negative")
        total = sum(round(r["weight"] * 100) for r in inside)
        clients = {r["client_id"] for r in inside} | {"(new client)"}
        enough = len(inside) + 1 >= p.jss.min_contracts and len(clients) >= p.jss.min_clients
        out[f"{m}m"] = score_of(good + extra, total + extra) if enough else None
    return out


def _criteria_table(prog: dict[str, Any]) -> Table:
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    t.add_column("")
    t.add_column("criterion")
    t.add_column("value")
    t.add_column("required")
    for c in prog["criteria"]:
        mark = Text("✔", style="green") if c["met"] else Text("✘", style="red")
        value = "-" if c["value"] is None else str(c["value"])
        t.add_row(mark, c["name"], value, str(c["required"]))
    return t


def render(entity: dict[str, Any], rows: list[dict[str, Any]], p: Programme, as_of: str) -> RenderableType:
    """A Rich renderable explaining one entity on one day."""
    parts: list[RenderableType] = []
    jss = "none yet (too little history)" if entity["jss"] is None else str(entity["jss"])
    windows = ", ".join(f"{k}: {'-' if v is None else v}" for k, v in entity.get("jss_windows", {}).items())
    head = Text.assemble(
        (f"{entity['kind']} {entity['id']}", "bold"),
        f" on {as_of} — JSS {jss} (windows {windows}); badges: ",
        (", ".join(BADGE_TITLES[b] for b in entity["badges"]) or "none", "bold green"),
    )
    if entity.get("agency_badge"):
        head.append(f"; shows its agency's {entity['agency_badge']} badge")
    parts.append(head)
    for badge, prog in entity["programmes"].items():
        title = f"{BADGE_TITLES[badge]}: " + ("held" if prog["held"] else "not held")
        if not prog["held"]:
            failing = [c for c in prog["criteria"] if not c["met"]]
            todo = "; ".join(f"{c['name']} needs {c['required']}" for c in failing) or "granted by an operator"
            static = [c["name"] for c in failing if c["name"] in STATIC]
            if prog["qualifies_on"]:
                when = f"qualifies on {prog['qualifies_on']} if nothing changes"
            elif static:
                when = f"will not qualify until {', '.join(static)} change"
            else:
                when = f"will not qualify within {p.projection.horizon_days} days without new contracts or feedback"
            parts.append(Panel(Group(_criteria_table(prog), Text(f"To do: {todo}.\n{when}.")), title=title))
        else:
            parts.append(Panel(_criteria_table(prog), title=title, border_style="green"))
    if rows:
        t = Table(title="Job Success Score, contract by contract", header_style="bold")
        for col in ("contract", "client", "key day", "earned", "feedback", "outcome", "weight", "windows", "note"):
            t.add_column(col)
        for r in rows:
            fb = "/".join("-" if v is None else str(v) for v in (r["public_score"], r["private_score"]))
            t.add_row(
                r["contract_id"],
                r["client_id"],
                r["key_day"] or "-",
                f"${r['earnings']:,.2f}",
                fb,
                r["outcome"] + (" (long-term)" if r["long_term"] else ""),
                f"{r['weight']:g}",
                ",".join(r["windows"]) or "-",
                r["note"],
            )
        parts.append(t)
        wi = what_if(rows, p)
        best = max((v for v in wi.values() if v is not None), default=None)
        if best is not None:
            parts.append(Text(f"What if: with one more successful $500 contract your JSS would be {best}."))
    for d in entity.get("decisions", []):
        verdict = "granted" if d["granted"] else "refused"
        parts.append(Text(f"Feedback removal {d['event_id']} ({d['contract_id']}): {verdict} — {d['reason']}"))
    return Group(*parts)
