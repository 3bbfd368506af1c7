"""The report's words: its first paragraph, a few sentences derived from one run's figures, answering "which worker
type served each scenario of the app best, and what did each give up", and saying where a verdict or a measurement is
doubtful; and the other sentences the report builds from figures (fidelity), so that no template prints a missing
one. Nothing here is written by hand: every number comes from the verdict and sweep rows."""

from __future__ import annotations

import statistics

from bench.analyse import capacity, capacity_bound, operations, recommend, verdict
from bench.analyse.mix import HELD_S
from bench.analyse.verdict import BUSY_CORE, NOISY_CV
from bench.model.results_model import variant_of

SIEGE_CLOCK_S = 0.01  # siege times each request in clock ticks
KINDS = {"io": "IO-bound", "cpu": "CPU-bound"}  # a scenario's `task`: the work one request asks for


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:,.0f} ms"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def scenario_label(row: dict) -> str:
    """What the report calls a scenario of the app: its name in the app's file, else (runs that did not record it)
    the kind of work it asks for, else its label (its path, or method and path)."""
    task = row.get("task")
    if row.get("scenario_name"):
        return row["scenario_name"]
    return f"{KINDS[task]} work" if task in KINDS else (task or row["label"])


def _burst(task: str, probes: list[dict], order: list[str]) -> str:
    """How many requests each type worked on at once in the largest burst of one kind of work (server-timed)."""
    burst = {variant_of(p): p for p in probes if p["task"] == task and p["concurrency"] > 1}
    groups: dict[str, list[str]] = {}
    for variant in order:
        p = burst.get(variant)
        if p and p["measured"] is not None and p["timed_by"] == "server":
            groups.setdefault(f"{p['measured']:.1f}", []).append(variant)
    text = ""
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


def scenario_sentence(rows: list[dict], order: list[str]) -> str:
    """Which worker types served the most of one swept scenario at its highest concurrency, by how much, and what
    each gave up in tail latency."""
    top_c = max(s["concurrency"] for s in rows)
    rank = {variant: i for i, variant in enumerate(order)}  # one not in the run's order: first
    rows = sorted((s for s in rows if s["concurrency"] == top_c),
                  key=lambda s: (-s["rps"], rank.get(variant_of(s), 0)))  # fmt: skip
    best = rows[0]
    named = best.get("scenario_name")  # as the app names it; a kind of work or a label starts the sentence
    label = scenario_label(best) if named else scenario_label(best)[0].upper() + scenario_label(best)[1:]
    kind = f"{KINDS[best['task']]}, " if named and best.get("task") in KINDS else ""
    others = [f"{variant_of(s)} {s['rps']:,.1f} ({s['rps'] / best['rps'] - 1:+.0%}, p99 {_ms(s['p99_s'])})"
              for s in rows[1:]]  # fmt: skip
    return (
        f"**{label}** ({kind}`{best['label']}`, c={top_c}): {variant_of(best)} served the most, "
        f"{best['rps']:,.1f} requests/s with a p99 of {_ms(best['p99_s'])}"
        + (f"; then {', '.join(others)}" if others else "")
        + "."
    )


def scenario_sentences(sweeps: list[dict], probes: list[dict], order: list[str]) -> list[str]:
    """One sentence per scenario the app sweeps, in the app's order; the bursts of a kind of work (what each type
    worked on at once, and on CPU what it spent beyond one request alone) follow the first swept scenario of that
    kind, or stand alone when the app sweeps none of it."""
    valid = [s for s in sweeps if s["rps"] is not None]
    labels = sorted(dict.fromkeys(s["label"] for s in valid),
                    key=lambda e: min(s["first_index"] for s in valid if s["label"] == e))  # fmt: skip
    lines, told = [], set()
    for label in labels:
        rows = [s for s in valid if s["label"] == label]
        text = scenario_sentence(rows, order)
        task = rows[0].get("task")
        if task in KINDS and task not in told:
            told.add(task)
            text += _burst(task, probes, order)
        lines.append(text)
    for task, kind in KINDS.items():
        bursts = [p for p in probes if p["task"] == task and p["concurrency"] > 1]
        if task not in told and bursts and (words := _burst(task, probes, order)):
            shown = ", ".join(f"`{e}`" for e in dict.fromkeys(p["label"] for p in bursts))
            lines.append(f"**{kind} bursts** ({shown}, not swept):{words}")
    return lines


