"""Which instance (a worker type, or a combination of knobs of a matrix) to choose for each of the app's scenarios:
the one that carries the most within the scenario's latency target (its capacity search), the runner-up, by how
much, and whether this run can tell them apart; where the rule of thumb for workers (2 × cores + 1) stands against
the best count measured. A scenario searched by none falls back on its sweep (requests a second at the highest
concurrency), whose repeats say whether the difference is more than the run's noise. A mix with a latency target
(bench_app.mixes[].target) is recommended like a search: the highest of its rates at which every scenario of the mix
met the target.

Each entry is plain data (results.json keeps them under `recommendations`, for the nightly to track);
bench/render/summary.py words them for the report's first paragraph."""

from __future__ import annotations

from bench.analyse import capacity, capacity_bound, throughput
from bench.model import plan
from bench.model.results_model import variant_of

RULE_OF_THUMB = "2 × cores + 1"  # gunicorn's documentation: workers for a server of this many cores


def rule_of_thumb(cores: int) -> int:
    return 2 * cores + 1


def _found(rec: dict) -> dict | None:
    return (rec.get("search") or {}).get("result") if rec.get("valid") else None


def _peaks(records: list[dict], variant: str) -> tuple[float | None, float | None]:
    """The most memory an instance's processes took together during the run: (RSS, PSS) in MiB, None where no
    sample had it (PSS: samples taken before the sampler read it)."""
    usage = [r["app_resources"] for r in records if variant_of(r) == variant and r.get("app_resources")]
    rss = max((u["master_rss_mb"] + u["workers_rss_mb"] for u in usage), default=None)
    pss = max((u["pss_mb"] for u in usage if u.get("pss_mb")), default=None)
    return rss, pss


def memory(records: list[dict], variant: str) -> tuple[float, str] | None:
    """The most memory an instance's processes took together during the run, and how it was measured: their PSS
    (shared pages split among them), or their RSS (each process's shared pages counted again) where the samples had no
    PSS."""
    rss, pss = _peaks(records, variant)
    if pss:
        return pss, "PSS"
    return (rss, "RSS") if rss is not None else None


def _cheapest(tier: list[dict], records: list[dict]) -> dict:
    """Of instances that carried the same, the one that takes the least memory (else the fewest processes and
    threads); the run's order breaks what is left."""

    def cost(r: dict) -> tuple:
        mem = memory(records, variant_of(r))
        return (mem[0] if mem else 0.0, int(r.get("workers") or 1) * int(r.get("threads") or 1))

    return min(tier, key=cost)


def _capacity(rows: list[dict], records: list[dict]) -> dict:
    """The entry of one scenario's capacity searches (rows: valid, each with its result). Searches that met the
    target at the same rate are one tier (the search's ladder cannot tell them apart): the best is the tier's cheapest
    in memory; the runner-up is the best of the next tier."""
    ranked = sorted(rows, key=lambda r: -(_found(r)["capacity_per_s"] or 0.0))
    top = _found(ranked[0])["capacity_per_s"]
    tier = [r for r in ranked if _found(r)["capacity_per_s"] == top]
    best = _cheapest(tier, records)
    b = _found(best)
    entry = {"by": "capacity", "target": best["search"]["target"], "best": variant_of(best),
             "best_config": plan.config_label(best), "best_per_s": b["capacity_per_s"],
             "at_least": capacity.at_least(b), "memory": memory(records, variant_of(best)),
             "equals": [variant_of(r) for r in tier if r is not best],
             "runner_up": None, "runner_up_per_s": None, "margin": None, "settled": None}  # fmt: skip
    if not top:
        return entry | {"best": None, "best_config": None, "equals": [], "memory": None,
                        "why": "no instance met the target at any rate tried"}  # fmt: skip
    rest = [r for r in ranked if r not in tier]
    if not rest:
        why = "the only instance searched" if len(tier) == 1 else "every instance searched met it at the same rate"
        return entry | {"why": why}
    runner = rest[0]
    r = _found(runner)
    entry |= {"runner_up": variant_of(runner), "runner_up_per_s": r["capacity_per_s"]}
    if r["capacity_per_s"]:
        entry["margin"] = b["capacity_per_s"] / r["capacity_per_s"] - 1
    met, other = capacity_bound.per_s(b["capacity_per_s"]), variant_of(runner)
    if capacity.at_least(r):
        why = (
            f"{other}'s search never missed the target (at least {capacity_bound.per_s(r['capacity_per_s'])}/s): "
            "it may carry more; a search with more steps (load_capacity.max_steps) would settle it"
        )
        return entry | {"settled": False, "why": why}
    missed = capacity_bound.per_s(r["missed_per_s"])
    if b["capacity_per_s"] >= r["missed_per_s"]:
        why = f"{variant_of(best)} met the target at {met}/s, a rate where {other} missed it ({missed}/s)"
        return entry | {"settled": True, "why": why + ": more than the searches' resolution"}
    why = (
        f"the searches' brackets overlap ({variant_of(best)} met at {met}/s, {other} missed at {missed}/s): the "
        "difference is within their resolution; more steps (load_capacity.max_steps) would narrow them, and the "
        "nightly's runs show whether the order holds"
    )
    return entry | {"settled": False, "why": why}


