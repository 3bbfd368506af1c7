"""From result records to what the report says: probe verdicts against theory, and sweep rows."""

from __future__ import annotations

import statistics
from collections import defaultdict

from bench import stats

# Measured effective concurrency must be within this of theory. CPU work is timed against a c=1 calibration on a
# machine that also runs other things, so it gets a wider band than IO waits, which the kernel times exactly.
TOLERANCE = {"io": 0.05, "cpu": 0.15, "hello": 0.15}
NOISY_CV = 0.10  # sweep points whose repeats vary more than this are flagged


def app_cores(hosts: dict) -> int:
    """Cores the app host may use: its pinned cores in the lab, else what its OS reports."""
    for host in hosts.values():
        if host.get("role") == "app":
            return len(host.get("cpus_pinned") or []) or int(host.get("cores") or 1)
    return 1


def unit_seconds(probes: list[dict], probe: dict) -> float | None:
    """The work one request of this probe asks for: the endpoint's unit_s, else the c=1 probe of the same worker."""
    if probe.get("unit_s"):
        return float(probe["unit_s"])
    single = [
        p for p in probes
        if p["worker"] == probe["worker"] and p["endpoint"] == probe["endpoint"] and p["concurrency"] == 1
        and p["valid"] and p["response_times_s"]
    ]  # fmt: skip
    return statistics.median(single[0]["response_times_s"]) if single else None


def probe_rows(results: list[dict], cores: int) -> list[dict]:
    """Every probe with its theory, measurement, error and plain sentence."""
    probes = [r for r in results if r["scenario"] == "probe"]
    rows = []
    for p in probes:
        unit = unit_seconds(probes, p)
        expected = stats.expected_concurrency(
            p["worker"], p["task"], p["concurrency"],
            workers=p["workers"], threads=p["threads"], worker_connections=p["worker_connections"], cores=cores,
        )  # fmt: skip
        measured = (
            stats.effective_concurrency(p["response_times_s"] or [], unit, n=p["concurrency"])
            if unit and p["valid"]
            else None
        )
        error = stats.relative_error(measured, expected) if measured is not None else None
        rows.append(
            {
                **p,
                "unit": unit,
                "capacity": stats.capacity(p["worker"], p["workers"], p["threads"], p["worker_connections"]),
                "expected": expected,
                "measured": measured,
                "error": error,
                "tolerance": TOLERANCE[p["task"]],
                "as_expected": error is not None and error <= TOLERANCE[p["task"]],
                "sentence": stats.ladder_sentence(p["response_times_s"], unit)
                if unit and p["valid"] and p["response_times_s"] and p["concurrency"] > 1
                else (p["invalid_reason"] or "no unit of work measured"),
            }
        )
    return rows


def verdicts(rows: list[dict]) -> list[dict]:
    """One verdict per worker type and task: its largest valid burst (most requests at once)."""
    best: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["worker"], row["task"])
        if row["concurrency"] == 1:
            continue
        if key not in best or row["concurrency"] > best[key]["concurrency"]:
            best[key] = row
    return list(best.values())


def sweep_rows(results: list[dict]) -> list[dict]:
    """Sweep points (endpoint, worker, concurrency) with the median over repeats and their spread."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in results:
        if r["scenario"] == "sweep":
            groups[(r["endpoint"], r["worker"], r["concurrency"])].append(r)
    rows = []
    for (endpoint, worker, concurrency), runs in groups.items():
        valid = [r for r in runs if r["valid"]]

        def med(key: str, pool: list[dict] = valid) -> float | None:
            values = [r[key] for r in pool if r[key] is not None]
            return statistics.median(values) if values else None

        rps = [r["rps"] for r in valid if r["rps"] is not None]
        cv = statistics.stdev(rps) / statistics.mean(rps) if len(rps) > 1 and statistics.mean(rps) > 0 else None
        rows.append(
            {
                "endpoint": endpoint,
                "task": runs[0]["task"],
                "worker": worker,
                "concurrency": concurrency,
                "repeats": len(runs),
                "valid": len(valid),
                "rps": med("rps"),
                "rps_min": min(rps) if rps else None,
                "rps_max": max(rps) if rps else None,
                "cv": cv,
                "noisy": cv is not None and cv > NOISY_CV,
                "p50_s": med("p50_s"),
                "p90_s": med("p90_s"),
                "p99_s": med("p99_s"),
                "max_s": max((r["max_s"] for r in valid if r["max_s"] is not None), default=None),
                "failed": sum(r["failed"] for r in runs),
                "availability": min((r["availability"] for r in runs if r["availability"] is not None), default=None),
                "invalid_reasons": sorted({r["invalid_reason"] for r in runs if r["invalid_reason"]}),
            }
        )
    return sorted(rows, key=lambda r: (r["endpoint"], r["worker"], r["concurrency"]))
