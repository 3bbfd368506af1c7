"""From result records to what the report says: probe verdicts against theory, and sweep rows."""

from __future__ import annotations

import statistics
from collections import Counter

from bench.analyse import sentences, stats
from bench.model import catalog
from bench.model.results_model import variant_of

# Measured must be within this of theory. With the server's clock (the app logs each probe request), how many
# requests were in the app at once is exact for IO and CPU alike: the machine's other work slows every request and
# the burst's span together, so it cancels. Probes the app did not time (siege alone) measured CPU work against a c=1
# calibration on a machine that also runs other things: a wider band.
TOLERANCE = {"io": 0.05, "cpu": 0.05, "hello": 0.15}
SIEGE_TOLERANCE = {"io": 0.05, "cpu": 0.15, "hello": 0.15}
NOISY_CV = 0.10  # sweep points whose repeats vary more than this are flagged
# A finding, not a verdict: below this the report says the core was shared with other work (doubtful times).
BUSY_CORE = 0.90


def app_cores(hosts: dict) -> int:
    """Cores the app host may use: its pinned cores in the lab, else what its OS reports."""
    for host in hosts.values():
        if host.get("role") == "app":
            return len(host.get("cpus_pinned") or []) or int(host.get("cores") or 1)
    return 1


def calibration(probes: list[dict], probe: dict) -> dict | None:
    """The c=1 probe of the same instance and scenario (its label: several requests, one after another, on an idle
    worker)."""
    return next(
        (p for p in probes
         if variant_of(p) == variant_of(probe) and p["label"] == probe["label"] and p["concurrency"] == 1
         and p["valid"] and p["response_times_s"]),
        None,
    )  # fmt: skip


def unit_seconds(probes: list[dict], probe: dict) -> float | None:
    """The work one request of this probe asks for, as siege timed it: the scenario's unit_s, else the median of
    the c=1 probe of the same worker type (runs without the server's clock)."""
    if probe.get("unit_s"):
        return float(probe["unit_s"])
    single = calibration(probes, probe)
    return statistics.median(single["response_times_s"]) if single else None


def server_unit(probes: list[dict], probe: dict) -> tuple[float, float, tuple[float, float]] | None:
    """One unit of work as the server measured it on an idle worker, from the c=1 probe's requests of the same
    worker type and scenario: the median time inside the app, the median CPU time, and the CPU time's range (on a
    shared machine the same work costs more or less CPU from one request to the next)."""
    single = calibration(probes, probe)
    server = (single or {}).get("server") or {}
    if not server.get("service_s"):
        return None
    cpu = server["cpu_s"]
    return statistics.median(server["service_s"]), statistics.median(cpu), (min(cpu), max(cpu))


