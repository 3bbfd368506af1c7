"""reports/index.md: one row per run, newest first, and trend charts per worker type and task across runs."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bench.model import results_model
from bench.model.results_model import variant_of
from bench.parse import collect
from bench.render import charts
from bench.render.report import TEMPLATES, fmt
from bench.trends import history

# The trend charts show the newest complete runs only: a year of nightly runs would be unreadable on one axis, and
# redrawing it all after every run would make each run's report step slower than the last.
TREND_RUNS = 30


def missing(results: dict) -> str:
    """What an incomplete run lacks, in a few words: 'sync failed to start; gevent not loaded; 28 of 70 runs'."""
    parts = []
    for f in results["failures"]:
        if f.get("load_host_lost"):
            parts.append(f"{variant_of(f)} lost its load host")
        elif f.get("phase") == "starting it":
            parts.append(f"{variant_of(f)} failed to start")
        else:
            parts.append(f"{variant_of(f)} failed" + (f" while {f['phase']}" if f.get("phase") else ""))
    failed = {variant_of(f) for f in results["failures"]}
    ran = [r for r in results["results"] if r["invalid_reason"] != collect.NO_OUTPUT]
    not_run = [w for w in results_model.variants(results)
               if w not in failed and not any(variant_of(r) == w for r in ran)]  # fmt: skip
    if not_run:
        parts.append(f"{', '.join(not_run)} not loaded")
    parts.append(f"{len(ran)} of {len(results['results'])} runs")
    return "; ".join(parts)


def trend_points(runs: list[dict]) -> dict[str, dict[str, list[tuple[str, float]]]]:
    """task label -> worker config -> [(run_id, value)]: the probes' requests at once (siege's effective concurrency
    where the app did not time the burst), one CPU request's CPU time, sweep rps at the largest concurrency of each
    swept scenario (its label), and each searched scenario's capacity within its target. Each app has its own charts:
    its label starts with its name (the demo app's does not)."""
    out: dict[str, dict[str, list[tuple[str, float]]]] = {}
    for run in runs:
        if not run["complete"]:
            continue
        data = run["data"]
        found = history.figures(data)
        largest: dict[tuple[str, str], int] = {}
        for f in found:
            if f.metric == "rps":
                largest[(f.config, f.label)] = max(largest.get((f.config, f.label), 0), f.concurrency)
        for f in found:
            if f.metric == "at_once":
                label = f"requests at once, {f.task} probe"
            elif f.metric == "effective":
                label = f"effective concurrency (siege-timed), {f.task} probe"
            elif f.metric == "unit_cpu_s":
                label = f"CPU time of one request (s), {f.label}"
            elif f.metric == "capacity_per_s":
                label = f"capacity (/s), {f.label} within {f.target}"
            elif f.metric == "rps":
                if f.concurrency != largest[(f.config, f.label)]:
                    continue
                label = f"rps, {f.label} at c={f.concurrency}"
            else:
                continue
            app = history.app_name(data)
            label = label if app == "demo" else f"{app}: {label}"
            # one line per machine where runs had several app hosts: its name, the same on every run of the fleet
            series = f"{data['app_host']}: {f.config}" if len(data["fleet"]) > 1 else f.config
            out.setdefault(label, {}).setdefault(series, []).append((data["run_id"], f.value))
    return out


def render(reports: Path, thresholds: history.Thresholds = history.DEFAULT) -> Path:
    runs = history.load_runs(reports)
    rows = []
    complete = [r for r in runs if r["complete"]]
    for run in runs:
        data = run["data"]
        row = {"run_id": data["run_id"], "link": f"{run['dir'].name}/report.md", "reported": run["reported"],
               "started": data.get("started"), "commit": data.get("git_commit"), "profile": data.get("profile"),
               "app": history.app_name(data), "app_host": data.get("app_host"),
               "machine": history.host_type(data) if run["reported"] else None,
               "worker_types": data["worker_types"],
               "missing": None if run["complete"] or not run["reported"] else missing(data)}  # fmt: skip
        if run["reported"]:
            recorded = run["dir"] / "changes.json"  # what collect-report found when the run ended
            if recorded.exists():  # each change names its app host
                found = results_model.changes_of(recorded, data["app_host"])
            else:
                earlier = [c["data"] for c in complete if c["data"]["started"] < data["started"]]
                found = history.changes(data, earlier, thresholds)
            row.update(
                headline=history.headline(data),
                valid=sum(r["valid"] for r in data["results"]),
                total=len(data["results"]),
                regressions=sum(c["regression"] for c in found),
                improvements=sum(not c["regression"] for c in found),
            )
        rows.append(row)
    trend_files = []
    recent = set(list(dict.fromkeys(r["dir"] for r in complete))[-TREND_RUNS:])  # runs, not their per-host entries
    for label, series in sorted(trend_points([r for r in complete if r["dir"] in recent]).items()):
        name = charts.chart_name("trend", label)
        if charts.trend_chart(series, label, reports / name):
            trend_files.append((label, name))
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)  # fmt: skip
    env.filters["fmt"] = fmt
    text = env.get_template("index.md.j2").render(rows=list(reversed(rows)), trends=trend_files, th=thresholds,
                                                     trend_runs=len(recent),
                                                     hosts=any(r["app_host"] for r in rows))  # fmt: skip
    out = reports / "index.md"
    tmp = reports / ".index.md.tmp"
    tmp.write_text(text)
    tmp.replace(out)
    return out
