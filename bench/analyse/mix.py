"""A mix of scenarios at a rate (bench_app.mixes): what each class of request waited, against what the worker type's
slots predict for the very same arrivals.

Two models of a server, from the catalog's theory of the type (worker_types.yml):

- **slots** (sync, gthread, tornado: the same bound on IO and on CPU work): k slots, first come first served; a
  request holds one slot for its own time whatever it does, so a slot busy with CPU work holds only itself.
- **loops** (gevent, eventlet, gevent_pywsgi, asgi, uvicorn: IO bounded by connections or nothing, CPU by workers):
  one event loop per worker. A CPU request holds its worker's loop for its whole time; an IO request needs the loop
  only to start and to answer (no time of its own), and waits in between without it. So an IO request that arrives,
  or whose wait ends, while the loop computes waits out the rest of that CPU request (and of any queued behind it). A
  request goes to a worker whose loop is idle, else to the one that frees first.

A closed loop (a mix's `clients`) is replayed as one: each client sends its next request when the model answered its
last, its own turnaround later (replaying the server's sends instead would let the model run ahead of a server that
holds each request a little longer than the app's own time, by that much a request over a whole busy period).

Each request's time in the model is its own: a computation's, the app's own clock of it (Server-Timing: on a shared
machine one computation takes longer than another, and the model takes each as it was); a wait's, the median of the
app's clock over that class's answers in the run (an IO request's own clock on an event loop holds what held it; the
median is untouched by the few a computation delayed). The prediction replays the run's own arrivals, classes included,
through the model, from the first request (the warm-up fills the queue as it did), and reads the percentiles past the
warm-up. Not modelled: CPU requests that share a core (two threads computing at once each take longer), the
interpreter's switch interval (a thread computing hands the GIL over every 5 ms), and how several workers really share
connections (gthread queues a connection in the worker that accepted it: bench/analyse/verdict.py)."""

from __future__ import annotations

import heapq
import statistics
from collections import deque

from bench.analyse import quantiles, stats
from bench.model import catalog

# How far a class's percentile may lie from the model's for the same arrivals: what a request costs beyond the app's
# own time (connection, parsing, the answer: about 2 ms on the lab) and the interpreter's switch interval (5 ms), twice.
MIX_FLOOR_S = 0.02
MIX_SHARE = 0.2
# A request was held when it took this much longer than its class's own time (its wait, in the model: beyond it).
HELD_S = 0.01
# The percentiles kept; a class is judged on the highest its requests bound (bench/analyse/quantiles.py: p99 needs
# 368 of them, p90 29), so that a short run says p90 rather than a p99 it cannot support.
PERCENTILES = (50, 75, 90, 99)


def model_of(worker_type: str, cat: catalog.Catalog | None = None) -> str:
    """ "slots" when the type bounds IO and CPU work alike, "loops" when a CPU request holds what IO does not."""
    theory = (cat or catalog.load()).type(worker_type).theory
    return "slots" if theory["io"] == theory["cpu"] else "loops"


def simulate_slots(arrivals: list[tuple[float, float]], slots: int) -> list[float]:
    """Each request's latency through k first-come first-served slots: arrivals are (when due, the time it holds
    one)."""
    free = [0.0] * max(1, min(slots, len(arrivals) or 1))
    out = []
    for t, own in arrivals:
        start = max(t, heapq.heappop(free))
        heapq.heappush(free, start + own)
        out.append(start + own - t)
    return out


def simulate_loops(arrivals: list[tuple[float, float, bool]], workers: int) -> list[float]:
    """Each request's latency on `workers` event loops: arrivals are (when due, its own time, whether it computes). A
    computing request holds its worker's loop for its own time; another needs it for no time at its start and at its
    end, its own time apart (the module's docstring)."""
    done = [0.0] * len(arrivals)
    busy_until = [0.0] * workers  # when each loop ends what it computes now
    queued = [deque() for _ in range(workers)]  # each loop's turns waiting for it: (request, is the IO's end)
    events: list[tuple[float, int, int, int]] = []  # (time, order, loop, the IO request whose wait ends, or -1: free)
    order = 0

    def run_next(w: int, now: float) -> None:
        nonlocal order
        while queued[w] and busy_until[w] <= now:
            i, end = queued[w].popleft()
            _, own, computes = arrivals[i]
            if computes:
                busy_until[w] = now + own
                done[i] = busy_until[w]
                order += 1
                heapq.heappush(events, (busy_until[w], order, w, -1))  # the loop is free again
            elif end:
                done[i] = now
            else:
                order += 1
                heapq.heappush(events, (now + own, order, w, i))

    def fire() -> None:
        now, _, w, j = heapq.heappop(events)
        if j >= 0:
            queued[w].append((j, True))
        run_next(w, now)

    for i, (t, _, _) in enumerate(arrivals):
        while events and events[0][0] <= t:
            fire()
        idle = [w for w in range(workers) if busy_until[w] <= t and not queued[w]]
        w = idle[0] if idle else min(range(workers), key=lambda x: (max(busy_until[x], t), len(queued[x]), x))
        queued[w].append((i, False))
        run_next(w, t)
    while events:
        fire()
    return [d - a[0] for d, a in zip(done, arrivals, strict=True)]


