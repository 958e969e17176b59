"""Registrations per second through the gateway, 32 clients at once: all on one hot session, and spread over
many sessions, in the same run.

    make bench        (starts the test infrastructure, runs this after the gateway benchmark, stops it)

Each registration is the whole real path: gateway (token, permission, audit) → OMS (patient check, a row, the
unit of work) → DMS (read the session, book the slot with a conditional UPDATE) and back. A hot session makes
every booking contend for one row; many sessions spread them. Writes `bench/results/registration.json`.

The load comes from 32 Python threads with their own connections (no load tool speaks this flow without a
script); their cost is small next to a registration's, and it is the same for both cases, so the ratio holds.
"""

from __future__ import annotations

import json
import os
import platform as host
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests import testinfra
from tests.harness import start_platform
from tests.hospital import make_hospital, make_patient, make_session, ok

RESULTS = Path(__file__).resolve().parent / "results"
CLIENTS = 32
PER_RUN = int(os.environ.get("BENCH_REGISTRATIONS", "320"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
MANY_SESSIONS = 32


def register_all(gateway: str, token: str, jobs: list[tuple[int, int]]) -> dict[str, Any]:
    """Send every (patient, session) registration with CLIENTS threads; returns throughput and latency."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    local = threading.local()

    def one(job: tuple[int, int]) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=gateway, timeout=30,
                                                 headers={"Authorization": f"Bearer {token}"})
        started = time.perf_counter()
        response = client.post("/api/outpatient/registrations", json={"patient_id": job[0], "schedule_id": job[1]})
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            if response.status_code != 201:
                failures.append(f"{response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(one, jobs))
    seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "registrations": len(jobs), "seconds": round(seconds, 3), "rps": round(len(jobs) / seconds, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "errors": len(failures), "first_errors": failures[:3],
    }


def main() -> int:
    problems = testinfra.check_up()
    if problems:
        raise SystemExit("test infrastructure not up: " + "; ".join(problems))
    platform = start_platform(testinfra.infra_env(), services=("dbs", "dms", "oms"))
    try:
        token = platform.create_admin("bench_clerk", {"outpatient": "write"})["access_token"]
        with platform.client(platform.admin_token()) as admin, platform.client(token) as clerk:
            hospital = make_hospital(admin)

            def patients(n: int) -> list[int]:
                with ThreadPoolExecutor(8) as pool:
                    return [p["id"] for p in pool.map(lambda _: make_patient(clerk), range(n))]

            def hot_jobs(n: int = PER_RUN) -> tuple[list[tuple[int, int]], list[dict[str, Any]]]:
                session = make_session(admin, hospital, quota=n)
                return [(p, session["id"]) for p in patients(n)], [session]

            def many_jobs() -> tuple[list[tuple[int, int]], list[dict[str, Any]]]:
                per = -(-PER_RUN // MANY_SESSIONS)
                sessions = [make_session(admin, hospital, quota=per) for _ in range(MANY_SESSIONS)]
                return [(p, sessions[i % MANY_SESSIONS]["id"]) for i, p in enumerate(patients(PER_RUN))], sessions

            register_all(platform.gateway.url, token, hot_jobs(64)[0])  # warm pools and caches
            runs: dict[str, list[dict[str, Any]]] = {"hot_session": [], "many_sessions": []}
            for _ in range(ROUNDS):
                for name, prepare in (("hot_session", hot_jobs), ("many_sessions", many_jobs)):
                    jobs, sessions = prepare()
                    run = register_all(platform.gateway.url, token, jobs)
                    # Every success holds exactly one slot: the sessions' booked counts add up.
                    booked = sum(ok(admin.get(f"/api/scheduling/schedules/{s['id']}"))["booked"] for s in sessions)
                    run["booked_matches"] = booked == run["registrations"] - run["errors"]
                    runs[name].append(run)

        def summary(name: str) -> dict[str, Any]:
            rows = runs[name]
            return {"rps": statistics.median(r["rps"] for r in rows),
                    "p50_ms": statistics.median(r["p50_ms"] for r in rows),
                    "p99_ms": statistics.median(r["p99_ms"] for r in rows),
                    "errors": sum(r["errors"] for r in rows), "rounds": rows}

        hot, many = summary("hot_session"), summary("many_sessions")
        result = {
            "benchmark": "registration_throughput",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "path": "POST /api/outpatient/registrations through the gateway (OMS → DMS book)",
            "clients": CLIENTS, "registrations_per_run": PER_RUN, "rounds": ROUNDS,
            "sessions_in_many": MANY_SESSIONS,
            "machine": {"cpus": os.cpu_count(), "python": host.python_version()},
            "hot_session": hot, "many_sessions": many,
            "ratio_many_over_hot": round(many["rps"] / hot["rps"], 3),
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "registration.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(json.dumps({k: result[k] for k in ("hot_session", "many_sessions", "ratio_many_over_hot")},
                         indent=2))
        consistent = all(r["booked_matches"] for rows in runs.values() for r in rows)
        if hot["errors"] or many["errors"] or not consistent:
            print(f"FAILED: errors hot={hot['errors']} many={many['errors']}, booked counts consistent={consistent}")
            return 1
        return 0
    finally:
        platform.stop_all()


if __name__ == "__main__":
    raise SystemExit(main())