def capacity_rows(records: list[dict], order: list[str], cores: int = 1, cat=None) -> list[dict]:
    """Each capacity search of a run (results.json records of scenario capacity), in the run's order of types, with
    what bounds it (bench/analyse/capacity_bound.py: its slots or its CPU, on the app host's cores)."""
    rows = [r | {"bound": capacity_bound.bound(r, cores, cat)} for r in records if r["scenario"] == "capacity"]
    return sorted(rows, key=lambda r: (r["label"], order.index(variant_of(r)) if variant_of(r) in order else 0))


def capacity_sentences(rows: list[dict]) -> list[str]:
    """Per searched scenario: who carries the most within its target, and by how much against the next, from the
    searches that found a rate (a search whose target was met nowhere says so, and a bracket the search left wide)."""
    out = []
    for label in dict.fromkeys(r["label"] for r in rows):
        mine = [r for r in rows if r["label"] == label and r["valid"] and r["search"] and r["search"]["result"]]
        if not mine:
            continue
        found = sorted((r for r in mine if r["search"]["result"]["capacity_per_s"]),
                       key=lambda r: -r["search"]["result"]["capacity_per_s"])  # fmt: skip
        none = [variant_of(r) for r in mine if not r["search"]["result"]["capacity_per_s"]]
        target = capacity_target_label(mine[0]["search"]["target"])
        words = f"**{scenario_label(mine[0])}** (`{label}`) within {target}: "
        if not found:
            out.append(words + f"no worker type met it at any rate tried ({_names(none)})")
            continue
        # types whose searches found the same are one tier: nothing the search did tells them apart
        tiers: dict[float, list[dict]] = {}
        for r in found:
            result = r["search"]["result"]
            tiers.setdefault(result["capacity_per_s"], []).append(r)  # met at the same rate: alike
        (best, *others), rest = next(iter(tiers.values())), list(tiers.values())[1:]
        names = _names([f"**{variant_of(r)}**" for r in (best, *others)])
        most = "the most, " if rest else ("alike, " if others else "")
        words += f"{names} {'carry' if others else 'carries'} {most}{_capacity(best)}{_bounded([best, *others])}"
        if rest:
            second = rest[0][0]
            cap, next_cap = best["search"]["result"]["capacity_per_s"], second["search"]["result"]["capacity_per_s"]
            who = _names([variant_of(r) for r in rest[0]])
            if capacity.at_least(second["search"]["result"]):  # two lower bounds: which carries more is not known
                words += f"; {who} {_capacity(second)} (which carries more is not known)"
            else:
                floor = "at least " if capacity.at_least(best["search"]["result"]) else ""
                words += f", {floor}{cap / next_cap:.2g} × {who}'s {_capacity(second)}{_bounded(rest[0])}"
        if none:
            words += f"; {_names(none)} met it at no rate tried"
        out.append(words)
    return out


def mix_sentences(rows: list[dict]) -> list[str]:
    """Per mix and rate (bench/analyse/mix.py's mix_rows): each class run alone too, how much longer it took with the
    others mixed in, per instance from the most held to the least, with what holds it on each model; and the classes
    its model does not explain."""
    out = []
    for key in dict.fromkeys((r["mix"]["name"], r["rate_per_s"], r.get("clients")) for r in rows):
        mine = [r for r in rows if (r["mix"]["name"], r["rate_per_s"], r.get("clients")) == key and r["valid"]]
        if not mine:
            continue
        how = f"{key[1]:g}/s" if key[1] else f"a closed loop of {key[2]} clients"
        words = f"**Mixed traffic** {mine[0]['mix']['name']} ({mine[0]['label']}, {how})"
        parts = []
        for name in dict.fromkeys(c["name"] for r in mine for c in r["classes"]):
            found = sorted(((r, c) for r in mine for c in r["classes"] if c["name"] == name and c["vs_alone"]),
                           key=lambda rc: -rc[1]["vs_alone"])  # fmt: skip
            if found:
                q = found[0][1]["percentile"]
                each = ", ".join(f"{c['vs_alone']:.1f}× under {variant_of(r)}{_held(c)}" for r, c in found)
                parts.append(f"`{found[0][1]['label']}` took {each} its p{q} alone")
                continue
            found = sorted(((r, c) for r in mine for c in r["classes"] if c["name"] == name and c["value_s"]),
                           key=lambda rc: -rc[1]["value_s"])  # fmt: skip
            if found:  # none alone (a closed loop): what it took, with its share held
                each = ", ".join(f"p{c['percentile']} {c['value_s'] * 1000:,.0f} ms under {variant_of(r)}"
                                 + (f" ({c['held_share']:.0%} held)" if c.get("held_share") is not None else "")
                                 for r, c in found)  # fmt: skip
                parts.append(f"`{found[0][1]['label']}` {each}")
        loops = [variant_of(r) for r in mine if any((c.get("theory") or {}).get("model") == "loops"
                                                     for c in r["classes"])]  # fmt: skip
        if loops:
            parts.append(f"on {_names(loops)} a computing request holds every request of its worker's event loop; "
                         "on threads and processes, only its own slot")  # fmt: skip
        odd = [f"{variant_of(r)} {c['name']}" for r in mine for c in r["classes"] if c["verdict"] == "not as expected"]
        if odd:
            parts.append(f"not as its model says: {_names(odd)} (the table says how)")
        if parts:
            out.append(words + ": " + "; ".join(parts))
    return out