def own_time(row: dict, median: float | None, task: str | None) -> float | None:
    """The time a request takes of itself: a computation its own (the app's clock: on a shared machine one takes
    longer than another), a wait its class's median (an IO request's own clock on an event loop holds what held it)."""
    return row["app_s"] if task == "cpu" and row.get("app_s") is not None else median


def _percentiles(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    return {f"p{q}": quantiles.nearest_rank(ordered, q) if ordered else None for q in PERCENTILES}


def classes(header: dict, rows: list[dict], statuses: list[int], warmup_s: float,
            tasks: list[str | None]) -> list[dict]:  # fmt: skip
    """Each class's requests past the warm-up: how many, answered right, its latency (from when each was due, with
    the percentiles' intervals), its own time (the median of the app's) and the share held more than HELD_S beyond
    each request's own time (own_time)."""
    out = []
    for c, name in enumerate(header["classes"]):
        mine = [r for r in rows if r.get("cls") == c]
        ok = [r for r in mine if r["status"] == statuses[c]]
        timed = [r["app_s"] for r in ok if r.get("app_s") is not None]
        counted = [r for r in ok if r["due"] >= warmup_s]
        median = statistics.median(timed) if timed else None
        held = [r["done"] - r["due"] - own_time(r, median, tasks[c]) > HELD_S for r in counted if median is not None]
        out.append({
            "name": name,
            "requests": sum(1 for r in mine if r["due"] >= warmup_s),
            "answered_ok": len(counted),
            "service_s": median,
            "latency": quantiles.summary([r["done"] - r["due"] for r in counted], PERCENTILES) if counted else None,
            "held_share": sum(held) / len(held) if held else None,
        })  # fmt: skip
    return out


def closed_loop(ordered: list[dict], replay) -> list[float]:
    """A closed loop's latencies in the model: each client sends its next request when the model answered its last
    (and the client's own turnaround, as measured, later), not when the server did; its first as it was sent. Sends
    and answers depend on each other: the model is replayed until its sends stop changing (each pass settles at least
    the earliest request still wrong; a few passes in practice)."""
    sends = [r["sent"] for r in ordered]
    follows: list[tuple[int, int, float]] = []  # (request, the same client's one before it, the client's turnaround)
    last: dict = {}
    for k, r in enumerate(ordered):
        if r["client"] in last:
            before = last[r["client"]]
            follows.append((k, before, max(0.0, r["sent"] - ordered[before]["done"])))
        last[r["client"]] = k
    latencies = replay(sends)
    for _ in range(len(ordered)):
        new = list(sends)
        for k, before, turnaround in follows:
            new[k] = sends[before] + latencies[before] + turnaround
        if max((abs(a - b) for a, b in zip(new, sends, strict=True)), default=0.0) < 1e-9:
            break
        sends, latencies = new, replay(new)
    return latencies


def theory(rows: list[dict], measured: list[dict], *, tasks: list[str | None], worker_type: str, slots: int,
           workers: int, warmup_s: float, cat: catalog.Catalog | None = None) -> dict:  # fmt: skip
    """What the type's model predicts for these very arrivals: {"model", "why" (when none), "classes": per class its
    percentiles and held share}. slots: the type's slots (the slot model's k)."""
    model = model_of(worker_type, cat)
    service = [m["service_s"] for m in measured]
    if any(service[c] is None for c in {r["cls"] for r in rows}):  # a class run alone: the others have no requests
        return {"model": model, "why": "the app's answers carried no Server-Timing for every class", "classes": None}
    if model == "loops" and any(t is None for t in tasks):
        return {"model": model, "why": "on an event loop the model needs each scenario's task (io or cpu)",
                "classes": None}  # fmt: skip
    ordered = sorted(rows, key=lambda r: r["due"])
    owns = [own_time(r, service[r["cls"]], tasks[r["cls"]]) for r in ordered]
    computes = [tasks[r["cls"]] == "cpu" for r in ordered]

    def replay(sends: list[float]) -> list[float]:
        """Each request's latency in the model, sent at these times."""
        order = sorted(range(len(sends)), key=lambda k: sends[k])
        if model == "slots":
            got = simulate_slots([(sends[k], owns[k]) for k in order], slots)
        else:
            got = simulate_loops([(sends[k], owns[k], computes[k]) for k in order], workers)
        out = [0.0] * len(sends)
        for k, latency in zip(order, got, strict=True):
            out[k] = latency
        return out

    closed = bool(ordered) and all(r.get("client") is not None for r in ordered)
    latencies = closed_loop(ordered, replay) if closed else replay([r["due"] for r in ordered])
    out = []
    for c in range(len(measured)):
        mine = [(x, own) for r, own, x in zip(ordered, owns, latencies, strict=True)
                if r["cls"] == c and r["due"] >= warmup_s]  # fmt: skip
        held = sum(1 for x, own in mine if x - own > HELD_S) / len(mine) if mine else None
        out.append({**_percentiles([x for x, _ in mine]), "held_share": held})
    return {"model": model, "why": None, "classes": out}


def ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.0f} ms"


