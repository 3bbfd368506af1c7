"""A run at a rate: open_loop.py's records (roles/load/files/open_loop.py, one file per load host) read and merged into
what the report and the verdict use: the rate offered and achieved, errors by kind, latency from the moment each
request was due (percentiles with their intervals: bench/analyse/quantiles.py), the wait before the app started on it
(latency minus the app's own time, from its Server-Timing header), the app's service time, and the generator's own lag
(a run whose generator fell behind is load-bound: its latencies are the generator's as much as the server's)."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Iterable

from bench.analyse import quantiles, queueing

# The generator fell behind when 10 % of requests left more than LAG_BOUND_S after they were due and more than
# LAG_SHARE of the median latency: its delay is then a visible part of what is reported as the server's. Not 1 %: of
# the hundred requests of a quick run that is the second latest, and a lab load host on a shared core sends one or two
# of them 5-8 ms late now and then (nothing against answers of 100 ms). The ceiling (docs/measurement.md) is the
# stricter p99 under 1 ms.
LAG_BOUND_S = 0.001
LAG_SHARE = 0.05
# Batches of the batch-means interval of the mean wait: requests that follow each other in a queue wait alike, so the
# interval comes from the means of consecutive batches (nearly independent when each is much longer than a busy
# period), not from the requests as if each were independent.
BATCHES = 10
# Student's t at 97.5 % for BATCHES - 1 degrees of freedom: the 95 % interval of a mean of BATCHES batch means.
T_975_9 = 2.262
# cls: a mix's class (its place); client: in a closed loop, the client that sent it; pid and release: the worker that
# answered and the app's release it had loaded (the harness's X-Bench-Worker header); reused: 1 when its connection
# was kept alive from an earlier request, 0 when new (open_loop.py --keep-alive; else null)
ROW_FIELDS = (
    "i",
    "due",
    "sent",
    "done",
    "status",
    "bytes",
    "error",
    "app_s",
    "cls",
    "client",
    "pid",
    "release",
    "reused",
)


class RateOutputError(ValueError):
    """An output that is not open_loop.py's: the message names the file and what is wrong."""


