"""The verdict of a run at a rate: the mean wait it measured (from when each request was due to when the app started
on it: bench/parse/rate.py) against what queueing theory says requests of that service time wait at that rate on the
type's slots (bench/analyse/queueing.py: M/D/1 exactly, M/D/k by Cosmetatos, none below saturation for evenly spaced
arrivals). The service time is the app's own clock (its Server-Timing header), the slots the catalog's theory of the
type for the scenario's task (an IO request holds one of a gevent worker's connections; a CPU request holds its loop).

Expected when theory lies within the measurement's 95 % interval, widened by WAIT_FLOOR_S on each side (a request's
connection set-up and transfer, which no queue explains). Else what happened, in words."""

from __future__ import annotations

from bench.analyse import queueing, stats
from bench.model import catalog

# What a request waits that no queue explains: its connection's set-up and its answer's transfer, and the scheduling
# of a shared machine (a few tenths of a millisecond on the lab; 5 ms leaves room for a VM's network).
WAIT_FLOOR_S = 0.005


def ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.1f} ms"


def judge(record: dict, cat: catalog.Catalog | None = None) -> dict:  # noqa: PLR0911 -- a return per verdict
    """A rate record's verdict: {"slots", "service_s", "rho", "theory_wait_s", "verdict", "sentence"}. verdict is
    "expected", "not as expected", "saturated" (ρ >= 1: no mean wait exists, the queue grows as long as the load
    lasts), "doubtful" (load-bound, or too few requests for an interval) or None (no theory: no task, or no service
    time from the app)."""
    got = record.get("rate") or {}
    task = record.get("task")
    slots = stats.slots(record["worker_type"], task or "io", record["workers"], record["threads"],
                        record["worker_connections"], cat=cat)  # fmt: skip
    out = {"slots": slots, "service_s": got.get("service_s"), "rho": None, "theory_wait_s": None}
    wait = got.get("wait") or {}
    if not record["valid"] or not got:
        return {**out, "verdict": None, "sentence": record.get("invalid_reason") or "no measurement"}
    if task is None or got.get("service_s") is None:
        why = "the scenario has no task" if task is None else "the app's answers carried no Server-Timing"
        return {**out, "verdict": None, "sentence": f"measured, no theory ({why})"}
    rate, service = got["offered_rate"], got["service_s"]
    out["rho"] = rho = queueing.utilisation(rate, service, slots)
    measured = f"waited {ms(wait.get('mean'))} on average"
    if rho >= 1:
        return {**out, "verdict": "saturated",
                "sentence": f"ρ = {rho:.2f}: more work offered than its {slots} slot(s) serve; the queue grows as long "
                            f"as the load lasts ({measured})"}  # fmt: skip
    theory = queueing.mean_wait_s(rate, service, slots, got["arrivals"])
    out["theory_wait_s"] = theory
    law = f"{'M' if got['arrivals'] == 'poisson' else 'D'}/D/{slots}"  # Kendall: arrivals / service / slots
    said = f"{measured} (95 % {ms(wait.get('low'))}–{ms(wait.get('high'))}); {law} at ρ = {rho:.2f} says {ms(theory)}"
    if got.get("ideal_wait_s") is not None:  # this run's own arrivals through the ideal queue: its luck of the draw
        said += f", these very arrivals through an ideal queue {ms(got['ideal_wait_s'])}"
    if got.get("load_bound"):
        return {**out, "verdict": "doubtful", "sentence": f"{said}; but {got['load_bound']}"}
    if wait.get("low") is None:
        return {**out, "verdict": "doubtful",
                "sentence": f"{said}; too few requests ({wait.get('n', 0)}) for an interval"}  # fmt: skip
    if wait["low"] - WAIT_FLOOR_S <= theory <= wait["high"] + WAIT_FLOOR_S:
        return {**out, "verdict": "expected", "sentence": said}
    more = "longer" if wait["mean"] > theory else "shorter"
    return {**out, "verdict": "not as expected", "sentence": f"{said}: requests waited {more} than theory"}


def rate_rows(results: list[dict], cat: catalog.Catalog | None = None) -> list[dict]:
    """Every run at a rate with its verdict, in the run's order."""
    return [{**r, **judge(r, cat)} for r in results if r["scenario"] == "rate"]
