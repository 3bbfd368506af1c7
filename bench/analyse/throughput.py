"""Sweep points (a scenario, a worker type, a concurrency) over their repeats, and how close each type's IO sweeps
come to what physics allows (fidelity)."""

from __future__ import annotations

import statistics
from collections import defaultdict

from bench.analyse import stats
from bench.analyse.verdict import NOISY_CV
from bench.model import catalog, results_model


def sweep_rows(results: list[dict], cat: catalog.Catalog | None = None) -> list[dict]:
    """Sweep points (a scenario's label, an instance: its variant, a concurrency) with the median over repeats and their
    spread."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in results:
        if r["scenario"] == "sweep":
            groups[(r["label"], results_model.variant_of(r), r["concurrency"])].append(r)
    rows = []
    for (label, variant, concurrency), runs in groups.items():
        valid = [r for r in runs if r["valid"]]

        def med(key: str, pool: list[dict] = valid) -> float | None:
            values = [r[key] for r in pool if r[key] is not None]
            return statistics.median(values) if values else None

        rps = [r["rps"] for r in valid if r["rps"] is not None]
        cv = statistics.stdev(rps) / statistics.mean(rps) if len(rps) > 1 and statistics.mean(rps) > 0 else None
        first = runs[0]
        unit = first.get("unit_s")
        worker_type = first["worker_type"]
        cap = stats.capacity(worker_type, first["workers"], first["threads"], first["worker_connections"], cat=cat)
        # IO waits overlap up to the configuration's capacity: the physical limit is min(c, capacity) / unit
        limit = min(concurrency, cap) / unit if first["task"] == "io" and unit else None
        rps_med = med("rps")
        app = [r["app_resources"] for r in valid if r.get("app_resources")]
        loads = [r["load_resources"] for r in valid if r.get("load_resources")]
        rows.append(
            {
                "label": label,
                "task": runs[0]["task"],
                "scenario_name": first.get("scenario_name"),
                "first_index": min(r.get("index", 0) for r in runs),  # where the app's scenario came in the matrix
                "tool": first["tool"],
                "io_limit_rps": limit,
                "io_capacity": cap if limit is not None else None,
                "efficiency": rps_med / limit if limit and rps_med is not None else None,
                "server_cpu_pct": statistics.median(a["master_cpu_pct"] + a["workers_cpu_pct"] for a in app)
                if app
                else None,
                "server_rss_mb": max(a["master_rss_mb"] + a["workers_rss_mb"] for a in app) if app else None,
                "load_cpu_pct": statistics.median(x["cpu_pct"] for x in loads) if loads else None,
                "load_bound": sorted({r["load_bound"] for r in runs if r.get("load_bound")}),
                "worker_type": worker_type,
                "variant": variant,
                # its instance's settings (the report's config, the recommendation's workers)
                **{k: first.get(k) for k in ("workers", "threads", "worker_connections", "http_parser", "asgi_loop")},
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
    return sorted(rows, key=lambda r: (r["label"], r["variant"], r["concurrency"]))


def fidelity(probes: list[dict], sweeps: list[dict], order: list[str]) -> list[dict]:
    """Per instance (its variant: a worker type, or a combination of a matrix), what can be held against theory in
    this run: the worst probe error (when it ran bursts), and
    for each swept IO scenario that declares its unit (`unit_s`), its throughput as a share of the physical limit
    (min(c, capacity) / unit): its best at saturation (or below it, when c never reaches the capacity), and at its
    highest concurrency. A type with neither has no entry: an app without probes or IO sweeps has nothing here."""
    out = []
    for variant in order:
        errors = [p for p in probes if results_model.variant_of(p) == variant
                  and p["error"] is not None and p["concurrency"] > 1]  # fmt: skip
        mine = [
            s
            for s in sweeps
            if results_model.variant_of(s) == variant and s.get("io_limit_rps") and s["rps"] is not None
        ]
        io = []
        for label in dict.fromkeys(s["label"] for s in mine):
            points = sorted((s for s in mine if s["label"] == label), key=lambda s: s["concurrency"])
            top = points[-1]
            cap = top.get("io_capacity")
            # saturated: c at or above the configuration's capacity, where the limit stops growing with c. gevent's
            # and eventlet's capacity (1000 connections) is above every c a profile runs: then the best point is
            # reported, and said to be below saturation.
            if cap is not None:
                saturated = [s for s in points if s["concurrency"] >= cap]
            else:  # rows without the capacity: where the limit stopped growing
                saturated = [s for s in points if s["io_limit_rps"] == max(x["io_limit_rps"] for x in points)]
            best = max(saturated or points, key=lambda s: s["efficiency"])
            io.append({
                "label": label,
                "saturated": bool(saturated),
                "capacity": cap,
                "best_efficiency": best["efficiency"],
                "best_concurrency": best["concurrency"],
                "best_limit": best["io_limit_rps"],
                "concurrency": top["concurrency"],
                "rps": top["rps"],
                "limit": top["io_limit_rps"],
                "efficiency": top["efficiency"],
            })  # fmt: skip
        if not errors and not io:
            continue
        out.append({
            "variant": variant,
            "probe_error": max((p["error"] for p in errors), default=None),
            "probe_error_io": max((p["error"] for p in errors if p["task"] == "io"), default=None),
            "io": io,
        })  # fmt: skip
    return out