def read(text: str, name: str = "output") -> tuple[dict, list[dict], dict | None]:
    """One host's output: its header, its rows (dicts of ROW_FIELDS) and its summary (None when the run was cut off
    before it ended: the rows it wrote still count)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise RateOutputError(f"{name}: empty (open_loop.py wrote nothing)")
    parsed = []
    for number, line in enumerate(lines, start=1):
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise RateOutputError(f"{name}: line {number} is not JSON") from exc
    header = parsed[0]
    if not isinstance(header, dict) or header.get("open_loop") != 1:
        raise RateOutputError(f"{name}: its first line is not open_loop.py's header")
    summary = parsed[-1]["summary"] if isinstance(parsed[-1], dict) and "summary" in parsed[-1] else None
    rows = [dict(zip(ROW_FIELDS, row, strict=False)) for row in parsed[1:] if isinstance(row, list)]
    return header, rows, summary


def merge(outputs: Iterable[tuple[dict, list[dict], dict | None]]) -> tuple[dict, list[dict]]:
    """Several load hosts' outputs as one run: rates added, every time moved onto the earliest host's zero (their
    epochs: the hosts' clocks, one clock in the lab, NTP's on VMs), rows in order of when they were due."""
    outputs = list(outputs)
    if not outputs:
        raise RateOutputError("no output to merge")
    zero = min(header["epoch"] for header, _, _ in outputs)
    rows = []
    for n, (header, host_rows, _) in enumerate(outputs):
        shift = header["epoch"] - zero
        rows += [
            {**r, "due": r["due"] + shift, "sent": r["sent"] + shift, "done": r["done"] + shift}
            | ({"client": (n, r["client"])} if r.get("client") is not None else {})  # each host's clients its own
            for r in host_rows
        ]
    first = outputs[0][0]
    header = {
        # a closed loop offers no rate: its clients add up instead
        "rate": None if any(h["rate"] is None for h, _, _ in outputs) else sum(h["rate"] for h, _, _ in outputs),
        **({"clients": sum(h.get("clients") or 0 for h, _, _ in outputs)} if outputs[0][0].get("clients") else {}),
        "duration_s": first["duration_s"],
        "arrivals": first["arrivals"],
        "timeout_s": first.get("timeout_s"),  # how long each host waited for an answer (the same on every host)
        "epoch": zero,
        "hosts": len(outputs),
        "requests_planned": sum(s["requests"] for _, _, s in outputs if s) if all(s for _, _, s in outputs) else None,
        "waited_for_open": sum((s or {}).get("waited_for_open", 0) for _, _, s in outputs),
        "max_open": sum(h["max_open"] for h, _, _ in outputs),
        **({"classes": first["classes"], "only": first.get("only")} if "classes" in first else {}),
    }
    return header, sorted(rows, key=lambda r: r["due"])


def batch_mean_interval(values: list[float], batches: int = BATCHES) -> dict:
    """The mean of values (in the order they arrived) and its 95 % interval by batch means; no interval with fewer
    than two values per batch."""
    out = {"n": len(values), "mean": statistics.fmean(values) if values else None, "low": None, "high": None}
    if len(values) < 2 * batches:
        return out
    size = len(values) // batches
    means = [statistics.fmean(values[b * size : (b + 1) * size]) for b in range(batches)]
    half = T_975_9 * statistics.stdev(means) / math.sqrt(batches)
    centre = statistics.fmean(means)
    return {**out, "low": centre - half, "high": centre + half}


def late(lag_p90: float | None, waited_for_open: int, max_open: int, latency_p50: float | None = None) -> str | None:
    """Why the generator, not the server, set the pace of some requests, or None."""
    reasons = []
    bound = max(LAG_BOUND_S, LAG_SHARE * (latency_p50 or 0.0))
    if lag_p90 is not None and lag_p90 > bound:
        reasons.append(
            f"the generator sent 10 % of requests over {lag_p90 * 1000:.1f} ms late (bound {bound * 1000:.1f} ms:"
            f" {LAG_BOUND_S * 1000:g} ms or {LAG_SHARE:.0%} of the median latency)"
        )
    if waited_for_open:
        reasons.append(f"{waited_for_open} requests waited for one of the {max_open} connections to close")
    return "; ".join(reasons) or None


def ideal_wait_s(rows: list[dict], service_s: float, slots: int, warmup_s: float) -> float | None:
    """The mean wait past the warm-up of these very arrivals (every request, in the order they were due) through an
    ideal first-come first-served queue of `slots` slots and a fixed service time: what the server would have given
    had it been that queue. Unlike theory's long-run mean, it holds this run's luck of the draw (a Poisson schedule of
    a few hundred requests waits tens of percent more or less than the mean)."""
    arrivals = sorted(r["due"] for r in rows)
    waits = [w for t, w in zip(arrivals, queueing.simulate_wait_s(arrivals, service_s, slots), strict=True)
             if t >= warmup_s]  # fmt: skip
    return statistics.fmean(waits) if waits else None


def effective_service_s(rows: list[dict], mean_wait: float, slots: int, warmup_s: float, low_s: float) -> float | None:
    """The fixed time D each request held its slot such that these very arrivals, through the ideal queue of `slots`
    slots of D, wait what the server made them wait: the ideal queue's mean wait at D plus what each request held
    beyond the app's own time (D - low_s, which a request's latency less the app's time holds too) equals mean_wait.
    None when the ideal queue waits no less at low_s (nothing to explain) or no more at 20 times it."""

    def waited(service: float) -> float:
        return ideal_wait_s(rows, service, slots, warmup_s) + service - low_s

    low, high = low_s, 20 * low_s
    if waited(low) >= mean_wait or waited(high) < mean_wait:
        return None
    for _ in range(30):  # halving: to a millionth of the range
        middle = (low + high) / 2
        low, high = (middle, high) if waited(middle) < mean_wait else (low, middle)
    return (low + high) / 2


def answered_right(row: dict, expected_status: int | list[int]) -> bool:
    """Whether a request answered its status: the scenario's, or in a mix its class's (a list, by class)."""
    return row["status"] == (expected_status if isinstance(expected_status, int) else expected_status[row["cls"]])


def summarize(header: dict, rows: list[dict], expected_status: int | list[int] = 200, warmup_s: float = 0.0,
              slots: int | None = None) -> dict:  # fmt: skip
    """What one run at a rate measured, past its warm-up (requests due in its first warmup_s are left out). `ok`
    requests answered the scenario's status (a mix's: each class's, a list); latencies and waits are theirs; with the
    type's slots, the mean wait of the same arrivals through an ideal queue (ideal_wait_s). Times in seconds."""
    every = rows
    warm = len(rows)
    rows = [r for r in rows if r["due"] >= warmup_s]
    ok = [r for r in rows if answered_right(r, expected_status)]
    errors = Counter(r["error"] or f"status {r['status']}" for r in rows if not answered_right(r, expected_status))
    latencies = [r["done"] - r["due"] for r in ok]
    timed = [r for r in ok if r.get("app_s") is not None]
    waits = [max(0.0, r["done"] - r["due"] - r["app_s"]) for r in timed]
    service = statistics.fmean(r["app_s"] for r in timed) if timed else None
    lags = sorted(r["sent"] - r["due"] for r in rows)
    lag_p99 = quantiles.nearest_rank(lags, 99) if lags else None
    lag_p90 = quantiles.nearest_rank(lags, 90) if lags else None
    duration = header["duration_s"] - warmup_s
    # achieved: answered right over the schedule's span or until the last answer, whichever is longer
    span = max((r["done"] for r in ok), default=header["duration_s"]) - warmup_s
    return {
        "offered_rate": header["rate"],
        "arrivals": header["arrivals"],
        "duration_s": duration,
        "requests": len(rows),
        "warmup_requests": warm - len(rows),
        "requests_planned": header.get("requests_planned"),
        "answered_ok": len(ok),
        "errors": dict(sorted(errors.items())),
        "achieved_rate": round(len(ok) / max(span, duration), 3) if rows else 0.0,
        "latency": quantiles.summary(latencies) if latencies else None,
        "wait": batch_mean_interval(waits),
        "service_s": service,
        "ideal_wait_s": ideal_wait_s(every, service, slots, warmup_s) if service and slots else None,
        "effective_service_s": (
            effective_service_s(every, statistics.fmean(waits), slots, warmup_s, service)
            if service and slots and waits
            else None
        ),
        "timed_by_app": len(timed),
        "lag_p50_s": quantiles.nearest_rank(lags, 50) if lags else None,
        "lag_p90_s": lag_p90,
        "lag_p99_s": lag_p99,
        "lag_max_s": lags[-1] if lags else None,
        "waited_for_open": header.get("waited_for_open", 0),
        "load_bound": late(
            lag_p90,
            header.get("waited_for_open", 0),
            header.get("max_open", 0),
            quantiles.nearest_rank(sorted(latencies), 50) if latencies else None,
        ),
    }
