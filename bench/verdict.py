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
        first = runs[0]
        unit = first.get("unit_s")
        cap = stats.capacity(worker, first["workers"], first["threads"], first["worker_connections"])
        # IO waits overlap up to the configuration's capacity: the physical limit is min(c, capacity) / unit
        limit = min(concurrency, cap) / unit if first["task"] == "io" and unit else None
        rps_med = med("rps")
        app = [r["app_resources"] for r in valid if r.get("app_resources")]
        loads = [r["load_resources"] for r in valid if r.get("load_resources")]
        rows.append(
            {
                "endpoint": endpoint,
                "task": runs[0]["task"],
                "tool": first.get("tool", "siege"),
                "io_limit_rps": limit,
                "io_capacity": cap if limit is not None else None,
                "efficiency": rps_med / limit if limit and rps_med is not None else None,
                "server_cpu_pct": statistics.median(a["master_cpu_pct"] + a["workers_cpu_pct"] for a in app)
                if app
                else None,
                "server_rss_mb": max(a["master_rss_mb"] + a["workers_rss_mb"] for a in app) if app else None,
                "load_cpu_pct": statistics.median(x["cpu_pct"] for x in loads) if loads else None,
                "load_bound": sorted({r["load_bound"] for r in runs if r.get("load_bound")}),
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


def fidelity(probes: list[dict], sweeps: list[dict], order: list[str]) -> list[dict]:
    """Per worker type: the worst probe error against theory, and the /ioTask sweep's throughput as a share of the
    physical limit (min(c, capacity) / IO time): its best at saturation (or below it, when c never reaches the
    capacity), and at its highest concurrency."""
    out = []
    for worker in order:
        errors = [p for p in probes if p["worker"] == worker and p["error"] is not None and p["concurrency"] > 1]
        io = sorted((s for s in sweeps if s["worker"] == worker and s.get("io_limit_rps") and s["rps"] is not None),
                    key=lambda s: s["concurrency"])  # fmt: skip
        top = io[-1] if io else None
        cap = top.get("io_capacity") if top else None
        # saturated: c at or above the configuration's capacity, where the limit stops growing with c. gevent's and
        # eventlet's capacity (1000 connections) is above every c a profile runs: then the best point is reported,
        # and said to be below saturation.
        if cap is not None:
            saturated = [s for s in io if s["concurrency"] >= cap]
        else:  # rows without the capacity: where the limit stopped growing
            saturated = [s for s in io if s["io_limit_rps"] == max(x["io_limit_rps"] for x in io)]
        pool = saturated or io
        best = max(pool, key=lambda s: s["efficiency"]) if pool else None
        out.append({
            "io_saturated": bool(saturated),
            "io_capacity": cap,
            "io_best_efficiency": best["efficiency"] if best else None,
            "io_best_concurrency": best["concurrency"] if best else None,
            "io_best_limit": best["io_limit_rps"] if best else None,
            "io_concurrency": top["concurrency"] if top else None,
            "worker": worker,
            "probe_error": max((p["error"] for p in errors), default=None),
            "probe_error_io": max((p["error"] for p in errors if p["task"] == "io"), default=None),
            "io_rps": top["rps"] if top else None,
            "io_limit": top["io_limit_rps"] if top else None,
            "io_efficiency": top["efficiency"] if top else None,
        })  # fmt: skip
    return out