def _value(latency: dict | None, q: int) -> float | None:
    return ((latency or {}).get("percentiles", {}).get(f"p{q}") or {}).get("value")


def judged_at(latency: dict | None) -> int:
    """The highest percentile these latencies bound (quantiles.summary's `supported`), else the median's 50."""
    found = (latency or {}).get("percentiles", {})
    return next((q for q in reversed(PERCENTILES) if (found.get(f"p{q}") or {}).get("supported")), 50)


def why_words(model: str, task: str | None, slots: int) -> str:
    """What holds a request of this class on this model, in words."""
    if model == "loops":
        if task == "cpu":
            return "a CPU request holds its worker's event loop, and takes it in turn with the others"
        return "an event loop busy with a CPU request holds every request of its worker: one due meanwhile waits it out"
    return (f"a slot busy with CPU work holds only itself: a request waits only when all {slots} slots are busy"
            if slots > 1 else "one slot: every request waits for the one before it, whatever its work")  # fmt: skip


def judge_class(got: dict, alone: dict | None, slots: int) -> dict:
    """One class of a mix run: its highest bounded percentile (judged_at: p99 when its requests bound it) against the
    model's for the same arrivals (MIX_FLOOR_S, MIX_SHARE), and against the same percentile alone (the same class on
    its own arrivals, without the others), with the reason in words."""
    th = got.get("theory") or {}
    q = judged_at(got.get("latency"))
    m, t = _value(got.get("latency"), q), th.get(f"p{q}")
    a = _value((alone or {}).get("latency"), q)
    out = {"percentile": q, "value_s": m, "theory_s": t, "alone_s": a, "vs_alone": m / a if m and a else None,
           "alone_held_share": (alone or {}).get("held_share")}  # fmt: skip
    if m is None:
        return {**out, "verdict": None, "sentence": "no answer with its status"}
    n = (got.get("latency") or {}).get("n")
    said = f"p{q} {ms(m)} of {n}" + (" (p99 needs 368)" if q < 99 else "")
    said += f", {out['vs_alone']:.1f}× its {ms(a)} alone" if out["vs_alone"] else ""
    if th.get("why"):
        return {**out, "verdict": None, "sentence": f"{said}; no theory ({th['why']})"}
    held = got.get("held_share")
    told = ""
    if held is not None and th.get("held_share") is not None:
        alone_held = "" if out["alone_held_share"] is None else f", alone {out['alone_held_share']:.0%}"
        told = (f"; {held:.0%} held over {HELD_S * 1000:g} ms beyond its own {ms(got['service_s'])} "
                f"(theory {th['held_share']:.0%}{alone_held})")  # fmt: skip
    reason = why_words(th["model"], got.get("task"), slots)
    if abs(m - t) <= max(MIX_FLOOR_S, MIX_SHARE * t):
        return {**out, "verdict": "expected", "sentence": f"{said}, theory {ms(t)}{told}: {reason}"}
    more = "more" if m > t else "less"
    return {**out, "verdict": "not as expected",
            "sentence": f"{said}, theory {ms(t)}{told}: waited {more} than its model says ({reason})"}  # fmt: skip


def mix_rows(results: list[dict], cat: catalog.Catalog | None = None) -> list[dict]:
    """Every mix run (the classes together), each class judged (judge_class) beside its run alone, in the run's
    order."""
    runs = [r for r in results if r["scenario"] == "mix"]
    out = []
    for r in runs:
        if (r.get("mix") or {}).get("only"):
            continue
        alone = {}
        for other in runs:
            m = other.get("mix") or {}
            same = (other["variant"], other.get("app_host"), other["rate_per_s"]) == (
                r["variant"], r.get("app_host"), r["rate_per_s"])  # fmt: skip
            if m.get("only") and m["name"] == r["mix"]["name"] and same:
                alone[m["only"]] = next((c for c in ((other.get("rate") or {}).get("classes") or [])
                                         if c["name"] == m["only"]), None)  # fmt: skip
        slots = stats.slots(r["worker_type"], "io", r["workers"], r["threads"], r["worker_connections"], cat=cat)
        got = (r.get("rate") or {}).get("classes") or []
        judged = [{**c, **judge_class(c, alone.get(c["name"]), slots)} for c in got]
        verdicts = {c["verdict"] for c in judged}
        verdict = None if not r["valid"] or None in verdicts or not judged else (
            "expected" if verdicts == {"expected"} else "not as expected")  # fmt: skip
        out.append({**r, "classes": judged, "verdict": verdict, "slots": slots})
    return out
