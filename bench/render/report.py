"""Render report.md (Jinja2) and its charts from a run's results.json."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bench.analyse import mix, operations, quantiles, rate_verdict, recommend, throughput, verdict
from bench.model import catalog, fleet, plan, results_model
from bench.model.results_model import variant_of
from bench.parse import collect, resources
from bench.render import charts, summary
from bench.trends import history

TEMPLATES = Path(__file__).resolve().parent / "templates"


def seconds_between(start: str, end: str) -> float:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return (datetime.strptime(end, fmt) - datetime.strptime(start, fmt)).total_seconds()


def fmt(value, digits: int = 2, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{unit}"


def percentile_cell(latency: dict | None, name: str) -> str:
    """A latency percentile of a run at a rate (bench/analyse/quantiles.py's summary) in milliseconds with its 95 %
    interval, or why it is not a figure: too few requests to bound it."""
    if not latency:
        return "–"
    q = latency["percentiles"][name]
    if not q["supported"]:
        need = quantiles.samples_needed(float(name[1:]))
        return f"not supported ({latency['n']} requests, {need} needed)"
    return f"{q['value'] * 1000:.0f} ms ({q['low'] * 1000:.0f}–{q['high'] * 1000:.0f})"


def utc(ts: float | None) -> str:
    return "–" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S.%f")[:-3]


def shared_cores(hosts: dict) -> bool:
    pinned = [tuple(h["cpus_pinned"]) for h in hosts.values() if h.get("cpus_pinned")]
    if len(pinned) < len(hosts):
        return True  # unpinned hosts (or VMs we cannot see into) may share cores with the load generator
    return len(set(pinned)) < len(pinned)


def operation_charts(operated: list[dict], order: list[str], run_dir: Path, prefix: str) -> dict[str, str]:
    """A timeline chart per operation under load and scenario, by the key the report looks it up with."""
    found = {}
    for kind, label in dict.fromkeys((r["what"], r["label"]) for r in operated):
        name = prefix + charts.chart_name("operation", f"{kind}-{label}")
        if charts.operation_chart(operated, kind, label, order, run_dir / name):
            found[f"operation-{kind}-{label}"] = name
    return found


def context(results: dict, run_dir: Path, make_charts: bool = True, section: bool = False) -> dict:
    """What report.md.j2 reads of a run, or of one app host's view of it (bench/model/fleet.py): with `section`, the
    part of a report of several app hosts that is this host's (its headings one level down, its charts named for
    it)."""
    changes_file = run_dir / "changes.json"  # written by collect-report: none when the run was not compared
    changes = results_model.changes_of(changes_file, results["app_host"]) if changes_file.exists() else None
    prefix = f"{results['app_host']}-" if section else ""
    order = results_model.variants(results)
    cat = results_model.catalog_of(results)  # the run's own: theory as it was when the run was made
    cores = verdict.app_cores(results["hosts"])
    probes = verdict.probe_rows(results["results"], cores, cat)
    sweeps = throughput.sweep_rows(results["results"], cat)
    rates = rate_verdict.rate_rows(results["results"], cat)
    mixes = mix.mix_rows(results["results"], cat)
    operated = operations.operation_rows(results["results"])
    chart_files: dict[str, str] = {}
    if make_charts:
        for task in ("io", "cpu"):
            name = prefix + charts.chart_name("probe", task)
            if charts.probe_chart(probes, task, order, run_dir / name):
                chart_files[f"probe-{task}"] = name
        for variant in order:
            for label in dict.fromkeys(p["label"] for p in probes if variant_of(p) == variant):
                name = prefix + charts.chart_name("timeline", f"{variant}-{label}")
                mine = [p for p in probes if variant_of(p) == variant and p["label"] == label]
                if charts.timeline_chart(mine, f"{variant} {label}: who waited for whom", run_dir / name):
                    chart_files[f"timeline-{variant}-{label}"] = name
        for label in dict.fromkeys(r["label"] for r in rates):
            name = prefix + charts.chart_name("rate", label)
            if charts.rate_chart(rates, label, order, run_dir / name):
                chart_files[f"rate-{label}"] = name
        for label in dict.fromkeys(r["label"] for r in results["results"] if r["scenario"] == "capacity"):
            name = prefix + charts.chart_name("capacity", label)
            if charts.capacity_chart(results["results"], label, order, run_dir / name):
                chart_files[f"capacity-{label}"] = name
        chart_files |= operation_charts(operated, order, run_dir, prefix)
        for label in dict.fromkeys(r["label"] for r in sweeps):
            name = prefix + charts.chart_name("sweep", label)
            if charts.sweep_chart(sweeps, label, order, run_dir / name):
                chart_files[f"sweep-{label}"] = name
    wall = seconds_between(results["started"], results["finished"])
    invalid = [r for r in results["results"] if not r["valid"]]
    failed = {variant_of(f) for f in results.get("failures", [])}
    not_run = [
        w for w in order
        if w not in failed
        and all(r["invalid_reason"] == collect.NO_OUTPUT for r in results["results"] if variant_of(r) == w)
    ]  # fmt: skip
    fidelity = throughput.fidelity(probes, sweeps, order)
    verdict_rows = sorted(verdict.verdicts(probes), key=lambda v: (order.index(variant_of(v)), v["task"]))
    capacities = summary.capacity_rows(results["results"], order, cores, cat)
    return {
        "r": results,
        "run_dir": str(run_dir),
        # which instance to choose per scenario first, then who carries what within each target, then the rest
        "summary": [summary.recommendation_sentence(e) for e in recommend.recommend(results["results"], cores)]
        + summary.capacity_sentences(capacities)
        + summary.mix_sentences(mixes)
        + summary.operation_sentences(operated, order)
        + summary.paragraph(verdict_rows, probes, sweeps, order),
        "capacities": capacities,
        "costs": recommend.costs(results["results"], order, cores),
        "capacity_labels": list(dict.fromkeys(x["label"] for x in capacities)),
        "order": order,
        "cores": cores,
        "probes": sorted(probes, key=lambda p: (order.index(variant_of(p)), p["task"], p["concurrency"])),
        "verdicts": verdict_rows,
        "sweeps": sorted(sweeps, key=lambda s: (s["label"], order.index(variant_of(s)), s["concurrency"])),
        "sweep_labels": list(dict.fromkeys(s["label"] for s in sweeps)),
        "charts": chart_files,
        "wall_s": wall,
        "other_s": max(wall - results["time_in_load_s"] - (results.get("settle_s") or 0), 0),
        "invalid": invalid,
        "shared_cores": shared_cores(results["hosts"]),
        "tolerance": verdict.TOLERANCE,
        "siege_tolerance": verdict.SIEGE_TOLERANCE,
        "noisy_cv": verdict.NOISY_CV,
        "changes": changes,
        "not_run": not_run,
        "fidelity": [summary.fidelity_line(f, catalog.UNBOUNDED) for f in fidelity],
        "fidelity_targets": [
            *(
                [f"probe error within {verdict.TOLERANCE['io'] * 100:.0f} %"]
                if any(f["probe_error"] is not None for f in fidelity)
                else []
            ),
            *(["IO saturation throughput at least 95 % of the limit"] if any(f["io"] for f in fidelity) else []),
        ],
        "probe_units": summary.probe_units(probes),
        "probe_captions": {
            task: f"{', '.join(dict.fromkeys(p['label'] for p in probes if p['task'] == task))} probe ladders"
            for task in ("io", "cpu")
            if any(p["task"] == task for p in probes)
        },
        "clock_limits": summary.clock_limits(probes, sweeps),
        "rates": rates,
        "mixes": mixes,
        "operated": operated,
        "operation_kinds": list(dict.fromkeys((r["what"], r["label"]) for r in operated)),
        "mix_floor_s": mix.MIX_FLOOR_S,
        "mix_share": mix.MIX_SHARE,
        "held_s": mix.HELD_S,
        "rate_labels": list(dict.fromkeys(x["label"] for x in rates)),
        "wait_floor_s": rate_verdict.WAIT_FLOOR_S,
        "ideal_share": rate_verdict.IDEAL_SHARE,
        "resources": [r for r in results["results"] if r.get("app_resources") or r.get("load_resources")],
        "load_bound_cpu": resources.LOAD_BOUND_CPU,
        "load_bound_concurrency": resources.LOAD_BOUND_CONCURRENCY,
        # the catalog's word on each type tested (theory), and the versions worth a column for them
        "theories": [cat.types[w].explain for w in results["worker_types"] if w in cat.types],
        "version_columns": cat.version_columns(results["worker_types"], history.app_packages(results)),
        "app": results["app"],
        "verify": results["verify"],
        "section": section,
        "h": "#" if section else "",
        "machine": fleet.machine(results),
        "gunicorn_settings": history.settings_words(results),
    }


def fleet_context(results: dict, views: list[dict], run_dir: Path, make_charts: bool) -> dict:
    """The top of a report of several app hosts: the hosts side by side (a table and a chart per swept scenario)."""
    order = results_model.variants(results)
    rows = fleet.side_by_side(views, order)
    names = [v["app_host"] for v in views]
    chart_files = {}
    if make_charts:
        for label in dict.fromkeys(r["label"] for r in rows):
            name = charts.chart_name("hosts", label)
            if charts.hosts_chart([r for r in rows if r["label"] == label], names, label, run_dir / name):
                chart_files[label] = name
    wall = seconds_between(results["started"], results["finished"])
    return {
        "r": results,
        "run_dir": str(run_dir),
        "app": results["app"],
        "order": order,
        "views": views,
        "machines": {v["app_host"]: fleet.machine(v) for v in views},
        "rows": rows,
        "labels": list(dict.fromkeys(r["label"] for r in rows)),
        "charts": chart_files,
        "wall_s": wall,
        "other_s": max(wall - results["time_in_load_s"] - (results.get("settle_s") or 0), 0),
        "shared_cores": shared_cores(results["hosts"]),
        "rounds": 1 + max(h["round"] for h in results["app_hosts"].values()),
        "gunicorn_settings": history.settings_words(results),
    }


def render(results: dict, run_dir: Path, make_charts: bool = True) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )  # fmt: skip
    env.filters["fmt"] = fmt
    env.filters["utc"] = utc
    env.filters["percentile"] = percentile_cell
    env.filters["capacity_target"] = summary.capacity_target_label
    results = results_model.current(results)  # any schema: the model (an upgraded one is upgraded once more: same)
    cat = results_model.catalog_of(results)
    env.filters["config"] = lambda record: plan.config_label(record, cat)
    views = fleet.views(results)
    if len(views) == 1:
        return env.get_template("report.md.j2").render(**context(views[0], run_dir, make_charts))
    host = env.get_template("report.md.j2")
    sections = [host.render(**context(v, run_dir, make_charts, section=True)) for v in views]
    top = fleet_context(results, views, run_dir, make_charts)
    return env.get_template("fleet.md.j2").render(sections=sections, **top)


def main(run_dir: str) -> Path:
    path = Path(run_dir)
    results = results_model.load(path / "results.json")
    text = render(results, path)
    out = path / "report.md"
    tmp = path / ".report.md.tmp"
    tmp.write_text(text)
    tmp.replace(out)
    return out
