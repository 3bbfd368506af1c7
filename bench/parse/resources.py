"""What the server and the load generator spent during each siege run, from samples taken while it ran.

App host: raw/<app host>/TYPE.samples.jsonl, written by bench_sampler.py on the app host every 0.5 s: the processes of
the gunicorn unit (pid, ppid, CPU ticks, RSS). The master is the process whose parent is not in the unit; the others are
its workers. Load host: NAME.cpu.json beside each siege run's output, written by load_driver.py: the host's busy CPU
time and siege's own, sampled during the run.
"""

from __future__ import annotations

import itertools
import json

LOAD_BOUND_CPU = 0.90  # a load host busier than this was the bottleneck, not the server
LOAD_BOUND_CONCURRENCY = 0.75  # siege kept fewer than this share of the requested connections in flight


def read_samples(text: str) -> tuple[int, list[dict]]:
    """(clock ticks per second, samples in time order) of an app host's samples file."""
    clk, samples = 100, []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line of a sampler stopped mid-write
        if "clk_tck" in entry:
            clk = int(entry["clk_tck"])
        elif "t" in entry:
            samples.append(entry)
    return clk, sorted(samples, key=lambda s: s["t"])


def roles(procs: list[list[int]]) -> dict[int, str]:
    pids = {p[0] for p in procs}
    return {p[0]: ("master" if p[1] not in pids else "worker") for p in procs}


def app_usage(clk: int, samples: list[dict], start: float, end: float) -> dict | None:
    """CPU (% of one core) and peak RSS (MiB) of the master and of all workers together, and the peak PSS of all of
    them (what they take together), between start and end.
    The window is widened to the samples just before and just after it, so that a run shorter than the sampling
    interval (a 0.6 s probe, say) is still measured, over at most one interval more."""
    before = [s for s in samples if s["t"] <= start]
    after = [s for s in samples if s["t"] >= end]
    window = before[-1:] + [s for s in samples if start < s["t"] < end] + after[:1]
    if len(window) < 2:
        return None
    first, last = window[0], window[-1]
    elapsed = last["t"] - first["t"]
    cpu = {"master": 0.0, "worker": 0.0}
    before = {p[0]: p[2] for p in first["procs"]}
    for pid, role in roles(last["procs"]).items():
        ticks = next(p[2] for p in last["procs"] if p[0] == pid)
        # a process born inside the window (a respawned worker) counts from its first sample
        born = next((s for s in window if any(p[0] == pid for p in s["procs"])), last)
        start_ticks = before.get(pid, next(p[2] for p in born["procs"] if p[0] == pid))
        cpu[role] += (ticks - start_ticks) / clk
    rss = {"master": 0, "worker": 0}
    pss = {"master": 0, "worker": 0}
    workers = 0
    for s in window:
        by_role = roles(s["procs"])
        for role in ("master", "worker"):
            rss[role] = max(rss[role], sum(p[3] for p in s["procs"] if by_role[p[0]] == role))
            # PSS (a fifth field since the sampler read smaps_rollup; older samples have none: 0)
            pss[role] = max(pss[role], sum(p[4] if len(p) > 4 else 0 for p in s["procs"] if by_role[p[0]] == role))
        workers = max(workers, sum(1 for r in by_role.values() if r == "worker"))
    return {
        "master_cpu_pct": round(100 * cpu["master"] / elapsed, 1),
        "workers_cpu_pct": round(100 * cpu["worker"] / elapsed, 1),
        "master_rss_mb": round(rss["master"] / 1024, 1),
        "workers_rss_mb": round(rss["worker"] / 1024, 1),
        # the memory they take together (shared pages split among the processes), None from samples without PSS
        "pss_mb": round((pss["master"] + pss["worker"]) / 1024, 1) if pss["master"] + pss["worker"] else None,
        "workers_seen": workers,
        "samples": len(window),
    }


def load_usage(cpu: dict) -> dict | None:
    """Busy share of the load host's CPUs (mean and peak over the run) and siege's own share, from NAME.cpu.json."""
    samples = cpu.get("samples", [])
    if len(samples) < 2:
        return None
    cpus = max(int(cpu.get("cpus", 1)), 1)
    (t0, busy0, siege0), (t1, busy1, siege1) = samples[0], samples[-1]
    shares = [
        (b - pb) / ((t - pt) * cpus)
        for (pt, pb, _), (t, b, _) in itertools.pairwise(samples)
        if t > pt
    ]  # fmt: skip
    # /proc/stat counts in clock ticks (10 ms) while the samples are timed to the ms: over a short window a CPU busy
    # throughout can show a tick more than the wall time (100.1 %, and 121 % over one 0.5 s step, seen under load).
    return {
        "cpu_pct": min(round(100 * (busy1 - busy0) / ((t1 - t0) * cpus), 1), 100.0),
        "cpu_pct_peak": min(round(100 * max(shares), 1), 100.0) if shares else None,
        "siege_cpu_pct": round(100 * (siege1 - siege0) / ((t1 - t0) * cpus), 1),
        "cpus": cpus,
    }


def load_bound(record: dict) -> str | None:
    """Why this run was limited by the load generator rather than by the server, or None."""
    reasons = []
    load = record.get("load_resources") or {}
    if load.get("cpu_pct") is not None and load["cpu_pct"] >= 100 * LOAD_BOUND_CPU:
        reasons.append(f"load host CPU {load['cpu_pct']:.0f} % busy")
    measured, wanted = record.get("siege_concurrency"), record.get("concurrency")
    short = measured is not None and wanted and measured < LOAD_BOUND_CONCURRENCY * wanted
    # siege's concurrency is the sum of response times over the run: requests still waiting when the run ends are
    # left out, so with slow responses it falls short for the server's sake, not siege's
    quick = record.get("max_s") is not None and record.get("elapsed_s") and record["max_s"] <= record["elapsed_s"] / 4
    if record.get("scenario") == "sweep" and short and quick:
        reasons.append(f"siege kept {measured:.1f} of {wanted} connections busy")
    return "; ".join(reasons) or None
