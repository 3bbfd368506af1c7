"""The verdict of a run at a rate: the mean wait it measured (from when each request was due to when the app started
on it: bench/parse/rate.py) against what queueing theory says requests of that service time wait at that rate on the
type's slots (bench/analyse/queueing.py: M/D/1 exactly, M/D/k by Cosmetatos, none below saturation for evenly spaced
arrivals). The service time is the app's own clock (its Server-Timing header), the slots the catalog's theory of the
type for the scenario's task (an IO request holds one of a gevent worker's connections; a CPU request holds its loop).

Expected when the server waited as the ideal queue of its slots would have for the very same arrivals (judge says
how close), whether or not theory's long-run mean lies within the run's interval; else what happened, in words."""

from __future__ import annotations

from bench.analyse import queueing, stats
from bench.model import catalog

# What a request waits that no queue explains: its connection's set-up and its answer's transfer, and the scheduling
# of a shared machine (a few tenths of a millisecond on the lab; 5 ms leaves room for a VM's network).
WAIT_FLOOR_S = 0.005
# How far the server's mean wait may lie from the ideal queue's for the same arrivals: gunicorn's own work around
# each request (about 2 ms on the lab beside the app's 100: 340 ms against 318 ms at a utilization of 0.8, 7 %).
IDEAL_SHARE = 0.15


def ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.1f} ms"


def slots_text(slots: int) -> str:
    return "unbounded" if slots >= catalog.UNBOUNDED else str(slots)


def judge(record: dict, cat: catalog.Catalog | None = None) -> dict:  # noqa: PLR0911 -- a return per verdict
    """A rate record's verdict: {"slots", "service_s", "rho", "theory_wait_s", "verdict", "sentence"}. verdict is
    "expected", "not as expected", "saturated" (ρ >= 1: no mean wait exists, the queue grows as long as the load
    lasts), "doubtful" (load-bound, or too few requests to judge) or None (no theory: no task, or no service time
    from the app).

    Two yardsticks. The server against the ideal queue of its slots for these very arrivals (bench/parse/rate.py's
    ideal_wait_s): within IDEAL_SHARE or WAIT_FLOOR_S, it served as k slots of the app's own time do; past them, not
    (and the time each request really held its slot says by how much). The run against theory's long-run mean: within
    the mean wait's 95 % interval (give or take WAIT_FLOOR_S), or outside it though the server matched the ideal
    queue: the luck of a short run's arrivals, said so, not a fault of the server."""
    got = record.get("rate") or {}
    task = record.get("task")
    slots = stats.slots(record["worker_type"], task or "io", record["workers"], record["threads"],
                        record["worker_connections"], cat=cat)  # fmt: skip
    out = {"slots": slots, "slots_text": slots_text(slots), "service_s": got.get("service_s"), "rho": None,
           "theory_wait_s": None}  # fmt: skip
    wait = got.get("wait") or {}
    if not record["valid"] or not got:
        return {**out, "verdict": None, "sentence": record.get("invalid_reason") or "no measurement"}
    if task is None or got.get("service_s") is None:
        why = "the scenario has no task" if task is None else "the app's answers carried no Server-Timing"
        return {**out, "verdict": None, "sentence": f"measured, no theory ({why})"}
    rate, service, mean, ideal = got["offered_rate"], got["service_s"], wait.get("mean"), got.get("ideal_wait_s")
    out["rho"] = rho = queueing.utilisation(rate, service, slots)
    measured = f"waited {ms(mean)} on average"
    if rho >= 1:
        return {**out, "verdict": "saturated",
                "sentence": f"ρ = {rho:.2f}: more work offered than its {slots} slot(s) serve; the queue grows as long "
                            f"as the load lasts ({measured})"}  # fmt: skip
    theory = queueing.mean_wait_s(rate, service, slots, got["arrivals"])
    out["theory_wait_s"] = theory
    k = slots_text(slots)
    law = f"{'M' if got['arrivals'] == 'poisson' else 'D'}/D/{'∞' if k == 'unbounded' else k}"  # Kendall's notation
    said = f"{measured}; {'an' if ideal is not None else 'no'} ideal queue of {k} slot(s) of {ms(service)}"
    said += f" {ms(ideal)} for these very arrivals" if ideal is not None else ""
    long_run = f"{law} at ρ = {rho:.2f} says {ms(theory)} in the long run"
    interval = f"(this run's 95 % interval {ms(wait.get('low'))}–{ms(wait.get('high'))})"
    if got.get("load_bound"):
        return {**out, "verdict": "doubtful", "sentence": f"{said}; but {got['load_bound']}"}
    if mean is None or (ideal is None and wait.get("low") is None):
        return {**out, "verdict": "doubtful",
                "sentence": f"{said}; too few requests ({wait.get('n', 0)}) to judge"}  # fmt: skip
    if ideal is not None and abs(mean - ideal) > max(WAIT_FLOOR_S, IDEAL_SHARE * ideal):
        more = "longer" if mean > ideal else "shorter"
        held = got.get("effective_service_s")
        why = f": as if each request held its slot {ms(held)}, not the app's {ms(service)}" if held else ""
        return {**out, "verdict": "not as expected",
                "sentence": f"{said}: requests waited {more} than that queue{why}; {long_run}"}  # fmt: skip
    if wait.get("low") is None:
        return {**out, "verdict": "expected", "sentence": f"{said}; {long_run} (too few requests for an interval)"}
    if wait["low"] - WAIT_FLOOR_S <= theory <= wait["high"] + WAIT_FLOOR_S:
        return {**out, "verdict": "expected", "sentence": f"{said}; {long_run}, inside {interval}"}
    return {**out, "verdict": "expected",
            "sentence": f"{said}; {long_run}, outside {interval}: these arrivals' luck, which the ideal queue shares "
                        f"(a longer run narrows it)"}  # fmt: skip


def rate_rows(results: list[dict], cat: catalog.Catalog | None = None) -> list[dict]:
    """Every run at a rate with its verdict, in the run's order."""
    return [{**r, **judge(r, cat)} for r in results if r["scenario"] == "rate"]
