"""Gateway overhead: GETs to DBS directly and through the gateway, in the same run, at concurrency 1 and 32.

    make bench        (starts the test infrastructure, runs this, stops it)

Writes `bench/results/gateway.json`: requests/s, p50 and p99 for each, and the gateway/direct ratios. The
gateway does everything it does in production on every request: token verification, the revocation and
permission checks, and the audit record. Load comes from wrk (Debian's package, installed when missing), a
separate process, so the load generator does not share Python's interpreter with what it measures.
"""

from __future__ import annotations

import json
import os
import platform as host
import re
import shutil
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from tests import testinfra
from tests.harness import mariadb, schema, start_platform

RESULTS = Path(__file__).resolve().parent / "results"
PATH = "/api/datacenter/departments?page=1&size=20"
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))


def ensure_wrk() -> str:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("wrk") or "wrk"


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(wrk: str, url: str, token: str, connections: int, seconds: int) -> dict[str, float]:
    threads = 1 if connections == 1 else 2
    out = subprocess.run(
        [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",
         "-H", f"Authorization: Bearer {token}", url],
        check=True, capture_output=True, text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"requests": requests, "rps": rps, "p50_ms": latency["50"], "p99_ms": latency["99"],
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0}


def _median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = ("rps", "p50_ms", "p99_ms")
    out = {k: round(statistics.median(r[k] for r in runs), 3) for k in keys}
    out["requests"] = sum(r["requests"] for r in runs)
    out["errors"] = sum(r["non_2xx"] + r["socket_errors"] for r in runs)
    out["rounds"] = [{k: round(r[k], 3) for k in keys} for r in runs]
    return out


def audited_requests(env: dict[str, str], username: str, since: datetime) -> int:
    conn = mariadb(env, database=schema(env, "auth"))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM audit_log WHERE username = %s AND action = 'request' "
                        "AND occurred_at >= %s", (username, since.replace(tzinfo=None)))
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def main() -> int:
    problems = testinfra.check_up()
    if problems:
        raise SystemExit("test infrastructure not up: " + "; ".join(problems))
    wrk = ensure_wrk()
    platform = start_platform(testinfra.infra_env())
    try:
        reader = platform.create_admin("bench_reader", {"datacenter": "read"})
        token = reader["access_token"]
        targets = {"direct": platform.services[0].url + PATH, "gateway": platform.gateway.url + PATH}
        for url in targets.values():  # warm caches and connection pools
            run_wrk(wrk, url, token, 8, 2)
        measured_from = datetime.now(UTC)
        runs: dict[str, dict[int, list]] = {name: {1: [], 32: []} for name in targets}
        for _ in range(ROUNDS):
            for connections in (1, 32):
                for name, url in targets.items():  # interleaved, so drift affects both alike
                    runs[name][connections].append(run_wrk(wrk, url, token, connections, DURATION))
        summary = {name: {f"c{c}": _median_run(r) for c, r in by_c.items()} for name, by_c in runs.items()}
        gateway_requests = sum(r["requests"] for by_c in runs["gateway"].values() for r in by_c)
        time.sleep(2.0)  # the audit writer batches; let it finish
        audited = audited_requests(platform.env, "bench_reader", measured_from)
        d, g = summary["direct"], summary["gateway"]
        result = {
            "benchmark": "gateway_overhead",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "endpoint": "GET " + PATH,
            "seconds_per_run": DURATION, "rounds": ROUNDS,
            "machine": {"cpus": os.cpu_count(), "python": host.python_version()},
            "direct": d, "gateway": g,
            "ratios": {
                "c32_throughput_gateway_over_direct": round(g["c32"]["rps"] / d["c32"]["rps"], 3),
                "c1_throughput_gateway_over_direct": round(g["c1"]["rps"] / d["c1"]["rps"], 3),
                "c1_p50_added_ms": round(g["c1"]["p50_ms"] - d["c1"]["p50_ms"], 3),
                "c32_p50_added_ms": round(g["c32"]["p50_ms"] - d["c32"]["p50_ms"], 3),
            },
            "targets": {"c32_throughput_ratio_min": 0.7, "c1_p50_added_ms_max": 1.5},
            "audit": {"gateway_requests_measured": gateway_requests, "audit_rows_for_bench_user": audited},
        }
        result["met"] = {
            "c32_throughput": result["ratios"]["c32_throughput_gateway_over_direct"] >= 0.7,
            "c1_p50": result["ratios"]["c1_p50_added_ms"] <= 1.5,
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "gateway.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(json.dumps({"direct": d, "gateway": g, "ratios": result["ratios"], "audit": result["audit"]}, indent=2))
        # Timings are reported, not asserted; lost requests or lost audit rows are failures.
        errors = sum(run["errors"] for side in (d, g) for run in side.values())
        if errors or audited < gateway_requests:
            print(f"FAILED: {errors} failed requests, {audited} audit rows for {gateway_requests} requests")
            return 1
        return 0
    finally:
        platform.stop_all()


if __name__ == "__main__":
    raise SystemExit(main())
