"""The report's first paragraph: a few sentences derived from one run's figures, answering "which worker type for
IO-bound work, for CPU-bound work, for a trivial endpoint, and what did each give up", and saying where a verdict
or a measurement is doubtful. Nothing here is written by hand: every number comes from the verdict and sweep rows."""

from __future__ import annotations

from bench import verdict
from bench.verdict import BUSY_CORE, NOISY_CV

TASKS = (("io", "IO-bound work"), ("cpu", "CPU-bound work"), ("hello", "a trivial endpoint (hello)"))


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:,.0f} ms"


def _names(workers: list[str]) -> str:
    return workers[0] if len(workers) == 1 else ", ".join(workers[:-1]) + " and " + workers[-1]


def task_sentence(task: str, label: str, sweeps: list[dict], probes: list[dict], order: list[str]) -> str | None:
    """Which worker types served the most of one kind of work at the sweep's highest concurrency, by how much, and
    what each gave up (tail latency; CPU spent on other than the requests' work; requests made to wait)."""
    rows = [s for s in sweeps if s["task"] == task and s["rps"] is not None]
    if not rows:
        return None
    endpoint = rows[0]["endpoint"]
    top_c = max(s["concurrency"] for s in rows if s["endpoint"] == endpoint)
    rows = sorted((s for s in rows if s["endpoint"] == endpoint and s["concurrency"] == top_c),
                  key=lambda s: (-s["rps"], order.index(s["worker"]) if s["worker"] in order else 0))  # fmt: skip
    best = rows[0]
    others = [f"{s['worker']} {s['rps']:,.1f} ({s['rps'] / best['rps'] - 1:+.0%}, p99 {_ms(s['p99_s'])})"
              for s in rows[1:]]  # fmt: skip
    text = (
        f"**{label[0].upper() + label[1:]}** (`{endpoint}`, c={top_c}): {best['worker']} served the most, "
        f"{best['rps']:,.1f} requests/s with a p99 of {_ms(best['p99_s'])}"
        + (f"; then {', '.join(others)}" if others else "")
        + "."
    )
    burst = {p["worker"]: p for p in probes if p["task"] == task and p["concurrency"] > 1}
    if task in ("io", "cpu") and burst:
        groups: dict[str, list[str]] = {}
        for worker in order:
            p = burst.get(worker)
            if p and p["measured"] is not None and p["timed_by"] == "server":
                groups.setdefault(f"{p['measured']:.1f}", []).append(worker)
        if groups:
            n = max(p["concurrency"] for p in burst.values())
            parts = [f"{_names(ws)} {float(k):g}" for k, ws in sorted(groups.items(), key=lambda kv: -float(kv[0]))]
            text += f" In a burst of {n}, the requests worked on at once: {'; '.join(parts)}."
    if task == "cpu":
        costs = {w: verdict.cpu_overhead(burst[w]) for w in order if w in burst}
        paid = [f"{w} +{c:.0%}" for w, c in costs.items() if c]
        free = [w for w, c in costs.items() if c == 0]
        if paid or free:
            text += (
                " CPU the service spent per request in the burst beyond what one took alone: "
                + "; ".join(paid + ([f"none measurable for {_names(free)}"] if free else []))
                + "."
            )
    return text


def doubts(verdicts: list[dict], probes: list[dict], sweeps: list[dict]) -> list[str]:
    """Where a verdict or a measurement of this run should not be taken at face value."""
    out = []
    for v in verdicts:
        if not v["as_expected"] and v["measured"] is not None:
            out.append(
                f"{v['worker']} on {v['task']} is **not as expected**: {v['measured']:.2f} at once against a theory "
                f"of {v['expected']:.2f} ({v['sentence']})"
            )
    by_siege = [f"{v['worker']} {v['task']}" for v in verdicts if v["timed_by"] == "siege" and v["valid"]]
    if by_siege:
        out.append(f"timed by siege alone, the app logged no timing: {', '.join(by_siege)}")
    for p in probes:
        busy = p.get("utilisation")
        if busy is not None and busy < BUSY_CORE and p["concurrency"] > 1 and p["task"] == "cpu":
            out.append(
                f"{p['worker']}'s CPU burst of {p['concurrency']} had its core only {busy:.0%} busy "
                "(other work on the machine)"
            )
    if sweeps and all(s["repeats"] == 1 for s in sweeps):
        out.append(
            "each sweep point ran once (this profile), so its spread is unknown: differences of a few tens of "
            "percent between worker types on the same work may be the machine's noise (the full profile repeats "
            "each three times)"
        )
    noisy = sorted({f"{s['worker']} {s['endpoint']} c={s['concurrency']}" for s in sweeps if s["noisy"]})
    if noisy:
        out.append(f"noisy sweep points (repeats vary by more than {NOISY_CV:.0%}): {', '.join(noisy)}")
    bound = sorted({f"{s['worker']} {s['endpoint']} c={s['concurrency']}" for s in sweeps if s["load_bound"]})
    if bound:
        out.append(f"sweep points limited by the load generator, not the server: {', '.join(bound)}")
    invalid = [p for p in probes if not p["valid"]]
    if invalid:
        out.append(f"{len(invalid)} invalid probe(s), not used: " + ", ".join(p["name"] for p in invalid))
    return out


def paragraph(verdicts: list[dict], probes: list[dict], sweeps: list[dict], order: list[str]) -> list[str]:
    """The sentences of the report's first paragraph, in order: one per kind of work, then the doubts."""
    lines = [t for task, label in TASKS if (t := task_sentence(task, label, sweeps, probes, order))]
    found = doubts(verdicts, probes, sweeps)
    lines.append(
        ("**Doubtful**: " + "; ".join(found) + ".")
        if found
        else "Nothing here is doubtful: every verdict matched theory within its tolerance, no sweep point was noisy "
        "or limited by the load generator, and the server kept its core busy through every CPU burst."
    )
    return lines
