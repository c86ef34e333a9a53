"""The evaluation output contract (spec/output.md): JSON document and the human table."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from rich.table import Table

from toprated.evaluation.engine import badges_for
from toprated.evaluation.service import Result, badge_list, criteria_names
from toprated.programme import Programme


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float):
        return round(v, 2)
    return v


def entity_json(row: dict[str, Any], agency: bool, p: Programme, decisions: list[dict[str, Any]]) -> dict[str, Any]:
    """One entity of the output document."""
    programmes: dict[str, Any] = {}
    for badge in badges_for(agency):
        held = bool(row[f"{badge}_held"])
        criteria = [
            {
                "name": name,
                "value": _plain(row[f"{badge}__{name}__value"]),
                "required": row[f"{badge}__{name}__required"],
                "met": bool(row[f"{badge}__{name}__met"]),
            }
            for name in criteria_names(row, badge)
        ]
        q = row.get(f"{badge}__qualifies_on")
        programmes[badge] = {
            "held": held,
            "criteria": criteria,
            "qualifies_on": None if held or q is None else q.isoformat(),
        }
    windows = {f"{m}m": row.get(f"jss_{m}m") for m in p.jss.windows_months}
    return {
        "kind": "agency" if agency else "freelancer",
        "id": row["entity_id"],
        "jss": row["jss"],
        "jss_windows": windows,
        "badges": badge_list(row, agency),
        "agency_badge": None if agency else row.get("agency_badge"),
        "programmes": programmes,
        "decisions": decisions,
    }


def document(result: Result, p: Programme) -> dict[str, Any]:
    """The whole output document for one as-of day."""
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for d in result.decisions:
        by_entity.setdefault(d.entity_id, []).append(d.as_json())
    entities = [entity_json(r, False, p, by_entity.get(r["entity_id"], [])) for r in result.freelancers]
    entities += [entity_json(r, True, p, by_entity.get(r["entity_id"], [])) for r in result.agencies]
    return {"as_of": result.as_of.isoformat(), "programme": p.name, "entities": entities}


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False)


def summary_table(doc: dict[str, Any], limit: int | None = None) -> Table:
    """One row per entity: badges, JSS, and for each badge not held the criteria that fail."""
    t = Table(title=f"Badges on {doc['as_of']} ({doc['programme']} programme)", show_lines=False)
    t.add_column("entity")
    t.add_column("kind")
    t.add_column("JSS", justify="right")
    t.add_column("badges")
    t.add_column("not held because")
    for e in doc["entities"][:limit]:
        failing = []
        for badge, prog in e["programmes"].items():
            if prog["held"] or badge == "expert_vetted":
                continue
            names = [c["name"] for c in prog["criteria"] if not c["met"]]
            when = f" (qualifies {prog['qualifies_on']})" if prog["qualifies_on"] else ""
            failing.append(f"{badge}: {', '.join(names)}{when}")
        badges = ", ".join(e["badges"]) or "-"
        if e.get("agency_badge"):
            badges += f" (agency: {e['agency_badge']})"
        t.add_row(e["id"], e["kind"], "-" if e["jss"] is None else str(e["jss"]), badges, "\n".join(failing))
    return t
