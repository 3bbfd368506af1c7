"""How long a run will take, from its load matrix (bench/model/scenarios.py), before anything runs: printed by
validate, and held against the run's time budget (load_budget_min) so that a matrix of knobs too large for it is
refused before any host is touched.

The figures are a model, not a promise: each run's own time (a sweep's time_s, a rate run's warm-up and time, a
probe's rounds of its unit of work) plus what the sample run (reports/sample: make bench, quick, eight types on the
lab) spent around them. A capacity search's steps depend on the server: its expected time is the model's, its longest
is its timeout (every step at its longest, run twice)."""

from __future__ import annotations

import math

from bench.analyse import stats
from bench.model import operations

# A turn's own time beside its runs (start and check the instance, verify every scenario, stop it, fetch its output):
# the sample's load phase less its time in the load generator, over its turns ((728 - 682) s / 8).
TURN_S = 6.0
# A probe's or a search's start and end on the load host (the driver, siege's start), beside the time it loads.
RUN_S = 0.5
# A probe whose scenario gives no unit of work (unit_s): the sample's probes took 2.2 s on average.
PROBE_S = 2.2
# A rate run's end beside its warm-up and time: the sample's took 16.3-17.0 s for 15 s.
RATE_END_S = 1.5
# What a run spends besides its turns: validation, preflight, deploy with its virtualenvs built, the report.
FIXED_S = 60.0
# A capacity search's steps, on the model: each its warm-up and its time half again (a step run again twice as long
# when undecided), as many as max_steps (the sample's quick searches: 15.6 s each against 4 x (1 + 3) = 16 s).
CAPACITY_STEP_LONGER = 1.5


class BudgetError(ValueError):
    """The run would take longer than its budget; the message names the budget and what would fit."""


def run_seconds(row: dict) -> tuple[float, float]:
    """(expected, longest) seconds of one run of the load matrix."""
    kind = row["scenario"]
    if kind in ("sweep", "warmup"):  # the sample's sweeps of 3 s took 2.1-3.0 s
        return float(row["time_s"]), float(row["timeout_s"])
    if kind in ("rate", "mix"):
        return row["warmup_s"] + row["time_s"] + RATE_END_S, float(row["timeout_s"])
    if kind == "operation":
        return row["warmup_s"] + row["time_s"] + operations.OPERATION_END_S, float(row["timeout_s"])
    if kind == "capacity":
        step = row["warmup_s"] + CAPACITY_STEP_LONGER * row["time_s"]
        return row["max_steps"] * step + RUN_S, float(row["timeout_s"])
    # a probe: its requests in rounds of the slots its type has for the work, one after another for the c=1 probe
    unit = row.get("unit_s")
    if not unit:
        return PROBE_S, float(row["timeout_s"])
    slots = stats.slots(row["worker_type"], row.get("task") or "io", int(row["workers"]), int(row["threads"]),
                        int(row["worker_connections"]))  # fmt: skip
    rounds = math.ceil(row["concurrency"] / slots) * (row.get("reps") or 1)
    return rounds * float(unit) + RUN_S, float(row["timeout_s"])


def estimate(matrix: list[dict], instances: list[dict], *, app_hosts: int = 1, load_hosts: int = 1) -> dict:
    """The run's size and time: its instances (the combinations of a matrix, by type), its runs, and the seconds it
    should take (`expected_s`) and may take at most (`longest_s`, every run to its timeout). App hosts load at once,
    in rounds when they outnumber the load hosts (bench/model/pairs.py: they take turns)."""
    rounds = max(1, math.ceil(app_hosts / max(1, load_hosts)))
    per_run = [run_seconds(r) for r in matrix]
    turns = len(instances) * TURN_S
    by_type: dict[str, int] = {}
    for inst in instances:
        by_type[inst["worker_type"]] = by_type.get(inst["worker_type"], 0) + 1
    return {
        "instances": len(instances),
        "by_type": by_type,
        "runs": len(matrix),
        "rounds": rounds,
        "expected_s": FIXED_S + rounds * (turns + sum(e for e, _ in per_run)),
        "longest_s": FIXED_S + rounds * (turns + sum(w for _, w in per_run)),
    }


def minutes(seconds: float) -> str:
    """'13 min', '4 h 05 min'."""
    whole = math.ceil(seconds / 60)
    return f"{whole} min" if whole < 60 else f"{whole // 60} h {whole % 60:02d} min"


def describe(est: dict, budget_min: float | None = None) -> str:
    """One line: what the run holds and the time it will take (and its budget)."""
    types = ", ".join(f"{t} {n}" for t, n in est["by_type"].items())
    combos = f" (combinations: {types})" if est["instances"] > len(est["by_type"]) else ""
    rounds = f" in {est['rounds']} rounds of app hosts" if est["rounds"] > 1 else ""
    text = (
        f"{est['instances']} instance{'s' if est['instances'] != 1 else ''}{combos}, {est['runs']} runs{rounds}: "
        f"about {minutes(est['expected_s'])} (at most {minutes(est['longest_s'])}, every run to its timeout)"
    )
    return text + (f"; budget {minutes(budget_min * 60)} (load_budget_min={budget_min:g})" if budget_min else "")


def check_budget(est: dict, budget_min) -> None:
    """Refuse a run expected to take longer than its budget (load_budget_min, minutes), naming it."""
    try:
        budget = float(budget_min)
    except (TypeError, ValueError):
        budget = -1.0
    if isinstance(budget_min, bool) or not budget > 0:
        raise BudgetError(f"load_budget_min={budget_min!r}: the minutes a run may take, a number > 0")
    if est["expected_s"] > budget * 60:
        raise BudgetError(
            f"load_budget_min={budget:g}: this run would take about {minutes(est['expected_s'])}, over its budget of "
            f"{minutes(budget * 60)} ({describe(est)}); raise load_budget_min, or try fewer values, worker types or "
            "scenarios (a quicker profile)"
        )