def _sweep(rows: list[dict]) -> dict:
    """The entry of one scenario's sweep at its highest concurrency (rows: sweep_rows of one label)."""
    top = max(r["concurrency"] for r in rows)
    ranked = sorted((r for r in rows if r["concurrency"] == top and r["rps"] is not None), key=lambda r: -r["rps"])
    best = ranked[0]
    entry = {"by": "sweep", "concurrency": top, "best": variant_of(best), "best_config": plan.config_label(best),
             "best_rps": best["rps"], "runner_up": None, "runner_up_rps": None, "margin": None,
             "settled": None}  # fmt: skip
    if len(ranked) == 1:
        return entry | {"why": "the only instance swept"}
    runner = ranked[1]
    entry |= {"runner_up": variant_of(runner), "runner_up_rps": runner["rps"],
              "margin": best["rps"] / runner["rps"] - 1 if runner["rps"] else None}  # fmt: skip
    if best["repeats"] < 2 or runner["repeats"] < 2:
        why = "one run each: its noise is not measured; repeats (load_sweep.repeats of 3 or more) would tell"
        return entry | {"why": why}
    if best["rps_min"] > runner["rps_max"]:
        why = (
            f"every repeat of {variant_of(best)} ({best['rps_min']:,.1f} at the least) served more than any of "
            f"{variant_of(runner)} ({runner['rps_max']:,.1f} at the most)"
        )
        return entry | {"settled": True, "why": why}
    why = (
        f"the repeats overlap ({variant_of(best)} {best['rps_min']:,.1f}–{best['rps_max']:,.1f}, "
        f"{variant_of(runner)} {runner['rps_min']:,.1f}–{runner['rps_max']:,.1f}): within the run's noise; more "
        "repeats would tell"
    )
    return entry | {"settled": False, "why": why}


def _workers(best: dict, candidates: list[dict], key, cores: int) -> dict | None:
    """Where 2 × cores + 1 stands for the best's type: the workers counts tried for it (its other knobs as the best's),
    what each carried, and the best count; None when the run tried one count only."""
    same = [c for c in candidates if c["worker_type"] == best["worker_type"]
            and all(c.get(k) == best.get(k) for k in plan.KNOBS)]  # fmt: skip
    tried = {}
    for c in same:
        value = key(c)
        if value is not None:
            tried[int(c["workers"])] = max(tried.get(int(c["workers"]), 0.0), value)
    if len(tried) < 2:
        return None
    rule = rule_of_thumb(cores)
    most = max(tried.values())
    same = sorted(w for w, v in tried.items() if v == most)
    return {"cores": cores, "rule": rule, "tried": dict(sorted(tried.items())), "best_workers": same[0],
            "same": same, "rule_tried": rule in tried}  # fmt: skip


def mix_steps(runs: list[dict]) -> list[dict]:
    """One instance's runs of a mix with a target (its rates, open loop, not alone) as a search's steps: met when
    every scenario of the mix met the target (each class's `target_verdict`, judged when collected), broken when one
    broke it, else undecided and counted as not met; a run whose generator fell behind decides nothing but a target
    met."""
    steps = []
    for r in sorted(runs, key=lambda r: r["rate_per_s"]):
        classes = (r.get("rate") or {}).get("classes") or []
        verdicts = {(c.get("target_verdict") or {}).get("verdict") for c in classes}
        verdict = capacity.UNDECIDED
        if verdicts == {capacity.MET} and r["valid"]:
            verdict = capacity.MET
        elif capacity.BROKEN in verdicts or not r["valid"]:
            verdict = capacity.BROKEN
        steps.append({"rate": r["rate_per_s"], "verdict": verdict, "longer": 2,
                      "lag_decides": bool(r.get("load_bound")) and verdict != capacity.MET})  # fmt: skip
    return steps


