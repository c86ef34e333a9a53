"""Import throughput: `python tests/store/bench_import.py N [DB]` writes N synthetic events to a
JSON Lines file, imports it into a fresh store (default: a DuckDB file in a temp folder) and prints
events per second for reading+validation and for the whole import. Not collected by pytest."""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from toprated.events import read_records
from toprated.store import open_store


def write_events(path: Path, n: int) -> int:
    """About n events: per contract a start, 7 payments, an end and feedback; a freelancer per 5."""
    count = 0
    with path.open("w") as fh:

        def put(kind: str, day: int, data: dict) -> None:
            nonlocal count
            count += 1
            t = f"2025-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T{count % 24:02d}:00:00Z"
            fh.write(json.dumps({"id": f"e{count}", "type": kind, "time": t, "data": data}) + "\n")

        c = 0
        while count < n:
            f = f"f{c // 5}"
            if c % 5 == 0:
                put("freelancer.joined", 0, {"freelancer_id": f, "name": f.upper()})
            cid = f"c{c}"
            put(
                "contract.started",
                1,
                {
                    "contract_id": cid,
                    "freelancer_id": f,
                    "client_id": f"k{c % 997}",
                    "kind": "hourly",
                    "category": "writing",
                },
            )
            for p in range(7):
                put("payment.made", 2 + p * 20, {"contract_id": cid, "amount": f"{100 + p}.50"})
            put("contract.ended", 200, {"contract_id": cid, "reason": "completed"})
            put("feedback.given", 201, {"contract_id": cid, "public_score": 4.8, "private_score": 9})
            c += 1
    return count


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "events.jsonl"
        count = write_events(src, n)
        db = sys.argv[2] if len(sys.argv) > 2 else str(Path(tmp) / "bench.duckdb")
        with open_store(db) as store:
            t0, c0 = time.perf_counter(), time.process_time()
            report = store.import_records(read_records(src))
            t1, c1 = time.perf_counter(), time.process_time()
            again = store.import_records(read_records(src))
            t2, c2 = time.perf_counter(), time.process_time()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{count:,} events, {os.cpu_count()} cpus, {db.split('?')[0]}")
        print(
            f"first import : {t1 - t0:6.1f} s (CPU {c1 - c0:5.1f} s)  {count / (t1 - t0):>10,.0f} events/s  "
            f"accepted={report.accepted:,} rejected={len(report.rejected)}"
        )
        print(
            f"re-import    : {t2 - t1:6.1f} s (CPU {c2 - c1:5.1f} s)  {count / (t2 - t1):>10,.0f} events/s  "
            f"duplicates={again.duplicates:,}"
        )
        print(f"load average : {os.getloadavg()[0]:.1f} (other processes slow this down)")
        print(f"peak RSS     : {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
