"""The series of runs: headline metrics per run, regression flags against comparable earlier runs, the index of
runs with trend charts, retention of raw output, and a side-by-side comparison of two runs.

A run folder under reports/ that holds results.json has been *reported* (report.md is rendered from it by the same
command, while the index is drawn); it is *complete* when, in results.json, every worker type was loaded and every run
of the matrix happened (`complete`). A folder without results.json failed before collecting or is still going. Only
complete runs are baselines.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from bench.analyse import throughput, verdict
from bench.model import catalog, fleet, plan, results_model
from bench.model.results_model import variant_of

MAD_TO_SIGMA = 1.4826  # scale of the median absolute deviation to a normal distribution's standard deviation


@dataclass(frozen=True)
class Thresholds:
    """When a change is flagged: beyond `relative` of the baseline AND beyond `noise_factor` times the noise of
    the comparable runs, with at least `min_history` of them (the baseline is their median, so one outlier among
    them moves nothing)."""

    relative: float = 0.10
    noise_factor: float = 3.0
    min_history: int = 3
    window: int = 7  # K: how many of the latest comparable runs make the baseline


DEFAULT = Thresholds()

# metric name -> which direction is worse
HIGHER_IS_BETTER = {
    "rps": True,
    "p99_s": False,
    "effective": True,
    "at_once": True,
    "unit_cpu_s": False,
    "capacity_per_s": True,
}
# Charted in the index's trends, never flagged: one /cpuTask request's CPU time on an idle worker moved by 20-30 %
# between consecutive runs on the lab's shared machine (medians 0.32-0.47 s over five quick runs of the same commit),
# more than any threshold a regression alarm could use; the verdict's requests at once stayed within 1 %.
TREND_ONLY = {"unit_cpu_s"}
# Smallest change that can be real, whatever the history says: siege's clock ticks in 10 ms, so a p99 must move by
# two ticks; the CPU probes are only as exact as their verdict's tolerance.
ABS_FLOOR = {"p99_s": 0.02}
# ... and some numbers are noisier than others: a tail latency from a few seconds of load, and a CPU probe timed by
# siege alone (the app logged no timing of it), only as exact as its verdict's tolerance. (metric, start of the point)
# -> smallest change.
RELATIVE_FLOOR = {("p99_s", ""): 0.25, ("effective", "probe cpu"): verdict.SIEGE_TOLERANCE["cpu"]}


def load_runs(reports: Path) -> list[dict]:
    """Every run folder, oldest first, with its results (results_model.load) as `data` (`reported`), or its plan
    (run.json: results_model.plan_of) while it has none; `complete` when its results say so."""
    runs = []
    for d in sorted(p for p in reports.iterdir() if p.is_dir() and not p.is_symlink() and (p / "run.json").exists()):
        results = d / "results.json"
        reported = results.exists()
        plan = None if reported else json.loads((d / "run.json").read_text())
        data = results_model.load(results) if reported else results_model.plan_of(plan)
        if data["verify_only"]:
            continue  # a verification without load (verify_only=true): no figures, no place in the history
        # a run of several app hosts is one entry per app host (bench/model/fleet.py), each in its own host type's
        # history
        for one in fleet.views(data) if reported else [data]:
            complete = reported and one["complete"] is True
            runs.append({"dir": d, "reported": reported, "complete": complete, "data": one})
    return runs


def host_type(results: dict) -> str:
    """The app host's CPU model and cores (of one app host's view: bench/model/fleet.py), as the index and compare
    show it."""
    return fleet.host_type(results) if fleet.app_facts(results) else "unknown"


def machine_key(results: dict) -> dict:
    """What the app host is, for comparability: CPU model and cores (host_type), memory (to 0.5 GiB: a kernel update
    moves MemTotal by a few MiB), the OS's major release and Python's minor version (a point release of either is the
    kind of change a regression should be flagged against, not a new history; the report shows the full versions). A
    fact the run's host facts lack is left out, and matches any value."""
    app = fleet.app_facts(results)
    key = {"type": host_type(results)}
    if app.get("memory_mb"):
        key["memory_gib"] = round(app["memory_mb"] / 512) / 2
    if app.get("os"):
        key["os"] = app["os"].split(".")[0]  # "Debian 12.15" -> "Debian 12"
    if app.get("python"):
        key["python"] = ".".join(app["python"].split(".")[:2])
    return key


def same_machine(a: dict, b: dict) -> bool:
    ka, kb = machine_key(a), machine_key(b)
    return all(ka[k] == kb[k] for k in ka.keys() & kb.keys())