def _mixes(records: list[dict]) -> list[dict]:
    """Per mix with a latency target, its instances as capacity rows: the highest of the mix's rates at which every
    scenario met the target (`search.result`, as a capacity search's)."""
    runs = [r for r in records if r["scenario"] == "mix" and r.get("target") and r.get("rate_per_s")
            and not (r.get("mix") or {}).get("only")]  # fmt: skip
    out = []
    for name in dict.fromkeys(r["mix"]["name"] for r in runs):
        for variant in dict.fromkeys(variant_of(r) for r in runs if r["mix"]["name"] == name):
            mine = [r for r in runs if r["mix"]["name"] == name and variant_of(r) == variant]
            steps = mix_steps(mine)
            found = capacity.result(steps, float("inf"), min(s["rate"] for s in steps))
            out.append({**mine[0], "valid": True, "search": {"target": mine[0]["target"], "result": found}})
    return out


def recommend(records: list[dict], cores: int) -> list[dict]:
    """Per scenario of the run (its label), in the order the app gives them, then per mix with a target: the
    recommendation (see the module)."""
    out = []
    searched = [r for r in records if r["scenario"] == "capacity" and _found(r)]
    for label in dict.fromkeys(r["label"] for r in searched):
        rows = [r for r in searched if r["label"] == label]
        entry = _capacity(rows, records)
        best = next((r for r in rows if variant_of(r) == entry["best"]), None)
        workers = best and _workers(best, rows, lambda r: _found(r)["capacity_per_s"], cores)
        out.append({"label": label, "scenario_name": rows[0].get("scenario_name"), **entry, "workers": workers})
    sweeps = sorted(throughput.sweep_rows(records), key=lambda s: s["first_index"])  # in the app's order
    for label in dict.fromkeys(s["label"] for s in sweeps):
        if label in {e["label"] for e in out}:
            continue
        rows = [s for s in sweeps if s["label"] == label]
        if not any(s["rps"] is not None for s in rows):
            continue
        entry = _sweep(rows)
        top = [s for s in rows if s["concurrency"] == entry["concurrency"]]
        best = next(s for s in top if variant_of(s) == entry["best"])
        workers = _workers(best, top, lambda s: s["rps"], cores)
        out.append({"label": label, "scenario_name": rows[0].get("scenario_name"), **entry, "workers": workers})
    mixed = _mixes(records)
    for label in dict.fromkeys(r["label"] for r in mixed):
        rows = [r for r in mixed if r["label"] == label]
        entry = _capacity(rows, records) | {"by": "mix"}
        if entry.get("settled") is False:  # a mix's rates are the app's, not a search's steps
            entry["why"] = (f"{entry['why'].split(':')[0]}: the mix's rates leave them within one step; rates between "
                            "them (bench_app.mixes[].rate_per_s) would tell")  # fmt: skip
        best = next((r for r in rows if variant_of(r) == entry["best"]), None)
        workers = best and _workers(best, rows, lambda r: _found(r)["capacity_per_s"], cores)
        out.append({"label": label, "scenario_name": rows[0].get("scenario_name"), **entry, "workers": workers})
    return out


def costs(records: list[dict], order: list[str], cores: int) -> list[dict]:
    """What each instance costs (the report's table): its memory (the most its processes took together, RSS and PSS,
    and PSS a worker), and per scenario it searched, its capacity, the workers' CPU time a request there, and the
    capacity per core of the app host and per GiB of its memory (PSS, else RSS)."""
    out = []
    for variant in order:
        mine = [r for r in records if variant_of(r) == variant]
        if not mine:
            continue
        rss, pss = _peaks(mine, variant)
        workers = int(mine[0].get("workers") or 1)
        gib = (pss or rss or 0) / 1024
        searched = []
        for r in mine:
            found = _found(r) if r["scenario"] == "capacity" else None
            if not found:
                continue
            per_s = found["capacity_per_s"] or 0.0
            cpu = capacity_bound.cpu_per_request(r["search"]["steps"])
            searched.append({"label": r["label"], "per_s": per_s, "at_least": capacity.at_least(found),
                             "cpu_ms": cpu * 1000 if cpu is not None else None, "per_core": per_s / max(cores, 1),
                             "per_gib": per_s / gib if gib else None})  # fmt: skip
        out.append({"variant": variant, "config": plan.config_label(mine[0]), "workers": workers, "rss_mb": rss,
                    "pss_mb": pss, "pss_per_worker_mb": pss / workers if pss else None,
                    "searched": searched})  # fmt: skip
    return out