def _held(c: dict) -> str:
    """' (9 % held over 10 ms, 0 % alone)': a mix's class's requests held beyond their own time, mixed and alone."""
    if c.get("held_share") is None or c.get("alone_held_share") is None:
        return ""
    return f" ({c['held_share']:.0%} held over {HELD_S * 1000:g} ms, {c['alone_held_share']:.0%} alone)"


def _capacity(row: dict) -> str:
    """2.5 requests a second (not met at 5: the search left them 100 % apart), or just the rate when within 5 %; at
    least the rate, and why, when the search never missed the target."""
    result = row["search"]["result"]
    text = f"{capacity_bound.per_s(result['capacity_per_s'])} requests a second"
    missed = result["missed_per_s"]
    if capacity.at_least(result):
        return f"at least {text} (the search stopped before it missed the target: {result['how']})"
    if missed and (missed - result["capacity_per_s"]) / result["capacity_per_s"] > 0.05:
        apart = (missed - result["capacity_per_s"]) / result["capacity_per_s"] * 100
        text += f" (not met at {capacity_bound.per_s(missed)}: the search left them {apart:.0f} % apart)"
    return text


def _bounded(rows: list[dict]) -> str:
    """ ", bounded by its CPU" (or its slots), when known (capacity_rows) and the same for all of them."""
    by = {(r.get("bound") or {}).get("short") for r in rows}
    if len(by) != 1 or None in by:
        return ""
    (short,) = by
    return f", bounded by {short.replace('its ', 'their ', 1) if len(rows) > 1 else short}"


def capacity_target_label(target: dict) -> str:
    """p99 ≤ 250 ms with at most 1 % errors."""
    return (f"p{target['percentile']:g} ≤ {target['latency_s'] * 1000:g} ms with at most "
            f"{target['error_budget'] * 100:g} % errors")  # fmt: skip


def recommendation_sentence(entry: dict) -> str:
    """The recommendation in words, for the report's first paragraph."""
    name = entry["scenario_name"] or entry["label"]
    if entry["by"] in ("capacity", "mix"):
        what_label = f"mixed traffic {entry['label']}" if entry["by"] == "mix" else f"`{entry['label']}`"
        where = f"**{name}** ({what_label}) within {capacity_target_label(entry['target'])}"
        if entry["by"] == "mix":
            where += " for every scenario of the mix"
        if not entry["best"]:
            return f"{where}: no instance to recommend, {entry['why']}."
        floor = "at least " if entry.get("at_least") else ""  # its search never missed the target
        what = f"{floor}{capacity_bound.per_s(entry['best_per_s'])} requests a second"
        other = (f"{entry['runner_up']}'s {capacity_bound.per_s(entry['runner_up_per_s'])}"
                 if entry["runner_up_per_s"] else entry["runner_up"])  # fmt: skip
    else:
        where = f"**{name}** (`{entry['label']}`, swept at c={entry['concurrency']}; no capacity search)"
        what = f"{entry['best_rps']:,.1f} requests a second"
        other = f"{entry['runner_up']}'s {entry['runner_up_rps']:,.1f}" if entry["runner_up"] else None
    text = f"{where}: choose **{entry['best']}** ({entry['best_config']}), {what}"
    if entry.get("equals"):
        mem = entry.get("memory")
        text += (f", as much as {_names(entry['equals'])} within this search's resolution"
                 + (f", and the least memory of them ({mem[0]:,.0f} MiB {mem[1]})" if mem else ""))  # fmt: skip
    if entry["runner_up"]:
        margin = f"{entry['margin']:+.0%} on " if entry["margin"] is not None else "against "
        verdict = {True: "a real difference", False: "not a difference this run can show", None: "not known"}
        text += f", {margin}the runner-up {other}: {verdict[entry['settled']]} ({entry['why']})"
    else:
        text += f" ({entry['why']})"
    if w := entry.get("workers"):
        tried = ", ".join(f"{n}" for n in w["tried"])
        most = (f"{_names([str(n) for n in w['same']])} carried as much" if len(w["same"]) > 1
                else f"{w['best_workers']} carried the most")  # fmt: skip
        text += (
            f". Workers: the rule of thumb ({recommend.RULE_OF_THUMB}) says {w['rule']} on this host's {w['cores']} "
            f"core{'s' if w['cores'] != 1 else ''}; of {tried} tried, {most}"
        )
        if not w["rule_tried"]:
            text += f" ({w['rule']} was not tried)"
    return text + "."


