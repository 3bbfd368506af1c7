"""Capacity within a latency target: the highest offered rate whose requests meet the target (a percentile of the
latency from each request's due time, and an error budget), found by a search that steps the rate up until the
target breaks, then bisects to within a precision.

A step is judged from its own requests (past its warm-up): a request that got no answer, or not the scenario's
status, is an error, and counts as missing the target (its latency is taken as infinite). The step **meets** the
target when its errors are within the budget and the upper bound of the percentile's 95 % interval (order statistics,
bench/analyse/quantiles.py) is within the target; it **breaks** it when its errors are over the budget or the lower
bound is over the target; else it is **undecided** (the interval straddles the target, or there are too few requests
to bound the percentile from above): the search runs it once more, twice as long, and counts a second undecided step
as not met (the capacity it reports is then a rate that was shown to meet the target, never a guess).

Standard library and bench/analyse/quantiles.py only: the load driver makes the same decisions on the load host
(roles/load/files/load_driver.py, which gets both modules in their package path) that the controller checks later.
"""

from __future__ import annotations

import math

try:  # on the controller, as the bench package; on a load host, bench/analyse/ as the load role copies it
    from bench.analyse import quantiles
except ImportError:  # pragma: no cover - the load host's layout
    import quantiles  # type: ignore[no-redef]

MET, BROKEN, UNDECIDED = "met", "broken", "undecided"
LOAD_BOUND = "load-bound"  # how a collected step whose generator fell behind counts: neither met nor broken
FACTOR = 2.0  # the step up (and down) before the target is bracketed
PRECISION = 0.05  # the bisection stops when the bracket is this narrow, relative to the rate that met the target
LEVEL = 0.95


def label(target: dict) -> str:
    """p99 <= 250 ms, errors <= 1 %."""
    ms = target["latency_s"] * 1000
    return f"{quantiles.label(target['percentile'])} <= {ms:g} ms, errors <= {target['error_budget'] * 100:g} %"


def step_time_s(rate: float, time_s: float, target: dict, longer: int = 1) -> float:
    """How long a step at this rate runs: its time, or long enough for its requests to bound the target's percentile
    on both sides (p99 needs 368 requests), whichever is longer; `longer` times that for an undecided step again."""
    needed = quantiles.samples_needed(target["percentile"], LEVEL)
    return float(max(time_s, math.ceil(needed / rate))) * longer


def judge(latencies: list[float], errors: int, target: dict) -> dict:
    """A step's verdict from its requests: the latencies of those answered right, and how many were errors."""
    n = len(latencies) + errors
    q, bound = target["percentile"], target["latency_s"]
    out = {"n": n, "errors": errors, "error_rate": errors / n if n else None, "value_s": None, "low_s": None,
           "high_s": None}  # fmt: skip
    if n == 0:
        return out | {"verdict": UNDECIDED, "why": "no requests"}
    ordered = sorted(latencies) + [math.inf] * errors
    low, high = quantiles.ci_ranks(n, q, LEVEL)
    value = quantiles.nearest_rank(ordered, q)
    out |= {"value_s": value, "low_s": ordered[low - 1] if low else None, "high_s": ordered[high - 1] if high else None}
    name = quantiles.label(q)
    if out["error_rate"] > target["error_budget"]:
        return out | {"verdict": BROKEN, "why": f"{errors} of {n} requests failed, over the budget"}
    if out["low_s"] is not None and out["low_s"] > bound:
        return out | {"verdict": BROKEN, "why": f"{name} over the target even at the low end of its interval"}
    if out["high_s"] is not None and out["high_s"] <= bound:
        return out | {"verdict": MET, "why": f"{name} within the target even at the high end of its interval"}
    if out["high_s"] is None:
        return out | {"verdict": UNDECIDED, "why": f"{n} requests cannot bound {name} from above"}
    return out | {"verdict": UNDECIDED, "why": f"the interval of {name} straddles the target"}


def sample(rows: list[dict], warmup_s: float, expected_status: int) -> tuple[list[float], int]:
    """A step's latencies (due to done) of the requests answered with the expected status, and its errors, past its
    warm-up (rows as bench/parse/rate.py reads them: due, done, status, error)."""
    rows = [r for r in rows if r["due"] >= warmup_s]
    ok = [r["done"] - r["due"] for r in rows if r["status"] == expected_status]
    return ok, len(rows) - len(ok)