def server_row(p: dict, probes: list[dict], cores: int, cat: catalog.Catalog | None = None) -> dict | None:
    """The verdict of a probe from the server's clock: how many requests were worked on at once (the queue) against
    theory, the effective concurrency from the server-measured unit, and where the CPU went."""
    server = p.get("server") or {}
    unit = server_unit(probes, p)
    n = p["concurrency"] * (p.get("reps") or 1)  # the c=1 calibration sends its requests one after another
    if not server.get("service_s") or unit is None or len(server["service_s"]) != n or not p["valid"]:
        return None
    unit_wall, unit_cpu, alone = unit
    if stats.slots(p["worker_type"], p["task"], p["workers"], p["threads"], p["worker_connections"], cat=cat) == 1:
        # one request at a time on the worker: each of the burst's requests ran alone too, at the burst's moment
        alone = (min(alone[0], *server["cpu_s"]), max(alone[1], *server["cpu_s"]))
    knobs = {"workers": p["workers"], "threads": p["threads"], "worker_connections": p["worker_connections"]}
    knobs["cat"] = cat
    expected = stats.expected_at_once(p["worker_type"], p["task"], p["concurrency"], cores=cores, **knobs)  # c=1: 1
    measured = server["at_once"]
    error = stats.relative_error(measured, expected) if measured is not None else None
    as_expected = error is not None and error <= TOLERANCE[p["task"]]
    lanes = stats.cpu_lanes(p["workers"], cores)
    consumed = server.get("unit_cpu_consumed_s")
    span = server["span_s"]
    return {
        "timed_by": "server",
        "unit": unit_wall,
        "unit_cpu": unit_cpu,
        "expected": expected,
        "measured": measured,
        "error": error,
        "tolerance": TOLERANCE[p["task"]],
        "as_expected": as_expected,
        "peak_at_once": server["peak_at_once"],
        "effective": n * unit_wall / span if span > 0 else None,
        "effective_expected": stats.expected_concurrency(
            p["worker_type"], p["task"], p["concurrency"], cores=cores, **knobs
        ),
        "sent_s": server.get("sent_s"),
        "wait_s": server["wait_s"],
        "service_s": server["service_s"],
        "cpu_consumed_s": consumed,
        "cores_busy": consumed / span if consumed is not None and span > 0 else None,
        "utilisation": consumed / span / lanes if consumed is not None and span > 0 else None,
        "useful_cpu_s": n * unit_cpu,
        "cpu_efficiency": n * unit_cpu / consumed if consumed else None,
        "requests_cpu_s": server.get("requests_cpu_s"),
        "cpu_inflation": server["requests_cpu_s"] / (n * unit_cpu)
        if server.get("requests_cpu_s") and unit_cpu
        else None,
        "cpu_alone_s": list(alone),
        "cpu_per_request_s": consumed / n if consumed is not None else None,
        "sentence": sentences.burst_sentence(server["wait_s"], server["service_s"], unit_wall, p["response_times_s"])
        + ("" if as_expected or measured is None or measured > expected else uneven_spread(p, server))
        if p["concurrency"] > 1
        else f"one unit of work: {n} requests one after another, {unit_wall:.3f} s in the app, {unit_cpu:.3f} s of CPU",
    }


