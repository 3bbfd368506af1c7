"""What bounds a worker type's capacity within a latency target: its slots or its CPU.

A type with k slots (bench/analyse/stats.py: the catalog's theory) serving requests of the scenario's unit D carries at
most k / D a second, and less within a latency target (queueing: the wait grows without bound as the slots fill).
Its CPU carries at most lanes / c, c the app's measured CPU time a request and lanes the cores its processes can use at
once (one a process: the GIL, or one event loop). Whichever is lower bounds the search's capacity: sync -w1 on a
100 ms wait by its one slot (10 a second however idle the CPU), gevent by its CPU (its 1000 connections would allow
10,000). The CPU time a request is the workers' CPU during each step (the app host's samples, every 0.5 s) over the
requests that step answered, each step weighing as its rate.
"""

from __future__ import annotations

from bench.analyse import capacity, queueing, stats
from bench.model import catalog


def cpu_per_request(steps: list[dict]) -> float | None:
    """The app's CPU seconds a request: the workers' share of a core summed over the steps that answered any and were
    sampled, over the rates they answered, summed: each step weighs as its rate. (A median of the steps' own ratios
    was wrong by half on the lab: gevent's search on 100 ms of IO spent 9 of its 14 steps below 640/s, where an idle
    worker's own CPU divided by a few requests a second made 1.3 ms a request, and its capacity, 1,120/s, came out
    above the ceiling that implied, 794/s; its steps from 640/s spent 0.6-0.7 ms.)"""
    used = [(s["app_cpu_pct"] / 100, s["achieved_rate"]) for s in steps
            if s.get("app_cpu_pct") is not None and s.get("achieved_rate")]  # fmt: skip
    return sum(c for c, _ in used) / sum(r for _, r in used) if used else None


def bound(rec: dict, cores: int, cat: catalog.Catalog | None = None) -> dict | None:
    """What bounds the capacity a search found (`by`: "slots" or "cpu", None when neither is known), the two ceilings,
    how busy the CPU was at the lowest rate that missed the target (else the highest rate tried), and in words."""
    search = rec.get("search") or {}
    steps, result = search.get("steps") or [], search.get("result")
    if not steps or not result:
        return None
    task = rec.get("task") or "io"
    k = stats.slots(rec["worker_type"], task, int(rec["workers"]), int(rec["threads"]),
                    int(rec["worker_connections"]), cat=cat)  # fmt: skip
    unit = rec.get("unit_s")
    slots_per_s = k / float(unit) if unit else None
    lanes = stats.cpu_lanes(int(rec["workers"]), cores)
    cpu_s = cpu_per_request(steps)
    cpu_per_s = lanes / cpu_s if cpu_s else None
    missed = result["missed_per_s"]
    decided = [s for s in steps if capacity.counted(s) != capacity.LOAD_BOUND]
    at = (next((s for s in decided if s["rate"] == missed and capacity.counted(s) == capacity.BROKEN), None)
          if missed is not None else max(decided, key=lambda s: s["rate"], default=None))  # fmt: skip
    busy = at["app_cpu_pct"] / 100 / lanes if at and at.get("app_cpu_pct") is not None else None
    known = {n: v for n, v in (("slots", slots_per_s), ("cpu", cpu_per_s)) if v}
    by = min(known, key=known.get) if known else None
    target = search.get("target") or {}
    # one slot of a known unit: queueing theory's capacity within the target (M/D/1, exact); none for more slots
    theory = (queueing.md1_capacity(target["percentile"], target["latency_s"], float(unit))
              if k == 1 and unit and target else None)  # fmt: skip
    out = {"by": by, "slots": k, "slots_per_s": slots_per_s, "cpu_s_per_request": cpu_s, "lanes": lanes,
           "cpu_per_s": cpu_per_s, "busy": busy, "busy_at_per_s": at["rate"] if at else None,
           "theory_per_s": theory}  # fmt: skip
    return out | {"words": words(out, unit), "short": short(out)}


def short(b: dict) -> str | None:
    """ "its CPU", "its 1 slot", "its 2 slots", for a sentence; None when not known."""
    if b["by"] is None:
        return None
    if b["by"] == "cpu":
        return "its CPU"
    theory = f" (queueing theory: {per_s(b['theory_per_s'])}/s)" if b["theory_per_s"] is not None else ""
    return f"its {b['slots']:,} slot{'s' if b['slots'] != 1 else ''}{theory}"


def words(b: dict, unit: float | None) -> str:
    """ "its 1 slot: 100 ms a request, at most 10/s (CPU 4 % busy at 8.8/s)", or "its CPU: 2.1 ms a request on 1 core,
    at most 480/s (97 % busy at 480/s); its 1000 slots would allow 10,000/s"."""
    if b["by"] is None:
        return "not known: the scenario has no unit and the app's CPU was not sampled"
    busy = f"{b['busy']:.0%} busy at {per_s(b['busy_at_per_s'])}/s" if b["busy"] is not None else ""
    slots = f"its {b['slots']:,} slot{'s' if b['slots'] != 1 else ''}"
    cores = f"{b['lanes']} core{'s' if b['lanes'] != 1 else ''}"
    cpu = (f"{b['cpu_s_per_request'] * 1000:.2g} ms of CPU a request on {cores}, at most {per_s(b['cpu_per_s'])}/s"
           if b["cpu_per_s"] else None)  # fmt: skip
    if b["by"] == "slots":
        text = f"{slots}: {unit * 1000:g} ms a request, at most {per_s(b['slots_per_s'])}/s"
        if b["theory_per_s"] is not None:
            text += f", {per_s(b['theory_per_s'])}/s within the target by queueing theory (M/D/1)"
        return text + (f" (CPU {busy})" if busy else "") + (f"; its CPU: {cpu}" if cpu else "")
    text = f"its CPU: {cpu}" + (f" ({busy})" if busy else "")
    if b["slots"] >= catalog.UNBOUNDED:
        return text + "; its slots are unbounded"
    return text + (f"; {slots} would allow {per_s(b['slots_per_s'])}/s" if b["slots_per_s"] else "")


def per_s(rate: float) -> str:
    """3 significant digits, thousands whole: 8.75, 480, 10,000."""
    return f"{rate:,.0f}" if rate >= 1000 else f"{rate:.3g}"