def fidelity_line(f: dict, unbounded: int) -> str:
    """One worker type's fidelity (throughput.fidelity) in words: only the parts this run measured."""
    parts = []
    if f["probe_error"] is not None:
        io = f" (IO {f['probe_error_io'] * 100:.1f} %)" if f["probe_error_io"] is not None else ""
        parts.append(f"probes (requests at once) against theory, worst error {f['probe_error'] * 100:.1f} %{io}")
    for x in f["io"]:
        cap = x["capacity"]
        if x["saturated"]:
            where = f"at saturation (c ≥ capacity{f' {cap}' if cap is not None else ''})"
        else:
            shown = "unbounded" if cap is None or cap >= unbounded else cap
            where = f"below saturation (its capacity, {shown}, is above every c run), at best,"
        parts.append(
            f"`{x['label']}` {where} reaches {x['best_efficiency'] * 100:.1f} % of min(c, capacity) ÷ IO time "
            f"({x['best_limit']:,.1f} rps) at c={x['best_concurrency']}; at its highest concurrency, "
            f"c={x['concurrency']}, {x['rps']:,.1f} rps = {x['efficiency'] * 100:.1f} %"
        )
    return f"**{variant_of(f)}**: " + "; ".join(parts) + "."


def doubts(verdicts: list[dict], probes: list[dict], sweeps: list[dict]) -> list[str]:
    """Where a verdict or a measurement of this run should not be taken at face value."""
    out = []
    for v in verdicts:
        if not v["as_expected"] and v["measured"] is not None:
            out.append(
                f"{variant_of(v)} on {v['task']} is **not as expected**: {v['measured']:.2f} at once against a "
                f"theory of {v['expected']:.2f} ({v['sentence']})"
            )
    by_siege = [f"{variant_of(v)} {v['task']}" for v in verdicts if v["timed_by"] == "siege" and v["valid"]]
    if by_siege:
        out.append(f"timed by siege alone, the app logged no timing: {', '.join(by_siege)}")
    for p in probes:
        busy = p.get("utilisation")
        if busy is not None and busy < BUSY_CORE and p["concurrency"] > 1 and p["task"] == "cpu":
            out.append(
                f"{variant_of(p)}'s CPU burst of {p['concurrency']} had its core only {busy:.0%} busy "
                "(other work on the machine)"
            )
    if sweeps and all(s["repeats"] == 1 for s in sweeps):
        out.append(
            "each sweep point ran once (this profile), so its spread is unknown: differences of a few tens of "
            "percent between worker types on the same work may be the machine's noise (the full profile repeats "
            "each three times)"
        )
    noisy = sorted({f"{variant_of(s)} {s['label']} c={s['concurrency']}" for s in sweeps if s["noisy"]})
    if noisy:
        out.append(f"noisy sweep points (repeats vary by more than {NOISY_CV:.0%}): {', '.join(noisy)}")
    bound = sorted({f"{variant_of(s)} {s['label']} c={s['concurrency']}" for s in sweeps if s["load_bound"]})
    if bound:
        out.append(f"sweep points limited by the load generator, not the server: {', '.join(bound)}")
    invalid = [p for p in probes if not p["valid"]]
    if invalid:
        out.append(f"{len(invalid)} invalid probe(s), not used: " + ", ".join(p["name"] for p in invalid))
    return out


def paragraph(verdicts: list[dict], probes: list[dict], sweeps: list[dict], order: list[str]) -> list[str]:
    """The sentences of the report's first paragraph, in order: one per scenario the app sweeps, then the doubts."""
    lines = scenario_sentences(sweeps, probes, order)
    found = doubts(verdicts, probes, sweeps)
    lines.append(
        ("**Doubtful**: " + "; ".join(found) + ".")
        if found
        else "Nothing here is doubtful: every verdict matched theory within its tolerance, no sweep point was noisy "
        "or limited by the load generator, and the server kept its core busy through every CPU burst."
    )
    return lines


def _seconds(value: float) -> str:
    return f"{value:.2g} s" if value < 1 else f"{value:,.1f} s".replace(".0 s", " s")