def config_key(rec: dict) -> str:
    """A worker type and its configuration, as the report labels it everywhere (plan.config_label: "gthread 1w×2t",
    "gevent 1w×1000c"; the knobs its theory does not count are left out): the same label is the same config."""
    return f"{rec['worker_type']} {plan.config_label(rec)}"


class Figure(NamedTuple):
    """One headline number of a run, its parts named: the worker type and its config, what was loaded (scenario,
    task of a probe, the scenario's label, concurrency), which metric, its value. `key` is how the series and the
    index name it."""

    worker_type: str
    config: str
    scenario: str  # "sweep", "probe" or "capacity"
    task: str | None  # a probe's: "io" or "cpu"
    label: str  # the scenario's: its path for a GET, else its method and path
    concurrency: int | None  # None for one CPU request's CPU time, which no burst size names
    metric: str
    value: float
    target: str | None = None  # a capacity's latency target, compact: "p99≤250ms e1%"
    # the smallest relative change the figure can show: a capacity search's bracket (met at 640/s, not at 960: 0.5)
    resolution: float = 0.0

    @property
    def point(self) -> str:
        """'/ioTask?ms=100 c=10' (sweep), 'probe io c=10' (a probe's largest burst), 'probe cpu /cpuTask' (CPU time
        of one request), 'capacity /ioTask?ms=100 p99≤250ms e1%' (the highest rate within that target)."""
        if self.scenario == "capacity":
            return f"capacity {self.label} {self.target}"
        if self.scenario == "sweep":
            return f"{self.label} c={self.concurrency}"
        where = self.label if self.concurrency is None else f"c={self.concurrency}"
        return f"probe {self.task} {where}"

    @property
    def key(self) -> tuple[str, str, str]:
        return self.config, self.point, self.metric


def figures(results: dict) -> list[Figure]:
    """Headline numbers of a run: per worker config, sweep rps and p99 per (scenario, concurrency), and the probes'
    figures at their largest burst per task, timed by the server: how many requests were in the app at once
    (`at_once`) and, for CPU work, one request's CPU time on an idle worker (`unit_cpu_s`: a slower interpreter or
    app shows here). A probe the app did not time (its clock logged nothing of the burst) keeps siege's effective
    concurrency (`effective`): a metric of its own, never compared with the server's.

    Records of a worker type worker_types.yml no longer has (removed since, or added on a branch whose run landed in
    the same reports folder) give no figures: their theory is gone, and no run made now can be compared with them.
    (The verdict's theory, bench/analyse/stats.py, reads today's catalog, not the run's: results_model.catalog_of.)"""
    out: list[Figure] = []
    known = set(catalog.load().names)
    records = [r for r in results["results"] if r["worker_type"] in known]
    configs = {variant_of(r): config_key(r) for r in records}  # each instance's (a matrix runs several of a type)
    for row in throughput.sweep_rows(records):
        for name in ("rps", "p99_s"):
            if row[name] is not None:
                out.append(Figure(row["worker_type"], configs[variant_of(row)], "sweep", None, row["label"],
                                  row["concurrency"], name, row[name]))  # fmt: skip
    for row in verdict.verdicts(verdict.probe_rows(records, verdict.app_cores(results.get("hosts", {})))):
        if row["measured"] is None:
            continue
        probe = Figure(row["worker_type"], configs[variant_of(row)], "probe", row["task"], row["label"],
                       row["concurrency"], "effective", row["measured"])  # fmt: skip
        if row["timed_by"] == "server":
            out.append(probe._replace(metric="at_once"))
            if row["task"] == "cpu" and row["unit_cpu"]:
                out.append(probe._replace(concurrency=None, metric="unit_cpu_s", value=row["unit_cpu"]))
        else:
            out.append(probe)
    out += [capacity_figure(r, configs[variant_of(r)]) for r in records
            if r["scenario"] == "capacity" and r["valid"] and (r["search"] or {}).get("result")]  # fmt: skip
    return [f for f in out if f is not None]


def capacity_figure(rec: dict, config: str) -> Figure | None:
    """A capacity search's figure: the highest rate that met the target, within the search's bracket (its
    resolution); 0 when the target was met at no rate tried (a collapse to flag). A search that never missed the
    target (stopped after max_steps, or at the load hosts' ceiling) found a lower bound only: no figure."""
    result, target = rec["search"]["result"], rec["search"]["target"]
    met, missed = result["capacity_per_s"], result["missed_per_s"]
    if missed is None:
        return None
    compact = f"p{target['percentile']:g}≤{target['latency_s'] * 1000:g}ms e{target['error_budget'] * 100:g}%"
    return Figure(rec["worker_type"], config, "capacity", None, rec["label"], None, "capacity_per_s", met or 0.0,
                  compact, (missed - met) / met if met else 0.0)  # fmt: skip