def uneven_spread(p: dict, server: dict) -> str:
    """When several workers shared a burst unevenly, what the app's own record (each request's process) says of it:
    theory's slots assume the requests spread over the workers, and a worker that accepts more than its slots serve
    (gthread queues a connection in its own pool) makes others wait beside an idle worker. Empty otherwise."""
    took = sorted(Counter(r["pid"] for r in server.get("requests") or []).values(), reverse=True)
    n = sum(took)
    if p["workers"] < 2 or not took or took[0] <= -(-n // p["workers"]):
        return ""
    shares = " and ".join(map(str, took + [0] * (p["workers"] - len(took))))
    return (f"; the workers took {shares} of the {n} requests (the app's record of each request's process): each "
            "served what it accepted, whatever the others' free slots, where theory spreads them evenly")  # fmt: skip


# What only the server's clock knows: a row timed by siege alone has these, empty.
SERVER_ONLY = dict.fromkeys((
    "peak_at_once", "sent_s", "wait_s", "service_s", "cpu_consumed_s", "cores_busy", "utilisation", "useful_cpu_s",
    "cpu_efficiency", "requests_cpu_s", "cpu_inflation", "cpu_alone_s", "cpu_per_request_s",
))  # fmt: skip


def siege_row(p: dict, probes: list[dict], cores: int, cat: catalog.Catalog | None = None) -> dict:
    """The verdict of a probe from siege's response times alone (runs without the server's clock): the effective
    concurrency, N * unit / the slowest response, against theory in rounds."""
    unit = unit_seconds(probes, p)
    expected = stats.expected_concurrency(
        p["worker_type"], p["task"], p["concurrency"],
        workers=p["workers"], threads=p["threads"], worker_connections=p["worker_connections"], cores=cores, cat=cat,
    )  # fmt: skip
    times = p["response_times_s"] or []
    measured = stats.effective_concurrency(times, unit, n=p["concurrency"]) if unit and p["valid"] else None
    error = stats.relative_error(measured, expected) if measured is not None else None
    return {
        "timed_by": "siege",
        "unit": unit,
        "unit_cpu": None,
        "expected": expected,
        "measured": measured,
        "error": error,
        "tolerance": SIEGE_TOLERANCE[p["task"]],
        "as_expected": error is not None and error <= SIEGE_TOLERANCE[p["task"]],
        **SERVER_ONLY,
        "effective": measured,
        "effective_expected": expected,
        "sentence": sentences.ladder_sentence(p["response_times_s"], unit)
        if unit and p["valid"] and p["response_times_s"] and p["concurrency"] > 1
        else (p["invalid_reason"] or "no unit of work measured"),
    }


def cpu_overhead(row: dict) -> float | None:
    """The worker type's CPU overhead in a CPU-bound burst: how much more CPU the whole service spent per request
    than one request took alone, as a share of one unit; 0 when that is within the range the same request took alone
    (on a shared machine identical work costs more or less CPU from one request to the next, and no overhead smaller
    than that shows). Alone: the c=1 probe's requests, and where the worker serves CPU work one request at a time
    (sync, gevent, eventlet, tornado with one worker), each request of the burst itself."""
    per_request, alone = row.get("cpu_per_request_s"), row.get("cpu_alone_s")
    if per_request is None or not alone or row["task"] != "cpu" or row["concurrency"] == 1 or not row["unit_cpu"]:
        return None
    return max(per_request - alone[1], 0.0) / row["unit_cpu"] if per_request > alone[1] else 0.0


def finding(row: dict, cat: catalog.Catalog | None = None) -> str | None:
    """Where the CPU went over a CPU-bound burst, in plain words: how busy the service kept its core(s) (below
    BUSY_CORE the burst's times are doubtful: the rest went to other work on the machine), then what one request cost
    the service in the burst (all of its CPU ÷ N) against what one took alone; beyond that range, the overhead, and
    how much of it went outside the requests' own threads (gunicorn, a worker's loop)."""
    if row["task"] != "cpu" or row["utilisation"] is None or row["concurrency"] == 1:
        return None
    cores = "core" if row["cores_busy"] < 1.5 else "cores"
    text = f"its {cores} {row['utilisation']:.0%} busy over the burst"
    if row["utilisation"] < BUSY_CORE:
        text += " (the rest went to other work on the machine: these times are doubtful)"
    overhead = cpu_overhead(row)
    if overhead is None:
        return text
    per_request, (low, high) = row["cpu_per_request_s"], row["cpu_alone_s"]
    text += f"; {per_request:.3f} s of CPU per request in the burst, against {low:.3f}–{high:.3f} s alone"
    if overhead == 0:
        return text + ": no overhead beyond that range"
    consumed, own = row["cpu_consumed_s"], row["requests_cpu_s"] or 0.0
    outside = max(consumed - own, 0.0) / consumed
    threaded = (cat or catalog.load()).type(row["worker_type"]).theory["cpu"] == "threads" and row["threads"] > 1
    what = "its threads taking turns on the GIL" if threaded else "the worker"
    return text + (
        f": {overhead:.0%} more than the most one took alone, spent by {what} ({outside:.0%} of the service's CPU went "
        f"outside the requests' threads)"
    )


def probe_rows(results: list[dict], cores: int, cat: catalog.Catalog | None = None) -> list[dict]:
    """Every probe with its theory, measurement, error and plain sentence: from the server's clock when the app
    logged the burst, else from siege's response times."""
    probes = [r for r in results if r["scenario"] == "probe"]
    rows = []
    for p in probes:
        cap = stats.capacity(p["worker_type"], p["workers"], p["threads"], p["worker_connections"], cat=cat)
        row = {**p, "capacity": cap}
        row.update(server_row(p, probes, cores, cat) or siege_row(p, probes, cores, cat))
        if not p["valid"]:
            row["sentence"] = p["invalid_reason"] or "invalid"
        row["finding"] = finding(row, cat)
        rows.append(row)
    return rows


def verdicts(rows: list[dict]) -> list[dict]:
    """One verdict per instance (its variant: a worker type, or a combination of a matrix) and task: its largest
    valid burst (most requests at once)."""
    best: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (variant_of(row), row["task"])
        if row["concurrency"] == 1:
            continue
        # a valid burst beats an invalid one; among equals, the largest (an invalid one stays when none is valid)
        rank = (bool(row["valid"]), row["concurrency"])
        if key not in best or rank > (bool(best[key]["valid"]), best[key]["concurrency"]):
            best[key] = row
    return list(best.values())