def _unit(mine: list[dict]) -> tuple[float | None, str]:
    """One request's work on a probed endpoint: its declared unit (`unit_s`), else the median over worker types of the
    time one request took in the app on an idle worker (their c=1 probes); and which of the two it is."""
    if mine[0].get("unit_s"):
        return float(mine[0]["unit_s"]), "declared"
    measured = [p["unit"] for p in mine if p.get("unit") is not None and p["concurrency"] == 1]
    return (statistics.median(measured), "measured") if measured else (None, "")


def probe_units(probes: list[dict]) -> list[str]:
    """What one request of each probed scenario asks for, for the verdict's introduction."""
    out = []
    for label in dict.fromkeys(p["label"] for p in probes):
        mine = [p for p in probes if p["label"] == label]
        kind = {"io": "IO", "cpu": "CPU"}.get(mine[0]["task"], mine[0]["task"] or "work")
        unit, how = _unit(mine)
        amount = (
            f"{_seconds(unit)} of {kind}" if how == "declared"
            else f"about {_seconds(unit)} of {kind}, the median of its c=1 probes" if how == "measured"
            else f"{kind}, of a size not measured (no valid c=1 probe)"
        )  # fmt: skip
        out.append(f"`{label}` ({scenario_label(mine[0])}): {amount}")
    return out


def clock_limits(probes: list[dict], sweeps: list[dict]) -> str | None:
    """What siege's 10 ms clock means for this run's figures: the share of the shortest probed unit it is, and the
    swept scenarios whose median latency is below it. None when no figure of the run is near it."""
    labels = dict.fromkeys(p["label"] for p in probes)
    units = {e: _unit([p for p in probes if p["label"] == e])[0] for e in labels}
    units = {e: u for e, u in units.items() if u}
    parts = []
    if units:
        shortest = min(units, key=units.get)
        parts.append(f"{SIEGE_CLOCK_S / units[shortest]:.0%} of the shortest probed unit, {_seconds(units[shortest])} "
                     f"on `{shortest}`")  # fmt: skip
    fast = dict.fromkeys(s["label"] for s in sweeps if s["p50_s"] is not None and s["p50_s"] < SIEGE_CLOCK_S)
    if fast:
        parts.append(f"the median latency of {', '.join(f'`{e}`' for e in fast)} is below the clock's resolution")
    return "; ".join(parts) or None


def _loss(o: dict) -> str:
    """What one operation lost, briefly: '3 of 60: connection refused, due +0.14 s to +0.54 s'."""
    kinds = ", ".join(operations.ERROR_MEANS.get(k, k).split(":")[0] for k in o["lost_by_kind"])
    first, last = o["lost_first_after_s"], o["lost_last_after_s"]
    span = f"{first:+.2f} s" + (f" to {last:+.2f} s" if last != first else "")
    return f"{o['lost']} of {o['requests']}: {kinds}, due {span}"


def operation_sentences(rows: list[dict], order: list[str]) -> list[str]:
    """Per operation under load (bench/analyse/operations.py's operation_rows) and scenario: on which instances it
    was safe, on which it delayed requests and on which it lost some, with how many and why in brief."""
    out = []
    for kind, label in dict.fromkeys((r["what"], r["label"]) for r in rows):
        mine = sorted((r for r in rows if (r["what"], r["label"]) == (kind, label) and r["valid"]),
                      key=lambda r: order.index(variant_of(r)) if variant_of(r) in order else 0)  # fmt: skip
        if not mine:
            continue
        parts = []
        safe = [variant_of(r) for r in mine if r["verdict"] == "safe"]
        if safe:
            parts.append(f"safe on {_names(safe)} (nothing lost, none delayed)")
        delayed = [r for r in mine if r["verdict"] == "delayed"]
        if delayed:
            each = [f"{variant_of(r)} ({r['delayed']} of {r['requests']} later than {r['bound_s'] * 1000:,.0f} ms"
                    + (f", back {r['back_after_s']:.2f} s after it" if r["back_after_s"] is not None else "")
                    + (f", after {len(r['recycles_at_s'])} restarts" if r.get("recycles_at_s") else "") + ")"
                    for r in delayed]  # fmt: skip
            parts.append(f"delayed requests on {_names(each)}")
        lost = [r for r in mine if r["verdict"] == "lost"]
        if lost:
            parts.append(f"lost requests on {_names([f'{variant_of(r)} ({_loss(r)})' for r in lost])}")
        out.append(f"**{kind}** under load (`{label}` at {mine[0]['rate_per_s']:g}/s): " + "; ".join(parts))
    return out