def lag_decides(verdict: dict, lag_max_s: float | None, target: dict) -> bool:
    """Whether a step's verdict may be its generator's doing, when it fell behind: every latency is timed from when
    the request was due, so a late send only adds to it. A target met is met all the same, and one broken by its
    errors, or with the low end of its interval over the bound by more than the latest send, is broken all the same;
    anything else (broken by less, undecided) may be the lag."""
    if verdict["verdict"] == MET:
        return False
    if verdict["verdict"] == BROKEN:
        errors = verdict["error_rate"] is not None and verdict["error_rate"] > target["error_budget"]
        low = verdict["low_s"]
        return not (errors or (low is not None and low - (lag_max_s or 0.0) > target["latency_s"]))
    return True


def counted(step: dict) -> str:
    """A step as the search counts it: an undecided step run twice as long and undecided again is not met; a step
    whose generator fell behind enough to decide its verdict (`lag_decides`, known once collected: lag_decides())
    decides nothing, its latencies being the load host's as much as the server's."""
    if step.get("lag_decides"):
        return LOAD_BOUND
    if step["verdict"] == UNDECIDED and step.get("longer", 1) > 1:
        return BROKEN
    return step["verdict"]


def next_step(steps: list[dict], start: float, high: float, low: float | None = None) -> dict | None:
    """The next step of the search after these steps ({"rate", "verdict", "longer"}, in the order run), or None when
    it is done: {"rate", "longer"} (longer: 2 to run an undecided rate again, twice as long). Up by FACTOR from
    `start` while the target is met (to `high` at most: the load hosts' ceiling), down by FACTOR while it is not (to
    `low` at least), then bisection between the highest rate met and the lowest not met above it, to PRECISION."""
    low = start / 16 if low is None else low
    if not steps:
        return {"rate": start, "longer": 1}
    last = steps[-1]
    if last["verdict"] == UNDECIDED and last.get("longer", 1) == 1:
        return {"rate": last["rate"], "longer": 2}
    rate = _next_rate(*bracket(steps), high, low)
    return None if rate is None else {"rate": rate, "longer": 1}


def _next_rate(met: float | None, missed: float | None, high: float, low: float) -> float | None:
    if missed is None:  # everything met so far: up, to the ceiling
        return None if met >= high else min(high, met * FACTOR)
    if met is None:  # nothing met yet: down, to the floor
        return None if missed <= low else max(low, missed / FACTOR)
    return None if (missed - met) / met <= PRECISION else round((met + missed) / 2, 6)


def bracket(steps: list[dict]) -> tuple[float | None, float | None]:
    """(the highest rate that met the target below the lowest that did not, the lowest that did not)."""
    missed = [s["rate"] for s in steps if counted(s) == BROKEN]
    lowest_missed = min(missed) if missed else None
    met = [s["rate"] for s in steps if counted(s) == MET and (lowest_missed is None or s["rate"] < lowest_missed)]
    return (max(met) if met else None), lowest_missed


def at_least(found: dict) -> bool:
    """Whether a search's result (result()) is a lower bound only: met, and never missed (stopped after max_steps, or
    at the load hosts' ceiling)."""
    return bool(found.get("capacity_per_s")) and found.get("missed_per_s") is None


def result(
    steps: list[dict], high: float, low: float, start: float | None = None, max_steps: int | None = None
) -> dict:
    """What the search found: the capacity (the highest rate shown to meet the target), the bracket, and why it
    stopped, in words (with its start and max_steps: whether it stopped there, short of done)."""
    met, missed = bracket(steps)
    undecided = [s["rate"] for s in steps if counted(s) == BROKEN and s["verdict"] == UNDECIDED]
    behind = [s["rate"] for s in steps if counted(s) == LOAD_BOUND]
    decided = [s for s in steps if counted(s) != LOAD_BOUND]
    if not decided:
        how = "no step decided anything: the load host fell behind at every rate tried"
    elif met is None:
        lowest = "the lowest rate a step decided" if behind else "the lowest rate tried"
        how = f"the target was not met even at {min(s['rate'] for s in decided):g}/s, {lowest}"
    elif missed is None and met >= high:
        how = f"the target was still met at {met:g}/s, the most the load hosts send on time"
    elif missed is None:
        how = f"the target was still met at {met:g}/s, the highest rate tried"
    else:
        how = f"met at {met:g}/s, not at {missed:g}/s ({(missed - met) / met * 100:.0f} % apart)"
    if undecided:
        how += f"; undecided at {', '.join(f'{r:g}/s' for r in undecided)} even twice as long (counted as not met)"
    if behind:
        how += f"; at {', '.join(f'{r:g}/s' for r in behind)} the load host fell behind (load-bound): decides nothing"
    if max_steps and len(steps) >= max_steps and next_step(steps, start, high, low) is not None:
        how += f"; stopped after max_steps={max_steps} steps"
    return {"capacity_per_s": met, "missed_per_s": missed, "steps": len(steps), "how": how,
            "bounded": met is not None and missed is not None, "low_per_s": low, "high_per_s": high}  # fmt: skip