def metrics(results: dict) -> dict[tuple, float]:
    """The run's figures by key, (config, point, metric): how the regression detector lines up runs."""
    return {f.key: f.value for f in figures(results)}


def resolutions(results: dict) -> dict[tuple, float]:
    """The figures whose own resolution is coarse (a capacity search's bracket), by key: a smaller change is none."""
    return {f.key: f.resolution for f in figures(results) if f.resolution}


def app_name(results: dict) -> str:
    """The app a run loaded (bench_app.name)."""
    return results["app"]["name"]


def app_packages(results: dict) -> list[str]:
    """The app's own top-level packages (bench_app.requirements of every interface it has), for the versions tables."""
    packages = results["app"].get("packages") or {}
    return list(dict.fromkeys(name for names in packages.values() for name in names))


def settings_words(results: dict) -> str:
    """gunicorn's settings of every instance of a run, as recorded ("" for a run from before they were)."""
    return ", ".join(f"{k} {v}" for k, v in (results.get("gunicorn_settings") or {}).items())


def same_settings(a: dict, b: dict) -> bool:
    """The same gunicorn settings of every instance (timeout, graceful_timeout, keepalive, preload_app, max_requests
    and its jitter), where both runs recorded them: a run with max_requests=20 recycles its workers through every
    measurement, and is not the one before it made slower."""
    sa, sb = a.get("gunicorn_settings") or {}, b.get("gunicorn_settings") or {}
    return all(sa[k] == sb[k] for k in sa.keys() & sb.keys())


def comparable(run: dict, other: dict) -> bool:
    """Runs (of one app host each: bench/model/fleet.py) whose numbers may be lined up: the same app, profile,
    machine (machine_key) and gunicorn settings."""
    return (run["profile"] == other["profile"] and same_machine(run, other)
            and app_name(run) == app_name(other) and same_settings(run, other))  # fmt: skip


def changes(current: dict, history: list[dict], th: Thresholds = DEFAULT) -> list[dict]:
    """Metrics of `current` that moved beyond the thresholds against the median of its comparable predecessors."""
    earlier = [h for h in history if comparable(current, h)][-th.window :]
    series: dict[tuple, list[float]] = {}
    for run in earlier:
        for key, value in metrics(run).items():
            series.setdefault(key, []).append(value)
    found, coarse = [], resolutions(current)
    for key, value in metrics(current).items():
        if key[2] in TREND_ONLY:
            continue
        values = series.get(key, [])
        if len(values) < th.min_history:
            continue
        base = statistics.median(values)
        noise = MAD_TO_SIGMA * statistics.median(abs(v - base) for v in values)
        delta = value - base
        relative = max(
            [th.relative, coarse.get(key, 0.0)]
            + [v for (metric, at), v in RELATIVE_FLOOR.items() if key[2] == metric and key[1].startswith(at)]
        )
        if (
            base == 0
            or abs(delta) <= relative * abs(base)
            or abs(delta) <= th.noise_factor * noise
            or abs(delta) < ABS_FLOOR.get(key[2], 0.0)
        ):
            continue
        worse = (delta < 0) == HIGHER_IS_BETTER[key[2]]
        found.append({
            "config": key[0], "point": key[1], "metric": key[2], "baseline": base, "value": value,
            "change": delta / base, "noise": noise, "runs": len(values), "regression": worse,
        })  # fmt: skip
    return sorted(found, key=lambda c: (not c["regression"], -abs(c["change"])))


def headline(results: dict) -> str:
    """One short line per instance (a worker type, or each combination of a matrix): IO requests at once
    (server-timed; siege's effective concurrency where the app did not time the burst) and the largest sweep's rps
    on /ioTask."""
    parts = []
    m = metrics(results)
    configs = {variant_of(r): config_key(r) for r in results["results"]}
    for variant in results_model.variants(results):
        mine = {k: v for k, v in m.items() if k[0] == configs.get(variant)}
        eff = next((v for k, v in mine.items() if k[1].startswith("probe io") and k[2] in ("at_once", "effective")),
                   None)  # fmt: skip
        rps = [(k[1], v) for k, v in mine.items() if "ioTask" in k[1] and k[2] == "rps"]
        best = max(rps, key=lambda kv: int(kv[0].rsplit("=", 1)[1]))[1] if rps else None
        parts.append(f"{variant} {eff:.1f}x" + (f"/{best:.0f} rps" if best is not None else "")
                     if eff else variant)  # fmt: skip
    return ", ".join(parts)
